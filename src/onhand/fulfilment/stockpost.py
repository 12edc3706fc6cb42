"""Every stock change fulfilment makes goes through here, into stock's public functions.

Fulfilment never writes balances or the ledger itself: consumption, backorder shortfalls and
shipping are expressed as per-(item, location) deltas and handed to stock in lock order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db
from ..catalog.service import Item, Location
from ..events import outbox
from ..stock import ledger
from ..stock.availability import location_figures
from ..tables import balances


@dataclass
class Change:
    """Deltas for one item at one location. `guarded` changes may not take available below
    zero, even for an item that allows backorders; unguarded ones (a backorder shortfall,
    shipping what was committed) only keep every stored state at zero or more."""

    item: Item
    location: Location
    deltas: dict[str, int]
    guarded: bool = True


def lock(conn: Connection, tenant: str, item_ids: set[int], location_ids: set[int]) -> None:
    """Hold the balance rows a batch is about to read and change (PostgreSQL; SQLite holds
    the write lock already), in the same (item, location) order every stock path uses."""
    if db.is_sqlite(conn) or not item_ids:
        return
    conn.execute(
        sa.select(balances.c.item_id)
        .where(
            balances.c.tenant_id == tenant,
            balances.c.item_id.in_(sorted(item_ids)),
            balances.c.location_id.in_(sorted(location_ids)),
        )
        .order_by(balances.c.item_id, balances.c.location_id)
        .with_for_update()
    ).all()


def free(conn: Connection, tenant: str, item_ids: set[int], now: datetime) -> dict:
    """(item id, location id) -> units available to sell now."""
    figures = location_figures(conn, tenant, sorted(item_ids), now)
    return {
        (item_id, row["location_id"]): row["available"]
        for item_id, rows in figures.items()
        for row in rows
    }


def post(
    conn: Connection,
    tenant: str,
    changes: list[Change],
    posting: ledger.Posting,
    now: datetime,
    **event: Any,
) -> None:
    """Apply the changes in (item, location) order; raises InsufficientStock and changes
    nothing more when a guarded change does not fit. One stock.changed event per pair."""
    changes = [c for c in changes if any(c.deltas.values())]
    changes.sort(key=lambda c: (c.item.id, c.location.id, not c.guarded))
    for c in changes:
        item = dataclasses.replace(c.item, allow_backorder=False) if c.guarded else c.item
        ledger.change(
            conn, tenant, item, c.location, c.deltas, posting, now, check_available=c.guarded
        )
    announce(conn, tenant, changes, now, reason=posting.reason, **event)


def announce(
    conn: Connection, tenant: str, changes: list[Change], now: datetime, **extra: Any
) -> None:
    """stock.changed events with the figures after the change, one per (item, location)."""
    if not changes:
        return
    items = {c.item.id: c.item for c in changes}
    figures = location_figures(conn, tenant, sorted(items), now)
    rows, seen = [], set()
    for c in changes:
        key = (c.item.id, c.location.id)
        if key in seen:
            continue
        seen.add(key)
        per_loc = figures[c.item.id]
        here = next((r for r in per_loc if r["location_id"] == c.location.id), {})
        rows.append(
            outbox.event_row(
                tenant,
                "stock.changed",
                now,
                sku=c.item.sku,
                location=c.location.code,
                available=sum(r["available"] for r in per_loc),
                location_available=here.get("available", 0),
                on_hand=here.get("on_hand", 0),
                **extra,
            )
        )
    outbox.record_many(conn, rows)
