"""The stock kernel: the one code path that writes balances, pod bookings and the ledger.

    figures = stock.lock(conn, tenant, item_ids, now)          # optional: decide first
    stock.apply(conn, tenant, changes, posting, now, locked=figures, event={...})

`lock` takes the balance rows of the given items in one central order (item id, location
id), FOR UPDATE on PostgreSQL (SQLite writers already hold the database), and then the lines
of lapsed holds on them, so that what a caller decides from the figures is exactly what the
guarded UPDATE will see. With `only`, it locks just the named (item, location) rows, after a
transaction lock per item (taken in item order, before any row), so the item's total over
all its locations is still exact when `apply` reads it after the change.

`apply` sums the changes per row, runs one guarded UPDATE per row shape (on PostgreSQL one
statement over the rows' keys and deltas as arrays, on SQLite executemany), writes one ledger
row per change and state from one builder, and emits `stock.changed` per touched location
with the figures after the change; the UPDATEs, ledger rows and events are sent together
(db.Writes: one round trip on PostgreSQL). A refusal raises InsufficientStock and the
caller's transaction rolls back.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from .. import db, tenancy, tenants
from ..errors import InsufficientStock, Invalid
from ..events import catalogue, outbox
from ..tables import (
    balances,
    ledger,
    locations,
    lot_balances,
    lots,
    pod_bookings,
    reservation_lines,
)
from ..tables import outbox as outbox_rows
from . import model, sql
from .model import Change, Figures, Outcome, PodFigures, Posting

PodLocked = dict[tuple[int, date], PodFigures]


# The class key of the per-item transaction locks (pg_advisory_xact_lock(int4, int4)); the
# leaders' session locks use the single 64-bit key space, which does not overlap this one.
ITEM_LOCK_CLASS = 0x6F6E68  # "onh"


Locked = dict[int, list[Figures]]


class LockedRows(Locked):
    """Per item, its balance rows as locked. `partial`: items of which only some rows were
    locked (`lock(..., only=...)`); `apply` reads their totals after the change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partial: set[int] = set()

    def merge(self, more: LockedRows) -> None:
        """Add rows locked later (first stock at a location) to these."""
        for item_id, rows in more.items():
            if item_id in self and item_id in more.partial:
                have = {f.location_id for f in self[item_id]}
                self[item_id] += [f for f in rows if f.location_id not in have]
                self[item_id].sort(key=lambda f: f.location_id)
                continue
            if item_id not in self and item_id in more.partial:
                self.partial.add(item_id)
            else:
                self.partial.discard(item_id)
            self[item_id] = rows


class GrantRefused(Exception):
    """The guard refused a change the locked figures admitted: a bug or an unlocked writer."""


# ---- locking ------------------------------------------------------------------------------


