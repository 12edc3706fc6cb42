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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db
from ..stock.availability import HELD
from ..tables import balances, items, ledger

STOCKED = ("physical", "licensed")


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
    qty: np.ndarray  # (n, days) units of demand per day
    stockout: np.ndarray  # (n, days) True where the shelf was empty at the end of the day
    available: np.ndarray  # (n, days) available at the end of each day

    @property
    def days(self) -> int:
        return self.qty.shape[1]


def series(conn: Connection, tenant: str, item_ids: list[int] | None = None) -> Series:
    """Every stocked, active item at every location it has a balance at."""
    b = balances
    stmt = (
        sa.select(
            b.c.item_id,
            b.c.location_id,
            b.c.on_hand,
            b.c.reserved,
            b.c.incoming,
            b.c.in_transit,
            sum((b.c[s] for s in HELD[2:]), b.c.committed).label("unusable"),
        )
        .join(items, items.c.id == b.c.item_id)
        .where(b.c.tenant_id == tenant, items.c.kind.in_(STOCKED), items.c.active)
        .order_by(b.c.item_id, b.c.location_id)
    )
    if item_ids is not None:
        stmt = stmt.where(b.c.item_id.in_(item_ids))
    rows = conn.execute(stmt).all()
    col = lambda name: np.array([getattr(r, name) for r in rows], dtype=np.int64)  # noqa: E731
    return Series(
        col("item_id"),
        col("location_id"),
        col("on_hand"),
        col("reserved"),
        col("unusable"),
        col("incoming"),
        col("in_transit"),
    )


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


def history(
    conn: Connection, tenant: str, planned: Series, days: int, today: date | None = None
) -> DemandHistory:
    """Demand and stock-out days of every series over the `days` complete days before today."""
    today = today or db.utcnow().date()
    start = today - timedelta(days=days)
    n = len(planned)
    qty = np.zeros((n, days))
    # Change of available per series and day; column `days` collects today and later.
    change = np.zeros((n, days + 1))
    if n:
        index = {
            (int(i), int(loc)): k
            for k, (i, loc) in enumerate(zip(planned.item_ids, planned.location_ids, strict=True))
        }
        day = _day_number(conn, start).label("day")
        rows = conn.execute(
            sa.select(
                ledger.c.item_id,
                ledger.c.location_id,
                day,
                sa.func.sum(_available_change()),
                sa.func.sum(_demand()),
            )
            .where(
                ledger.c.tenant_id == tenant,
                ledger.c.created_at >= datetime.combine(start, time(), UTC),
            )
            .group_by(ledger.c.item_id, ledger.c.location_id, day)
        )
        for item_id, loc_id, d, moved, sold in rows:
            k = index.get((item_id, loc_id))
            if k is None:
                continue
            d = min(int(d), days)
            change[k, d] += int(moved or 0)
            if d < days:
                qty[k, d] += int(sold or 0)
    # available at the end of day d = available now − changes on every later day
    later = np.cumsum(change[:, ::-1], axis=1)[:, ::-1]  # later[:, d] = Σ change[:, d:]
    end_of_day = planned.available[:, None] - later[:, 1:]
    return DemandHistory(start, qty, end_of_day <= 0, end_of_day)
