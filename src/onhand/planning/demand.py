"""Daily demand history per item and location, read from the ledger into NumPy arrays.

Demand is counted when a sale is made, once:
  * a reservation's commit (state `committed`, reason `commit`, +q), and
  * a `ship` movement that serves no reservation (state `on_hand`, reason `ship`, −q).
Shipping a committed sale later (an entry carrying its reservation id) is not counted
again; returns, damage, write-offs, transfers and counts are not demand.

A day is a stock-out day when the available stock at that location was zero (or less)
at the end of the day. Its demand is unknown rather than zero — buyers could not buy —
so the forecaster masks it. End-of-day available is rebuilt backwards from today's
balance: available(d) = available(now) − Σ changes to available after day d, which needs
only the ledger rows of the window (one GROUP BY by item, location and day).
Days are UTC calendar days; the window ends with yesterday, the last complete day.

On PostgreSQL the window is read in one grouped query that returns, per block of 1,024
item ids, the ledger rows' (item, location, day, change of available, demand) as five
arrays, streamed as binary COPY and decoded with NumPy: a million item-locations with
half a year of sales arrive as about a thousand rows instead of tens of millions, and
the per-day sums are added up in NumPy. SQLite groups by item, location and day.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..stock.availability import HELD
from ..tables import balances, items, ledger

STOCKED = ("physical", "licensed")
BUCKET = 1024  # item ids per row of the PostgreSQL history query
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Series:
    """The (item, location) pairs that are planned, with their figures now; arrays of n."""

    item_ids: np.ndarray
    location_ids: np.ndarray
    on_hand: np.ndarray
    reserved: np.ndarray
    unusable: np.ndarray  # committed + damaged + quality_control + safety_stock
    incoming: np.ndarray
    in_transit: np.ndarray

    @property
    def available(self) -> np.ndarray:
        return self.on_hand - self.reserved - self.unusable

    def __len__(self) -> int:
        return len(self.item_ids)


@dataclass(frozen=True)
class DemandHistory:
    start: date  # the first day of the window
    qty: np.ndarray  # (n, days) float32 units of demand per day
    # (n, days) available at the end of each day, int32 clipped at ±(2³¹ − 1): only its sign
    # is used (stockout), and at 1,000,000 series × 182 days int64 took 1.5 GB.
    available: np.ndarray

    @property
    def days(self) -> int:
        return self.qty.shape[1]

    @property
    def stockout(self) -> np.ndarray:
        """(n, days) True where the shelf was empty at the end of the day."""
        return self.available <= 0


def series(conn: Connection, tenant: str, item_ids: list[int] | None = None) -> Series:
    """Every stocked, active item at every location it has a balance at, in (item,
    location) order. PostgreSQL sends each column as one array (binary COPY of one row)."""
    b = balances
    columns = [
        b.c.item_id,
        b.c.location_id,
        b.c.on_hand,
        b.c.reserved,
        sum((b.c[s] for s in HELD[2:]), b.c.committed),
        b.c.incoming,
        b.c.in_transit,
    ]
    where = [tenancy.of(tenant, b), items.c.kind.in_(STOCKED), items.c.active]
    if item_ids is not None:
        where.append(b.c.item_id.in_(item_ids))
    source = b.join(items, tenancy.on(tenant, items, items.c.id == b.c.item_id))
    if db.is_sqlite(conn):
        stmt = sa.select(*columns).select_from(source).where(*where)
        found = conn.execute(stmt.order_by(b.c.item_id, b.c.location_id)).all()
        rows = np.array([tuple(r) for r in found], dtype=np.int64).reshape(-1, 7)
        return Series(*(np.ascontiguousarray(rows[:, i]) for i in range(7)))
    order = (b.c.item_id, b.c.location_id)
    stmt = (
        sa.select(
            *(
                sa.func.array_agg(aggregate_order_by(sa.cast(c, sa.BigInteger), *order))
                for c in columns
            )
        )
        .select_from(source)
        .where(*where)
    )
    (row,) = list(_copy_rows(conn, stmt))  # no balances: one row of NULLs
    return Series(*(_int_array(f) for f in row))


def _day_number(conn: Connection, start: date) -> sa.ColumnElement:
    """Whole UTC days from `start` to each ledger row."""
    if db.is_sqlite(conn):
        return sa.cast(
            sa.func.julianday(sa.func.date(ledger.c.created_at))
            - sa.func.julianday(start.isoformat()),
            sa.Integer,
        )
    return sa.cast(sa.func.timezone("UTC", ledger.c.created_at), sa.Date) - sa.literal(
        start, sa.Date
    )


def _available_change() -> sa.ColumnElement:
    return sa.case(
        (ledger.c.state == "on_hand", ledger.c.delta),
        (ledger.c.state.in_(HELD), -ledger.c.delta),
        else_=0,
    )


def _demand() -> sa.ColumnElement:
    sold = sa.and_(ledger.c.state == "committed", ledger.c.reason == "commit")
    shipped = sa.and_(
        ledger.c.state == "on_hand", ledger.c.reason == "ship", ledger.c.reservation_id.is_(None)
    )
    return sa.case((sold, ledger.c.delta), (shipped, -ledger.c.delta), else_=0)


class _Window:
    """Accumulates ledger rows (as arrays) into the dense daily arrays of a history."""

    def __init__(self, planned: Series, days: int) -> None:
        self.days = days
        self.width = int(planned.location_ids.max(initial=0)) + 1
        # planned is ordered by (item, location), so these keys are sorted.
        self.keys = planned.item_ids * self.width + planned.location_ids
        self.now = planned.available
        self.qty = np.zeros((len(planned), days), dtype=np.float32)
        self.available = np.repeat(_int32(planned.available)[:, None], days, axis=1)

    def add(
        self,
        item: np.ndarray,
        loc: np.ndarray,
        day: np.ndarray,
        moved: np.ndarray,
        sold: np.ndarray,
    ) -> None:
        """Rows of one group of items (the series they touch form one contiguous range)."""
        keep = loc < self.width
        key = item * self.width + np.where(keep, loc, 0)
        k = np.minimum(np.searchsorted(self.keys, key), len(self.keys) - 1)
        keep &= self.keys[k] == key  # rows of items that are not planned are skipped
        if not keep.any():
            return
        k, d, moved, sold = k[keep], np.minimum(day[keep], self.days), moved[keep], sold[keep]
        lo, hi = int(k.min()), int(k.max()) + 1
        change = np.zeros((hi - lo, self.days + 1), dtype=np.int64)  # column `days`: today on
        np.add.at(change, (k - lo, d), moved)
        later = np.cumsum(change[:, ::-1], axis=1)[:, ::-1]  # later[:, d] = Σ change[:, d:]
        # available at the end of day d = available now − changes on every later day
        self.available[lo:hi] = _int32(self.now[lo:hi, None] - later[:, 1:])
        past = (d < self.days) & (sold != 0)
        np.add.at(self.qty, (k[past], d[past]), sold[past].astype(np.float32))


INT32 = np.iinfo(np.int32)


def _int32(values: np.ndarray) -> np.ndarray:
    """int64 figures as int32, the ones beyond its range clipped (their sign is kept)."""
    return np.clip(values, INT32.min, INT32.max).astype(np.int32)


def _copy_rows(conn: Connection, stmt: sa.Select) -> Iterator[list[bytes | None]]:
    """The rows of a query as binary COPY, each a list of its fields' raw bytes."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    sql = f"COPY ({compiled}) TO STDOUT (FORMAT binary)"
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        # Announce the statement like SQLAlchemy does, so statement logs and checks see it.
        conn.dispatch.before_cursor_execute(conn, cur, sql, compiled.params, None, False)
        yield from _decode(cur, sql, compiled.params)


