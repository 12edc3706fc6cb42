"""The days-of-cover heatmap: item × location, red where a stock-out comes inside the lead time.

Cover = available / mean daily demand, demand being the units shipped from that location over
the last 28 days. The lead time is the item's preferred (else fastest) supplier's, else the
tenant's planning default. A cell is `bad` when cover < lead time (stock runs out before an
order placed today arrives), `warn` when cover < 2 × lead time, `ok` otherwise; `none` when
nothing was sold (no demand, no stock-out to foresee).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import tenancy
from ...planning import settings as plan_settings
from ...planning.tables import item_suppliers, suppliers
from ...stock.availability import location_figures
from ...tables import items, ledger, locations

DEMAND_DAYS = 28


def _lead_times(conn: Connection, tenant: str) -> dict[int, float]:
    rows = conn.execute(
        sa.select(item_suppliers.c.item_id, item_suppliers.c.preferred, suppliers.c.lead_time_days)
        .join(suppliers, suppliers.c.id == item_suppliers.c.supplier_id)
        .where(tenancy.of(tenant, item_suppliers), tenancy.of(tenant, suppliers))
    ).all()
    out: dict[int, tuple[bool, float]] = {}
    for item_id, preferred, days in rows:
        best = out.get(item_id)
        # Preferred first, then the fastest.
        if best is None or (preferred, -days) > (best[0], -best[1]):
            out[item_id] = (bool(preferred), float(days))
    return {k: v[1] for k, v in out.items()}


def cover_tile(conn: Connection, tenant: str, now: datetime) -> dict[str, Any]:
    default_lead = float(plan_settings.load(conn, tenant).default_lead_time_days)
    stocked = conn.execute(
        sa.select(items.c.id, items.c.sku, items.c.name)
        .where(
            tenancy.of(tenant, items),
            items.c.kind.in_(("physical", "licensed")),
            items.c.active.is_(True),
        )
        .order_by(items.c.sku)
    ).all()
    since = now - timedelta(days=DEMAND_DAYS)
    shipped = {
        (r.item_id, r.location_id): -int(r.units)
        for r in conn.execute(
            sa.select(
                ledger.c.item_id, ledger.c.location_id, sa.func.sum(ledger.c.delta).label("units")
            )
            .where(
                tenancy.of(tenant, ledger),
                ledger.c.reason == "ship",
                ledger.c.state == "on_hand",
                ledger.c.created_at >= since,
            )
            .group_by(ledger.c.item_id, ledger.c.location_id)
        )
    }
    figures = location_figures(conn, tenant, [r.id for r in stocked], now)
    leads = _lead_times(conn, tenant)
    codes = dict(
        conn.execute(
            sa.select(locations.c.id, locations.c.code).where(tenancy.of(tenant, locations))
        ).all()
    )
    used: set[str] = set()
    rows = []
    for item in stocked:
        lead = leads.get(item.id, default_lead)
        cells = {}
        places = {f["location_id"]: f for f in figures.get(item.id, [])}
        for loc_id in sorted(set(places) | {k[1] for k in shipped if k[0] == item.id}):
            f = places.get(loc_id)
            available = int(f["available"]) if f else 0
            daily = shipped.get((item.id, loc_id), 0) / DEMAND_DAYS
            if daily <= 0 and available <= 0:
                continue
            cover = round(available / daily, 1) if daily > 0 else None
            level = (
                "none"
                if cover is None
                else "bad"
                if cover < lead
                else "warn"
                if cover < 2 * lead
                else "ok"
            )
            code = codes[loc_id]
            used.add(code)
            cells[code] = {
                "available": available,
                "daily_demand": round(daily, 2),
                "days": cover,
                "level": level,
            }
        if cells:
            rows.append(
                {"sku": item.sku, "name": item.name, "lead_time_days": lead, "cells": cells}
            )
    return {"demand_days": DEMAND_DAYS, "locations": sorted(used), "items": rows}
