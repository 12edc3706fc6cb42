"""returns: RMAs and their lines

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rmas",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("order_reference", sa.String(length=200), nullable=True),
        sa.Column("customer", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'received', 'closed', 'refused')",
            name=op.f("ck_rmas_status"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_rmas_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rmas")),
    )
    op.create_index(
        op.f("ix_rmas_tenant_id_status_created_at"),
        "rmas",
        ["tenant_id", "status", "created_at"],
    )
    op.create_table(
        "rma_lines",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("rma_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("lot", sa.String(length=64), nullable=True),
        sa.Column("serial", sa.String(length=128), nullable=True),
        sa.Column("order_reference", sa.String(length=200), nullable=True),
        sa.Column("received", sa.BigInteger(), nullable=True),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("inspected_by", sa.String(length=200), nullable=True),
        sa.Column("inspected_at", Time, nullable=True),
        sa.Column("inspection_note", sa.Text(), nullable=True),
        sa.CheckConstraint("qty > 0", name=op.f("ck_rma_lines_qty")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_rma_lines_item_id_items")),
        sa.PrimaryKeyConstraint("tenant_id", "rma_id", "line_no", name=op.f("pk_rma_lines")),
    )


def downgrade() -> None:
    op.drop_table("rma_lines")
    op.drop_index(op.f("ix_rmas_tenant_id_status_created_at"), table_name="rmas")
    op.drop_table("rmas")
