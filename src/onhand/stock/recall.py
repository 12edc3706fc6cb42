"""Lots that must come off sale: the expiry job, recalls, and a lot's trace from the ledger.

Everything that moves stock goes through `stock.apply` like any other change. A recall marks
the lot recalled first, in the same transaction: from then on the lot guard refuses every hold
and shipment of it, whatever the quality hold below could or could not move.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine

from .. import db, tenancy, tenants
from ..catalog import service as catalog
from ..errors import Conflict
from ..events import catalogue, outbox
from ..tables import items, ledger, locations, lots, reservation_lines, reservations
from . import kernel, model
from . import lots as lot_rows
from .model import Change, Item, Location, Posting

DEFAULT_WARNING_DAYS = 3
log = structlog.get_logger()


# ---- moving units aside ---------------------------------------------------------------------


def _hold_free_units(
    conn: Connection,
    tenant: str,
    item: Item,
    lot: lot_rows.Lot,
    reason: str,
    actor: str,
    now: datetime,
    reference: str | None = None,
) -> dict[str, int]:
    """Move the lot's free units at every location into quality_control (the caller has locked
    the item's balance rows). A location gives at most what its balance row can spare: units
    that cover its safety stock stay where they are (the lot guard keeps them off sale).
    Returns units moved per location code."""
    places = catalog.locations_by_id(conn, tenant)
    locked = kernel.lock(conn, tenant, {item.id}, now)
    spare = {f.location_id: f.available for f in locked.get(item.id, [])}
    changes = []
    moved: dict[str, int] = {}
    for row in lot_rows.rows(conn, tenant, {item.id}, now):
        if row.lot.id != lot.id:
            continue
        n = min(row.available, max(spare.get(row.location_id, 0), 0))
        if n <= 0:
            continue
        loc = places[row.location_id]
        changes.append(Change(item, {"quality_control": n}, location=loc, lot=lot.id))
        moved[loc.code] = n
    if changes:
        kernel.apply(
            conn,
            tenant,
            changes,
            Posting(reason=reason, actor=actor, reference=reference),
            now,
            locked=locked,
        )
    return moved


# ---- the expiry job -------------------------------------------------------------------------


def expire_due(engine: Engine, now: datetime | None = None) -> int:
    """Announce lots that expire soon (`lot.expiring`, once per lot) and move the free units of
    lots past their expiry date into quality_control (reason `expired`, event `lot.expired`).
    Returns how many lots were expired. Runs over every tenant; each tenant's day decides."""
    now = now or db.utcnow()
    horizon = now.date() + timedelta(days=366)
    with db.read(engine) as conn:
        due = conn.execute(
            sa.select(lots.c.tenant_id)
            .where(
                lots.c.expires_on.is_not(None),
                lots.c.expires_on <= horizon,
                lots.c.recalled_at.is_(None),
                sa.or_(lots.c.expired_at.is_(None), lots.c.warned_at.is_(None)),
            )
            .group_by(lots.c.tenant_id)
        ).all()
    expired = 0
    for (tenant,) in due:
        with db.write(engine) as conn:
            expired += expire_tenant(conn, tenant, now)
    return expired


async def expire_forever(engine: Engine, interval: float = 60.0) -> None:
    """The lot expiry job of `onhand serve` (under a leader): once a minute."""
    while True:
        try:
            await asyncio.to_thread(expire_due, engine)
        except Exception:  # noqa: BLE001 - a failed pass is retried on the next tick
            log.exception("lot expiry failed")
        await asyncio.sleep(interval)