def lock(
    conn: Connection,
    tenant: str,
    item_ids: Iterable[int],
    now: datetime,
    ensure: Iterable[tuple[int, int]] = (),
    only: Iterable[tuple[int, int]] | None = None,
) -> LockedRows:
    """Per item, its balance rows (every location) locked until the transaction ends.

    `ensure` names (item, location) rows to create first (first stock at a location).
    `only` names the (item, location) rows to lock and read, for a caller that touches a few
    locations of items stocked at many (a till's batch at one café): the items are then
    locked as a whole by a transaction lock each (PostgreSQL; SQLite holds the database), in
    item order before any row, and their other rows are neither locked nor read.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return LockedRows()
    wanted = None if only is None else sorted({k for k in only if k[0] in set(ids)})
    if wanted is not None and not db.is_sqlite(conn):
        # One statement, the keys unnested in ascending order and locked one after another.
        keys = sorted({i & 0x7FFFFFFF for i in ids})
        k = sa.func.unnest(sa.bindparam("keys", keys, type_=ARRAY(sa.Integer))).column_valued("k")
        conn.execute(sa.select(sa.func.count(sa.func.pg_advisory_xact_lock(ITEM_LOCK_CLASS, k))))
    for item_id, location_id in sorted(set(ensure)):
        conn.execute(
            db.insert(conn, balances)
            .values(tenant_id=tenant, item_id=item_id, location_id=location_id, updated_at=now)
            .on_conflict_do_nothing()
        )
    pg = not db.is_sqlite(conn)
    out = LockedRows({i: [] for i in ids})
    if wanted is None:
        # The balance rows, then their lapsed lines: one round trip while the rows are locked.
        rows, lines = db.fetch_all(
            conn,
            (_balance_rows(pg), {"tenant": tenant, "ids": ids}),
            (_lapsed_lines(pg, True), {"tenant": tenant, "ids": ids, "now": now}),
        )
        lapsed = _units(lines)
    else:
        out.partial = set(ids)
        if not wanted:
            return out
        b, rl = balances, reservation_lines
        stmt = _balance_select(tenant, sa.tuple_(b.c.item_id, b.c.location_id).in_(wanted))
        rows = conn.execute(stmt.with_for_update(of=b) if pg else stmt).all()
        lapsed = _lock_lapsed(
            conn, tenant, ids, now, sa.tuple_(rl.c.item_id, rl.c.location_id).in_(wanted)
        )
    states = model.STATES
    for r in rows:
        out[r.item_id].append(
            Figures(
                r.item_id,
                r.location_id,
                r.code,
                r.zone,
                r.priority,
                {s: int(getattr(r, s)) for s in states},
                lapsed.get((r.item_id, r.location_id), 0),
            )
        )
    return out


def _balance_select(tenant: str | sa.BindParameter[Any], rows_in: Any) -> sa.Select:
    """Balance rows with their location's code, zone and priority, in (item, location) order."""
    b = balances
    return (
        sa.select(b, locations.c.code, locations.c.zone, locations.c.priority)
        .join(locations, tenancy.on(tenant, locations, locations.c.id == b.c.location_id))
        .where(tenancy.of(tenant, b), rows_in)
        .order_by(b.c.item_id, b.c.location_id)
    )


@functools.cache
def _balance_rows(pg: bool) -> sa.Select:
    """Every balance row of some items, locked (`lock`; built once for `db.fetch`)."""
    b = balances
    stmt = _balance_select(sa.bindparam("tenant"), db.in_bound(b.c.item_id, "ids", pg=pg))
    return stmt.with_for_update(of=b) if pg else stmt


def item_totals(
    conn: Connection, tenant: str, item_ids: Iterable[int], now: datetime
) -> dict[int, int]:
    """Per item, `available` summed over all its locations, as this transaction sees it.

    The stored states' sum, plus the units of lapsed holds (free, still in `reserved`): the
    same figure as summing `available_expr` row by row, in two grouped reads of one statement.
    """
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    b, rl = balances, reservation_lines
    stored = (
        sa.select(b.c.item_id, sa.func.sum(model.available(lambda s: b.c[s])).label("units"))
        .where(tenancy.of(tenant, b), b.c.item_id.in_(ids))
        .group_by(b.c.item_id)
    )
    lapsed = (
        sa.select(rl.c.item_id, sa.func.sum(rl.c.qty).label("units"))
        .where(
            tenancy.of(tenant, rl),
            rl.c.item_id.in_(ids),
            rl.c.location_id.is_not(None),
            rl.c.active,
            rl.c.expires_at <= now,
        )
        .group_by(rl.c.item_id)
    )
    out = dict.fromkeys(ids, 0)
    for item_id, units in conn.execute(sa.union_all(stored, lapsed)):
        out[item_id] += int(units)
    return out


def _lock_lapsed(
    conn: Connection,
    tenant: str,
    ids: list[int],
    now: datetime,
    place: sa.ColumnElement | None = None,
    *,
    located: bool = True,
) -> dict[tuple[Any, Any], int]:
    """Units of lapsed holds per (item, location or day), their lines locked: the lines held
    at a location (`located`) or on a print-on-demand day, or those `place` names.

    Locked after the balance rows (every writer takes balances first), so the sweeper, a
    commit or an extension cannot change them between this read and the guarded UPDATE.
    """
    pg = not db.is_sqlite(conn)
    if place is None:
        rows = db.fetch(
            conn, _lapsed_lines(pg, located), {"tenant": tenant, "ids": ids, "now": now}
        )
    else:
        rl = reservation_lines
        stmt = _lapsed_select(tenant, rl.c.item_id.in_(ids), now, place)
        rows = conn.execute(stmt.with_for_update() if pg else stmt).all()
    return _units(rows)


