"""The audit trail of the availability cache: every drift the reconciliation repaired."""

import sqlalchemy as sa

from ..tables import Id, Time, metadata

cache_repairs = sa.Table(
    "cache_repairs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("sku", sa.String(128), nullable=False),
    # "changed" (the cached figures differed) or "missing" (the key was gone)
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("was", sa.JSON),
    sa.Column("now", sa.JSON, nullable=False),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "created_at"),
)