def expire_tenant(conn: Connection, tenant: str, now: datetime) -> int:
    """One tenant's expiring and expired lots (see `expire_due`)."""
    today = tenants.load(conn, tenant).day(now)
    rows = conn.execute(
        tenancy.select(
            tenant, lots, lots, items.c.sku, items.c.expiry_warning_days.label("warn_days")
        )
        .join(items, tenancy.on(tenant, items, items.c.id == lots.c.item_id))
        .where(
            lots.c.expires_on.is_not(None),
            lots.c.recalled_at.is_(None),
            sa.or_(lots.c.expired_at.is_(None), lots.c.warned_at.is_(None)),
        )
        .order_by(lots.c.item_id, lots.c.expires_on, lots.c.id)
    ).all()
    expired = 0
    events = []
    for r in rows:
        days_left = (r.expires_on - today).days
        warn = DEFAULT_WARNING_DAYS if r.warn_days is None else r.warn_days
        if r.warned_at is None and days_left <= warn:
            _mark(conn, tenant, r.id, warned_at=now)
            if days_left >= 0:
                events.append(
                    catalogue.LotExpiring(
                        sku=r.sku,
                        lot=r.code,
                        expires_on=r.expires_on.isoformat(),
                        days_left=days_left,
                        on_hand=_on_hand(conn, tenant, r.item_id, r.id),
                    ).row(tenant, now)
                )
        if r.expired_at is None and days_left < 0:
            item = catalog.items_by_id(conn, tenant, {r.item_id})[r.item_id]
            lot = lot_rows.by_id(conn, tenant, {r.id})[r.id]
            _lock_holds_then_stock(conn, tenant, item, lot, now)
            # Open holds on it can no longer become sales: onto a fresher lot, or released.
            rehomed, released = _rehome_holds(conn, tenant, item, lot, "expiry-job", now)
            moved = _hold_free_units(conn, tenant, item, lot, "expired", "expiry-job", now)
            _mark(conn, tenant, r.id, expired_at=now)
            events.append(
                catalogue.LotExpired(
                    sku=r.sku,
                    lot=r.code,
                    expires_on=r.expires_on.isoformat(),
                    quality_control=sum(moved.values()),
                    locations=[{"location": c, "qty": n} for c, n in moved.items()],
                    holds_moved=rehomed,
                    holds_released=released,
                ).row(tenant, now)
            )
            expired += 1
    outbox.record_many(conn, events)
    return expired


def _mark(conn: Connection, tenant: str, lot_id: int, **moments: datetime) -> None:
    conn.execute(tenancy.update(tenant, lots).where(lots.c.id == lot_id).values(**moments))


def _on_hand(conn: Connection, tenant: str, item_id: int, lot_id: int) -> int:
    from ..tables import lot_balances as lb

    return int(
        conn.execute(
            tenancy.select(tenant, lb, sa.func.coalesce(sa.func.sum(lb.c.on_hand), 0)).where(
                lb.c.item_id == item_id, lb.c.lot_id == lot_id
            )
        ).scalar()
        or 0
    )


# ---- recall ---------------------------------------------------------------------------------


