"""Granting holds in bulk: the balance side of reservations.

A batch of holds (one request, or many coalesced by group commit) is granted in three steps:
1. `lock` takes the balance rows of every touched item (FOR UPDATE on PostgreSQL; SQLite
   writers already hold the database lock) and reads what is free, lapsed holds counted free.
2. The caller decides, in arrival order, which holds fit (see reservations.granting).
3. `add_reserved` raises `reserved` by the granted totals with the same conditional UPDATE as
   every other stock change, so the database still refuses anything beyond the stock.
Print-on-demand capacity works the same way on `pod_bookings` rows, one per item and day.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db
from ..tables import balances, ledger, locations, pod_bookings, reservation_lines
from .availability import available_expr


@dataclass
class Free:
    """What one location (or one pod day) can still give, as read under the lock."""

    location_id: int | None
    code: str | None
    zone: str | None
    priority: int
    available: int
    on_hand: int = 0


class GrantRefused(Exception):
    """The guard refused a grant computed under the lock: a bug or an unlocked writer."""


def lock(
    conn: Connection,
    tenant: str,
    item_ids: list[int],
    now: datetime,
    ensure: AbstractSet[tuple[int, int]] = frozenset(),
) -> dict[int, list[Free]]:
    """Per stocked item, its locations' free quantities, locked until the transaction ends.

    `ensure` names (item, location) rows to create first, so that a backordered item can be
    held at a location where it has never been stocked.
    """
    if not item_ids:
        return {}
    for item_id, location_id in sorted(ensure):
        conn.execute(
            db.insert(conn, balances)
            .values(
                tenant_id=tenant,
                item_id=item_id,
                location_id=location_id,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
    places = {
        r.id: r
        for r in conn.execute(
            sa.select(
                locations.c.id, locations.c.code, locations.c.zone, locations.c.priority
            ).where(locations.c.tenant_id == tenant)
        )
    }
    stmt = (
        sa.select(
            balances.c.item_id,
            balances.c.location_id,
            balances.c.on_hand,
            available_expr(now).label("available"),
        )
        .where(balances.c.tenant_id == tenant, balances.c.item_id.in_(sorted(item_ids)))
        .order_by(balances.c.item_id, balances.c.location_id)
    )
    rows = conn.execute(db.for_update(conn, stmt)).all()
    out: dict[int, list[Free]] = {i: [] for i in item_ids}
    for r in rows:
        p = places[r.location_id]
        out[r.item_id].append(
            Free(r.location_id, p.code, p.zone, p.priority, int(r.available), int(r.on_hand))
        )
    return out


def _by_row(now: datetime, delta: sa.ColumnElement, *guards: sa.ColumnElement) -> sa.Update:
    """An UPDATE of one balance row named by bind parameters, run with executemany."""
    return (
        balances.update()
        .where(
            balances.c.tenant_id == sa.bindparam("t"),
            balances.c.item_id == sa.bindparam("i"),
            balances.c.location_id == sa.bindparam("l"),
            *guards,
        )
        .values(reserved=balances.c.reserved + delta, updated_at=now)
    )


def _each(
    conn: Connection, stmt: sa.Update, tenant: str, totals: dict[tuple[int, int], int]
) -> None:
    """One round trip for all rows; every row must have matched its guard."""
    if not totals:
        return
    params = [{"t": tenant, "i": i, "l": loc, "q": q} for (i, loc), q in sorted(totals.items())]
    done = conn.execute(stmt, params)
    if done.rowcount != len(params):
        raise GrantRefused(f"{len(params) - done.rowcount} of {len(params)} balance rows refused")


def add_reserved(
    conn: Connection,
    tenant: str,
    totals: dict[tuple[int, int], int],
    backorder: set[int],
    now: datetime,
) -> None:
    """Raise `reserved` by each (item, location) total, guarded by availability."""
    q: sa.BindParameter[int] = sa.bindparam("q")
    _each(
        conn,
        _by_row(now, q, available_expr(now) >= q),
        tenant,
        {k: v for k, v in totals.items() if k[0] not in backorder},
    )
    _each(conn, _by_row(now, q), tenant, {k: v for k, v in totals.items() if k[0] in backorder})


def release_reserved(
    conn: Connection, tenant: str, totals: dict[tuple[int, int], int], now: datetime
) -> None:
    """Lower `reserved` by each (item, location) total (expired holds)."""
    q: sa.BindParameter[int] = sa.bindparam("q")
    _each(conn, _by_row(now, -q, balances.c.reserved >= q), tenant, totals)


def _pod_lapsed(tenant: str, now: datetime) -> sa.ScalarSelect:
    rl = reservation_lines
    return (
        sa.select(sa.func.coalesce(sa.func.sum(rl.c.qty), 0))
        .where(
            rl.c.tenant_id == tenant,
            rl.c.item_id == pod_bookings.c.item_id,
            rl.c.day == pod_bookings.c.day,
            rl.c.active,
            rl.c.expires_at <= now,
        )
        .scalar_subquery()
    )


def lock_pod(
    conn: Connection, tenant: str, wanted: dict[tuple[int, date], int], now: datetime
) -> dict[tuple[int, date], int]:
    """Free capacity per (item, day) given each item's capacity per day, locked."""
    if not wanted:
        return {}
    for item_id, day in sorted(wanted):
        conn.execute(
            db.insert(conn, pod_bookings)
            .values(tenant_id=tenant, item_id=item_id, day=day)
            .on_conflict_do_nothing()
        )
    used = pod_bookings.c.reserved + pod_bookings.c.committed - _pod_lapsed(tenant, now)
    stmt = (
        sa.select(pod_bookings.c.item_id, pod_bookings.c.day, used.label("used"))
        .where(
            pod_bookings.c.tenant_id == tenant,
            pod_bookings.c.item_id.in_({i for i, _ in wanted}),
            pod_bookings.c.day.in_({d for _, d in wanted}),
        )
        .order_by(pod_bookings.c.item_id, pod_bookings.c.day)
    )
    rows = conn.execute(db.for_update(conn, stmt)).all()
    used_by = {(r.item_id, r.day): int(r.used) for r in rows}
    return {key: capacity - used_by.get(key, 0) for key, capacity in wanted.items()}


