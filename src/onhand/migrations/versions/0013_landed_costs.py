"""planning: landed charges (freight, duty, insurance, handling) on orders and receipts

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "landed_charges",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("po_id", sa.Integer(), nullable=True),
        sa.Column("movement_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(18, 6), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(po_id IS NULL) <> (movement_id IS NULL)", name=op.f("ck_landed_charges_target")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_landed_charges_amount")),
        sa.CheckConstraint(
            "kind IN ('freight', 'duty', 'insurance', 'handling', 'other')",
            name=op.f("ck_landed_charges_kind"),
        ),
        sa.CheckConstraint(
            "basis IN ('value', 'quantity', 'weight')", name=op.f("ck_landed_charges_basis")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_landed_charges")),
    )
    op.create_index(
        op.f("ix_landed_charges_tenant_id_po_id"), "landed_charges", ["tenant_id", "po_id"]
    )
    op.create_index(
        op.f("ix_landed_charges_tenant_id_movement_id"),
        "landed_charges",
        ["tenant_id", "movement_id"],
    )


def downgrade() -> None:
    op.drop_table("landed_charges")
