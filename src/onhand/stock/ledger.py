"""The one place that changes balances.

`change` moves quantities between states of one (item, location) with a single conditional
UPDATE that checks and writes in the same statement, then appends the matching ledger rows.
It never reads a figure in one statement and writes it in another: a shortfall shows up as
"no row changed", and only then is the row read to explain the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from .. import db
from ..catalog.service import Item, Location
from ..problems import InsufficientStock
from ..tables import STATES, balances, ledger
from .availability import HELD, available_expr


@dataclass(frozen=True)
class Posting:
    """Why a change happened; copied onto every ledger row it writes."""

    reason: str
    actor: str | None = None
    reference: str | None = None
    movement_id: str | None = None
    reservation_id: str | None = None
    unit_cost: Decimal | None = None


def available_delta(deltas: dict[str, int]) -> int:
    return deltas.get("on_hand", 0) - sum(deltas.get(s, 0) for s in HELD)


def change(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    deltas: dict[str, int],
    posting: Posting,
    now: datetime,
    *,
    check_available: bool = True,
    record_zero: bool = False,
) -> Row | None:
    """Apply `deltas` (state -> signed quantity) or raise InsufficientStock and change nothing.

    `available` may not fall below zero (unless the item allows backorders or the caller
    turns the check off for a change that does not sell, such as expiring a hold), and no
    stored state may ever go negative. Returns the balance row after the change.
    """
    deltas = {s: d for s, d in deltas.items() if d}
    unknown = set(deltas) - set(STATES)
    if unknown:
        raise ValueError(f"unknown states {unknown}")
    row = None
    if deltas:
        row = _update(conn, tenant, item, loc, deltas, now, check_available)
    entries = [
        {
            "tenant_id": tenant,
            "item_id": item.id,
            "location_id": loc.id,
            "state": s,
            "delta": d,
            "reason": posting.reason,
            "reference": posting.reference,
            "movement_id": posting.movement_id,
            "reservation_id": posting.reservation_id,
            "actor": posting.actor,
            "unit_cost": posting.unit_cost,
            "created_at": now,
        }
        for s, d in (deltas.items() if deltas or not record_zero else [("on_hand", 0)])
    ]
    if entries:
        conn.execute(ledger.insert(), entries)
    return row


def _update(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    deltas: dict[str, int],
    now: datetime,
    check_available: bool,
) -> Row:
    b = balances
    where = [b.c.tenant_id == tenant, b.c.item_id == item.id, b.c.location_id == loc.id]
    where += [b.c[s] >= -d for s, d in deltas.items() if d < 0]
    if check_available:
        where += _guard(item, deltas, now)
    stmt = (
        b.update()
        .where(*where)
        .values(updated_at=now, **{s: b.c[s] + d for s, d in deltas.items()})
        .returning(*b.c)
    )
    row = conn.execute(stmt).first()
    if row is None and all(d > 0 for d in deltas.values()):
        # First stock at this location: create the row, then run the same guarded update.
        conn.execute(
            db.insert(conn, b)
            .values(
                tenant_id=tenant,
                item_id=item.id,
                location_id=loc.id,
                updated_at=now,
            )
            .on_conflict_do_nothing()
        )
        row = conn.execute(stmt).first()
    if row is None:
        raise _shortage(conn, tenant, item, loc, deltas, now)
    return row


# Units physically set apart from on_hand. A backordered item may promise (hold, commit, keep
# back as safety stock) more than it has, but never set apart units it does not have.
SET_ASIDE = ("damaged", "quality_control")


def _guard(item: Item, deltas: dict[str, int], now: datetime) -> list[sa.ColumnElement]:
    """What must still hold after the change.

    Normally `available` may not go below zero. An item that allows backorders may be held
    and sold past its stock, but units it does not have can still not be shipped, damaged or
    put in quality control: on_hand minus damaged and quality_control stays zero or more.
    """
    if not item.allow_backorder:
        freed = available_delta(deltas)
        return [available_expr(now) >= -freed] if freed < 0 else []
    change = deltas.get("on_hand", 0) - sum(deltas.get(s, 0) for s in SET_ASIDE)
    if change >= 0:
        return []
    physical = balances.c.on_hand - balances.c.damaged - balances.c.quality_control
    return [physical >= -change]


def _shortage(
    conn: Connection, tenant: str, item: Item, loc: Location, deltas: dict[str, int], now: datetime
) -> InsufficientStock:
    """Explain a refused change: which figure was too small, and by how much."""
    b = balances
    current = conn.execute(
        sa.select(b, available_expr(now).label("available")).where(
            b.c.tenant_id == tenant, b.c.item_id == item.id, b.c.location_id == loc.id
        )
    ).first()
    figures = {s: 0 for s in STATES} | {"available": 0}
    if current is not None:
        figures = {k: int(v) for k, v in current._mapping.items() if k in figures}
    for state, d in deltas.items():
        if d < 0 and state != "on_hand" and figures[state] < -d:
            problem = InsufficientStock(item.sku, -d, figures[state], loc.code)
            problem.detail = (
                f"{item.sku} at {loc.code}: {-d} requested from {state}, "
                f"which holds only {figures[state]}."
            )
            problem.extra["state"] = state
            return problem
    return InsufficientStock(
        item.sku, -available_delta(deltas), max(figures["available"], 0), loc.code
    )
