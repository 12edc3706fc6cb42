"""Threshold alerts: `stock.out`, `stock.low` and `stock.back_in` when an item's total
available crosses zero, its low-stock threshold or its reorder point.

Decided by the `alerts` sink at dispatch time, event by event in id order, against the level
stored in item_alert_state; the new level, the alert events and the sink's cursor commit in
one transaction, so every crossing is announced exactly once. `evaluate` can equally be
called inside the stock transaction itself (after `publish_changes`) if alerts must commit
with the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..tables import items
from ..tables import outbox as outbox_table
from . import outbox
from .dispatcher import Sink
from .feed import Event
from .tables import item_alert_state


@dataclass(frozen=True)
class Level:
    out: bool = False
    low: bool = False  # at or below the low-stock threshold, but not out
    below_reorder: bool = False


def level(available: int, low_threshold: int | None, reorder_point: int | None) -> Level:
    out = available <= 0
    return Level(
        out=out,
        low=not out and low_threshold is not None and available <= low_threshold,
        below_reorder=reorder_point is not None and available <= reorder_point,
    )


def crossings(before: Level, after: Level, rose: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """The alert events for a move from one level to the next; `rose`: available went up
    (a receipt can leave an item low, but it never *becomes* low by getting more stock)."""
    if after.out and not before.out:
        return [("stock.out", {})]
    if before.out and not after.out:
        return [("stock.back_in", {"low": after.low, "below_reorder_point": after.below_reorder})]
    if rose:
        return []
    crossed = [
        name
        for name, was, now in (
            ("low_stock_threshold", before.low, after.low),
            ("reorder_point", before.below_reorder, after.below_reorder),
        )
        if now and not was
    ]
    return [("stock.low", {"crossed": crossed})] if crossed else []


def evaluate(conn: Connection, changes: list[tuple[str, str, int, int]], now: datetime) -> int:
    """(tenant, sku, available, event id) in order: store the new levels, record alert events.

    Returns how many alert events were recorded.
    """
    if not changes:
        return 0
    tenants_ = {c[0] for c in changes}
    skus = {c[1] for c in changes}
    thresholds = {
        (r.tenant_id, r.sku): (r.low_stock_threshold, r.reorder_point)
        for r in conn.execute(
            sa.select(
                items.c.tenant_id, items.c.sku, items.c.low_stock_threshold, items.c.reorder_point
            ).where(items.c.tenant_id.in_(tenants_), items.c.sku.in_(skus))
        )
    }
    s = item_alert_state
    stored = conn.execute(sa.select(s).where(s.c.tenant_id.in_(tenants_), s.c.sku.in_(skus))).all()
    levels = {(r.tenant_id, r.sku): Level(r.out, r.low, r.below_reorder) for r in stored}
    known = {(r.tenant_id, r.sku): r.available for r in stored if r.available is not None}
    alerts: list[dict[str, Any]] = []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for tenant, sku, available, event_id in changes:
        low_threshold, reorder_point = thresholds.get((tenant, sku), (None, None))
        before = levels.get((tenant, sku), Level())
        after = level(available, low_threshold, reorder_point)
        previous = known.get((tenant, sku))
        rose = previous is not None and available > previous
        known[(tenant, sku)] = available
        for type_, extra in crossings(before, after, rose):
            alerts.append(
                outbox.event_row(
                    tenant,
                    type_,
                    now,
                    sku=sku,
                    available=available,
                    cause_event_id=event_id,
                    low_stock_threshold=low_threshold,
                    reorder_point=reorder_point,
                    **extra,
                )
            )
        levels[(tenant, sku)] = after
        latest[(tenant, sku)] = {
            "tenant_id": tenant,
            "sku": sku,
            "available": available,
            "out": after.out,
            "low": after.low,
            "below_reorder": after.below_reorder,
            "event_id": event_id,
            "updated_at": now,
        }
    stmt = db.insert(conn, s)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[s.c.tenant_id, s.c.sku],
            set_={
                c: stmt.excluded[c]
                for c in ("available", "out", "low", "below_reorder", "event_id", "updated_at")
            },
        ),
        list(latest.values()),
    )
    outbox.record_many(conn, alerts)
    return len(alerts)


class AlertSink(Sink):
    name = "alerts"

    def apply(self, conn: Connection, events: list[Event]) -> None:
        changes = [
            (e.tenant, e.sku, int(e.available), e.id)
            for e in events
            if e.type == "stock.changed" and e.sku and e.available is not None
        ]
        evaluate(conn, changes, db.utcnow())


def seed(conn: Connection, now: datetime, tenant: str | None = None) -> int:
    """Store the level of every stocked item that has none yet (at start-up), without
    announcing anything: `/metrics` and the alert table then cover every item, not only
    those changed since. Rows the sink wrote meanwhile win. Returns how many were stored."""
    from ..stock.availability import location_figures

    s = item_alert_state
    head = int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)
    missing = conn.execute(
        sa.select(
            items.c.id,
            items.c.tenant_id,
            items.c.sku,
            items.c.low_stock_threshold,
            items.c.reorder_point,
        )
        .outerjoin(s, sa.and_(s.c.tenant_id == items.c.tenant_id, s.c.sku == items.c.sku))
        .where(
            items.c.kind.in_(("physical", "licensed")),
            s.c.sku.is_(None),
            *([tenancy.of(tenant, items)] if tenant else []),
        )
    ).all()
    rows = []
    for owner in {r.tenant_id for r in missing}:
        mine = [r for r in missing if r.tenant_id == owner]
        figures = location_figures(conn, owner, [r.id for r in mine], now)
        for r in mine:
            available = sum(int(f["available"]) for f in figures.get(r.id, []))
            lv = level(available, r.low_stock_threshold, r.reorder_point)
            rows.append(
                {
                    "tenant_id": owner,
                    "sku": r.sku,
                    "available": available,
                    "out": lv.out,
                    "low": lv.low,
                    "below_reorder": lv.below_reorder,
                    "event_id": head,
                    "updated_at": now,
                }
            )
    if rows:
        conn.execute(db.insert(conn, s).on_conflict_do_nothing(), rows)
    return len(rows)
