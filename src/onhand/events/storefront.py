"""What the storefront availability feed reads: figures of the SKUs asked, and their kits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from .. import db, tenants
from ..catalog import service as catalog
from ..stock.availability import availability


def figures(engine: Engine, tenant: str, skus: list[str]) -> list[dict[str, Any]]:
    """The available figure of each SKU now; an unknown SKU is a 404 (before streaming)."""
    now = db.utcnow()
    out = []
    with db.read(engine) as conn:
        day = tenants.load(conn, tenant).day(now)
        for sku in skus:
            doc = availability(conn, tenant, catalog.item(conn, tenant, sku), now, day)
            # The first frame also carries the item's own low-stock threshold for the badge.
            threshold = catalog.get_item(conn, tenant, sku)["low_stock_threshold"]
            out.append(
                {
                    "sku": sku,
                    "available": doc["available"],
                    "low_stock_threshold": threshold,
                    "at": now.isoformat(),
                }
            )
    return out


def kits_by_component(engine: Engine, tenant: str, bundles: list[str]) -> dict[str, list[str]]:
    """Component SKU -> the bundles among `bundles` made of it."""
    out: dict[str, list[str]] = {}
    with db.read(engine) as conn:
        for component, bundle in catalog.kit_links(conn, tenant, kits=bundles):
            out.setdefault(component, []).append(bundle)
    return out
