"""Pick tasks, waves, pick lists in walking order, scan confirmation, pack and ship.

A task is one line to pick: an item at a bin for a committed reservation, an allocated
backorder or a sale to be shipped. Confirming is a conditional UPDATE (status open → picked),
so of two pickers racing for a task exactly one wins. Shipping posts through stock
(committed and on_hand fall), or through the reservation's own ship for reservations.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, stock, tenancy
from ..catalog import service as catalog
from ..errors import Conflict, Invalid, NotFound
from ..events import catalogue, outbox
from ..reservations import lifecycle
from ..reservations.granting import ORIGIN
from ..tables import balances, items, locations, reservation_lines, reservations
from ..tables import ledger as ledger_table
from . import stockpost
from .tables import backorders, pick_confirmations, pick_tasks, waves

GROUPS = ("zone", "cutoff", "size")
# Orders tasks created at the same instant (a batch creates many at once).
_sequence = itertools.count()


def add_tasks(
    conn: Connection,
    tenant: str,
    source: str,
    source_id: str,
    lines: list[tuple[catalog.Item, catalog.Location, int]],
    now: datetime,
    due_by: datetime | None = None,
) -> None:
    """One open task per (item, location) of a source; a source is never tasked twice."""
    add_tasks_many(conn, tenant, source, [(source_id, lines, due_by)], now)


def add_tasks_many(
    conn: Connection,
    tenant: str,
    source: str,
    sources: list[tuple[str, list[tuple[catalog.Item, catalog.Location, int]], datetime | None]],
    now: datetime,
) -> None:
    """`add_tasks` for many sources (source id, lines, due by) with one statement."""
    rows = []
    for source_id, lines, due_by in sources:
        merged: dict[tuple[int, int], list] = {}
        for it, loc, qty in lines:
            entry = merged.setdefault((it.id, loc.id), [it, loc, 0])
            entry[2] += qty
        rows += [
            {
                "tenant_id": tenant,
                "id": str(uuid.uuid4()),
                "source": source,
                "source_id": source_id,
                "item_id": it.id,
                "location_id": loc.id,
                "qty": qty,
                "status": "open",
                "due_by": due_by,
                "created_at": now,
                "seq": next(_sequence),
            }
            for it, loc, qty in merged.values()
            if qty > 0
        ]
    if rows:
        conn.execute(db.insert(conn, pick_tasks).on_conflict_do_nothing(), rows)


def collect_reservations(conn: Connection, tenant: str, now: datetime) -> int:
    """Committed reservations not yet shipped nor tasked become pick tasks; returns how many."""
    tasked = sa.select(pick_tasks.c.source_id).where(
        tenancy.of(tenant, pick_tasks), pick_tasks.c.source == "reservation"
    )
    shipped = sa.select(ledger_table.c.reservation_id).where(
        tenancy.of(tenant, ledger_table),
        ledger_table.c.reason == "ship",
        ledger_table.c.reservation_id.is_not(None),
    )
    # A hold that went beyond stock is picked once its backorder lines are allocated.
    waiting = sa.select(backorders.c.origin).where(
        tenancy.of(tenant, backorders), backorders.c.status == "open"
    )
    rl = reservation_lines
    rows = conn.execute(
        sa.select(rl.c.reservation_id, rl.c.item_id, rl.c.location_id, rl.c.qty)
        .join(
            reservations,
            sa.and_(
                reservations.c.tenant_id == rl.c.tenant_id, reservations.c.id == rl.c.reservation_id
            ),
        )
        .where(
            tenancy.of(tenant, rl),
            reservations.c.status == "committed",
            rl.c.location_id.is_not(None),
            rl.c.reservation_id.not_in(tasked),
            rl.c.reservation_id.not_in(shipped),
            (sa.literal(ORIGIN, sa.String) + rl.c.reservation_id).not_in(waiting),
        )
        .order_by(reservations.c.created_at, rl.c.reservation_id, rl.c.line_no)
    ).all()
    if not rows:
        return 0
    found = catalog.items_by_id(conn, tenant, {r.item_id for r in rows})
    places = catalog.locations_by_id(conn, tenant)
    by_res: dict[str, list] = {}
    for r in rows:
        by_res.setdefault(r.reservation_id, []).append(
            (found[r.item_id], places[r.location_id], r.qty)
        )
    for res_id, lines in by_res.items():
        add_tasks(conn, tenant, "reservation", res_id, lines, now)
    return len(by_res)


def _task_rows(conn: Connection, tenant: str, *where: Any) -> list[Any]:
    """Tasks in walking order: location priority, then location code, then SKU."""
    t = pick_tasks
    return list(
        conn.execute(
            sa.select(
                t,
                items.c.sku,
                items.c.barcode,
                locations.c.code.label("location"),
                locations.c.zone,
                locations.c.priority,
            )
            .join(items, tenancy.on(tenant, items, items.c.id == t.c.item_id))
            .join(locations, tenancy.on(tenant, locations, locations.c.id == t.c.location_id))
            .where(tenancy.of(tenant, t), *where)
            .order_by(locations.c.priority, locations.c.code, items.c.sku, t.c.created_at, t.c.seq)
        )
    )


def _task_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "sku": r.sku,
        "barcode": r.barcode,
        "location": r.location,
        "zone": r.zone,
        "qty": r.qty,
        "picked": r.picked,
        "short": (r.qty - r.picked) if r.picked is not None else None,
        "status": r.status,
        "picker": r.picker,
        "source": r.source,
        "source_id": r.source_id,
        "wave": r.wave_id,
        "due_by": r.due_by,
        "picked_at": r.picked_at,
    }


def open_tasks(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    collect_reservations(conn, tenant, db.utcnow())
    return [
        _task_out(r)
        for r in _task_rows(
            conn, tenant, pick_tasks.c.status == "open", pick_tasks.c.wave_id.is_(None)
        )
    ]


def create_waves(
    conn: Connection,
    tenant: str,
    group_by: str,
    zone: str | None,
    cutoff: datetime | None,
    max_lines: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Group open, unwaved tasks into waves: one per zone (group_by zone), those due by the
    carrier cut-off (cutoff), or the oldest `max_lines` (size)."""
    if group_by not in GROUPS:
        raise Invalid(f"group_by is one of {', '.join(GROUPS)}.")
    if group_by == "cutoff" and cutoff is None:
        raise Invalid("A cut-off wave needs 'cutoff', the carrier's collection time.")
    if group_by == "size" and not max_lines:
        raise Invalid("A size wave needs 'max_lines'.")
    collect_reservations(conn, tenant, now)
    t = pick_tasks
    where = [t.c.status == "open", t.c.wave_id.is_(None)]
    if zone:
        where.append(locations.c.zone == zone)
    if cutoff is not None:
        where.append(sa.or_(t.c.due_by.is_(None), t.c.due_by <= cutoff))
    stmt = (
        sa.select(t.c.id, locations.c.zone)
        .join(locations, tenancy.on(tenant, locations, locations.c.id == t.c.location_id))
        .where(tenancy.of(tenant, t), *where)
        .order_by(t.c.created_at, t.c.seq)
    )
    rows = conn.execute(db.for_update(conn, stmt)).all()
    groups: dict[str | None, list[str]] = {}
    for r in rows:
        groups.setdefault(r.zone if group_by == "zone" else zone, []).append(r.id)
    out = []
    for wave_zone, ids in groups.items():
        chunks = (
            [ids[i : i + max_lines] for i in range(0, len(ids), max_lines)] if max_lines else [ids]
        )
        for chunk in chunks:
            wave_id = str(uuid.uuid4())
            conn.execute(
                waves.insert().values(
                    tenant_id=tenant,
                    id=wave_id,
                    zone=wave_zone,
                    group_by=group_by,
                    status="open",
                    cutoff=cutoff,
                    created_at=now,
                )
            )
            conn.execute(
                t.update()
                .where(tenancy.of(tenant, t), t.c.id.in_(chunk), t.c.wave_id.is_(None))
                .values(wave_id=wave_id)
            )
            event = catalogue.WaveCreated(wave=wave_id, lines=len(chunk))
            outbox.record_many(conn, [event.row(tenant, now)])
            out.append(wave(conn, tenant, wave_id))
            if group_by == "size":
                return out  # one wave of the requested size
    return out


