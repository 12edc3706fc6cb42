"""How channels change stock: only through the stock kernel (`stock.lock` to decide from the
figures under lock, `stock.apply` to write), each change announced as `stock.changed` like any
other, so live pushes and alerts follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .. import stock, tenants
from ..catalog.service import Item, Location
from ..stock import lots, model
from ..stock.model import HELD, Change, Figures, Posting
from . import allocations, offers
from .service import Channel

SYNC_REASON = "channel_sync"
SALE_REASON = "channel_sale"
CANCEL_REASON = "channel_cancel"


def _row(locked: dict[int, list[Figures]], item: Item, loc: Location) -> Figures | None:
    return next((f for f in locked.get(item.id, []) if f.location_id == loc.id), None)


def set_on_hand(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    partner_qty: int,
    reference: str,
    now: datetime,
) -> tuple[int, int]:
    """Make the location's on_hand the partner's figure: (before, after).

    Units already held here (reserved, committed, …) stay covered: on_hand never falls below
    them, so the partner's figure becomes this location's `available`, never less than zero.
    """
    locked = stock.lock(conn, tenant, [item.id], now)
    row = _row(locked, item, loc)
    before = row.states["on_hand"] if row else 0
    held = sum(row.value(s) for s in HELD) if row else 0
    target = max(partner_qty, 0) + held
    if target != before:
        stock.apply(
            conn,
            tenant,
            [Change(item, {"on_hand": target - before}, location=loc)],
            Posting(reason=SYNC_REASON, actor="channel", reference=reference),
            now,
            locked=locked,
        )
    return before, target


Taken = dict[tuple[int, int | None], int]  # (location id, lot id or None) -> units


def take_sale(
    conn: Connection,
    ch: Channel,
    item: Item,
    places: list[Location],
    qty: int,
    reference: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Record units sold on a store. Returns [{"location", "location_id", "qty", "lot"}]
    (`lot` for lot items only)."""
    locked = stock.lock(conn, ch.tenant, [item.id], now)
    pick = _from_lots if item.lots else _from_stock
    changes, taken = pick(conn, ch, item, places, qty, now, locked)
    if changes:
        stock.apply(
            conn,
            ch.tenant,
            changes,
            Posting(reason=SALE_REASON, actor="channel", reference=reference),
            now,
            locked=locked,
        )
    codes = {loc.id: loc.code for loc in places}
    return [
        {"location": codes[lid], "location_id": lid, "qty": q} | ({"lot": lot} if lot else {})
        for (lid, lot), q in taken.items()
    ]


def _from_stock(
    conn: Connection,
    ch: Channel,
    item: Item,
    places: list[Location],
    qty: int,
    now: datetime,
    locked: dict[int, list[Figures]],
) -> tuple[list[Change], Taken]:
    """From the store's allocation hold at `places`, then from their available stock in their
    order, then (the store sold them already) from what is on hand."""
    changes, from_hold = allocations.take_sold(conn, ch, item, places, qty, now)
    taken = dict(from_hold)
    left = qty - sum(taken.values())
    for sells in (True, False):
        for loc in places:
            row = _row(locked, item, loc)
            if left <= 0 or row is None:
                continue
            here = taken.get(loc.id, 0)
            # Units out of the hold left `available` as it was; every unit lowered on_hand.
            if sells:
                have = row.available - (here - from_hold.get(loc.id, 0))
            else:
                have = row.states["on_hand"] - here
            q = min(left, have)
            if q <= 0:
                continue
            changes.append(Change(item, {"on_hand": -q}, location=loc, sells=sells))
            taken[loc.id] = here + q
            left -= q
    return changes, {(lid, None): q for lid, q in taken.items()}


def _from_lots(
    conn: Connection,
    ch: Channel,
    item: Item,
    places: list[Location],
    qty: int,
    now: datetime,
    locked: dict[int, list[Figures]],
) -> tuple[list[Change], Taken]:
    """A lot item: from its sellable lots first expired, first out, place by place; then (the
    store sold them already) from what its other lots still have free."""
    days = offers.shelf_life(item, ch.min_shelf_life_days)
    sell_by = model.sell_by(tenants.load(conn, ch.tenant).day(now), days)
    free = lots.free_at(conn, ch.tenant, {item.id}, now)
    left, changes = qty, []
    taken: Taken = {}
    for sells in (True, False):
        for loc in places:
            pool = free.get((item.id, loc.id), [])
            for f in lots.sellable(pool, sell_by) if sells else pool:
                n = min(left, max(f.available, 0))
                if n <= 0:
                    continue
                f.available -= n
                changes.append(
                    Change(
                        item, {"on_hand": -n}, location=loc, sells=sells, lot=f.lot.id, sale=sells
                    )
                )
                taken[(loc.id, f.lot.id)] = taken.get((loc.id, f.lot.id), 0) + n
                left -= n
    return changes, taken


def put_back(
    conn: Connection,
    tenant: str,
    item: Item,
    taken: list[tuple[Location, int, int | None]],
    reference: str,
    now: datetime,
) -> None:
    """A cancelled store order: its units return where (and to the lot) they were taken from."""
    changes = [
        Change(item, {"on_hand": q}, location=loc, lot=lot) for loc, q, lot in taken if q > 0
    ]
    if changes:
        stock.apply(
            conn,
            tenant,
            changes,
            Posting(reason=CANCEL_REASON, actor="channel", reference=reference),
            now,
        )
