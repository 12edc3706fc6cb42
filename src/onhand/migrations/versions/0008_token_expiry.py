"""tokens: optional expiry and last use; reservations: how often a hold was extended

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.add_column(sa.Column("extensions", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.drop_column("extensions")
    with op.batch_alter_table("tokens") as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