def wave(conn: Connection, tenant: str, wave_id: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(waves).where(tenancy.of(tenant, waves), waves.c.id == wave_id)
    ).first()
    if row is None:
        raise NotFound(f"There is no wave '{wave_id}'.", slug="unknown-wave")
    lines = [_task_out(r) for r in _task_rows(conn, tenant, pick_tasks.c.wave_id == wave_id)]
    pickers: dict[str, dict[str, int]] = {}
    for ln in lines:
        if ln["picker"]:
            p = pickers.setdefault(ln["picker"], {"lines": 0, "short": 0})
            p["lines"] += 1
            p["short"] += 1 if ln["short"] else 0
    done = sum(1 for ln in lines if ln["status"] != "open")
    return {
        "id": row.id,
        "zone": row.zone,
        "group_by": row.group_by,
        "status": row.status,
        "cutoff": row.cutoff,
        "created_at": row.created_at,
        "shipped_at": row.shipped_at,
        "progress": {"lines": len(lines), "picked": done},
        "pickers": [{"picker": k, **v} for k, v in sorted(pickers.items())],
        "lines": lines,
    }


def list_waves(conn: Connection, tenant: str, status: str | None) -> list[dict[str, Any]]:
    stmt = sa.select(waves.c.id).where(tenancy.of(tenant, waves))
    if status:
        stmt = stmt.where(waves.c.status == status)
    ids = conn.execute(stmt.order_by(waves.c.created_at.desc()).limit(200)).scalars().all()
    return [wave(conn, tenant, i) for i in ids]


