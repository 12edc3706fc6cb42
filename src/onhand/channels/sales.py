"""Sales on a store, recorded in onhand before anything is pushed, once per order line.

An order arrives as an `orders/create` webhook (REST JSON) or, when a webhook was missed, from
the order list a sync reads (GraphQL); both name their lines by the same gids, so a line is
recorded once whichever comes first. A line of partner-held stock also queues an adjustment
of the partner's store (forwards.py), in the same transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..catalog import service as catalog
from ..catalog.service import Item, Location
from . import stock_writes
from .offers import items_with_parts
from .service import Channel
from .tables import channel_forwards, channel_mappings, channel_sales, channels


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Shopify's X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 of the raw body."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


@dataclass(frozen=True)
class Line:
    id: str
    variant: str | None
    sku: str | None
    qty: int


@dataclass(frozen=True)
class Order:
    id: str
    name: str
    cancelled: bool
    lines: tuple[Line, ...]


def _gid(kind: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def from_webhook(doc: dict[str, Any]) -> Order:
    """An order as a REST webhook sends it."""
    lines = tuple(
        Line(
            id=str(li.get("admin_graphql_api_id") or _gid("LineItem", li.get("id"))),
            variant=_gid("ProductVariant", li.get("variant_id")),
            sku=li.get("sku") or None,
            qty=int(li.get("quantity") or 0),
        )
        for li in doc.get("line_items") or []
        if isinstance(li, dict)
    )
    return Order(
        id=str(doc.get("admin_graphql_api_id") or _gid("Order", doc.get("id"))),
        name=str(doc.get("name") or doc.get("id")),
        cancelled=bool(doc.get("cancelled_at")),
        lines=lines,
    )


def from_graphql(node: dict[str, Any]) -> Order:
    """An order as the Orders query reads it."""
    return Order(
        id=node["id"],
        name=node.get("name") or node["id"],
        cancelled=bool(node.get("cancelledAt")),
        lines=tuple(
            Line(
                id=li["id"],
                variant=(li.get("variant") or {}).get("id"),
                sku=li.get("sku") or None,
                qty=int(li.get("quantity") or 0),
            )
            for li in (node.get("lineItems") or {}).get("nodes", [])
        ),
    )


def _mapped_items(conn: Connection, tenant: str, channel_id: int) -> tuple[dict, dict]:
    m = channel_mappings
    rows = list(
        conn.execute(
            sa.select(m.c.variant, m.c.item_id).where(
                tenancy.of(tenant, m), m.c.channel_id == channel_id
            )
        )
    )
    ids = {r.item_id for r in rows}
    by_id = items_with_parts(conn, tenant, ids) if ids else {}
    return {r.variant: by_id[r.item_id] for r in rows if r.item_id in by_id}, {
        i.sku: i for i in by_id.values()
    }


def _partners(conn: Connection, tenant: str) -> dict[str, tuple[int, str]]:
    """onhand location code -> (partner channel id, the partner's Shopify location)."""
    out: dict[str, tuple[int, str]] = {}
    for row in conn.execute(
        sa.select(channels.c.id, channels.c.locations).where(
            tenancy.of(tenant, channels), channels.c.role == "partner"
        )
    ):
        for pair in row.locations:
            out.setdefault(pair["location"], (row.id, pair["channel_location"]))
    return out


def _partner_item(conn: Connection, tenant: str, partner_id: int, item_id: int) -> str | None:
    m = channel_mappings
    return conn.execute(
        sa.select(m.c.inventory_item).where(
            tenancy.of(tenant, m), m.c.channel_id == partner_id, m.c.item_id == item_id
        )
    ).scalar()


def record(conn: Connection, ch: Channel, order: Order, now: datetime) -> set[int]:
    """Record the order's lines not recorded yet (or put a cancelled order's units back).

    Returns the partner channels that have adjustments to send.
    """
    by_variant, by_sku = _mapped_items(conn, ch.tenant, ch.id)
    places = [
        catalog.location(conn, ch.tenant, code)
        for code in dict.fromkeys(code for code, _ in ch.locations)
    ]
    partners = _partners(conn, ch.tenant)
    touched: set[int] = set()
    for line in order.lines:
        item = (by_variant.get(line.variant) if line.variant else None) or by_sku.get(
            line.sku or ""
        )
        if item is None or line.qty <= 0:
            continue
        reference = f"{ch.code} order {order.name} line {line.id.rsplit('/', 1)[-1]}"[:200]
        key = {
            "tenant_id": ch.tenant,
            "channel_id": ch.id,
            "order_id": order.id,
            "line_id": line.id,
        }
        existing = conn.execute(
            sa.select(channel_sales).where(*(channel_sales.c[k] == v for k, v in key.items()))
        ).first()
        if existing is not None:
            if order.cancelled and not existing.cancelled:
                touched |= _cancel(conn, ch, existing, reference, partners, now)
            continue
        taken: list[dict[str, Any]] = []
        if not order.cancelled:
            for part, per_unit in _parts(item):
                for t in stock_writes.take_sale(
                    conn, ch, part, places, line.qty * per_unit, reference, now
                ):
                    taken.append(
                        {"sku": part.sku, "location": t["location"], "qty": t["qty"]}
                        | ({"lot": t["lot"]} if t.get("lot") else {})
                    )
                    touched |= _forward(
                        conn, ch, part, t["location"], -t["qty"], f"{line.id}:sale", partners, now
                    )
        conn.execute(
            channel_sales.insert().values(
                **key,
                sku=item.sku,
                qty=line.qty,
                taken=taken,
                cancelled=order.cancelled,
                recorded_at=now,
            )
        )
    return touched


def _parts(item: Item) -> list[tuple[Item, int]]:
    """What a sale takes stock from: the item itself, a bundle's components, nothing digital."""
    if item.kind == "bundle":
        return [(p, q) for p, q in item.components if p.stocked]
    return [(item, 1)] if item.stocked else []


def _cancel(
    conn: Connection,
    ch: Channel,
    sale: Any,
    reference: str,
    partners: dict[str, tuple[int, str]],
    now: datetime,
) -> set[int]:
    touched: set[int] = set()
    locs: dict[str, Location] = {}
    by_sku: dict[str, list[tuple[Location, int, int | None]]] = {}
    for t in sale.taken:
        loc = locs.setdefault(t["location"], catalog.location(conn, ch.tenant, t["location"]))
        by_sku.setdefault(t["sku"], []).append((loc, int(t["qty"]), t.get("lot")))
    for sku, taken in by_sku.items():
        item = catalog.item(conn, ch.tenant, sku)
        stock_writes.put_back(conn, ch.tenant, item, taken, reference, now)
        for loc, q, _ in taken:
            touched |= _forward(
                conn, ch, item, loc.code, q, f"{sale.line_id}:cancel", partners, now
            )
    conn.execute(
        channel_sales.update()
        .where(
            tenancy.of(ch.tenant, channel_sales),
            channel_sales.c.channel_id == ch.id,
            channel_sales.c.order_id == sale.order_id,
            channel_sales.c.line_id == sale.line_id,
        )
        .values(cancelled=True)
    )
    return touched


def _forward(
    conn: Connection,
    ch: Channel,
    item: Item,
    location: str,
    delta: int,
    what: str,
    partners: dict[str, tuple[int, str]],
    now: datetime,
) -> set[int]:
    """Queue the partner adjustment for units taken at (or returned to) a partner location."""
    if location not in partners or ch.role != "store":
        return set()
    partner_id, channel_location = partners[location]
    inventory_item = _partner_item(conn, ch.tenant, partner_id, item.id)
    if inventory_item is None:
        return set()
    stmt = (
        db.insert(conn, channel_forwards)
        .values(
            tenant_id=ch.tenant,
            key=f"{ch.id}:{what}:{item.id}:{location}"[:200],
            partner_id=partner_id,
            inventory_item=inventory_item,
            channel_location=channel_location,
            delta=delta,
            status="pending",
            created_at=now,
        )
        .on_conflict_do_nothing()
    )
    conn.execute(stmt)
    return {partner_id}
