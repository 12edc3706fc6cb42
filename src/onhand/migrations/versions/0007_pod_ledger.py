"""ledger: print-on-demand bookings are in the ledger (location_id null, day set); the
bookings that exist are opened with one `opening` entry per state

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.alter_column("location_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("day", sa.Date(), nullable=True))
    for state in ("reserved", "committed"):
        op.execute(
            "INSERT INTO ledger (tenant_id, item_id, location_id, day, state, delta, reason,"
            " actor, created_at)"
            f" SELECT tenant_id, item_id, NULL, day, '{state}', {state}, 'opening', 'migration',"
            " CURRENT_TIMESTAMP"
            f" FROM pod_bookings WHERE {state} <> 0"
        )


def downgrade() -> None:
    op.execute("DELETE FROM ledger WHERE location_id IS NULL")
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.drop_column("day")
        batch_op.alter_column("location_id", existing_type=sa.BigInteger(), nullable=False)