def confirm(
    conn: Connection, tenant: str, task_id: str, picker: str, scan: str, qty: int, now: datetime
) -> dict[str, Any] | Conflict:
    """The picker scanned `scan` (SKU or barcode) and counts `qty` taken from the bin.

    A wrong item is recorded against the picker and refused: the refusal is returned, not
    raised, so that the record is kept. Fewer units than asked is a short pick (recorded, the
    task still completes). Only one confirmation per task wins."""
    rows = _task_rows(conn, tenant, pick_tasks.c.id == task_id)
    if not rows:
        raise NotFound(f"There is no pick task '{task_id}'.", slug="unknown-task")
    task = rows[0]
    if qty < 0 or qty > task.qty:
        raise Invalid(f"Pick between 0 and {task.qty} units of {task.sku} for this line.")
    if scan not in (task.sku, task.barcode):
        _confirmation(conn, tenant, task_id, picker, scan, qty, "wrong", now)
        return Conflict(
            f"Scanned {scan[:128]}, but this line is {task.sku} at {task.location}.",
            slug="wrong-item",
            expected=task.sku,
        )
    won = conn.execute(
        pick_tasks.update()
        .where(
            tenancy.of(tenant, pick_tasks),
            pick_tasks.c.id == task_id,
            pick_tasks.c.status == "open",
        )
        .values(status="picked", picked=qty, picker=picker, picked_at=now)
    ).rowcount
    if won != 1:
        raise Conflict(
            f"Line {task.sku} at {task.location} was confirmed already"
            + (f" by {task.picker}." if task.picker else "."),
            slug="already-picked",
        )
    outcome = "ok" if qty == task.qty else "short"
    _confirmation(conn, tenant, task_id, picker, scan, qty, outcome, now)
    event = catalogue.PickConfirmed(
        sku=task.sku,
        location=task.location,
        task=task_id,
        wave=task.wave_id,
        picker=picker,
        qty=qty,
        outcome=outcome,
    )
    outbox.record_many(conn, [event.row(tenant, now)])
    return _task_out(_task_rows(conn, tenant, pick_tasks.c.id == task_id)[0])


def _confirmation(
    conn: Connection,
    tenant: str,
    task_id: str,
    picker: str,
    scan: str,
    qty: int,
    outcome: str,
    now: datetime,
) -> None:
    conn.execute(
        pick_confirmations.insert().values(
            tenant_id=tenant,
            task_id=task_id,
            picker=picker,
            scanned=scan[:128],
            qty=qty,
            outcome=outcome,
            at=now,
        )
    )


