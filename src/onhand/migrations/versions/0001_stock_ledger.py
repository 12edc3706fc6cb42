"""stock ledger, catalogue, reservations, outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:21:21.172714
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "movements",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_movements")),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=True),
        sa.Column("location", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_tenant_id_id"), ["tenant_id", "id"], unique=False
        )

    op.create_table(
        "reservations",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reservations_status_expires_at"), ["status", "expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reservations_tenant_id_created_at"),
            ["tenant_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "items",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), server_default="each", nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("allow_backorder", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("low_stock_threshold", sa.BigInteger(), nullable=True),
        sa.Column("reorder_point", sa.BigInteger(), nullable=True),
        sa.Column("capacity_per_day", sa.BigInteger(), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('physical', 'digital', 'licensed', 'pod', 'bundle')",
            name=op.f("ck_items_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_items_tenant_id_sku")),
    )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_items_tenant_id_barcode"), ["tenant_id", "barcode"], unique=False
        )

    op.create_table(
        "locations",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), server_default="100", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["locations.id"], name=op.f("fk_locations_parent_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_locations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_locations_tenant_id_code")),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tokens_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tokens_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "balances",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("on_hand", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reserved", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("committed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("damaged", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("quality_control", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("safety_stock", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("incoming", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("in_transit", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "on_hand >= 0 AND reserved >= 0 AND committed >= 0 AND damaged >= 0"
            " AND quality_control >= 0 AND safety_stock >= 0 AND incoming >= 0 AND in_transit >= 0",
            name=op.f("ck_balances_states_not_negative"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_balances_item_id_items")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_balances_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "item_id", "location_id", name=op.f("pk_balances")),
    )
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_balances_tenant_id_location_id"),
            ["tenant_id", "location_id"],
            unique=False,
        )

    op.create_table(
        "bundle_components",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "bundle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "component_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_bundle_components_qty_positive")),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["items.id"], name=op.f("fk_bundle_components_bundle_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"], ["items.id"], name=op.f("fk_bundle_components_component_id_items")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "bundle_id", "component_id", name=op.f("pk_bundle_components")
        ),
    )
    op.create_table(
        "ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("movement_id", sa.String(length=36), nullable=True),
        sa.Column("reservation_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_ledger_item_id_items")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_ledger_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger")),
    )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_tenant_id_created_at"), ["tenant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_tenant_id_item_id_id"),
            ["tenant_id", "item_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_tenant_id_location_id_id"),
            ["tenant_id", "location_id", "id"],
            unique=False,
        )

    op.create_table(
        "pod_bookings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("committed", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "reserved >= 0 AND committed >= 0", name=op.f("ck_pod_bookings_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_pod_bookings_item_id_items")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "item_id", "day", name=op.f("pk_pod_bookings")),
    )
    op.create_table(
        "reservation_lines",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("reservation_id", sa.String(length=36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("request_line", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("parent_sku", sa.String(length=128), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reservation_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_reservation_lines_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "reservation_id", "line_no", name=op.f("pk_reservation_lines")
        ),
    )
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservation_lines_active",
            ["tenant_id", "item_id", "location_id", "expires_at"],
            unique=False,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )


def downgrade() -> None:
    with op.batch_alter_table("reservation_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_reservation_lines_active",
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        )

    op.drop_table("reservation_lines")
    op.drop_table("pod_bookings")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_tenant_id_location_id_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_tenant_id_item_id_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_tenant_id_created_at"))

    op.drop_table("ledger")
    op.drop_table("bundle_components")
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_balances_tenant_id_location_id"))

    op.drop_table("balances")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tokens_tenant_id"))

    op.drop_table("tokens")
    op.drop_table("locations")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_items_tenant_id_barcode"))

    op.drop_table("items")
    op.drop_table("tenants")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_tenant_id_created_at"))
        batch_op.drop_index(batch_op.f("ix_reservations_status_expires_at"))

    op.drop_table("reservations")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_tenant_id_id"))

    op.drop_table("outbox")
    op.drop_table("movements")
    op.drop_table("idempotency_keys")