def _units(lines: Iterable[Any]) -> dict[tuple[Any, Any], int]:
    """Units of lapsed lines per (item, location or print-on-demand day)."""
    out: dict[tuple[Any, Any], int] = {}
    for r in lines:
        key = (r.item_id, r.location_id if r.location_id is not None else r.day)
        out[key] = out.get(key, 0) + int(r.qty)
    return out


def _lapsed_select(
    tenant: str | sa.BindParameter[Any], items_in: Any, now: Any, place: Any
) -> sa.Select:
    """Active lines of lapsed holds, in the order every writer locks them."""
    rl = reservation_lines
    return (
        sa.select(rl.c.item_id, rl.c.location_id, rl.c.day, rl.c.qty)
        .where(tenancy.of(tenant, rl), items_in, place, rl.c.active, rl.c.expires_at <= now)
        .order_by(rl.c.reservation_id, rl.c.line_no)
    )


@functools.cache
def _lapsed_lines(pg: bool, located: bool) -> sa.Select:
    """`_lapsed_select` built once for `db.fetch`: the lines at a location, or on a day."""
    rl = reservation_lines
    place = rl.c.location_id.is_not(None) if located else rl.c.location_id.is_(None)
    stmt = _lapsed_select(
        sa.bindparam("tenant"),
        db.in_bound(rl.c.item_id, "ids", pg=pg),
        sa.bindparam("now", type_=rl.c.expires_at.type),
        place,
    )
    return stmt.with_for_update() if pg else stmt


def lock_pod(
    conn: Connection, tenant: str, capacity: Mapping[tuple[int, date], int], now: datetime
) -> PodLocked:
    """Print-on-demand days (item, day) with the item's capacity per day, locked."""
    if not capacity:
        return {}
    for item_id, day in sorted(capacity):
        conn.execute(
            db.insert(conn, pod_bookings)
            .values(tenant_id=tenant, item_id=item_id, day=day)
            .on_conflict_do_nothing()
        )
    p = pod_bookings
    ids = sorted({i for i, _ in capacity})
    stmt = (
        sa.select(p)
        .where(tenancy.of(tenant, p), p.c.item_id.in_(ids), p.c.day.in_({d for _, d in capacity}))
        .order_by(p.c.item_id, p.c.day)
    )
    rows = {
        (r.item_id, r.day): {s: int(getattr(r, s)) for s in model.POD_STATES}
        for r in conn.execute(db.for_update(conn, stmt))
    }
    lapsed = _lock_lapsed(conn, tenant, ids, now, located=False)
    return {
        key: PodFigures(key[0], key[1], cap, rows[key], lapsed.get(key, 0))
        for key, cap in sorted(capacity.items())
    }


# ---- applying -----------------------------------------------------------------------------


def apply(
    conn: Connection,
    tenant: str,
    changes: Sequence[Change],
    posting: Posting,
    now: datetime,
    *,
    locked: Locked | None = None,
    pods: PodLocked | None = None,
    event: Mapping[str, Any] | None = None,
    announce: bool = True,
    writes: db.Writes | None = None,
) -> Outcome:
    """Apply `changes` in the caller's transaction, all or nothing; the figures after.

    Changes of one row are summed and checked together. Rows not in `locked`/`pods` are locked
    here first (a row is created for a change that only adds). `event` adds fields to every
    `stock.changed` (the reason is the posting's); `announce=False` emits none.

    The guarded UPDATEs, the ledger rows and the events are sent together (db.Writes: one round
    trip on PostgreSQL). With `writes`, they are queued there for the caller to send with its
    own rows; a refusal is then raised by the caller's `writes.flush()`.
    """
    for c in changes:
        unknown = set(c.deltas) - set(model.STATES if c.location else model.POD_STATES)
        if unknown:
            raise ValueError(f"unknown states {sorted(unknown)}")
        if c.item.tracking == "serial" and not c.serials and _moves_units(c):
            raise Invalid(
                f"{c.item.sku} is tracked by serial number: its units come and go only with a "
                "movement that names them (receipt, ship, transfer, return, write_off with "
                "'serials').",
                slug="serial-required",
                sku=c.item.sku,
            )
    stock = [c for c in changes if c.location is not None]
    pod = [c for c in changes if c.location is None]
    adds = {c.key for c in stock if _adds(c)}
    if locked is None:
        locked = lock(conn, tenant, {c.item.id for c in stock}, now, ensure=adds)  # type: ignore[arg-type]
    elif missing := {k for k in adds if _row(locked, k) is None}:
        partial: set[int] = getattr(locked, "partial", set())
        rows = missing if {i for i, _ in missing} & partial else None
        more = lock(conn, tenant, {i for i, _ in missing}, now, ensure=missing, only=rows)  # type: ignore[arg-type]
        if isinstance(locked, LockedRows):
            locked.merge(more)
        else:
            locked.update(more)
    if pods is None:
        pods = lock_pod(conn, tenant, {c.key: c.item.capacity_per_day or 0 for c in pod}, now)  # type: ignore[misc]
    w = writes if writes is not None else db.Writes(conn)
    outcome = Outcome()
    _write_rows(conn, tenant, stock, locked, outcome, now, w)
    if any(c.lot is not None or c.item.tracking != "none" for c in stock):
        w.flush()  # the lot rows follow their balance rows, and are read back after
        _write_lots(conn, tenant, stock, now)
        outcome.held_back = _held_back(conn, tenant, [c.item for c in stock if c.item.lots], now)
    if partial := getattr(locked, "partial", set()) & {c.item.id for c in stock}:
        w.flush()  # the totals are read after the change
        outcome.totals = item_totals(conn, tenant, partial, now)
    if pod:
        w.flush()
    _write_pods(conn, tenant, pod, pods, outcome, now)
    w.insert(ledger, [r for c in changes for r in ledger_rows(tenant, c, posting, now)])
    if announce:
        w.insert(outbox_rows, changed_events(tenant, outcome, now, posting.reason, event or {}))
    if writes is None:
        w.flush()
    return outcome


