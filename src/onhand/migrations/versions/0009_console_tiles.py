"""console: materialised home tiles per tenant (refreshed by a job on PostgreSQL)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_tiles",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("tile", sa.String(32), primary_key=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("console_tiles")
