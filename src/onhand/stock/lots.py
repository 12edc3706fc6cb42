"""Lots (batches) of lot-tracked items: finding and creating them, their figures, FEFO.

A lot-tracked item keeps its balance row per (item, location) as every item does; beside it,
one `lot_balances` row per lot there holds the lot's share of the same states. The kernel
writes both in the same `apply` (each with its own guard). This module reads lots and decides
which lot a hold, a shipment or a transfer takes: the one that expires first among those still
sellable (first expired, first out), or the one asked for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..errors import Conflict, InsufficientStock, Invalid, NotFound
from ..tables import lot_balances, lots, reservation_lines
from . import model
from .model import Item

LOT_FIELDS = ("expires_on", "best_before", "manufactured_on", "supplier")


@dataclass(frozen=True)
class Lot:
    id: int
    code: str
    expires_on: date | None
    best_before: date | None
    manufactured_on: date | None
    supplier: str | None
    recalled: bool = False

    def sellable(self, sell_by: date) -> bool:
        """May be sold on a day whose sell-by limit is `sell_by` (see model.sell_by)."""
        return not self.recalled and (self.expires_on is None or self.expires_on >= sell_by)

    def doc(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "best_before": self.best_before.isoformat() if self.best_before else None,
            "manufactured_on": self.manufactured_on.isoformat() if self.manufactured_on else None,
            "supplier": self.supplier,
        }


@dataclass
class LotFree:
    """One lot at one location while a decision is made (decremented as it is taken)."""

    lot: Lot
    location_id: int
    available: int


def _lot(row: Any) -> Lot:
    return Lot(
        row.id,
        row.code,
        row.expires_on,
        row.best_before,
        row.manufactured_on,
        row.supplier,
        row.recalled_at is not None,
    )


def fefo_key(lot: Lot) -> tuple[bool, date, int]:
    """First expired, first out: the earliest expiry first, lots that never expire last."""
    return (lot.expires_on is None, lot.expires_on or date.max, lot.id)


def find(conn: Connection, tenant: str, item: Item, code: str) -> Lot:
    """The item's lot with this code; 404 `unknown-lot`."""
    row = conn.execute(
        tenancy.select(tenant, lots).where(lots.c.item_id == item.id, lots.c.code == code)
    ).first()
    if row is None:
        raise NotFound(
            f"{item.sku} has no lot '{code}'.", slug="unknown-lot", sku=item.sku, lot=code
        )
    return _lot(row)


def by_id(conn: Connection, tenant: str, ids: set[int]) -> dict[int, Lot]:
    if not ids:
        return {}
    rows = conn.execute(tenancy.select(tenant, lots).where(lots.c.id.in_(sorted(ids))))
    return {r.id: _lot(r) for r in rows}


def receive(
    conn: Connection,
    tenant: str,
    item: Item,
    spec: dict[str, Any] | None,
    *,
    movement_id: str | None,
    reference: str | None,
    now: datetime,
) -> Lot:
    """The lot a receipt puts stock into: the one named (created on its first receipt), or a
    new one with a generated code. A second receipt into a lot must not contradict its dates."""
    spec = dict(spec or {})
    code = spec.pop("code", None) or f"{now:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}"
    given = {k: v for k, v in spec.items() if k in LOT_FIELDS and v is not None}
    conn.execute(
        db.insert(conn, lots)
        .values(
            tenant_id=tenant,
            item_id=item.id,
            code=code,
            movement_id=movement_id,
            reference=reference,
            created_at=now,
            **given,
        )
        .on_conflict_do_nothing()
    )
    lot = find(conn, tenant, item, code)
    differs = {k: v for k, v in given.items() if getattr(lot, k) != v}
    if differs:
        raise Conflict(
            f"{item.sku} lot {code} exists with other details ("
            + ", ".join(f"{k} {getattr(lot, k)}" for k in sorted(differs))
            + "); receive into it without them, or use another lot code.",
            slug="lot-mismatch",
            sku=item.sku,
            lot=code,
        )
    return lot


@dataclass
class LotRow:
    """One lot at one location: its states as availability sees them (lapsed holds free)."""

    item_id: int
    location_id: int
    lot: Lot
    states: dict[str, int]

    @property
    def available(self) -> int:
        return int(model.available(self.states.__getitem__))


def rows(conn: Connection, tenant: str, item_ids: set[int], now: datetime) -> list[LotRow]:
    """The lot rows of the items, FEFO within each (item, location)."""
    if not item_ids:
        return []
    lb, rl = lot_balances, reservation_lines
    lapsed = dict(
        ((r[0], r[1], r[2]), int(r[3]))
        for r in conn.execute(
            sa.select(rl.c.item_id, rl.c.location_id, rl.c.lot_id, sa.func.sum(rl.c.qty))
            .where(
                tenancy.of(tenant, rl),
                rl.c.item_id.in_(sorted(item_ids)),
                rl.c.active,
                rl.c.expires_at <= now,
                rl.c.lot_id.is_not(None),
            )
            .group_by(rl.c.item_id, rl.c.location_id, rl.c.lot_id)
        )
    )
    found = conn.execute(
        sa.select(lb, lots)
        .join(lots, tenancy.on(tenant, lots, lots.c.id == lb.c.lot_id))
        .where(tenancy.of(tenant, lb), lb.c.item_id.in_(sorted(item_ids)))
    ).all()
    out = []
    for r in found:
        m = r._mapping
        states = {s: int(m[lb.c[s]]) for s in model.STATES}
        states["reserved"] -= lapsed.get((r.item_id, r.location_id, r.lot_id), 0)
        lot = Lot(
            int(m[lots.c.id]),
            m[lots.c.code],
            m[lots.c.expires_on],
            m[lots.c.best_before],
            m[lots.c.manufactured_on],
            m[lots.c.supplier],
            m[lots.c.recalled_at] is not None,
        )
        out.append(LotRow(r.item_id, r.location_id, lot, states))
    out.sort(key=lambda x: (x.item_id, x.location_id, fefo_key(x.lot)))
    return out


