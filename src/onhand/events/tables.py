"""Tables of event delivery: sink cursors, leader leases, webhooks and their deliveries,
and the last alert level seen per item (so a threshold crossing is announced once)."""

import sqlalchemy as sa

from ..tables import Id, Time, metadata

# How far each sink has delivered the outbox; advanced only after a delivery succeeded.
event_cursors = sa.Table(
    "event_cursors",
    metadata,
    sa.Column("sink", sa.String(64), primary_key=True),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

# Leader leases on SQLite, which has no advisory locks (PostgreSQL uses pg_advisory_lock).
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("expires_at", Time, nullable=False),
)

webhooks = sa.Table(
    "webhooks",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    # Event types to send, e.g. ["stock.changed", "stock.low"]; ["*"] means all.
    sa.Column("types", sa.JSON, nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Time, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("webhook_id", sa.String(36), nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.String(48), nullable=False),
    # pending -> delivered | dead (after the last allowed attempt failed)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("delivered_at", Time),
    sa.Index(None, "tenant_id", "webhook_id", "id"),
    sa.Index(None, "status", "next_attempt_at"),
)

# Which thresholds an item's total available was below at the last stock.changed event.
item_alert_state = sa.Table(
    "item_alert_state",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("available", sa.BigInteger),
    sa.Column("out", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("low", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("below_reorder", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
