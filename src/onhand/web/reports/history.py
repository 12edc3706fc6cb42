"""The ledger as the History view shows it: filters, cursor pages and the running balance.

The running balance of a row is the balance of its (item, location, state) right after the
row: the sum of every earlier-or-equal ledger row of that triple. It is computed per page with
one grouped sum for the page's oldest row and a walk forward, so a page costs two queries
whatever the ledger's length.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ... import db, tenancy
from ...tables import items, ledger, locations

COLUMNS = (
    "id",
    "created_at",
    "sku",
    "location",
    "state",
    "delta",
    "balance",
    "reason",
    "reference",
    "actor",
    "unit_cost",
)


def _filtered(
    tenant: str,
    *,
    item_id: int | None,
    location_id: int | None,
    reason: str | None,
    state: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[Any]:
    where = [tenancy.of(tenant, ledger)]
    if item_id is not None:
        where.append(ledger.c.item_id == item_id)
    if location_id is not None:
        where.append(ledger.c.location_id == location_id)
    if reason:
        where.append(ledger.c.reason == reason)
    if state:
        where.append(ledger.c.state == state)
    if since is not None:
        where.append(ledger.c.created_at >= since)
    if until is not None:
        where.append(ledger.c.created_at < until)
    return where


def page(
    conn: Connection,
    tenant: str,
    *,
    item_id: int | None = None,
    location_id: int | None = None,
    reason: str | None = None,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first; `before` is the cursor (the last id of the previous page)."""
    where = _filtered(
        tenant,
        item_id=item_id,
        location_id=location_id,
        reason=reason,
        state=state,
        since=since,
        until=until,
    )
    if before is not None:
        where.append(ledger.c.id < before)
    rows = conn.execute(
        sa.select(
            ledger, items.c.sku, items.c.unit.label("unit"), locations.c.code.label("location")
        )
        .join(
            items, sa.and_(items.c.tenant_id == ledger.c.tenant_id, items.c.id == ledger.c.item_id)
        )
        .join(
            locations,
            sa.and_(
                locations.c.tenant_id == ledger.c.tenant_id, locations.c.id == ledger.c.location_id
            ),
        )
        .where(*where)
        .order_by(ledger.c.id.desc())
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return [], None
    # Balance of each triple just before the page's oldest row, then walk the page upwards.
    oldest = rows[-1].id
    triples = {(r.item_id, r.location_id, r.state) for r in rows}
    base = {
        (r.item_id, r.location_id, r.state): int(r.total)
        for r in conn.execute(
            sa.select(
                ledger.c.item_id,
                ledger.c.location_id,
                ledger.c.state,
                sa.func.sum(ledger.c.delta).label("total"),
            )
            .where(
                tenancy.of(tenant, ledger),
                ledger.c.id < oldest,
                ledger.c.item_id.in_({t[0] for t in triples}),
                ledger.c.location_id.in_({t[1] for t in triples}),
            )
            .group_by(ledger.c.item_id, ledger.c.location_id, ledger.c.state)
        )
    }
    # Rows of the same triple that the filters hid still move the balance.
    hidden = conn.execute(
        sa.select(
            ledger.c.id, ledger.c.item_id, ledger.c.location_id, ledger.c.state, ledger.c.delta
        )
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.id >= oldest,
            ledger.c.id <= rows[0].id,
            ledger.c.item_id.in_({t[0] for t in triples}),
            ledger.c.location_id.in_({t[1] for t in triples}),
        )
        .order_by(ledger.c.id)
    ).all()
    balance_after: dict[int, int] = {}
    running = dict(base)
    for h in hidden:
        key = (h.item_id, h.location_id, h.state)
        running[key] = running.get(key, 0) + int(h.delta)
        balance_after[h.id] = running[key]
    out = [
        {
            "id": r.id,
            "created_at": db.iso(r.created_at),
            "sku": r.sku,
            "unit": r.unit,
            "location": r.location,
            "state": r.state,
            "delta": int(r.delta),
            "balance": balance_after[r.id],
            "reason": r.reason,
            "reference": r.reference,
            "movement_id": r.movement_id,
            "reservation_id": r.reservation_id,
            "actor": r.actor,
            "unit_cost": None if r.unit_cost is None else str(r.unit_cost),
        }
        for r in rows
    ]
    return out, (rows[-1].id if more else None)


def to_csv(entries: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow(["" if e[c] is None else e[c] for c in COLUMNS])
    return buf.getvalue()