def recall(
    conn: Connection,
    tenant: str,
    sku: str,
    code: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    """Take every unit of a lot off sale at once: the lot is marked recalled (the guard then
    refuses any hold or shipment of it), each active hold on it moves to another sellable lot
    at the same location or, where none has enough, is released; its free units everywhere
    go to quality_control. Returns the trace. Recalling twice is harmless (409 the second
    time, nothing changes)."""
    item = catalog.item(conn, tenant, sku)
    lot = lot_rows.find(conn, tenant, item, code)
    if lot.recalled:
        raise Conflict(
            f"{sku} lot {code} was recalled already.", slug="lot-recalled", sku=sku, lot=code
        )
    _lock_holds_then_stock(conn, tenant, item, lot, now)
    conn.execute(tenancy.update(tenant, lots).where(lots.c.id == lot.id).values(recalled_at=now))
    moved, released = _rehome_holds(conn, tenant, item, lot, actor, now)
    held = _hold_free_units(conn, tenant, item, lot, "recall", actor, now, reference=reason)
    doc = trace(conn, tenant, sku, code, now)
    outbox.record_many(
        conn,
        [
            catalogue.RecallInitiated(
                sku=sku,
                lot=code,
                reason=reason,
                quality_control=sum(held.values()),
                holds_moved=moved,
                holds_released=released,
            ).row(tenant, now)
        ],
    )
    return doc | {
        "recall": {
            "at": db.iso(now),
            "reason": reason,
            "quality_control": [{"location": c, "qty": n} for c, n in held.items()],
            "holds_moved": moved,
            "holds_released": released,
        }
    }


def _lock_holds_then_stock(
    conn: Connection, tenant: str, item: Item, lot: lot_rows.Lot, now: datetime
) -> None:
    """Lock as a commit or release does: the holds on the lot first (in id order), then the
    item's balance rows; only then does anything change."""
    rl = reservation_lines
    held_on_it = sa.select(rl.c.reservation_id).where(
        tenancy.of(tenant, rl), rl.c.lot_id == lot.id, rl.c.active
    )
    conn.execute(
        db.for_update(
            conn,
            tenancy.select(tenant, reservations, reservations.c.id)
            .where(reservations.c.id.in_(held_on_it))
            .order_by(reservations.c.id),
        )
    ).all()
    kernel.lock(conn, tenant, {item.id}, now)


def _rehome_holds(
    conn: Connection, tenant: str, item: Item, lot: lot_rows.Lot, actor: str, now: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """Active holds on the recalled lot: each line moves to the sellable lots of the same
    location that expire first, if they have room for the whole hold; else the hold is
    released (all or nothing, as it was granted)."""
    from ..reservations import lifecycle

    rl = reservation_lines
    lines = conn.execute(
        tenancy.select(tenant, rl)
        .where(rl.c.lot_id == lot.id, rl.c.active, rl.c.expires_at > now)
        .order_by(rl.c.reservation_id, rl.c.line_no)
    ).all()
    if not lines:
        return [], []
    by_hold: dict[str, list[Any]] = defaultdict(list)
    for ln in lines:
        by_hold[ln.reservation_id].append(ln)
    sell_by = model.sell_by(tenants.load(conn, tenant).day(now), item.min_shelf_life_days)
    free = lot_rows.free_at(conn, tenant, {item.id}, now)
    places = catalog.locations_by_id(conn, tenant)
    moved: list[dict[str, Any]] = []
    released: list[str] = []
    for res_id, hold_lines in by_hold.items():
        plan: list[tuple[Any, list[tuple[lot_rows.LotFree, int]]]] = []
        for ln in hold_lines:
            others = lot_rows.sellable(free.get((item.id, ln.location_id), []), sell_by)
            others = [f for f in others if f.lot.id != lot.id]
            taken = lot_rows.take(others, int(ln.qty))
            if taken is None:
                for _, parts in plan:  # give back what earlier lines of this hold took
                    for f, n in parts:
                        f.available += n
                plan = []
                break
            plan.append((ln, taken))
        if not plan:
            lifecycle.release(conn, tenant, res_id, actor, now)
            released.append(res_id)
            continue
        for ln, parts in plan:
            _move_line(conn, tenant, item, places[ln.location_id], ln, parts, actor, now)
            moved += [
                {
                    "reservation_id": res_id,
                    "location": places[ln.location_id].code,
                    "lot": f.lot.code,
                    "qty": n,
                }
                for f, n in parts
            ]
    return moved, released


def _move_line(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    ln: Any,
    parts: list[tuple[lot_rows.LotFree, int]],
    actor: str,
    now: datetime,
) -> None:
    """One hold line from the recalled lot to others: the units stay reserved at the location
    (the balance row does not change), the lot rows move, and the line is split per lot."""
    posting = Posting(reason="recall", actor=actor, reservation_id=ln.reservation_id)
    changes = [Change(item, {"reserved": -int(ln.qty)}, location=loc, lot=ln.lot_id, sells=False)]
    changes += [
        Change(item, {"reserved": n}, location=loc, lot=f.lot.id, sale=True) for f, n in parts
    ]
    kernel.apply(conn, tenant, changes, posting, now)
    rl = reservation_lines
    last = conn.execute(
        tenancy.select(tenant, rl, sa.func.max(rl.c.line_no)).where(
            rl.c.reservation_id == ln.reservation_id
        )
    ).scalar()
    conn.execute(
        tenancy.delete(tenant, rl).where(
            rl.c.reservation_id == ln.reservation_id, rl.c.line_no == ln.line_no
        )
    )
    base = {
        k: getattr(ln, k)
        for k in ("request_line", "item_id", "location_id", "day", "parent_sku", "active")
    }
    for k, (f, n) in enumerate(parts, start=1):
        conn.execute(
            tenancy.insert(tenant, rl).values(
                reservation_id=ln.reservation_id,
                line_no=int(last or 0) + k,
                qty=n,
                lot_id=f.lot.id,
                expires_at=ln.expires_at,
                **base,
            )
        )
    _relabel(conn, tenant, ln.reservation_id, item.sku, loc.code)


def _relabel(conn: Connection, tenant: str, res_id: str, sku: str, location: str) -> None:
    """Rewrite the hold document's allocations of `sku` at `location` from its lines."""
    rl = reservation_lines
    lines = conn.execute(
        tenancy.select(tenant, rl, rl.c.request_line, rl.c.qty, lots.c.code)
        .join(lots, tenancy.on(tenant, lots, lots.c.id == rl.c.lot_id))
        .where(rl.c.reservation_id == res_id)
        .order_by(rl.c.line_no)
    ).all()
    row = conn.execute(
        tenancy.select(tenant, reservations, reservations.c.lines).where(
            reservations.c.id == res_id
        )
    ).one()
    doc = [dict(line) for line in row.lines]
    for n, line in enumerate(doc):
        kept = [
            a for a in line["allocations"] if not (a["sku"] == sku and a["location"] == location)
        ]
        if len(kept) == len(line["allocations"]):
            continue
        fresh = [
            {"sku": sku, "location": location, "qty": int(ln.qty), "lot": ln.code}
            for ln in lines
            if ln.request_line == n
        ]
        line["allocations"] = kept + fresh
    conn.execute(
        tenancy.update(tenant, reservations)
        .where(reservations.c.id == res_id)
        .values(lines=doc, updated_at=db.utcnow())
    )


# ---- trace ----------------------------------------------------------------------------------


def trace(
    conn: Connection, tenant: str, sku: str, code: str, now: datetime | None = None
) -> dict[str, Any]:
    """Where the lot came from, where every unit is now, and who took units of it: answered
    from the ledger (the lot's rows, one index range) and the lot rows."""
    now = now or db.utcnow()
    item = catalog.item(conn, tenant, sku)
    lot = lot_rows.find(conn, tenant, item, code)
    meta = conn.execute(tenancy.select(tenant, lots).where(lots.c.id == lot.id)).one()
    codes = {loc.id: loc.code for loc in catalog.locations_by_id(conn, tenant).values()}
    lg = ledger
    hold = lg.c.reservation_id.is_not(None)

    def loose(column: Any) -> Any:
        """A column kept apart only for rows of no hold (a hold's rows are summed whole)."""
        return sa.case((hold, None), else_=column)

    def units(condition: Any, sign: int = 1) -> Any:
        return sa.func.sum(sa.case((condition, sign * lg.c.delta), else_=0))

    reserved, back = lg.c.state == "reserved", lg.c.reason.in_(("release", "expire", "recall"))
    keys = (
        lg.c.reservation_id,
        lg.c.location_id,
        loose(lg.c.reason),
        loose(lg.c.state),
        loose(lg.c.movement_id),
        loose(lg.c.reference),
    )
    # One pass over the lot's rows (one index range): per hold and location its figures, and
    # for rows of no hold one group per reason, state, movement and reference.
    groups = conn.execute(
        tenancy.select(
            tenant,
            lg,
            *keys,
            sa.func.max(lg.c.reference),
            sa.func.sum(lg.c.delta),
            units(sa.and_(lg.c.reason == "reserve", reserved)),
            units(sa.and_(lg.c.reason == "recall", reserved, lg.c.delta > 0)),
            units(sa.and_(lg.c.reason == "commit", lg.c.state == "committed")),
            units(sa.and_(lg.c.reason == "ship", lg.c.state == "on_hand"), -1),
            units(sa.and_(back, reserved, lg.c.delta < 0), -1),
            _instant_text(conn, sa.func.min(lg.c.created_at)),
            _instant_text(conn, sa.func.max(lg.c.created_at)),
        )
        .where(lg.c.lot_id == lot.id)
        .group_by(*keys)
    ).all()
    receipts: list[dict[str, Any]] = []
    holds: dict[str, dict[str, Any]] = {}
    shipments: list[dict[str, Any]] = []
    other: dict[tuple[str, str], int] = defaultdict(int)
    for res_id, loc_id, reason, state, mov_id, _r, ref, total, *figures, first, last in groups:
        where = codes.get(loc_id)
        if res_id is not None:
            h = holds.get(res_id)
            if h is None:
                h = holds[res_id] = {
                    "reservation_id": res_id,
                    "reference": ref,
                    "held": 0,
                    "committed": 0,
                    "shipped": 0,
                    "given_back": 0,
                    "locations": [],
                    "first_at": first,
                    "last_at": last,
                }
            else:
                h["first_at"], h["last_at"] = min(h["first_at"], first), max(h["last_at"], last)
            held, moved_in, committed, shipped, given_back = map(int, figures)
            h["held"] += held + moved_in
            h["committed"] += committed
            h["shipped"] += shipped
            h["given_back"] += given_back
            h["locations"].append(where)
        elif reason in ("receipt", "po_receipt") and state == "on_hand":
            receipts.append(
                {
                    "location": where,
                    "qty": int(total),
                    "reference": ref,
                    "movement_id": mov_id,
                    "at": first,
                }
            )
        elif reason == "ship" and state == "on_hand":
            shipments.append(
                {
                    "location": where,
                    "qty": -int(total),
                    "reference": ref,
                    "movement_id": mov_id,
                    "at": last,
                }
            )
        else:
            other[(reason, state)] += int(total)
    figures = lot_rows.rows(conn, tenant, {item.id}, now)
    here = [
        {"location": codes.get(r.location_id), **{s: r.states[s] for s in model.LOT_STATES}}
        for r in figures
        if r.lot.id == lot.id and any(r.states[s] for s in model.LOT_STATES)
    ]
    taken = sorted(holds.values(), key=lambda h: (h["first_at"], h["reservation_id"]))
    for h in taken:
        h["locations"] = sorted(x for x in h["locations"] if x)
    receipts.sort(key=lambda r: r["at"])
    shipments.sort(key=lambda r: r["at"])
    return {
        "sku": sku,
        "lot": code,
        **{k: v for k, v in lot.doc().items() if k != "code"},
        "recalled_at": db.iso(meta.recalled_at) if meta.recalled_at else None,
        "expired_at": db.iso(meta.expired_at) if meta.expired_at else None,
        "origin": {
            "supplier": lot.supplier,
            "reference": meta.reference,
            "movement_id": meta.movement_id,
            "received_at": db.iso(meta.created_at),
            "receipts": receipts,
        },
        "now": here,
        "totals": {s: sum(r[s] for r in here) for s in model.LOT_STATES},
        "reservations": taken,
        "shipments": shipments,
        "other": [
            {"reason": reason, "state": state, "delta": total}
            for (reason, state), total in sorted(other.items())
            if total
        ],
    }


def _instant_text(conn: Connection, moment: Any) -> Any:
    """An instant as ISO 8601 text in UTC, formatted by the database (a trace prints tens of
    thousands; converting each in Python costs more than the query). Both spell it as db.iso
    does, to the microsecond."""
    if db.is_sqlite(conn):  # stored as UTC text, 'YYYY-MM-DD HH:MM:SS.ffffff'
        return sa.func.replace(sa.type_coerce(moment, sa.String), " ", "T") + "Z"
    return sa.func.to_char(
        sa.func.timezone("UTC", moment), sa.literal('YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    )


def expiring(conn: Connection, tenant: str, days: int, now: datetime) -> list[dict[str, Any]]:
    """Lots with stock that expire within `days` (or already have), soonest first."""
    from ..tables import lot_balances as lb

    today: date = tenants.load(conn, tenant).day(now)
    rows = conn.execute(
        tenancy.select(
            tenant,
            lots,
            items.c.sku,
            lots.c.code,
            lots.c.expires_on,
            lots.c.recalled_at,
            sa.func.sum(lb.c.on_hand).label("on_hand"),
        )
        .join(items, tenancy.on(tenant, items, items.c.id == lots.c.item_id))
        .join(lb, tenancy.on(tenant, lb, lb.c.lot_id == lots.c.id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == lb.c.location_id))
        .where(lots.c.expires_on <= today + timedelta(days=days))
        .group_by(items.c.sku, lots.c.code, lots.c.expires_on, lots.c.recalled_at)
        .having(sa.func.sum(lb.c.on_hand) > 0)
        .order_by(lots.c.expires_on, items.c.sku, lots.c.code)
    ).all()
    return [
        {
            "sku": r.sku,
            "lot": r.code,
            "expires_on": r.expires_on.isoformat(),
            "days_left": (r.expires_on - today).days,
            "on_hand": int(r.on_hand),
            "recalled": r.recalled_at is not None,
        }
        for r in rows
    ]
