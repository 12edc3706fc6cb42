"""Which onhand item is which Shopify variant: explicit, or matched by SKU then barcode."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..errors import Conflict, Invalid
from ..tables import items
from .tables import channel_mappings

# A unit sold on a store does not say which serial it was: such items are sold in onhand.
NOT_ON_CHANNELS = "serial"


def item_ids(conn: Connection, tenant: str, skus: set[str]) -> dict[str, int]:
    rows = list(
        conn.execute(
            sa.select(items.c.sku, items.c.id, items.c.tracking).where(
                tenancy.of(tenant, items), items.c.sku.in_(skus)
            )
        )
    )
    found = {r.sku: r.id for r in rows}
    missing = sorted(skus - set(found))
    if missing:
        raise Invalid(f"Unknown SKU(s): {', '.join(missing[:20])}.", skus=missing[:100])
    serial = sorted(r.sku for r in rows if r.tracking == NOT_ON_CHANNELS)
    if serial:
        raise Invalid(
            f"{', '.join(serial[:20])}: serial-tracked items are not sold through channels "
            "(a store's order does not say which unit it sold); sell them in onhand.",
            skus=serial[:100],
        )
    return found


def save(conn: Connection, tenant: str, channel_id: int, rows: list[dict[str, Any]]) -> None:
    """Insert or replace mappings ({"item_id", "variant", "inventory_item", "tracked", "by",
    "buffer", "share"}); a variant mapped to another item is a conflict."""
    m = channel_mappings
    variants = {r["variant"]: r["item_id"] for r in rows}
    if len(variants) != len(rows):
        raise Invalid("A variant is listed twice.")
    taken = conn.execute(
        sa.select(m.c.variant, m.c.item_id).where(
            tenancy.of(tenant, m), m.c.channel_id == channel_id, m.c.variant.in_(variants)
        )
    )
    clash = [t.variant for t in taken if variants[t.variant] != t.item_id]
    if clash:
        raise Conflict(f"Variant(s) mapped to another item already: {', '.join(clash[:10])}.")
    now = db.utcnow()
    values = [
        {
            "tenant_id": tenant,
            "channel_id": channel_id,
            "item_id": r["item_id"],
            "variant": r["variant"],
            "inventory_item": r["inventory_item"],
            "tracked": r.get("tracked", True),
            "matched_by": r["by"],
            "buffer": r.get("buffer"),
            "share": r.get("share"),
            "created_at": now,
        }
        for r in rows
    ]
    replaced = ["variant", "inventory_item", "tracked", "matched_by"]
    if any("buffer" in r or "share" in r for r in rows):  # a re-match keeps the allocation
        replaced += ["buffer", "share"]
    stmt = db.insert(conn, m)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[m.c.tenant_id, m.c.channel_id, m.c.item_id],
            set_={c: stmt.excluded[c] for c in replaced},
        ),
        values,
    )


def list_mappings(conn: Connection, tenant: str, channel_id: int) -> list[dict[str, Any]]:
    m = channel_mappings
    rows = conn.execute(
        sa.select(m, items.c.sku, items.c.kind)
        .join(items, sa.and_(items.c.tenant_id == m.c.tenant_id, items.c.id == m.c.item_id))
        .where(tenancy.of(tenant, m), m.c.channel_id == channel_id)
        .order_by(items.c.sku)
    )
    return [
        {
            "sku": r.sku,
            "variant": r.variant,
            "inventory_item": r.inventory_item,
            "by": r.matched_by,
            "tracked": r.tracked,
            "buffer": r.buffer,
            "share": r.share,
        }
        for r in rows
    ]


def match(
    conn: Connection, tenant: str, channel_id: int, variants: list[dict[str, Any]]
) -> dict[str, Any]:
    """Map every variant whose SKU (else barcode) equals an onhand item's."""
    rows = list(
        conn.execute(
            sa.select(items.c.id, items.c.sku, items.c.barcode).where(
                tenancy.of(tenant, items), items.c.active, items.c.tracking != NOT_ON_CHANNELS
            )
        )
    )
    by_sku = {r.sku: r for r in rows}
    by_barcode = {r.barcode: r for r in rows if r.barcode}
    already = {
        r.item_id: r.variant
        for r in conn.execute(
            sa.select(channel_mappings.c.item_id, channel_mappings.c.variant).where(
                tenancy.of(tenant, channel_mappings), channel_mappings.c.channel_id == channel_id
            )
        )
    }
    matched: list[dict[str, Any]] = []
    unmatched_variants: list[str] = []
    used: set[int] = set()
    for v in variants:
        hit, by = by_sku.get(v.get("sku") or ""), "sku"
        if hit is None:
            hit, by = by_barcode.get(v.get("barcode") or ""), "barcode"
        if hit is None or hit.id in used or already.get(hit.id, v["id"]) != v["id"]:
            unmatched_variants.append(v["id"])
            continue
        used.add(hit.id)
        matched.append(
            {
                "item_id": hit.id,
                "sku": hit.sku,
                "variant": v["id"],
                "inventory_item": v["inventoryItem"]["id"],
                "tracked": bool(v["inventoryItem"].get("tracked", True)),
                "by": by,
            }
        )
    if matched:
        save(conn, tenant, channel_id, matched)
    mapped = used | set(already)
    return {
        "matched": [{k: m[k] for k in ("sku", "variant", "inventory_item", "by")} for m in matched],
        "unmatched_items": sorted(r.sku for r in rows if r.id not in mapped),
        "unmatched_variants": unmatched_variants,
    }
