"""Cycle counts: which item and location to count when, blind counts, tolerance and approval.

Each ABC class (by stock value, planning/valuation.py) is counted every `every_days`. An item
and location counted before is due `every_days` after its last count (a posted task or a
`count` movement); one never counted gets its first day from a hash of the pair, so a class's
first round is spread evenly over its interval instead of landing on one day. A counter sees
what to count, never how many there should be. A count within the class's tolerance posts
itself (a `count` movement: on_hand becomes what was counted); beyond it the task waits for a
manager, who approves it (the variance is posted as an adjustment, so movements made since
the count stay) or sends it back to be counted again.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, stock, tenancy
from ..catalog import service as catalog
from ..errors import Conflict, Invalid, NotFound
from ..planning import valuation
from ..quantities import to_base_units
from ..stock import movements
from ..stock.model import STOCKED_KINDS
from ..stock.schemas import MovementIn
from ..tables import balances, items, ledger, locations
from .schemas import ClassRule, ProgrammeIn
from .tables import count_programmes, count_tasks

DEFAULT = ProgrammeIn(
    A=ClassRule(every_days=30, tolerance_pct=Decimal("1")),
    B=ClassRule(every_days=90, tolerance_pct=Decimal("2")),
    C=ClassRule(every_days=365, tolerance_pct=Decimal("5")),
)
OPEN = ("open", "review")


def programme(conn: Connection, tenant: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(count_programmes).where(tenancy.of(tenant, count_programmes))
    ).first()
    rules = ProgrammeIn.model_validate(row.classes) if row else DEFAULT
    return {**rules.model_dump(mode="json"), "updated_at": row.updated_at if row else None}


def save_programme(
    conn: Connection, tenant: str, body: ProgrammeIn, now: datetime
) -> dict[str, Any]:
    stmt = db.insert(conn, count_programmes).values(
        tenant_id=tenant, classes=body.model_dump(mode="json"), updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={"classes": stmt.excluded.classes, "updated_at": stmt.excluded.updated_at},
        )
    )
    return programme(conn, tenant)


def _rules(conn: Connection, tenant: str) -> ProgrammeIn:
    doc = programme(conn, tenant)
    return ProgrammeIn.model_validate({c: doc[c] for c in "ABC"})


# ---- generating ----------------------------------------------------------------------------


def first_day(item_id: int, location_id: int, every_days: int, on: date) -> bool:
    """Whether `on` is the first count day of a pair never counted (one day per interval)."""
    spread = zlib.crc32(f"{item_id}:{location_id}".encode()) % every_days
    return (on.toordinal() + spread) % every_days == 0


def generate(conn: Connection, tenant: str, on: date, now: datetime) -> dict[str, Any]:
    """Make the tasks of the items and locations due on `on`; returns how many."""
    rules = _rules(conn, tenant)
    classes = {r["sku"]: r["class"] for r in valuation.abc(conn, tenant, "fifo", on)["items"]}
    pairs = conn.execute(
        sa.select(balances.c.item_id, balances.c.location_id, items.c.sku)
        .join(items, tenancy.on(tenant, items, items.c.id == balances.c.item_id))
        # Serial-tracked units are counted by scanning their serials, not by number.
        .where(
            tenancy.of(tenant, balances),
            items.c.kind.in_(STOCKED_KINDS),
            items.c.tracking != "serial",
        )
        .order_by(balances.c.item_id, balances.c.location_id)
    ).all()
    last = _last_counted(conn, tenant)
    busy = {
        (r.item_id, r.location_id)
        for r in conn.execute(
            sa.select(count_tasks.c.item_id, count_tasks.c.location_id).where(
                tenancy.of(tenant, count_tasks), count_tasks.c.status.in_(OPEN)
            )
        )
    }
    new = []
    for p in pairs:
        key = (p.item_id, p.location_id)
        if key in busy:
            continue
        cls = classes.get(p.sku, "C")
        every = getattr(rules, cls).every_days
        seen = last.get(key)
        due = seen.date() + timedelta(days=every) <= on if seen else first_day(*key, every, on)
        if due:
            new.append(
                {
                    "tenant_id": tenant,
                    "id": str(uuid.uuid4()),
                    "item_id": p.item_id,
                    "location_id": p.location_id,
                    "abc_class": cls,
                    "due_on": on,
                    "status": "open",
                    "created_at": now,
                }
            )
    if new:
        conn.execute(count_tasks.insert(), new)
    waiting = conn.execute(
        sa.select(sa.func.count()).where(
            tenancy.of(tenant, count_tasks), count_tasks.c.status.in_(OPEN)
        )
    ).scalar_one()
    return {"on": on, "created": len(new), "open": int(waiting)}


def _last_counted(conn: Connection, tenant: str) -> dict[tuple[int, int], datetime]:
    """When each item and location was last counted: a posted task or a count movement."""
    out: dict[tuple[int, int], datetime] = {}
    t, lg = count_tasks, ledger
    for r in conn.execute(
        sa.select(t.c.item_id, t.c.location_id, sa.func.max(t.c.counted_at))
        .where(tenancy.of(tenant, t), t.c.status == "posted")
        .group_by(t.c.item_id, t.c.location_id)
    ):
        out[(r[0], r[1])] = r[2]
    for r in conn.execute(
        sa.select(lg.c.item_id, lg.c.location_id, sa.func.max(lg.c.created_at))
        .where(tenancy.of(tenant, lg), lg.c.reason == "count", lg.c.location_id.is_not(None))
        .group_by(lg.c.item_id, lg.c.location_id)
    ):
        key = (r[0], r[1])
        out[key] = max(out[key], r[2]) if key in out else r[2]
    return out


# ---- counting ------------------------------------------------------------------------------


def count(
    conn: Connection, tenant: str, task_id: str, counted: int | str, actor: str, now: datetime
) -> dict[str, Any]:
    if str(counted).lstrip().startswith("-"):
        raise Invalid("counted: zero or more (what is on the shelf).")
    task = _locked(conn, tenant, task_id, "counted", ("open",))
    item = catalog.items_by_id(conn, tenant, {task.item_id})[task.item_id]
    qty = to_base_units(counted, item.unit, item.units, field="counted")
    locked = stock.lock(conn, tenant, [item.id], now)
    row = next((f for f in locked.get(item.id, []) if f.location_id == task.location_id), None)
    expected = row.states["on_hand"] if row else 0
    rule = getattr(_rules(conn, tenant), task.abc_class)
    within = abs(qty - expected) <= max(
        Decimal(rule.tolerance_units), Decimal(expected) * rule.tolerance_pct / 100
    )
    values: dict[str, Any] = {
        "expected": expected,
        "counted": qty,
        "within": within,
        "counted_by": actor,
        "counted_at": now,
        "status": "review",
    }
    if within:
        moved = _post(conn, tenant, task, "count", {"counted": qty}, actor, now)
        values |= {"status": "posted", "movement_id": moved}
    _update(conn, tenant, task_id, **values)
    return get(conn, tenant, task_id)


def approve(
    conn: Connection, tenant: str, task_id: str, actor: str, now: datetime
) -> dict[str, Any]:
    task = _locked(conn, tenant, task_id, "approved", ("review",))
    variance = int(task.counted) - int(task.expected)
    moved = None
    if variance:
        moved = _post(conn, tenant, task, "adjustment", {"qty": variance}, actor, now)
    _update(
        conn,
        tenant,
        task_id,
        status="posted",
        decided_by=actor,
        decided_at=now,
        movement_id=moved,
    )
    return get(conn, tenant, task_id)


def recount(
    conn: Connection, tenant: str, task_id: str, actor: str, now: datetime
) -> dict[str, Any]:
    _locked(conn, tenant, task_id, "sent back", ("review",))
    _update(
        conn,
        tenant,
        task_id,
        status="open",
        expected=None,
        counted=None,
        within=None,
        counted_by=None,
        counted_at=None,
        decided_by=actor,
        decided_at=now,
    )
    return get(conn, tenant, task_id)


def _post(
    conn: Connection,
    tenant: str,
    task: Any,
    kind: str,
    figures: dict[str, int],
    actor: str,
    now: datetime,
) -> str:
    sku = conn.execute(
        sa.select(items.c.sku).where(tenancy.of(tenant, items), items.c.id == task.item_id)
    ).scalar_one()
    code = conn.execute(
        sa.select(locations.c.code).where(
            tenancy.of(tenant, locations), locations.c.id == task.location_id
        )
    ).scalar_one()
    body = MovementIn.model_validate(
        {
            "type": kind,
            "sku": sku,
            "location": code,
            "reference": f"cycle count {task.id[:8]}",
            **figures,
        }
    )
    return str(movements.post(conn, tenant, body, actor, now)["id"])


def _locked(
    conn: Connection, tenant: str, task_id: str, step: str, allowed: tuple[str, ...]
) -> Any:
    t = count_tasks
    row = conn.execute(
        db.for_update(conn, sa.select(t).where(tenancy.of(tenant, t), t.c.id == task_id))
    ).first()
    if row is None:
        raise NotFound(f"There is no count task '{task_id}'.", slug="unknown-count-task")
    if row.status not in allowed:
        raise Conflict(
            f"This count task is {row.status}: it can be {step} only when it is "
            f"{' or '.join(allowed)}.",
            slug="count-step",
        )
    return row


def _update(conn: Connection, tenant: str, task_id: str, **values: Any) -> None:
    conn.execute(
        count_tasks.update()
        .where(tenancy.of(tenant, count_tasks), count_tasks.c.id == task_id)
        .values(**values)
    )


# ---- reading -------------------------------------------------------------------------------


def get(conn: Connection, tenant: str, task_id: str) -> dict[str, Any]:
    found = tasks(conn, tenant, [count_tasks.c.id == task_id], 1)
    if not found:
        raise NotFound(f"There is no count task '{task_id}'.", slug="unknown-count-task")
    return found[0]


def tasks(conn: Connection, tenant: str, where: Iterable[Any], limit: int) -> list[dict[str, Any]]:
    t = count_tasks
    rows = conn.execute(
        sa.select(t, items.c.sku, locations.c.code)
        .join(items, tenancy.on(tenant, items, items.c.id == t.c.item_id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == t.c.location_id))
        .where(tenancy.of(tenant, t), *where)
        # Walking order for the counter: by location, then SKU.
        .order_by(t.c.due_on, locations.c.priority, locations.c.code, items.c.sku)
        .limit(limit)
    ).all()
    return [
        {
            "id": r.id,
            "sku": r.sku,
            "location": r.code,
            "abc_class": r.abc_class,
            "due_on": r.due_on,
            "status": r.status,
            "counted": r.counted,
            # Blind: nobody sees the expected figure before it was counted.
            "expected": r.expected if r.counted is not None else None,
            "variance": None if r.counted is None else int(r.counted) - int(r.expected),
            "within": r.within,
            "counted_by": r.counted_by,
            "counted_at": r.counted_at,
            "decided_by": r.decided_by,
            "decided_at": r.decided_at,
        }
        for r in rows
    ]


def accuracy(conn: Connection, tenant: str, since: datetime) -> dict[str, Any]:
    """Share of counts within tolerance since `since`: overall, per class, per ISO week."""
    t = count_tasks
    rows = conn.execute(
        sa.select(t.c.abc_class, t.c.within, t.c.counted_at).where(
            tenancy.of(tenant, t), t.c.counted_at >= since, t.c.within.is_not(None)
        )
    ).all()

    def share(sel: list[Any]) -> dict[str, Any]:
        within = sum(1 for r in sel if r.within)
        return {
            "counted": len(sel),
            "within": within,
            "accuracy": round(within / len(sel), 4) if sel else None,
        }

    weeks: dict[str, list[Any]] = {}
    for r in rows:
        year, week, _ = r.counted_at.isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", []).append(r)
    return {
        "since": since,
        **share(list(rows)),
        "by_class": {c: share([r for r in rows if r.abc_class == c]) for c in "ABC"},
        "by_week": [{"week": w, **share(sel)} for w, sel in sorted(weeks.items())],
    }