def free_at(
    conn: Connection,
    tenant: str,
    item_ids: set[int],
    now: datetime,
    state: str | None = None,
) -> dict[tuple[int, int], list[LotFree]]:
    """Per (item, location), its lots in FEFO order with what each could give: `available`
    (lapsed holds counted free), or the figure of one stored `state` (e.g. `in_transit`).

    Read after the item's balance rows are locked (stock.lock): every writer of a lot row holds
    its balance row first, so these figures stay as read until the transaction ends.
    """
    out: dict[tuple[int, int], list[LotFree]] = {}
    for r in rows(conn, tenant, item_ids, now):
        figure = r.available if state is None else r.states[state]
        out.setdefault((r.item_id, r.location_id), []).append(LotFree(r.lot, r.location_id, figure))
    return out


def unsellable(rows_: list[LotRow], sell_by: date) -> dict[tuple[int, int], int]:
    """Per (item, location), the available units in lots that may not be sold (expired, too
    close to expiry, recalled): part of the balance row's `available`, never of what sells."""
    out: dict[tuple[int, int], int] = {}
    for r in rows_:
        if not r.lot.sellable(sell_by) and r.available > 0:
            key = (r.item_id, r.location_id)
            out[key] = out.get(key, 0) + r.available
    return out


def sellable(free: list[LotFree], sell_by: date, lot_id: int | None = None) -> list[LotFree]:
    """The lots (of one location) a buyer may take, FEFO: not recalled, not past `sell_by`;
    only `lot_id` when one was asked for."""
    return [
        f
        for f in free
        if f.lot.sellable(sell_by) and (lot_id is None or f.lot.id == lot_id) and f.available > 0
    ]


def take(free: list[LotFree], qty: int) -> list[tuple[LotFree, int]] | None:
    """Take `qty` from lots in the order given, decrementing them; None (and nothing taken)
    when they do not hold enough."""
    if sum(max(f.available, 0) for f in free) < qty:
        return None
    parts: list[tuple[LotFree, int]] = []
    left = qty
    for f in free:
        n = min(left, max(f.available, 0))
        if n > 0:
            f.available -= n
            parts.append((f, n))
            left -= n
        if left == 0:
            break
    return parts


def split_at(
    conn: Connection,
    tenant: str,
    item: Item,
    location_id: int,
    location_code: str,
    qty: int,
    now: datetime,
    *,
    lot: Lot | None,
    sell_by: date | None,
    state: str | None = None,
) -> list[tuple[Lot, int]]:
    """Which lots give `qty` of `item` at one location: FEFO among the sellable ones when
    `sell_by` is given, else among every lot; only `lot` when named. InsufficientStock when
    the lots there do not hold enough."""
    free = free_at(conn, tenant, {item.id}, now, state).get((item.id, location_id), [])
    if sell_by is not None:
        candidates = sellable(free, sell_by, lot.id if lot else None)
    else:
        candidates = [f for f in free if (lot is None or f.lot.id == lot.id) and f.available > 0]
    parts = take(candidates, qty)
    if parts is None:
        have = sum(max(f.available, 0) for f in candidates)
        problem = InsufficientStock(item.sku, qty, have, location_code)
        what = (
            f"lot {lot.code} holds"
            if lot
            else "its sellable lots hold"
            if sell_by
            else "its lots hold"
        )
        problem.detail = f"{item.sku} at {location_code}: {qty} requested, but {what} only {have}"
        if lot is not None and lot.recalled:
            problem.detail += f" (lot {lot.code} was recalled)"
        elif sell_by is not None:
            problem.detail += " (expired and recalled lots are never sold)"
        problem.detail += "."
        if lot:
            problem.extra["lot"] = lot.code
        raise problem
    return [(f.lot, n) for f, n in parts]


def lot_spec(value: Any) -> dict[str, Any] | None:
    """A lot as a request names it: a code, or an object with a code and its dates."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"code": value}
    return value.model_dump() if hasattr(value, "model_dump") else dict(value)


def named(conn: Connection, tenant: str, item: Item, value: Any) -> Lot | None:
    """The existing lot a request names (by code), or None when it names none."""
    spec = lot_spec(value)
    if spec is None:
        return None
    if not item.lots:
        raise Invalid(f"{item.sku} does not track lots; leave the lot out.", slug="not-lot-tracked")
    if not spec.get("code"):
        raise Invalid("Name the lot by its code.")
    return find(conn, tenant, item, spec["code"])
