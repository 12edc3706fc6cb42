"""stock: serial numbers of serial-tracked items, one row per unit

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "serial_numbers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("location_id", Id, nullable=True),
        sa.Column("received_movement_id", sa.String(length=36), nullable=False),
        sa.Column("last_movement_id", sa.String(length=36), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('in_stock', 'in_transit', 'shipped', 'written_off')",
            name=op.f("ck_serial_numbers_status"),
        ),
        sa.CheckConstraint(
            "(location_id IS NULL) = (status IN ('shipped', 'written_off'))",
            name=op.f("ck_serial_numbers_placed"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_serial_numbers_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_serial_numbers_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "item_id", "serial", name=op.f("pk_serial_numbers")),
    )
    op.create_index(
        op.f("ix_serial_numbers_tenant_id_item_id_location_id_status"),
        "serial_numbers",
        ["tenant_id", "item_id", "location_id", "status"],
    )


def downgrade() -> None:
    op.drop_table("serial_numbers")
