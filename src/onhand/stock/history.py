"""Reading the ledger, newest first, with a cursor for paging."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy
from ..tables import items, ledger, locations, lots


def entries(
    conn: Connection,
    tenant: str,
    *,
    item_id: int | None = None,
    location_id: int | None = None,
    movement_id: str | None = None,
    reservation_id: str | None = None,
    reason: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of ledger entries and the `before` cursor of the next (older) page."""
    stmt = (
        sa.select(ledger, items.c.sku, locations.c.code.label("location"), lots.c.code.label("lot"))
        .join(items, tenancy.on(tenant, items, items.c.id == ledger.c.item_id))
        .outerjoin(locations, tenancy.on(tenant, locations, locations.c.id == ledger.c.location_id))
        .outerjoin(lots, tenancy.on(tenant, lots, lots.c.id == ledger.c.lot_id))
        .where(tenancy.of(tenant, ledger))
    )
    for column, value in (
        (ledger.c.item_id, item_id),
        (ledger.c.location_id, location_id),
        (ledger.c.movement_id, movement_id),
        (ledger.c.reservation_id, reservation_id),
        (ledger.c.reason, reason),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if before is not None:
        stmt = stmt.where(ledger.c.id < before)
    rows = conn.execute(stmt.order_by(ledger.c.id.desc()).limit(limit + 1)).all()
    page = [
        {
            "id": r.id,
            "sku": r.sku,
            "location": r.location,
            "state": r.state,
            "delta": r.delta,
            "reason": r.reason,
            "reference": r.reference,
            "movement_id": r.movement_id,
            "reservation_id": r.reservation_id,
            "actor": r.actor,
            "unit_cost": str(r.unit_cost) if r.unit_cost is not None else None,
            "created_at": r.created_at,
            # A print-on-demand booking has no location; it names its day.
            **({"day": r.day.isoformat()} if r.location_id is None else {}),
            # A lot-tracked item's entry names its lot.
            **({"lot": r.lot} if r.lot_id is not None else {}),
        }
        for r in rows[:limit]
    ]
    return page, (page[-1]["id"] if len(rows) > limit else None)
