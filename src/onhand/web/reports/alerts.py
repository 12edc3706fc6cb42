"""The Alerts view: every item's current alert level and the latest alert events."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import db, tenancy
from ...events.tables import item_alert_state
from ...tables import items, outbox

ALERT_TYPES = ("stock.out", "stock.low", "stock.back_in")


def alerts(conn: Connection, tenant: str, limit: int = 100) -> dict[str, Any]:
    s = item_alert_state
    current = conn.execute(
        sa.select(
            s.c.sku,
            s.c.available,
            s.c.out,
            s.c.low,
            s.c.below_reorder,
            s.c.updated_at,
            items.c.name,
            items.c.low_stock_threshold,
            items.c.reorder_point,
        )
        .join(items, sa.and_(items.c.tenant_id == s.c.tenant_id, items.c.sku == s.c.sku))
        .where(tenancy.of(tenant, s), sa.or_(s.c.out, s.c.low, s.c.below_reorder))
        .order_by(s.c.sku)
    ).all()
    recent = conn.execute(
        sa.select(outbox.c.id, outbox.c.type, outbox.c.sku, outbox.c.payload, outbox.c.created_at)
        .where(tenancy.of(tenant, outbox), outbox.c.type.in_(ALERT_TYPES))
        .order_by(outbox.c.id.desc())
        .limit(limit)
    ).all()
    return {
        "current": [
            {
                "sku": r.sku,
                "name": r.name,
                "available": r.available,
                "level": "out" if r.out else "low" if r.low else "below_reorder_point",
                "below_reorder_point": bool(r.below_reorder),
                "low_stock_threshold": r.low_stock_threshold,
                "reorder_point": r.reorder_point,
                "since": db.iso(r.updated_at),
            }
            for r in current
        ],
        "events": [
            {
                "id": r.id,
                "type": r.type,
                "sku": r.sku,
                "available": (r.payload or {}).get("available"),
                "at": db.iso(r.created_at),
            }
            for r in recent
        ],
    }
