"""After a hold is granted: commit, release, extend, expire, and reading holds back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import db, tenants
from ..catalog import service as catalog
from ..events import outbox
from ..problems import Conflict, NotFound
from ..stock import holds, ledger
from ..tables import ledger as ledger_table
from ..tables import reservation_lines, reservations
from .granting import announce, document

ENDED = ("released", "expired")


def _locked(conn: Connection, tenant: str, res_id: str) -> dict[str, Any]:
    stmt = sa.select(reservations).where(
        reservations.c.tenant_id == tenant, reservations.c.id == res_id
    )
    row = conn.execute(db.for_update(conn, stmt)).first()
    if row is None:
        raise NotFound(f"There is no reservation '{res_id}'.", slug="unknown-reservation")
    return dict(row._mapping)


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
            reservation_lines.c.tenant_id == tenant,
            reservation_lines.c.reservation_id == row["id"],
            reservation_lines.c.active == held,
        )
        .order_by(reservation_lines.c.item_id, reservation_lines.c.location_id)
    ).all()
    if not held:
        lines = [ln for ln in lines if ln.location_id is not None]
    items = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines})
    places = catalog.locations_by_id(conn, tenant) if any(ln.location_id for ln in lines) else {}
    posting = ledger.Posting(
        reason=reason, actor=actor, reference=row["reference"], reservation_id=row["id"]
    )
    touched = set()
    for ln in lines:
        scaled = {s: d * ln.qty for s, d in deltas.items()}
        if ln.location_id is not None:
            ledger.change(
                conn,
                tenant,
                items[ln.item_id],
                places[ln.location_id],
                scaled,
                posting,
                now,
                check_available=False,
            )
            touched.add((ln.item_id, ln.location_id))
        elif ln.day is not None:
            holds.move_pod(conn, tenant, ln.item_id, ln.day, scaled)
    conn.execute(
        reservation_lines.update()
        .where(
            reservation_lines.c.tenant_id == tenant,
            reservation_lines.c.reservation_id == row["id"],
        )
        .values(active=False)
    )
    announce(conn, tenant, items, touched, now, reason=reason)


def _set_status(
    conn: Connection, tenant: str, row: dict[str, Any], status: str, now: datetime
) -> dict[str, Any]:
    conn.execute(
        reservations.update()
        .where(reservations.c.tenant_id == tenant, reservations.c.id == row["id"])
        .values(status=status, updated_at=now)
    )
    row = row | {"status": status, "updated_at": now}
    outbox.record(
        conn, tenant, f"reservation.{status}", now, reservation_id=row["id"], lines=row["lines"]
    )
    return document(row, now)


def commit(conn: Connection, tenant: str, res_id: str, actor: str, now: datetime) -> dict[str, Any]:
    """Turn the hold into a sale: reserved → committed. Repeating a commit is harmless."""
    row = _locked(conn, tenant, res_id)
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
    conn: Connection, tenant: str, res_id: str, actor: str | None, now: datetime
) -> dict[str, Any]:
    """Give the stock back. Releasing a hold that already ended is harmless."""
    row = _locked(conn, tenant, res_id)
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
    return _set_status(conn, tenant, row, "expired" if lapsed else "released", now)


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
    shipped = conn.execute(
        sa.select(ledger_table.c.created_at)
        .where(
            ledger_table.c.tenant_id == tenant,
            ledger_table.c.reservation_id == res_id,
            ledger_table.c.reason == "ship",
        )
        .limit(1)
    ).scalar()
    if shipped is None:
        _move_lines(
            conn, tenant, row, {"committed": -1, "on_hand": -1}, "ship", actor, now, held=False
        )
        outbox.record(
            conn, tenant, "reservation.shipped", now, reservation_id=res_id, lines=row["lines"]
        )
    return document(row, now) | {"shipped_at": db.iso(shipped or now)}


def extend(
    conn: Connection, tenant: str, res_id: str, ttl_seconds: int, now: datetime
) -> dict[str, Any]:
    """Push expires_at to now + ttl while the hold is still active (within the tenant's
    maximum lifetime and number of extensions)."""
    row = _locked(conn, tenant, res_id)
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
        .where(reservations.c.tenant_id == tenant, reservations.c.id == res_id)
        .values(expires_at=expires, updated_at=now, extensions=reservations.c.extensions + 1)
    )
    conn.execute(
        reservation_lines.update()
        .where(
            reservation_lines.c.tenant_id == tenant,
            reservation_lines.c.reservation_id == res_id,
        )
        .values(expires_at=expires)
    )
    outbox.record(
        conn,
        tenant,
        "reservation.extended",
        now,
        reservation_id=res_id,
        expires_at=expires.isoformat(),
    )
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
        sa.select(rl).where(rl.c.tenant_id == tenant, rl.c.reservation_id.in_(ids), rl.c.active)
    ).all()
    totals: dict[tuple[int, int], int] = {}
    for ln in lines:
        if ln.location_id is not None:
            totals[(ln.item_id, ln.location_id)] = (
                totals.get((ln.item_id, ln.location_id), 0) + ln.qty
            )
    holds.release_reserved(conn, tenant, totals, now)
    for ln in sorted(
        (ln for ln in lines if ln.day is not None), key=lambda ln: (ln.item_id, ln.day)
    ):
        holds.move_pod(conn, tenant, ln.item_id, ln.day, {"reserved": -ln.qty})
    reference = {row["id"]: row["reference"] for row in rows}
    holds.write_entries(
        conn,
        [
            {
                "tenant_id": tenant,
                "item_id": ln.item_id,
                "location_id": ln.location_id,
                "state": "reserved",
                "delta": -ln.qty,
                "reason": "expire",
                "reference": reference[ln.reservation_id],
                "movement_id": None,
                "reservation_id": ln.reservation_id,
                "actor": "sweeper",
                "unit_cost": None,
                "created_at": now,
            }
            for ln in lines
            if ln.location_id is not None
        ],
    )
    conn.execute(
        rl.update()
        .where(rl.c.tenant_id == tenant, rl.c.reservation_id.in_(ids))
        .values(active=False)
    )
    conn.execute(
        reservations.update()
        .where(reservations.c.tenant_id == tenant, reservations.c.id.in_(ids))
        .values(status="expired", updated_at=now)
    )
    outbox.record_many(
        conn,
        [
            outbox.event_row(
                tenant, "reservation.expired", now, reservation_id=row["id"], lines=row["lines"]
            )
            for row in rows
        ],
    )
    items = catalog.items_by_id(conn, tenant, {item_id for item_id, _ in totals})
    announce(conn, tenant, items, set(totals), now, reason="expire")


def get(conn: Connection, tenant: str, res_id: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(reservations).where(
            reservations.c.tenant_id == tenant, reservations.c.id == res_id
        )
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
