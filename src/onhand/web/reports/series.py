"""Series the console draws: on hand per day and location, daily sales, value over time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import tenancy
from ...tables import ledger, locations


def _day(moment: datetime | date | str) -> date:
    if isinstance(moment, str):
        return date.fromisoformat(moment[:10])
    return moment.date() if isinstance(moment, datetime) else moment


def stock_and_sales(
    conn: Connection, tenant: str, item_id: int, today: date, days: int
) -> dict[str, Any]:
    """On hand at the end of each of the last `days` days per location, and units sold a day."""
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=UTC)
    codes = dict(
        conn.execute(
            sa.select(locations.c.id, locations.c.code).where(tenancy.of(tenant, locations))
        ).all()
    )
    opening = dict(
        conn.execute(
            sa.select(ledger.c.location_id, sa.func.sum(ledger.c.delta))
            .where(
                tenancy.of(tenant, ledger),
                ledger.c.item_id == item_id,
                ledger.c.state == "on_hand",
                ledger.c.created_at < start,
            )
            .group_by(ledger.c.location_id)
        ).all()
    )
    rows = conn.execute(
        sa.select(ledger.c.location_id, ledger.c.created_at, ledger.c.delta, ledger.c.reason)
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.item_id == item_id,
            ledger.c.state == "on_hand",
            ledger.c.created_at >= start,
        )
        .order_by(ledger.c.id)
    ).all()
    dates = [first + timedelta(days=i) for i in range(days)]
    index = {d: i for i, d in enumerate(dates)}
    change: dict[int, list[int]] = {}
    sales = [0] * days
    for r in rows:
        i = index.get(_day(r.created_at))
        if i is None:
            continue
        change.setdefault(r.location_id, [0] * days)[i] += int(r.delta)
        if r.reason == "ship":
            sales[i] -= int(r.delta)
    series = {}
    for loc_id in sorted(set(opening) | set(change), key=lambda k: codes[k]):
        level = int(opening.get(loc_id) or 0)
        points = []
        for delta in change.get(loc_id, [0] * days):
            level += delta
            points.append(level)
        series[codes[loc_id]] = points
    return {"dates": [d.isoformat() for d in dates], "on_hand": series, "sold": sales}


def month_ends(today: date, months: int) -> list[date]:
    """The last day of each of the `months` months before this one, then today."""
    out = []
    cursor = today.replace(day=1)
    for _ in range(months):
        cursor -= timedelta(days=1)
        out.append(cursor)
        cursor = cursor.replace(day=1)
    return [*reversed(out), today]
