"""The returns tile: returns of the last 30 days against the 30 before, by reason.

A return movement books `on_hand +q` and, when the goods come back unsellable, the same `q`
into `damaged` or `quality_control`. The tile's reason is that destination: `resaleable`,
`damaged` or `quality_control`. Units are the `on_hand` rise; value is units × unit cost
(the ledger row's cost, else the item's, else 0).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import tenancy
from ...tables import items, ledger

WINDOW_DAYS = 30
REASONS = ("resaleable", "damaged", "quality_control")


def returns_tile(conn: Connection, tenant: str, now: datetime) -> dict[str, Any]:
    start = now - timedelta(days=2 * WINDOW_DAYS)
    split = now - timedelta(days=WINDOW_DAYS)
    rows = conn.execute(
        sa.select(
            ledger.c.movement_id,
            ledger.c.state,
            ledger.c.delta,
            ledger.c.created_at,
            sa.func.coalesce(ledger.c.unit_cost, items.c.unit_cost, 0).label("cost"),
        )
        .join(items, tenancy.on(tenant, items, items.c.id == ledger.c.item_id))
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.reason == "return",
            ledger.c.created_at >= start,
            ledger.c.created_at < now,
        )
    ).all()
    # The state a returned unit went to, per movement (on_hand alone: resaleable).
    held = {r.movement_id: r.state for r in rows if r.state in ("damaged", "quality_control")}
    periods: dict[str, dict[str, dict[str, Any]]] = {
        p: {reason: {"units": 0, "value": Decimal(0)} for reason in REASONS}
        for p in ("current", "previous")
    }
    for r in rows:
        if r.state != "on_hand":
            continue
        period = "current" if r.created_at >= split else "previous"
        bucket = periods[period][held.get(r.movement_id, "resaleable")]
        bucket["units"] += int(r.delta)
        bucket["value"] += Decimal(r.delta) * Decimal(str(r.cost))

    def summary(by: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {
            "units": sum(b["units"] for b in by.values()),
            "value": str(
                sum((b["value"] for b in by.values()), Decimal(0)).quantize(Decimal("0.01"))
            ),
            "by_reason": {
                k: {"units": b["units"], "value": str(b["value"].quantize(Decimal("0.01")))}
                for k, b in by.items()
            },
        }

    return {
        "window_days": WINDOW_DAYS,
        "from": start.isoformat(),
        "split": split.isoformat(),
        "to": now.isoformat(),
        "current": summary(periods["current"]),
        "previous": summary(periods["previous"]),
    }
