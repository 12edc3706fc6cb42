"""fulfilment: consumption events, backorders, dispatch preferences, waves, pick tasks and
confirmations, payout brackets

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumption_events",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("ship", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "source", "event_id", name=op.f("pk_consumption_events")
        ),
    )
    with op.batch_alter_table("consumption_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consumption_events_tenant_id_received_at"),
            ["tenant_id", "received_at"],
            unique=False,
        )

    op.create_table(
        "pick_confirmations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("picker", sa.String(length=200), nullable=False),
        sa.Column("scanned", sa.String(length=128), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pick_confirmations")),
    )
    with op.batch_alter_table("pick_confirmations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pick_confirmations_tenant_id_at"), ["tenant_id", "at"], unique=False
        )

    op.create_table(
        "waves",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("group_by", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cutoff", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_waves")),
    )
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waves_tenant_id_created_at"), ["tenant_id", "created_at"], unique=False
        )

    op.create_table(
        "dispatch_preferences",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_dispatch_preferences_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_dispatch_preferences")),
    )
    op.create_table(
        "payout_brackets",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("brackets", sa.JSON(), nullable=False),
        sa.Column("max_error_rate", sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payout_brackets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_payout_brackets")),
    )
    op.create_table(
        "backorders",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("ordered_sku", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("eta_basis", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("qty > 0", name=op.f("ck_backorders_qty_positive")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_backorders_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_backorders_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_backorders")),
    )
    with op.batch_alter_table("backorders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_backorders_tenant_id_status_item_id_created_at"),
            ["tenant_id", "status", "item_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "pick_tasks",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("picked", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wave_id", sa.String(length=36), nullable=True),
        sa.Column("picker", sa.String(length=200), nullable=True),
        sa.Column("due_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("picked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("qty > 0", name=op.f("ck_pick_tasks_qty_positive")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_pick_tasks_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_pick_tasks_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_pick_tasks")),
        sa.UniqueConstraint(
            "tenant_id",
            "source",
            "source_id",
            "item_id",
            "location_id",
            name=op.f("uq_pick_tasks_tenant_id_source_source_id_item_id_location_id"),
        ),
    )
    with op.batch_alter_table("pick_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pick_tasks_tenant_id_status_created_at"),
            ["tenant_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_pick_tasks_tenant_id_wave_id"), ["tenant_id", "wave_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pick_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pick_tasks_tenant_id_wave_id"))
        batch_op.drop_index(batch_op.f("ix_pick_tasks_tenant_id_status_created_at"))

    op.drop_table("pick_tasks")
    with op.batch_alter_table("backorders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backorders_tenant_id_status_item_id_created_at"))

    op.drop_table("backorders")
    op.drop_table("payout_brackets")
    op.drop_table("dispatch_preferences")
    with op.batch_alter_table("waves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waves_tenant_id_created_at"))

    op.drop_table("waves")
    with op.batch_alter_table("pick_confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pick_confirmations_tenant_id_at"))

    op.drop_table("pick_confirmations")
    with op.batch_alter_table("consumption_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consumption_events_tenant_id_received_at"))

    op.drop_table("consumption_events")