def _moves_units(c: Change) -> bool:
    return bool(c.deltas.get("on_hand") or c.deltas.get("in_transit"))


def _adds(c: Change) -> bool:
    """Only adds: may create the row (first stock of an item at a location)."""
    moved = [d for d in c.deltas.values() if d]
    return bool(moved) and all(d > 0 for d in moved)


def _summed(changes: Sequence[Change]) -> dict[Any, tuple[Change, dict[str, int], int, bool]]:
    """Per row: a change of it, the summed deltas, lapsed units retired, and whether it sells."""
    out: dict[Any, tuple[Change, dict[str, int], int, bool]] = {}
    for c in changes:
        first, deltas, lapsed, sells = out.get(c.key, (c, {}, 0, False))
        for s, d in c.deltas.items():
            deltas[s] = deltas.get(s, 0) + d
        if c.lapsed:
            lapsed += -c.deltas.get("reserved", 0)
        out[c.key] = (first, deltas, lapsed, sells or c.sells)
    return dict(sorted(out.items()))


def _write_rows(
    conn: Connection,
    tenant: str,
    changes: Sequence[Change],
    locked: Locked,
    outcome: Outcome,
    now: datetime,
    w: db.Writes,
) -> None:
    summed = _summed(changes)
    after: dict[Any, Figures] = {}
    by_shape: dict[tuple[tuple[str, ...], model.Guard], list[tuple[Any, dict[str, int]]]] = {}
    for key, (c, deltas, lapsed, sells) in summed.items():
        deltas = {s: d for s, d in deltas.items() if d}
        row = _row(locked, key)
        if row is not None:
            after[key] = dataclasses.replace(
                row,
                states={s: v + deltas.get(s, 0) for s, v in row.states.items()},
                lapsed=row.lapsed - lapsed,
            )
        if not deltas:
            continue
        g = model.guard(deltas, c.item.allow_backorder, sells)
        if row is None:
            raise _shortage(c, deltas, None, g)
        by_shape.setdefault((tuple(sorted(deltas)), g), []).append((key, deltas))
    for (states, g), rows in by_shape.items():

        def check(done: int, rows: list[tuple[Any, dict[str, int]]] = rows, g: Any = g) -> None:
            if done != len(rows):
                _refused(summed, locked, rows, g)

        if db.is_sqlite(conn):
            params: Any = [
                {"t": tenant, "i": i, "l": loc, "now": now, **{f"d_{s}": deltas[s] for s in states}}
                for (i, loc), deltas in rows
            ]
            w.execute(sql.guarded_update(balances, states, g), params, check)
        else:
            # One statement for all the rows of this shape, their keys and deltas as arrays.
            params = {"t": tenant, "now": now, "i": [i for (i, _), _ in rows]}
            params["l"] = [loc for (_, loc), _ in rows]
            params |= {f"d_{s}": [deltas[s] for _, deltas in rows] for s in states}
            w.execute(sql.guarded_update_many(states, g), params, check)
    for c in changes:
        outcome.items[c.item.id] = c.item
        if c.key in after and c.key not in outcome.touched:
            outcome.touched.append(c.key)  # type: ignore[arg-type]
    for item_id in {c.item.id for c in changes}:
        outcome.rows[item_id] = [
            after.get((item_id, f.location_id), f) for f in locked.get(item_id, [])
        ]


