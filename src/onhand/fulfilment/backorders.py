"""Backorders: sales beyond stock, each with a promised date, allocated oldest first.

The shortfall of a backordered sale is booked as `committed` at its location (stock makes
available negative, so later buyers cannot jump the queue). When stock arrives, the oldest
open lines whose quantity the free stock covers are allocated, strictly in order, and each
becomes a pick task. The promised date (ETA) comes from incoming purchase orders: the line
waits behind the open backorders before it, and the first order whose expected date brings
enough outstanding units gives its date. Failing that, the supplier's lead time from today.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy, tenants
from ..catalog import service as catalog
from ..errors import Invalid
from ..events import catalogue, outbox
from ..planning import suppliers as planning_suppliers
from ..planning.tables import purchase_order_lines, purchase_orders
from ..reservations.granting import ORIGIN
from ..tables import items, locations, reservations
from . import dispatch, picking, stockpost
from .tables import backorders

INCOMING = ("approved", "sent", "partially_received")

Promise = Callable[[int, int], tuple[date | None, str | None]]


def _incoming(conn: Connection, tenant: str, item_ids: list[int]) -> dict[int, list[tuple]]:
    """Per item, (expected date, outstanding units, PO number) of open orders, soonest first."""
    po, ln = purchase_orders, purchase_order_lines
    rows = conn.execute(
        sa.select(ln.c.item_id, po.c.expected_on, po.c.id, ln.c.qty - ln.c.received)
        .join(po, sa.and_(po.c.tenant_id == ln.c.tenant_id, po.c.id == ln.c.po_id))
        .where(
            tenancy.of(tenant, ln),
            ln.c.item_id.in_(item_ids),
            po.c.status.in_(INCOMING),
            ln.c.qty > ln.c.received,
        )
        .order_by(ln.c.item_id, po.c.expected_on.is_(None), po.c.expected_on, po.c.id)
    )
    out: dict[int, list[tuple]] = {}
    for item_id, expected, po_id, outstanding in rows:
        out.setdefault(item_id, []).append((expected, int(outstanding), f"PO-{po_id:05d}"))
    return out


def _queued(conn: Connection, tenant: str, item_ids: list[int]) -> dict[int, int]:
    rows = conn.execute(
        sa.select(backorders.c.item_id, sa.func.sum(backorders.c.qty))
        .where(
            tenancy.of(tenant, backorders),
            backorders.c.item_id.in_(item_ids),
            backorders.c.status == "open",
        )
        .group_by(backorders.c.item_id)
    )
    return {r[0]: int(r[1]) for r in rows}


def promiser(
    conn: Connection, tenant: str, item_ids: set[int], today: date, queued: dict[int, int]
) -> Promise:
    """A function giving the next backorder of (item, qty) its ETA and the reason for it.

    `queued` is how many units already wait ahead, per item; each promise adds to it."""
    ids = sorted(item_ids)
    incoming = _incoming(conn, tenant, ids) if ids else {}
    sources = planning_suppliers.sources(conn, tenant) if ids else {}
    waiting = dict(queued)

    def promise(item_id: int, qty: int) -> tuple[date | None, str | None]:
        waiting[item_id] = waiting.get(item_id, 0) + qty
        covered = 0
        for expected, outstanding, number in incoming.get(item_id, []):
            covered += outstanding
            if covered >= waiting[item_id]:
                when = expected or _lead_time_date(sources.get(item_id), today)
                return (max(when, today) if when else None), f"purchase order {number}"
        src = sources.get(item_id)
        if src is None:
            return None, None
        return _lead_time_date(src, today), f"lead time of {src.supplier.code}"

    return promise


def _lead_time_date(src: Any, today: date) -> date | None:
    if src is None:
        return None
    return today + timedelta(days=math.ceil(src.supplier.lead_time_days))


def record(
    conn: Connection,
    tenant: str,
    lines: list[tuple[catalog.Item, catalog.Location, int, str, str]],
    now: datetime,
) -> list[dict[str, Any]]:
    """Insert backorder lines (item, location, qty, origin, ordered SKU) with their ETAs."""
    if not lines:
        return []
    ids = {it.id for it, *_ in lines}
    today = tenants.load(conn, tenant).day(now)
    promise = promiser(conn, tenant, ids, today, _queued(conn, tenant, sorted(ids)))
    rows, events, out = [], [], []
    for it, loc, qty, origin, ordered in lines:
        eta, basis = promise(it.id, qty)
        bo_id = str(uuid.uuid4())
        rows.append(
            {
                "tenant_id": tenant,
                "id": bo_id,
                "item_id": it.id,
                "location_id": loc.id,
                "qty": qty,
                "origin": origin,
                "ordered_sku": ordered,
                "status": "open",
                "eta": eta,
                "eta_basis": basis,
                "created_at": now,
                "allocated_at": None,
            }
        )
        doc = {"id": bo_id, "sku": it.sku, "location": loc.code, "qty": qty, "eta": eta}
        out.append(doc | {"eta_basis": basis})
        events.append(
            catalogue.BackorderCreated(
                sku=it.sku,
                location=loc.code,
                backorder=bo_id,
                qty=qty,
                eta=eta.isoformat() if eta else None,
                origin=origin,
            ).row(tenant, now)
        )
    conn.execute(backorders.insert(), rows)
    outbox.record_many(conn, events)
    return out


def _open_rows(conn: Connection, tenant: str, *, lock: bool = True) -> list[Any]:
    stmt = (
        sa.select(backorders)
        .where(tenancy.of(tenant, backorders), backorders.c.status == "open")
        .order_by(backorders.c.created_at, backorders.c.id)
    )
    return list(conn.execute(db.for_update(conn, stmt) if lock else stmt))


def cancel(conn: Connection, tenant: str, origins: list[str], now: datetime) -> int:
    """Cancel the lines of these origins (a hold released or expired) that are open, or
    allocated to a hold not yet shipped; how many. The reservation gives their units back."""
    if not origins:
        return 0
    b = backorders
    rows = conn.execute(
        sa.select(b.c.id, b.c.qty, b.c.origin, items.c.sku, locations.c.code)
        .join(items, tenancy.on(tenant, items, items.c.id == b.c.item_id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == b.c.location_id))
        .where(
            tenancy.of(tenant, b),
            b.c.status.in_(("open", "allocated")),
            b.c.origin.in_(sorted(set(origins))),
        )
        .order_by(b.c.created_at, b.c.id)
    ).all()
    if not rows:
        return 0
    conn.execute(
        tenancy.update(tenant, b).where(b.c.id.in_([r.id for r in rows])).values(status="cancelled")
    )
    outbox.record_many(
        conn,
        [
            catalogue.BackorderCancelled(
                sku=r.sku, location=r.code, backorder=r.id, qty=r.qty, origin=r.origin
            ).row(tenant, now)
            for r in rows
        ],
    )
    return len(rows)


def _held_by_ended_holds(conn: Connection, tenant: str, rows: list[Any], now: datetime) -> set:
    """The origins of open lines whose hold was released or expired (lapsed, even before the
    sweeper ran: its units already count as free, so the line no longer waits for stock)."""
    ids = {r.origin[len(ORIGIN) :] for r in rows if r.origin.startswith(ORIGIN)}
    if not ids:
        return set()
    r = reservations.c
    ended = conn.execute(
        sa.select(r.id).where(
            tenancy.of(tenant, reservations),
            r.id.in_(sorted(ids)),
            sa.or_(
                r.status.in_(("released", "expired")),
                sa.and_(r.status == "active", r.expires_at <= now),
            ),
        )
    ).scalars()
    return {ORIGIN + i for i in ended}


def allocate(conn: Connection, tenant: str, now: datetime) -> list[dict[str, Any]]:
    """Give arrived stock to open backorders, oldest first, per (item, location).

    Free stock for backorders is what stock calls available plus the open backorders'
    own shortfall (committed for a sale, reserved for a hold). Allocation is strictly in
    order: a line that does not fit stops the queue of its (item, location), so no younger
    line overtakes it. A sale's line becomes a pick task; a hold's line is picked with its
    reservation once that is committed. Lines of holds that ended are cancelled first."""
    # Balance rows first, then the lines, the order in which a release or an expiry (which
    # cancels lines after moving stock) takes them: the two never wait on each other in a circle.
    ids = {r.item_id for r in _open_rows(conn, tenant, lock=False)}
    if not ids:
        return []
    free = stockpost.free(stockpost.lock_items(conn, tenant, ids, now))
    rows = [r for r in _open_rows(conn, tenant) if r.item_id in ids]
    if gone := _held_by_ended_holds(conn, tenant, rows, now):
        cancel(conn, tenant, sorted(gone), now)
        rows = [r for r in rows if r.origin not in gone]
    for r in rows:
        free[(r.item_id, r.location_id)] = free.get((r.item_id, r.location_id), 0) + r.qty
    found = catalog.items_by_id(conn, tenant, ids)
    places = catalog.locations_by_id(conn, tenant)
    done, blocked, events = [], set(), []
    for r in rows:
        key = (r.item_id, r.location_id)
        if key in blocked:
            continue
        if free[key] < r.qty:
            blocked.add(key)
            continue
        free[key] -= r.qty
        conn.execute(
            backorders.update()
            .where(tenancy.of(tenant, backorders), backorders.c.id == r.id)
            .values(status="allocated", allocated_at=now)
        )
        it, loc = found[r.item_id], places[r.location_id]
        if not r.origin.startswith(ORIGIN):
            picking.add_tasks(conn, tenant, "backorder", r.id, [(it, loc, r.qty)], now)
        doc = {"id": r.id, "sku": it.sku, "location": loc.code, "qty": r.qty}
        done.append(doc)
        events.append(
            catalogue.BackorderAllocated(
                sku=it.sku, location=loc.code, backorder=r.id, qty=r.qty, origin=r.origin
            ).row(tenant, now)
        )
    outbox.record_many(conn, events)
    return done


def refresh_etas(conn: Connection, tenant: str, now: datetime) -> list[dict[str, Any]]:
    """Recompute every open line's ETA in queue order; an `backorder.eta_changed` event for
    each line whose promised date moved (a purchase order late, early, or newly placed)."""
    rows = _open_rows(conn, tenant)
    if not rows:
        return []
    today = tenants.load(conn, tenant).day(now)
    promise = promiser(conn, tenant, {r.item_id for r in rows}, today, {})
    found = catalog.items_by_id(conn, tenant, {r.item_id for r in rows})
    changed, events = [], []
    for r in rows:
        eta, basis = promise(r.item_id, r.qty)
        if eta == r.eta and basis == r.eta_basis:
            continue
        conn.execute(
            backorders.update()
            .where(tenancy.of(tenant, backorders), backorders.c.id == r.id)
            .values(eta=eta, eta_basis=basis)
        )
        sku = found[r.item_id].sku
        changed.append({"id": r.id, "sku": sku, "eta": eta, "previous_eta": r.eta})
        events.append(
            catalogue.BackorderEtaChanged(
                sku=sku,
                backorder=r.id,
                eta=eta.isoformat() if eta else None,
                previous_eta=r.eta.isoformat() if r.eta else None,
                eta_basis=basis,
            ).row(tenant, now)
        )
    outbox.record_many(conn, events)
    return changed


def listing(
    conn: Connection, tenant: str, status: str | None, sku: str | None, now: datetime
) -> list[dict[str, Any]]:
    """Backorders oldest first, each with the substitutes it may be offered and their stock."""
    if status not in (None, "open", "allocated", "cancelled"):
        raise Invalid("status is one of open, allocated, cancelled.")
    b = backorders
    stmt = (
        sa.select(b, items.c.sku, locations.c.code)
        .join(items, tenancy.on(tenant, items, items.c.id == b.c.item_id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == b.c.location_id))
        .where(tenancy.of(tenant, b))
        .order_by(b.c.created_at, b.c.id)
    )
    if status:
        stmt = stmt.where(b.c.status == status)
    if sku:
        stmt = stmt.where(items.c.sku == sku)
    rows = conn.execute(stmt.limit(1000)).all()
    prefs = dispatch.load(conn, tenant)
    subs = dispatch.substitutes_available(
        conn, tenant, {r.sku for r in rows if r.status == "open"}, prefs, now
    )
    return [
        {
            "id": r.id,
            "sku": r.sku,
            "ordered_sku": r.ordered_sku,
            "location": r.code,
            "qty": r.qty,
            "status": r.status,
            "eta": r.eta,
            "eta_basis": r.eta_basis,
            "origin": r.origin,
            "created_at": r.created_at,
            "allocated_at": r.allocated_at,
            "substitutes": subs.get(r.sku, []) if r.status == "open" else [],
        }
        for r in rows
    ]


def tenants_with_open(conn: Connection) -> list[str]:
    rows = conn.execute(
        sa.select(backorders.c.tenant_id).where(backorders.c.status == "open").distinct()
    )
    return [r[0] for r in rows]
