"""What a store is offered: per mapped item and Shopify location, the sum of `available` over
the onhand locations mapped to it (a bundle: its kits), less the channel's allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy, tenants
from ..catalog import service as catalog
from ..catalog.service import Item
from ..stock import lots, model
from ..stock.availability import bundle_availability, location_figures
from ..tables import items


@dataclass(frozen=True)
class Mapped:
    item: Item
    variant: str
    inventory_item: str
    tracked: bool
    buffer: int | None
    share: int | None


def items_with_parts(conn: Connection, tenant: str, ids: set[int]) -> dict[int, Item]:
    """Items by id, bundles with their components."""
    if not ids:
        return {}
    skus = {
        r.sku
        for r in conn.execute(
            sa.select(items.c.sku).where(tenancy.of(tenant, items), items.c.id.in_(ids))
        )
    }
    return {i.id: i for i in catalog.items_by_sku(conn, tenant, skus).values()}


def allocate(available: int, m: Mapped) -> tuple[int, dict[str, Any]]:
    """The figure offered and why."""
    available = max(available, 0)
    if m.buffer:
        return max(available - m.buffer, 0), {"available": available, "buffer": m.buffer}
    if m.share is not None:
        return available * m.share // 100, {"available": available, "share": m.share}
    return available, {"available": available}


def skip_reason(m: Mapped) -> str | None:
    if not m.tracked:
        return "Shopify does not track inventory for this variant: nothing to push."
    if m.item.kind == "digital":
        return "Digital item: unlimited, so no quantity is pushed."
    if m.item.kind == "pod":
        return "Print-on-demand item: its daily capacity is not a stock level to push."
    return None


def shelf_life(item: Item, channel_days: int | None) -> int | None:
    """Days of shelf life a lot must keep to sell: the item's, or the store's if longer."""
    if channel_days is None:
        return item.min_shelf_life_days
    return max(item.min_shelf_life_days or 0, channel_days)


def per_location(
    conn: Connection,
    tenant: str,
    mapped: list[Mapped],
    now: datetime,
    min_shelf_life_days: int | None = None,
) -> dict[int, dict[str, int]]:
    """item id -> {onhand location code: available}; a lot item's lots that may not be sold
    on the store (given its own minimum shelf life) left out."""
    stocked = [m.item.id for m in mapped if m.item.stocked]
    out: dict[int, dict[str, int]] = {}
    codes: dict[int, str] = {}
    for item_id, rows in location_figures(conn, tenant, stocked, now).items():
        out[item_id] = {r["location"]: int(r["available"]) for r in rows}
        codes |= {r["location_id"]: r["location"] for r in rows}
    # A lot item's lots that may not be sold (expired, too close to expiry, recalled) are
    # offered nowhere, as availability shows them.
    with_lots = {m.item.id: m.item for m in mapped if m.item.lots}
    if with_lots:
        today = tenants.load(conn, tenant).day(now)
        lot_rows = lots.rows(conn, tenant, set(with_lots), now)
        for item_id, item in with_lots.items():
            mine = [r for r in lot_rows if r.item_id == item_id]
            sell_by = model.sell_by(today, shelf_life(item, min_shelf_life_days))
            for (_, location_id), n in lots.unsellable(mine, sell_by).items():
                code = codes.get(location_id)
                if code in out.get(item_id, {}):
                    out[item_id][code] = max(out[item_id][code] - n, 0)
    for m in mapped:
        if m.item.kind == "bundle":
            doc = bundle_availability(conn, tenant, m.item, now, None)
            out[m.item.id] = {r["location"]: int(r["available"] or 0) for r in doc["locations"]}
    return out


def offers(
    conn: Connection,
    tenant: str,
    mapped: list[Mapped],
    pairs: tuple[tuple[str, str], ...],
    now: datetime,
    min_shelf_life_days: int | None = None,
) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    """(inventory item, Shopify location) -> (figure to write, why)."""
    figures = per_location(conn, tenant, mapped, now, min_shelf_life_days)
    sources: dict[str, list[str]] = {}
    for code, gid in pairs:
        sources.setdefault(gid, []).append(code)
    out: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for m in mapped:
        if skip_reason(m):
            continue
        for gid, codes in sources.items():
            total = sum(max(figures.get(m.item.id, {}).get(c, 0), 0) for c in codes)
            out[(m.inventory_item, gid)] = allocate(total, m)
    return out