def _write_pods(
    conn: Connection,
    tenant: str,
    changes: Sequence[Change],
    pods: PodLocked,
    outcome: Outcome,
    now: datetime,
) -> None:
    for key, (c, deltas, lapsed, sells) in _summed(changes).items():
        deltas = {s: d for s, d in deltas.items() if d}
        row = pods[key]
        outcome.pods[key] = dataclasses.replace(
            row,
            states={s: v + deltas.get(s, 0) for s, v in row.states.items()},
            lapsed=row.lapsed - lapsed,
        )
        if not deltas:
            continue
        g = model.guard(deltas, c.item.allow_backorder, sells)
        states = tuple(sorted(deltas))
        params = {"t": tenant, "i": key[0], "on_day": key[1], "cap": row.capacity, "now": now}
        params |= {f"d_{s}": d for s, d in deltas.items()}
        done = conn.execute(sql.guarded_update(pod_bookings, states, g, capacity=True), params)
        if done.rowcount != 1:
            if model.admits(g, row.states, deltas, lapsed=row.lapsed, capacity=row.capacity):
                raise GrantRefused(f"pod item {c.item.sku} on {key[1]}: {deltas} refused")
            raise InsufficientStock(c.item.sku, -model.net(deltas, _pod_net), max(row.available, 0))


# ---- per-lot rows ---------------------------------------------------------------------------

LotKey = tuple[int, int, int]  # (item, location, lot)


def _lot_changes(changes: Sequence[Change]) -> dict[LotKey, tuple[Change, dict[str, int], bool]]:
    """Per lot row: a change of it, the summed deltas of its lot states, and whether any is a
    sale. A lot-tracked item's change of a lot state must name its lot, and only such an item's
    may."""
    out: dict[LotKey, tuple[Change, dict[str, int], bool]] = {}
    for c in changes:
        assert c.location is not None
        if not c.item.lots:
            if c.lot is not None:
                raise Invalid(
                    f"{c.item.sku} does not track lots; leave the lot out.", slug="not-lot-tracked"
                )
            continue
        moved = {s: d for s, d in c.deltas.items() if d and s in model.LOT_STATES}
        if c.lot is None:
            if moved:
                raise Invalid(
                    f"{c.item.sku} is lot-tracked: name the lot ({', '.join(sorted(moved))}).",
                    slug="lot-required",
                    sku=c.item.sku,
                )
            continue
        key = (c.item.id, c.location.id, c.lot)
        first, deltas, sale = out.get(key, (c, {}, False))
        for st, d in moved.items():
            deltas[st] = deltas.get(st, 0) + d
        out[key] = (first, deltas, sale or c.sale)
    return dict(sorted(out.items()))


