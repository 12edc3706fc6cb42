"""After a hold is granted: commit, release, extend, expire, and reading holds back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import db, stock, tenancy, tenants
from ..catalog import service as catalog
from ..errors import Conflict, NotFound
from ..events import catalogue, outbox
from ..stock.model import Change, Posting
from ..tables import ledger as ledger_table
from ..tables import reservation_lines, reservations
from .granting import ORIGIN, document

ENDED = ("released", "expired")


def _locked(conn: Connection, tenant: str, res_id: str) -> dict[str, Any]:
    stmt = sa.select(reservations).where(
        tenancy.of(tenant, reservations), reservations.c.id == res_id
    )
    row = conn.execute(db.for_update(conn, stmt)).first()
    if row is None:
        raise NotFound(f"There is no reservation '{res_id}'.", slug="unknown-reservation")
    return dict(row._mapping)


def _settle(conn: Connection, tenant: str, row: dict[str, Any], now: datetime | None) -> datetime:
    """Lock the stock under the hold, then read the clock: the moment its fate is decided.

    A batch that saw the hold lapsed took its figures under the same locks, so a commit or
    an extension decided after it reads a later clock and finds the hold expired; one decided
    first has moved its lines before the batch reads them. `now` given (tools, tests that
    simulate time) is kept as is.
    """
    rl = reservation_lines
    lines = conn.execute(
        sa.select(rl.c.item_id, rl.c.location_id, rl.c.day).where(
            tenancy.of(tenant, rl), rl.c.reservation_id == row["id"], rl.c.active
        )
    ).all()
    items = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines})
    clock = now or db.utcnow()
    stock.lock(conn, tenant, {ln.item_id for ln in lines if ln.location_id is not None}, clock)
    stock.lock_pod(
        conn,
        tenant,
        {
            (ln.item_id, ln.day): items[ln.item_id].capacity_per_day or 0
            for ln in lines
            if ln.day is not None
        },
        clock,
    )
    return now or db.utcnow()


def _move_lines(
    conn: Connection,
    tenant: str,
    row: dict[str, Any],
    deltas: dict[str, int],
    reason: str,
    actor: str | None,
    now: datetime,
    *,
    held: bool = True,
) -> None:
    """Apply deltas (per unit: +1/−1 per state) to the lines, then retire them.

    `held` picks the lines of a hold still open (commit, release); a committed reservation's
    retired lines are shipped with held=False, and only those with a location have goods.
    """
    lines = conn.execute(
        sa.select(reservation_lines)
        .where(
            tenancy.of(tenant, reservation_lines),
            reservation_lines.c.reservation_id == row["id"],
            reservation_lines.c.active == held,
        )
        .order_by(reservation_lines.c.item_id, reservation_lines.c.location_id)
    ).all()
    if not held:
        lines = [ln for ln in lines if ln.location_id is not None]
    items = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines})
    places = catalog.locations_by_id(conn, tenant) if any(ln.location_id for ln in lines) else {}
    posting = Posting(
        reason=reason, actor=actor, reference=row["reference"], reservation_id=row["id"]
    )
    changes = [
        Change(
            items[ln.item_id],
            {s: d * ln.qty for s, d in deltas.items()},
            location=places[ln.location_id] if ln.location_id is not None else None,
            day=ln.day,
            sells=False,
            lapsed=ln.active and ln.expires_at <= now,
            lot=ln.lot_id,
        )
        for ln in lines
        if ln.location_id is not None or ln.day is not None
    ]
    outcome = stock.apply(conn, tenant, changes, posting, now, announce=False)
    conn.execute(
        reservation_lines.update()
        .where(
            tenancy.of(tenant, reservation_lines),
            reservation_lines.c.reservation_id == row["id"],
        )
        .values(active=False)
    )
    stock.emit_changed(conn, tenant, outcome, now, reason)


def _set_status(
    conn: Connection, tenant: str, row: dict[str, Any], status: str, now: datetime
) -> dict[str, Any]:
    conn.execute(
        reservations.update()
        .where(tenancy.of(tenant, reservations), reservations.c.id == row["id"])
        .values(status=status, updated_at=now)
    )
    row = row | {"status": status, "updated_at": now}
    event = catalogue.RESERVATION_STATUS[status](reservation_id=row["id"], lines=row["lines"])
    outbox.record_many(conn, [event.row(tenant, now)])
    return document(row, now)


def commit(
    conn: Connection, tenant: str, res_id: str, actor: str, now: datetime | None = None
) -> dict[str, Any]:
    """Turn the hold into a sale: reserved → committed. Repeating a commit is harmless."""
    row = _locked(conn, tenant, res_id)
    now = _settle(conn, tenant, row, now)
    status = document(row, now)["status"]
    if row["status"] == "committed":
        return document(row, now)
    if status in ENDED:
        raise Conflict(
            f"Reservation {res_id} has {status}; it can no longer be committed.",
            slug="reservation-ended",
            reservation_status=status,
        )
    _move_lines(conn, tenant, row, {"reserved": -1, "committed": 1}, "commit", actor, now)
    return _set_status(conn, tenant, row, "committed", now)


def release(
    conn: Connection, tenant: str, res_id: str, actor: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """Give the stock back. Releasing a hold that already ended is harmless."""
    row = _locked(conn, tenant, res_id)
    now = _settle(conn, tenant, row, now)
    if row["status"] in ENDED:
        return document(row, now)
    if row["status"] == "committed":
        raise Conflict(
            f"Reservation {res_id} is committed (sold); record a return instead.",
            slug="reservation-committed",
            reservation_status="committed",
        )
    lapsed = row["expires_at"] <= now
    reason = "expire" if lapsed else "release"
    _move_lines(conn, tenant, row, {"reserved": -1}, reason, actor, now)
    _cancel_backorders(conn, tenant, [res_id], now)
    return _set_status(conn, tenant, row, "expired" if lapsed else "released", now)


def _cancel_backorders(conn: Connection, tenant: str, res_ids: list[str], now: datetime) -> None:
    """The backorder lines of holds that ended wait for nothing any more."""
    from ..fulfilment import backorders  # fulfilment builds on reservations, not the reverse

    backorders.cancel(conn, tenant, [ORIGIN + i for i in res_ids], now)


def _open_backorders(conn: Connection, tenant: str, res_id: str) -> int:
    from ..fulfilment.tables import backorders

    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                tenancy.of(tenant, backorders),
                backorders.c.origin == ORIGIN + res_id,
                backorders.c.status == "open",
            )
        ).scalar_one()
    )


def ship(conn: Connection, tenant: str, res_id: str, actor: str, now: datetime) -> dict[str, Any]:
    """The committed goods leave: committed and on_hand fall at each held location.

    Shipping twice is harmless: the ledger already holds this reservation's `ship` entries.
    """
    row = _locked(conn, tenant, res_id)
    if row["status"] != "committed":
        status = document(row, now)["status"]
        raise Conflict(
            f"Reservation {res_id} is {status}; only a committed sale can be shipped.",
            slug="reservation-not-committed",
            reservation_status=status,
        )
    if waiting := _open_backorders(conn, tenant, res_id):
        raise Conflict(
            f"Reservation {res_id} waits for stock on {waiting} backorder line(s); it ships "
            "once they are allocated.",
            slug="backorder-open",
        )
    shipped = conn.execute(
        sa.select(ledger_table.c.created_at)
        .where(
            tenancy.of(tenant, ledger_table),
            ledger_table.c.reservation_id == res_id,
            ledger_table.c.reason == "ship",
        )
        .limit(1)
    ).scalar()
    if shipped is None:
        _move_lines(
            conn, tenant, row, {"committed": -1, "on_hand": -1}, "ship", actor, now, held=False
        )
        event = catalogue.ReservationShipped(reservation_id=res_id, lines=row["lines"])
        outbox.record_many(conn, [event.row(tenant, now)])
    return document(row, now) | {"shipped_at": db.iso(shipped or now)}


def extend(
    conn: Connection, tenant: str, res_id: str, ttl_seconds: int, now: datetime | None = None
) -> dict[str, Any]:
    """Push expires_at to now + ttl while the hold is still active (within the tenant's
    maximum lifetime and number of extensions)."""
    row = _locked(conn, tenant, res_id)
    now = _settle(conn, tenant, row, now)
    status = document(row, now)["status"]
    if status != "active":
        raise Conflict(
            f"Reservation {res_id} is {status}; only an active hold can be extended.",
            slug="reservation-ended",
            reservation_status=status,
        )
    limits = tenants.load(conn, tenant)
    limits.check_ttl(ttl_seconds)
    if row["extensions"] >= limits.max_reservation_extensions:
        raise Conflict(
            f"Reservation {res_id} was extended {row['extensions']} times, the most this "
            "tenant allows (max_reservation_extensions).",
            slug="too-many-extensions",
        )
    expires = now + timedelta(seconds=ttl_seconds)
    conn.execute(
        reservations.update()
        .where(tenancy.of(tenant, reservations), reservations.c.id == res_id)
        .values(expires_at=expires, updated_at=now, extensions=reservations.c.extensions + 1)
    )
    conn.execute(
        reservation_lines.update()
        .where(
            tenancy.of(tenant, reservation_lines),
            reservation_lines.c.reservation_id == res_id,
        )
        .values(expires_at=expires)
    )
    event = catalogue.ReservationExtended(reservation_id=res_id, expires_at=expires.isoformat())
    outbox.record_many(conn, [event.row(tenant, now)])
    return document(row | {"expires_at": expires}, now)


def expire_due(engine: Engine, limit: int = 1000) -> int:
    """The sweeper: mark lapsed holds expired and return their stock. Returns how many.

    Due holds are taken in one transaction (SKIP LOCKED lets several processes sweep side by
    side), their stock is returned with one guarded UPDATE per (item, location) in a fixed
    order, so a sweep never deadlocks with a batch of new holds.
    """
    now = db.utcnow()
    r = reservations.c
    with db.write(engine) as conn:
        stmt = (
            sa.select(reservations)
            .where(r.status == "active", r.expires_at <= now)
            .order_by(r.expires_at)
            .limit(limit)
        )
        if not db.is_sqlite(conn):
            stmt = stmt.with_for_update(skip_locked=True)
        due = [dict(row._mapping) for row in conn.execute(stmt)]
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for row in due:
            by_tenant.setdefault(row["tenant_id"], []).append(row)
        for tenant, rows in by_tenant.items():
            _expire(conn, tenant, rows, now)
    return len(due)


def _expire(conn: Connection, tenant: str, rows: list[dict[str, Any]], now: datetime) -> None:
    ids = [row["id"] for row in rows]
    rl = reservation_lines
    lines = conn.execute(
        sa.select(rl).where(tenancy.of(tenant, rl), rl.c.reservation_id.in_(ids), rl.c.active)
    ).all()
    items = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines})
    places = catalog.locations_by_id(conn, tenant) if any(ln.location_id for ln in lines) else {}
    reference = {row["id"]: row["reference"] for row in rows}
    changes = [
        Change(
            items[ln.item_id],
            {"reserved": -ln.qty},
            location=places[ln.location_id] if ln.location_id is not None else None,
            day=ln.day,
            sells=False,
            lapsed=ln.expires_at <= now,
            lot=ln.lot_id,
            posting=Posting(
                reason="expire",
                actor="sweeper",
                reference=reference[ln.reservation_id],
                reservation_id=ln.reservation_id,
            ),
        )
        for ln in lines
        if ln.location_id is not None or ln.day is not None
    ]
    outcome = stock.apply(
        conn, tenant, changes, Posting(reason="expire", actor="sweeper"), now, announce=False
    )
    conn.execute(
        rl.update().where(tenancy.of(tenant, rl), rl.c.reservation_id.in_(ids)).values(active=False)
    )
    conn.execute(
        reservations.update()
        .where(tenancy.of(tenant, reservations), reservations.c.id.in_(ids))
        .values(status="expired", updated_at=now)
    )
    _cancel_backorders(conn, tenant, ids, now)
    outbox.record_many(
        conn,
        [
            catalogue.ReservationExpired(reservation_id=row["id"], lines=row["lines"]).row(
                tenant, now
            )
            for row in rows
        ],
    )
    stock.emit_changed(conn, tenant, outcome, now, "expire")


def get(conn: Connection, tenant: str, res_id: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(reservations).where(tenancy.of(tenant, reservations), reservations.c.id == res_id)
    ).first()
    if row is None:
        raise NotFound(f"There is no reservation '{res_id}'.", slug="unknown-reservation")
    return document(dict(row._mapping), db.utcnow())


def listing(
    conn: Connection,
    tenant: str,
    *,
    status: str | None,
    reference: str | None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    now = db.utcnow()
    r = reservations.c
    stmt = sa.select(reservations).where(r.tenant_id == tenant)
    if status == "active":
        stmt = stmt.where(r.status == "active", r.expires_at > now)
    elif status == "expired":
        stmt = stmt.where(
            sa.or_(r.status == "expired", sa.and_(r.status == "active", r.expires_at <= now))
        )
    elif status:
        stmt = stmt.where(r.status == status)
    if reference:
        stmt = stmt.where(r.reference == reference)
    rows = conn.execute(stmt.order_by(r.created_at.desc(), r.id).offset(offset).limit(limit))
    return [document(dict(row._mapping), now) for row in rows]
