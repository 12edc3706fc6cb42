"""Reading the outbox: events as clients see them, and pages of rows after a cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy
from ..tables import outbox


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Event:
    id: int
    tenant: str
    type: str
    sku: str | None
    location: str | None
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> int | None:
        return self.payload.get("available")

    @cached_property
    def document(self) -> dict[str, Any]:
        """The event as every consumer gets it: the payload under the contract's fields."""
        return {
            **self.payload,
            "id": self.id,
            "type": self.type,
            "sku": self.sku,
            "location": self.location,
            "available": self.available,
            "at": self.at.isoformat(),
        }

    @cached_property
    def body(self) -> str:
        return dumps(self.document)

    # Encoded once per event, then written to every subscriber as is.
    @cached_property
    def frame(self) -> bytes:
        return f"id: {self.id}\nevent: {self.type}\ndata: {self.body}\n\n".encode()

    @cached_property
    def public_frame(self) -> bytes:
        """What a storefront may see: the SKU's total availability, nothing else."""
        data = dumps({"sku": self.sku, "available": self.available, "at": self.at.isoformat()})
        return f"id: {self.id}\nevent: availability\ndata: {data}\n\n".encode()


def _event(row: Any) -> Event:
    return Event(
        row.id,
        row.tenant_id,
        row.type,
        row.sku,
        row.location,
        row.created_at,
        dict(row.payload or {}),
    )


def read_after(
    conn: Connection, after: int, limit: int, *, tenant: str | None = None, upto: int | None = None
) -> list[Event]:
    """Rows with after < id (<= upto), in id order."""
    stmt = sa.select(outbox).where(outbox.c.id > after)
    if tenant is not None:
        stmt = stmt.where(tenancy.of(tenant, outbox))
    if upto is not None:
        stmt = stmt.where(outbox.c.id <= upto)
    return [_event(r) for r in conn.execute(stmt.order_by(outbox.c.id).limit(limit))]


def last_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0)


def by_ids(conn: Connection, ids: set[int]) -> dict[int, Event]:
    if not ids:
        return {}
    return {r.id: _event(r) for r in conn.execute(sa.select(outbox).where(outbox.c.id.in_(ids)))}
