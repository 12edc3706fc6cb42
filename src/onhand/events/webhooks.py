"""Webhook subscriptions, signatures and the delivery log.

A delivery is signed like Stripe's: `Onhand-Signature: t=<unix seconds>,v1=<hex>` where hex is
HMAC-SHA256(secret, "<t>.<body>"). Receivers recompute it and reject stale timestamps, which
stops both forgery and replay.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Connection

from .. import db, netguard, tenancy
from ..errors import Invalid, NotFound
from .tables import webhook_deliveries, webhooks

SIGNATURE_HEADER = "Onhand-Signature"
# Every address: the request schema checks only the URL's form; `create` applies the policy.
ANY_NETWORK = netguard.parse_networks("0.0.0.0/0,::/0")


class WebhookIn(BaseModel):
    url: str = Field(max_length=2000, examples=["https://erp.example.com/onhand"])
    types: list[str] = Field(
        default=["*"], min_length=1, max_length=50, examples=[["stock.changed", "stock.low"]]
    )
    secret: str | None = Field(
        default=None, min_length=16, max_length=128, description="Generated when omitted"
    )

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        try:
            netguard.check_url(url, ANY_NETWORK)
        except netguard.BlockedUrl as exc:
            raise ValueError(str(exc)) from None
        return url

    @field_validator("types")
    @classmethod
    def _types(cls, types: list[str]) -> list[str]:
        if any(not t or len(t) > 48 for t in types):
            raise ValueError("each type is 1-48 characters, e.g. stock.changed, or * for all")
        return sorted(set(types))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance: float = 300.0, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _out(row: Any, *, with_secret: bool = False) -> dict[str, Any]:
    doc = {
        "id": row.id,
        "url": row.url,
        "types": row.types,
        "active": row.active,
        "created_at": row.created_at,
    }
    if with_secret:
        doc["secret"] = row.secret
    return doc


def create(
    conn: Connection, tenant: str, body: WebhookIn, allowed: tuple[netguard.Network, ...] = ()
) -> dict[str, Any]:
    """Subscribe; the URL must reach a public address (or a network the operator allowed)."""
    try:
        netguard.check_url(body.url, allowed)
    except netguard.BlockedUrl as exc:
        raise Invalid(
            f"url: {exc}; webhooks may only reach public addresses.", slug="blocked-url"
        ) from None
    row: dict[str, Any] = {
        "tenant_id": tenant,
        "id": str(uuid.uuid4()),
        "url": body.url,
        "types": body.types,
        "secret": body.secret or f"whsec_{secrets.token_urlsafe(24)}",
        "active": True,
        "created_at": db.utcnow(),
    }
    conn.execute(webhooks.insert().values(**row))
    return _out(_get(conn, tenant, str(row["id"])), with_secret=True)


def _get(conn: Connection, tenant: str, webhook_id: str) -> Any:
    row = conn.execute(
        sa.select(webhooks).where(tenancy.of(tenant, webhooks), webhooks.c.id == webhook_id)
    ).first()
    if row is None:
        raise NotFound(f"There is no webhook '{webhook_id}'.", slug="unknown-webhook")
    return row


def listing(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(webhooks).where(tenancy.of(tenant, webhooks)).order_by(webhooks.c.created_at)
    )
    return [_out(r) for r in rows]


def delete(conn: Connection, tenant: str, webhook_id: str) -> None:
    _get(conn, tenant, webhook_id)
    conn.execute(webhooks.delete().where(tenancy.of(tenant, webhooks), webhooks.c.id == webhook_id))
    d = webhook_deliveries
    conn.execute(
        d.update()
        .where(tenancy.of(tenant, d), d.c.webhook_id == webhook_id, d.c.status == "pending")
        .values(status="cancelled", updated_at=db.utcnow())
    )


def _delivery_out(row: Any) -> dict[str, Any]:
    return {
        c: getattr(row, c)
        for c in (
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "updated_at",
            "delivered_at",
        )
    }


def deliveries(
    conn: Connection,
    tenant: str,
    webhook_id: str,
    *,
    status: str | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """The delivery log, newest first, with the cursor of the next page."""
    _get(conn, tenant, webhook_id)
    d = webhook_deliveries
    stmt = sa.select(d).where(tenancy.of(tenant, d), d.c.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(d.c.status == status)
    if before:
        stmt = stmt.where(d.c.id < before)
    rows = conn.execute(stmt.order_by(d.c.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    return [_delivery_out(r) for r in page], (page[-1].id if len(rows) > limit else None)


def redeliver(conn: Connection, tenant: str, webhook_id: str, delivery_id: int) -> dict[str, Any]:
    """Queue a delivery again from scratch (a dead letter gets its full set of attempts back)."""
    _get(conn, tenant, webhook_id)
    d = webhook_deliveries
    now = db.utcnow()
    done = conn.execute(
        d.update()
        .where(tenancy.of(tenant, d), d.c.webhook_id == webhook_id, d.c.id == delivery_id)
        .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
    )
    if done.rowcount == 0:
        raise NotFound(
            f"There is no delivery {delivery_id} of webhook '{webhook_id}'.",
            slug="unknown-delivery",
        )
    return _delivery_out(
        conn.execute(sa.select(d).where(tenancy.of(tenant, d), d.c.id == delivery_id)).one()
    )
