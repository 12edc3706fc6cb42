"""ledger: look entries up by movement and by reservation; balances by location and item;
SQLite's partial index of active holds spelled `active = 1` so that its planner uses it

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _active_lines_index(predicate: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("reservation_lines") as batch_op:
        batch_op.drop_index("ix_reservation_lines_active")
        batch_op.create_index(
            "ix_reservation_lines_active",
            ["tenant_id", "item_id", "location_id", "expires_at"],
            sqlite_where=sa.text(predicate),
        )


def upgrade() -> None:
    _active_lines_index("active = 1")
    with op.batch_alter_table("balances") as batch_op:
        batch_op.drop_index("ix_balances_tenant_id_location_id")
        batch_op.create_index(
            "ix_balances_tenant_id_location_id_item_id", ["tenant_id", "location_id", "item_id"]
        )
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.create_index("ix_ledger_tenant_id_movement_id", ["tenant_id", "movement_id"])
        batch_op.create_index("ix_ledger_tenant_id_reservation_id", ["tenant_id", "reservation_id"])


def downgrade() -> None:
    _active_lines_index("active")
    with op.batch_alter_table("ledger") as batch_op:
        batch_op.drop_index("ix_ledger_tenant_id_reservation_id")
        batch_op.drop_index("ix_ledger_tenant_id_movement_id")
    with op.batch_alter_table("balances") as batch_op:
        batch_op.drop_index("ix_balances_tenant_id_location_id_item_id")
        batch_op.create_index("ix_balances_tenant_id_location_id", ["tenant_id", "location_id"])