def add_pod_reserved(
    conn: Connection,
    tenant: str,
    totals: dict[tuple[int, date], int],
    capacity: dict[int, int],
    backorder: set[int],
    now: datetime,
) -> None:
    for (item_id, day), qty in sorted(totals.items()):
        where = [
            pod_bookings.c.tenant_id == tenant,
            pod_bookings.c.item_id == item_id,
            pod_bookings.c.day == day,
        ]
        if item_id not in backorder:
            used = pod_bookings.c.reserved + pod_bookings.c.committed - _pod_lapsed(tenant, now)
            where.append(used + qty <= capacity[item_id])
        done = conn.execute(
            pod_bookings.update().where(*where).values(reserved=pod_bookings.c.reserved + qty)
        )
        if done.rowcount != 1:
            raise GrantRefused(f"pod item {item_id} on {day}: {qty} not granted")


def move_pod(
    conn: Connection, tenant: str, item_id: int, day: date, deltas: dict[str, int]
) -> None:
    """Release (reserved −q) or commit (reserved −q, committed +q) a print-on-demand booking."""
    where = [
        pod_bookings.c.tenant_id == tenant,
        pod_bookings.c.item_id == item_id,
        pod_bookings.c.day == day,
    ]
    where += [pod_bookings.c[s] >= -d for s, d in deltas.items() if d < 0]
    done = conn.execute(
        pod_bookings.update()
        .where(*where)
        .values(**{s: pod_bookings.c[s] + d for s, d in deltas.items()})
    )
    if done.rowcount != 1:
        raise GrantRefused(f"pod item {item_id} on {day}: cannot apply {deltas}")


def write_entries(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Ledger rows for granted holds (one round trip for the whole batch)."""
    db.bulk_insert(conn, ledger, rows)
