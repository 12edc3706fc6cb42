"""Active holds as the Reservations view lists them: time left, SKU filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import db, tenancy
from ...tables import items, reservation_lines, reservations


def active(
    conn: Connection, tenant: str, now: datetime, *, sku: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Holds still counting against stock, soonest to lapse first."""
    r = reservations.c
    stmt = sa.select(reservations).where(
        r.tenant_id == tenant, r.status == "active", r.expires_at > now
    )
    if sku:
        holding = (
            sa.select(reservation_lines.c.reservation_id)
            .join(items, items.c.id == reservation_lines.c.item_id)
            .where(
                tenancy.of(tenant, reservation_lines),
                tenancy.of(tenant, items),
                sa.or_(items.c.sku == sku, reservation_lines.c.parent_sku == sku),
            )
        )
        stmt = stmt.where(r.id.in_(holding))
    rows = conn.execute(stmt.order_by(r.expires_at, r.id).limit(limit)).all()
    return [
        {
            "id": row.id,
            "reference": row.reference,
            "created_at": db.iso(row.created_at),
            "expires_at": db.iso(row.expires_at),
            "seconds_left": max(0, int((row.expires_at - now).total_seconds())),
            "lines": row.lines,
            "units": sum(int(line.get("qty", 0)) for line in row.lines),
        }
        for row in rows
    ]
