"""Writing events: one outbox row per change, in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .. import db
from ..tables import outbox


def record(
    conn: Connection,
    tenant: str,
    type_: str,
    now: datetime,
    *,
    sku: str | None = None,
    location: str | None = None,
    **payload: Any,
) -> None:
    record_many(conn, [event_row(tenant, type_, now, sku=sku, location=location, **payload)])


def record_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Rows as built by `event_row`; one round trip for a batch."""
    db.bulk_insert(conn, outbox, rows)


def event_row(
    tenant: str,
    type_: str,
    now: datetime,
    *,
    sku: str | None = None,
    location: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    return {
        "tenant_id": tenant,
        "type": type_,
        "sku": sku,
        "location": location,
        "created_at": now,
        "payload": {"sku": sku, "location": location, **payload},
    }
