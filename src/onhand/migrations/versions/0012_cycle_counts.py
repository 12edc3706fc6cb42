"""counts: the cycle-count programme per tenant and its count tasks

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "count_programmes",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_count_programmes")),
    )
    op.create_table(
        "count_tasks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("abc_class", sa.String(length=1), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=True),
        sa.Column("counted", sa.BigInteger(), nullable=True),
        sa.Column("within", sa.Boolean(), nullable=True),
        sa.Column("counted_by", sa.String(length=200), nullable=True),
        sa.Column("counted_at", Time, nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", Time, nullable=True),
        sa.Column("movement_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'review', 'posted')", name=op.f("ck_count_tasks_status")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_count_tasks_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_count_tasks_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_count_tasks")),
    )
    op.create_index(
        op.f("ix_count_tasks_tenant_id_status_due_on"),
        "count_tasks",
        ["tenant_id", "status", "due_on"],
    )
    op.create_index(
        op.f("ix_count_tasks_tenant_id_item_id_location_id_counted_at"),
        "count_tasks",
        ["tenant_id", "item_id", "location_id", "counted_at"],
    )
    op.create_index(
        "ix_count_tasks_one_open",
        "count_tasks",
        ["tenant_id", "item_id", "location_id"],
        unique=True,
        sqlite_where=sa.text("status IN ('open', 'review')"),
        postgresql_where=sa.text("status IN ('open', 'review')"),
    )


def downgrade() -> None:
    op.drop_table("count_tasks")
    op.drop_table("count_programmes")