def _write_lots(conn: Connection, tenant: str, changes: Sequence[Change], now: datetime) -> None:
    """The lot rows of lot-tracked items, each with its own guard, after their balance rows
    (whose locks, already held, order every writer of an item's lots)."""
    summed = _lot_changes(changes)
    for (item_id, location_id, lot_id), (_c, deltas, _sale) in summed.items():
        if deltas and all(d > 0 for d in deltas.values()):
            conn.execute(
                db.insert(conn, lot_balances)
                .values(
                    tenant_id=tenant,
                    item_id=item_id,
                    location_id=location_id,
                    lot_id=lot_id,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
            )
    today = tenants.load(conn, tenant).day(now) if any(v[2] for v in summed.values()) else None
    by_shape: dict[tuple[tuple[str, ...], model.Guard, bool], list[dict[str, Any]]] = {}
    for (item_id, location_id, lot_id), (c, deltas, sale) in summed.items():
        deltas = {st: d for st, d in deltas.items() if d}
        if not deltas:
            continue
        g = model.guard(deltas, False, c.sells)
        params = {"t": tenant, "i": item_id, "l": location_id, "lot": lot_id, "now": now}
        params |= {f"d_{st}": d for st, d in deltas.items()}
        if sale:
            assert today is not None
            params["sell_by"] = model.sell_by(today, c.item.min_shelf_life_days)
        by_shape.setdefault((tuple(sorted(deltas)), g, sale), []).append(params)
    for (states, g, sale), rows in by_shape.items():
        done = conn.execute(sql.lot_guarded_update(states, g, sale), rows)
        if done.rowcount != len(rows):
            _lot_refused(conn, tenant, summed, rows, g, now)


def _held_back(
    conn: Connection, tenant: str, lot_items: Sequence[model.Item], now: datetime
) -> dict[tuple[int, int], int]:
    """Per (item, location) of the lot items, the available units (after the change) in lots
    that may not be sold today: `stock.changed` leaves them out, as availability does."""
    from . import lots as lot_rows  # reads only; lots imports nothing of the kernel

    if not lot_items:
        return {}
    today = tenants.load(conn, tenant).day(now)
    by_id = {i.id: i for i in lot_items}
    out: dict[tuple[int, int], int] = {}
    for row in lot_rows.rows(conn, tenant, set(by_id), now):
        if row.available > 0 and not row.lot.sellable(
            model.sell_by(today, by_id[row.item_id].min_shelf_life_days)
        ):
            key = (row.item_id, row.location_id)
            out[key] = out.get(key, 0) + row.available
    return out


def _lot_refused(
    conn: Connection,
    tenant: str,
    summed: dict[LotKey, tuple[Change, dict[str, int], bool]],
    rows: list[dict[str, Any]],
    g: model.Guard,
    now: datetime,
) -> None:
    """Explain which lot row the guard refused: too little in it, or past its sell-by day."""
    lb = lot_balances
    for params in rows:
        key = (params["i"], params["l"], params["lot"])
        c, deltas, _sale = summed[key]
        assert c.location is not None
        lot = conn.execute(
            sa.select(lots.c.code, lots.c.expires_on, lots.c.recalled_at).where(
                tenancy.of(tenant, lots), lots.c.id == key[2]
            )
        ).one()
        if "sell_by" in params and (
            lot.recalled_at is not None
            or (lot.expires_on is not None and lot.expires_on < params["sell_by"])
        ):
            why = (
                "was recalled"
                if lot.recalled_at is not None
                else f"expires on {lot.expires_on.isoformat()}"
            )
            problem = InsufficientStock(
                c.item.sku, -model.net(deltas, model.available), 0, c.location.code
            )
            problem.detail = (
                f"{c.item.sku} lot {lot.code} {why}: it may not be sold "
                f"(sellable lots expire on {params['sell_by'].isoformat()} or later)."
            )
            problem.extra |= {"lot": lot.code, "lot_sellable": False}
            raise problem
        row = conn.execute(
            sa.select(lb, sql.lot_lapsed_reserved(now).label("lapsed")).where(
                tenancy.of(tenant, lb),
                lb.c.item_id == key[0],
                lb.c.location_id == key[1],
                lb.c.lot_id == key[2],
            )
        ).first()
        states = {st: 0 for st in model.STATES}
        lapsed = 0
        if row is not None:
            states = {st: int(getattr(row, st)) for st in model.STATES}
            lapsed = int(row.lapsed)
        if row is not None and model.admits(g, states, deltas, lapsed=lapsed):
            continue
        for state in g.floors:
            if state != "on_hand" and states[state] < -deltas[state]:
                problem = InsufficientStock(
                    c.item.sku, -deltas[state], states[state], c.location.code
                )
                problem.detail = (
                    f"{c.item.sku} lot {lot.code} at {c.location.code}: {-deltas[state]} "
                    f"requested from {state}, which holds only {states[state]}."
                )
                problem.extra |= {"state": state, "lot": lot.code}
                raise problem
        free = int(model.available(states.__getitem__)) + lapsed
        problem = InsufficientStock(
            c.item.sku, -model.net(deltas, model.available), max(free, 0), c.location.code
        )
        problem.detail = (
            f"{c.item.sku} lot {lot.code} at {c.location.code}: "
            f"{-model.net(deltas, model.available)} requested, but only {max(free, 0)} of the "
            "lot available."
        )
        problem.extra["lot"] = lot.code
        raise problem
    raise GrantRefused(f"{len(rows)} lot rows: the guard refused what their figures admit")


def _pod_net(value: model.Getter) -> Any:
    return model.pod_available(0, value)


def _row(locked: Locked, key: tuple[int, Any]) -> Figures | None:
    return next((f for f in locked.get(key[0], []) if f.location_id == key[1]), None)


def _refused(
    summed: dict[Any, tuple[Change, dict[str, int], int, bool]],
    locked: Locked,
    rows: list[tuple[Any, dict[str, int]]],
    g: model.Guard,
) -> None:
    """Explain a refusal from the locked figures (the view the guard had)."""
    for key, deltas in rows:
        row = _row(locked, key)
        assert row is not None
        if not model.admits(g, row.states, deltas, lapsed=row.lapsed):
            raise _shortage(summed[key][0], deltas, row, g)
    raise GrantRefused(f"{len(rows)} balance rows: the guard refused what the locked figures admit")


def _shortage(
    c: Change, deltas: dict[str, int], row: Figures | None, g: model.Guard
) -> InsufficientStock:
    """Which figure was too small, and by how much."""
    assert c.location is not None
    states = {s: 0 for s in model.STATES} if row is None else row.states
    for state in g.floors:
        if state != "on_hand" and states[state] < -deltas[state]:
            problem = InsufficientStock(c.item.sku, -deltas[state], states[state], c.location.code)
            problem.detail = (
                f"{c.item.sku} at {c.location.code}: {-deltas[state]} requested from {state}, "
                f"which holds only {states[state]}."
            )
            problem.extra["state"] = state
            return problem
    free = 0 if row is None else row.available
    return InsufficientStock(
        c.item.sku, -model.net(deltas, model.available), max(free, 0), c.location.code
    )


# ---- ledger and events ----------------------------------------------------------------------


def ledger_rows(
    tenant: str, change: Change, posting: Posting, now: datetime
) -> list[dict[str, Any]]:
    """The ledger rows of one change: one per state it moves (a count of no change keeps one)."""
    p = change.posting or posting
    lot = change.lot
    deltas = [(s, d) for s, d in change.deltas.items() if d]
    if not deltas and change.record_zero:
        deltas = [("on_hand", 0)]
    return [
        {
            "tenant_id": tenant,
            "item_id": change.item.id,
            "location_id": change.location.id if change.location else None,
            "day": change.day if change.location is None else None,
            "state": state,
            "delta": delta,
            "reason": p.reason,
            "reference": p.reference,
            "movement_id": p.movement_id,
            "reservation_id": p.reservation_id,
            "actor": p.actor,
            "unit_cost": p.unit_cost,
            "created_at": now,
            # Only the lot's own states carry the lot (incoming and safety stock are the item's).
            "lot_id": None if lot is None or state not in model.LOT_STATES else lot,
        }
        for state, delta in deltas
    ]


def emit_changed(
    conn: Connection,
    tenant: str,
    outcome: Outcome,
    now: datetime,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Record the `stock.changed` events of an outcome (see `changed_events`)."""
    outbox.record_many(conn, changed_events(tenant, outcome, now, reason, extra))


def changed_events(
    tenant: str,
    outcome: Outcome,
    now: datetime,
    reason: str,
    extra: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One `stock.changed` per touched (item, location), in the order first touched, with the
    figures after the change: the location's, and the item's total over all its locations."""
    events = []
    totals = dict(outcome.totals)
    back = outcome.held_back

    def free(r: Figures) -> int:
        held = back.get((r.item_id, r.location_id), 0) if back else 0
        return max(r.available - held, 0) if held else r.available

    for item_id, location_id in outcome.touched:
        rows = outcome.rows[item_id]
        here = next(r for r in rows if r.location_id == location_id)
        if item_id not in totals:
            totals[item_id] = sum(free(r) for r in rows)
        events.append(
            catalogue.StockChanged(
                sku=outcome.items[item_id].sku,
                location=here.code,
                available=totals[item_id],
                location_available=free(here),
                on_hand=here.states["on_hand"],
                reason=reason,
                **(extra or {}),
            ).row(tenant, now)
        )
    return events