def _decode(cur: Any, sql: str, params: Any) -> Iterator[list[bytes | None]]:
    pending, header = bytearray(), False
    with cur.copy(sql, params) as cp:
        for chunk in cp:
            pending += chunk
            pos = 0
            if not header:
                if len(pending) < 19:
                    continue
                pos, header = 19 + struct.unpack_from(">i", pending, 15)[0], True
            while len(pending) - pos >= 2:
                (count,) = struct.unpack_from(">h", pending, pos)
                if count == -1:  # the trailer; the copy still has to be read to its end
                    pos = len(pending)
                    break
                fields: list[bytes | None] = []
                at = pos + 2
                for _ in range(count):
                    if len(pending) - at < 4:
                        break
                    (size,) = struct.unpack_from(">i", pending, at)
                    if size == -1:  # NULL
                        fields.append(None)
                        at += 4
                        continue
                    if len(pending) - at - 4 < size:
                        break
                    fields.append(bytes(pending[at + 4 : at + 4 + size]))
                    at += 4 + size
                if len(fields) < count:
                    break
                yield fields
                pos = at
            del pending[:pos]


def _int_array(raw: bytes | None) -> np.ndarray:
    """A one-dimensional PostgreSQL int4[]/int8[] without NULLs, from its binary form
    (NULL, as array_agg of no rows gives, is empty)."""
    if raw is None:
        return np.zeros(0, dtype=np.int64)
    ndim, _, oid = struct.unpack_from(">iii", raw, 0)
    if ndim == 0:
        return np.zeros(0, dtype=np.int64)
    (size,) = struct.unpack_from(">i", raw, 12)
    width = 8 if oid == 20 else 4  # int8 or int4
    cell = np.dtype([("len", ">i4"), ("v", f">i{width}")])
    return np.frombuffer(raw, dtype=cell, count=size, offset=20)["v"].astype(np.int64)


