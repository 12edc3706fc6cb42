"""channels: units held for a store channel under a buffer or share allocation

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "channel_allocations",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", Id, nullable=False),
        sa.Column("item_id", Id, nullable=False),
        sa.Column("location_id", Id, nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("qty >= 0", name=op.f("ck_channel_allocations_qty")),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_channel_allocations_channel_id_channels")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_channel_allocations_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_channel_allocations_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "channel_id", "item_id", "location_id", name=op.f("pk_channel_allocations")
        ),
    )


def downgrade() -> None:
    op.drop_table("channel_allocations")