def ship_wave(conn: Connection, tenant: str, wave_id: str, actor: str, now: datetime) -> dict:
    """Pack and ship every picked line of the wave: the goods leave the building."""
    row = conn.execute(
        db.for_update(
            conn, sa.select(waves).where(tenancy.of(tenant, waves), waves.c.id == wave_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no wave '{wave_id}'.", slug="unknown-wave")
    tasks = _task_rows(conn, tenant, pick_tasks.c.wave_id == wave_id)
    if any(t.status == "open" for t in tasks):
        left = sum(1 for t in tasks if t.status == "open")
        raise Conflict(f"{left} line(s) of the wave are not picked yet.", slug="wave-not-picked")
    found = catalog.items_by_id(conn, tenant, {t.item_id for t in tasks})
    places = catalog.locations_by_id(conn, tenant)
    picked = [t for t in tasks if t.status == "picked"]
    by_res: dict[str, list[Any]] = {}
    changes: list[stockpost.Change] = []
    for t in picked:
        if t.source == "reservation":
            by_res.setdefault(t.source_id, []).append(t)
        elif t.picked:
            changes.append(
                stockpost.Change(
                    found[t.item_id],
                    places[t.location_id],
                    {"committed": -t.picked, "on_hand": -t.picked},
                    sells=False,
                )
            )
    for res_id, res_tasks in by_res.items():
        if any(t.picked != t.qty for t in res_tasks):
            raise Conflict(
                f"Reservation {res_id} was short-picked; recount the bin or adjust stock, "
                "then pick it again.",
                slug="short-picked",
            )
        lifecycle.ship(conn, tenant, res_id, actor, now)
    stockpost.post(
        conn, tenant, changes, stock.Posting(reason="ship", actor=actor, reference=wave_id), now
    )
    for t in picked:
        if t.source != "reservation" and t.picked is not None and t.picked < t.qty:
            # What could not be picked is still owed: a new task for the rest.
            add_tasks(
                conn,
                tenant,
                t.source,
                f"{t.source_id}#rest-{t.id[:8]}",
                [(found[t.item_id], places[t.location_id], t.qty - t.picked)],
                now,
            )
    conn.execute(
        pick_tasks.update()
        .where(tenancy.of(tenant, pick_tasks), pick_tasks.c.wave_id == wave_id)
        .values(status="shipped", shipped_at=now)
    )
    conn.execute(
        waves.update()
        .where(tenancy.of(tenant, waves), waves.c.id == wave_id)
        .values(status="shipped", shipped_at=now)
    )
    shipped = catalogue.WaveShipped(wave=wave_id, lines=len(picked))
    outbox.record_many(conn, [shipped.row(tenant, now)])
    return wave(conn, tenant, wave_id)


def putaway(conn: Connection, tenant: str, sku: str, zone: str | None) -> dict[str, Any]:
    """Where to put a received item: the bin that already holds it (most on hand first),
    else the emptiest bin of its zone. Bins are locations with no children."""
    item = catalog.item(conn, tenant, sku)
    parents = sa.select(locations.c.parent_id).where(
        tenancy.of(tenant, locations), locations.c.parent_id.is_not(None)
    )
    bins = conn.execute(
        sa.select(locations.c.id, locations.c.code, locations.c.zone, locations.c.priority).where(
            tenancy.of(tenant, locations), locations.c.id.not_in(parents)
        )
    ).all()
    if zone:
        bins = [b for b in bins if b.zone == zone]
    load = dict(
        conn.execute(
            sa.select(balances.c.location_id, sa.func.sum(balances.c.on_hand))
            .where(tenancy.of(tenant, balances))
            .group_by(balances.c.location_id)
        ).all()
    )
    held = dict(
        conn.execute(
            sa.select(balances.c.location_id, balances.c.on_hand).where(
                tenancy.of(tenant, balances),
                balances.c.item_id == item.id,
                balances.c.on_hand > 0,
            )
        ).all()
    )
    holding = [b for b in bins if b.id in held]
    if holding:
        best = min(holding, key=lambda b: (-held[b.id], b.priority, b.code))
        reason = "holds this item already"
    elif bins:
        best = min(bins, key=lambda b: (int(load.get(b.id) or 0), b.priority, b.code))
        reason = "emptiest bin" + (f" of zone {zone}" if zone else "")
    else:
        raise NotFound("There is no bin to put it away in" + (f" in zone {zone}." if zone else "."))
    return {
        "sku": item.sku,
        "location": best.code,
        "zone": best.zone,
        "reason": reason,
        "on_hand_there": int(held.get(best.id, 0)),
        "bin_load": int(load.get(best.id) or 0),
    }