def _read_postgres(
    conn: Connection,
    tenant: str,
    start: date,
    window: _Window,
    planned: Series,
    progress: Progress,
) -> None:
    bucket = (ledger.c.item_id // BUCKET).label("bucket")  # integer division
    as_int8 = lambda c: sa.cast(c, sa.BigInteger)  # noqa: E731
    stmt = (
        sa.select(
            sa.func.array_agg(ledger.c.item_id),
            sa.func.array_agg(ledger.c.location_id),
            sa.func.array_agg(sa.cast(_day_number(conn, start), sa.Integer)),
            sa.func.array_agg(as_int8(_available_change())),
            sa.func.array_agg(as_int8(_demand())),
        )
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.created_at >= datetime.combine(start, time(), UTC),
        )
        .group_by(bucket)
    )
    total = len(np.unique(planned.item_ids // BUCKET))
    for done, fields in enumerate(_copy_rows(conn, stmt), start=1):
        window.add(*(_int_array(f) for f in fields))
        progress(min(done, total), total)


def _read_sqlite(conn: Connection, tenant: str, start: date, window: _Window) -> None:
    day = _day_number(conn, start).label("day")
    rows = conn.execute(
        sa.select(
            ledger.c.item_id,
            ledger.c.location_id,
            day,
            sa.func.coalesce(sa.func.sum(_available_change()), 0),
            sa.func.coalesce(sa.func.sum(_demand()), 0),
        )
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.created_at >= datetime.combine(start, time(), UTC),
        )
        .group_by(ledger.c.item_id, ledger.c.location_id, day)
        .order_by(ledger.c.item_id)
    ).all()
    data = np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 5)
    window.add(*(data[:, i] for i in range(5)))


def history(
    conn: Connection,
    tenant: str,
    planned: Series,
    days: int,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemandHistory:
    """Demand and end-of-day available of every series over the `days` complete days
    before today; `progress(done, total)` follows the read on PostgreSQL."""
    today = today or db.utcnow().date()
    start = today - timedelta(days=days)
    window = _Window(planned, days)
    if len(planned):
        if db.is_sqlite(conn):
            _read_sqlite(conn, tenant, start, window)
        else:
            _read_postgres(conn, tenant, start, window, planned, progress or (lambda d, t: None))
    return DemandHistory(start, window.qty, window.available)
