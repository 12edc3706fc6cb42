"""The console's materialised tiles (PostgreSQL): one row per tenant and tile."""

import sqlalchemy as sa

from ...tables import Time, metadata

console_tiles = sa.Table(
    "console_tiles",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("tile", sa.String(32), primary_key=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("computed_at", Time, nullable=False),
)
