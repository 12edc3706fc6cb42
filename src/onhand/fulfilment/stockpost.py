"""Every stock change fulfilment makes goes through here, into `stock.apply`.

Fulfilment never writes balances or the ledger itself. A batch first locks the balance rows
of its items (`stock.lock`), decides from those figures which sales fit, then hands all its
changes to one `stock.apply`: one guarded UPDATE per row shape for the whole batch, the
ledger rows, and the `stock.changed` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .. import stock
from ..catalog.service import Item, Location

Locked = dict[int, list[Any]]


@dataclass
class Change:
    """Deltas for one item at one location. `sells` changes take from availability (decided
    under the lock; for an item without backorders the guard checks it again); the others
    (a backorder shortfall, shipping what was committed) only keep stored states >= 0."""

    item: Item
    location: Location
    deltas: dict[str, int]
    sells: bool = True
    lot: int | None = None  # a lot item's lot (its id)
    sale: bool = False  # the units go to a buyer: the lot must still be sellable


def lock(
    conn: Connection,
    tenant: str,
    rows: set[tuple[int, int]],
    now: datetime,
    ensure: set[tuple[int, int]] | None = None,
) -> Locked:
    """These (item id, location id) balance rows, locked until the transaction ends (the
    items' other locations are left alone); `ensure` names rows to create first."""
    if not rows:
        return {}
    return stock.lock(conn, tenant, {i for i, _ in rows}, now, ensure=ensure or (), only=rows)


def lock_items(conn: Connection, tenant: str, item_ids: set[int], now: datetime) -> Locked:
    """Every balance row of these items, locked until the transaction ends."""
    return stock.lock(conn, tenant, item_ids, now) if item_ids else {}


def free(locked: Locked) -> dict[tuple[int, int], int]:
    """(item id, location id) -> units available to sell, from locked figures."""
    return {
        (row.item_id, row.location_id): row.available for rows in locked.values() for row in rows
    }


def post(
    conn: Connection,
    tenant: str,
    changes: list[Change],
    posting: stock.Posting,
    now: datetime,
    locked: Locked | None = None,
    **event: Any,
) -> None:
    """Apply the changes all or nothing (InsufficientStock otherwise), with their events."""
    moves = [
        stock.Change(c.item, c.deltas, location=c.location, sells=c.sells, lot=c.lot, sale=c.sale)
        for c in changes
        if any(c.deltas.values())
    ]
    if moves:
        stock.apply(conn, tenant, moves, posting, now, locked=locked, event=event)
