"""One item's daily forecast with its prediction interval, against the demand it learned from.

The plan stores one daily rate and σ per line (what the policy needs); a person looking at an
item wants the forecast day by day. This reads the same demand history the plan reads (the
tenant's `history_days` complete days before today, days with an empty shelf marked unknown),
for one item at one location or at all of them together, and forecasts it with the plan's own
`forecast()` call (daily data, weekly season) for `horizon_days`, at the level asked for.
Only the ledger rows of the one item are read.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy
from ..catalog import service as catalog
from ..errors import Invalid
from ..stock.model import Item
from ..tables import ledger
from . import demand
from . import settings as plan_settings
from .forecast import forecast
from .plan import SEASON


def _history(
    conn: Connection, tenant: str, item: Item, location_id: int | None, today: date, days: int
) -> demand.DemandHistory:
    """The item's demand history per location it has a balance at (one row each)."""
    planned = demand.series(conn, tenant, [item.id])
    if location_id is not None:
        keep = planned.location_ids == location_id
        columns = (getattr(planned, f.name) for f in dataclasses.fields(planned))
        planned = demand.Series(*(np.ascontiguousarray(a[keep]) for a in columns))
    start = today - timedelta(days=days)
    window = demand._Window(planned, days)
    if len(planned):
        day = demand._day_number(conn, start).label("day")
        where = [
            tenancy.of(tenant, ledger),
            ledger.c.item_id == item.id,
            ledger.c.created_at >= datetime.combine(start, time(), UTC),
        ]
        if location_id is not None:
            where.append(ledger.c.location_id == location_id)
        rows = conn.execute(
            sa.select(
                ledger.c.item_id,
                ledger.c.location_id,
                day,
                sa.func.coalesce(sa.func.sum(demand._available_change()), 0),
                sa.func.coalesce(sa.func.sum(demand._demand()), 0),
            )
            .where(*where)
            .group_by(ledger.c.item_id, ledger.c.location_id, day)
        ).all()
        data = np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 5)
        window.add(*(data[:, i] for i in range(5)))
    return demand.DemandHistory(start, window.qty, window.available)


def _r(values: np.ndarray) -> list[float]:
    return [round(float(v), 2) for v in values]


def outlook(
    conn: Connection,
    tenant: str,
    sku: str,
    location: str | None,
    today: date,
    level: float,
    days: int | None = None,
) -> dict[str, Any]:
    item = catalog.item(conn, tenant, sku)
    if item.kind not in demand.STOCKED:
        raise Invalid(f"{sku} is a {item.kind} item: only stocked items are forecast.", sku=sku)
    loc = catalog.location(conn, tenant, location) if location else None
    cfg = plan_settings.load(conn, tenant)
    horizon = days or cfg.horizon_days
    hist = _history(conn, tenant, item, loc.id if loc else None, today, cfg.history_days)
    # All locations together: one series of the item's demand; a day counts as unknown only
    # when every location's shelf was empty (one location's demand went to the others).
    qty = hist.qty.sum(axis=0, dtype=np.float64)
    # (An item with no stock anywhere has no rows: every day is an empty shelf.)
    stockout = np.asarray(hist.stockout.all(axis=0), dtype=bool)
    if ((qty > 0) & ~stockout).any():
        # Run over at least the plan's horizon: the backtest that picks the model looks that
        # far ahead, so a shorter `days` shows the first days of the plan's own forecast.
        ahead = max(horizon, cfg.horizon_days)
        fc = forecast(qty[None, :], ahead, SEASON, stockout=stockout[None, :], level=level)
        mean, lo, hi = fc.mean[0, :horizon], fc.lo[0, :horizon], fc.hi[0, :horizon]
        model, sigma = str(fc.model[0]), round(float(fc.sigma[0]), 2)
    else:  # never sold on a day it could have: the plan forecasts zero too
        mean = lo = hi = np.zeros(horizon)
        model, sigma = "none", 0.0
    return {
        "sku": item.sku,
        "location": loc.code if loc else None,
        "model": model,
        "level": level,
        "sigma": sigma,
        "history_start": hist.start.isoformat(),
        "actual": [
            {
                "date": (hist.start + timedelta(days=d)).isoformat(),
                "demand": int(q),
                "stockout": bool(s),
            }
            for d, (q, s) in enumerate(zip(qty.tolist(), stockout.tolist(), strict=True))
        ],
        "forecast": [
            {"date": (today + timedelta(days=j)).isoformat(), "mean": m, "lo": a, "hi": b}
            for j, (m, a, b) in enumerate(zip(_r(mean), _r(lo), _r(hi), strict=True))
        ],
    }
