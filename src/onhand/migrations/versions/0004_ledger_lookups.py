"""ledger: look entries up by movement and by reservation

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.create_index("ix_ledger_tenant_id_movement_id", ["tenant_id", "movement_id"])
        batch_op.create_index("ix_ledger_tenant_id_reservation_id", ["tenant_id", "reservation_id"])


def downgrade() -> None:
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.drop_index("ix_ledger_tenant_id_reservation_id")
        batch_op.drop_index("ix_ledger_tenant_id_movement_id")
