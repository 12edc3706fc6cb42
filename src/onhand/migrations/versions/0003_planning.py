"""planning: suppliers, plans, purchase orders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:37:58.762257
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_runs",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_plan_runs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_plan_runs")),
    )
    op.create_table(
        "planning_settings",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("last_po_number", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_planning_settings_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_planning_settings")),
    )
    op.create_table(
        "suppliers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("lead_time_days", sa.Float(), nullable=False),
        sa.Column("lead_time_std_days", sa.Float(), server_default="0", nullable=False),
        sa.Column("moq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pack_size", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("default_price", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lead_time_days >= 0 AND lead_time_std_days >= 0", name=op.f("ck_suppliers_lead_time")
        ),
        sa.CheckConstraint("moq >= 0 AND pack_size >= 1", name=op.f("ck_suppliers_lot_rules")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_suppliers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_suppliers_tenant_id_code")),
    )
    op.create_table(
        "item_suppliers",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "supplier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("supplier_sku", sa.String(length=128), nullable=True),
        sa.Column("price", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("pack_size", sa.BigInteger(), nullable=True),
        sa.Column("moq", sa.BigInteger(), nullable=True),
        sa.Column("preferred", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(moq IS NULL OR moq >= 0) AND (pack_size IS NULL OR pack_size >= 1)",
            name=op.f("ck_item_suppliers_lot_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_item_suppliers_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_item_suppliers_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "item_id", "supplier_id", name=op.f("pk_item_suppliers")
        ),
    )
    with op.batch_alter_table("item_suppliers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_suppliers_tenant_id_supplier_id"),
            ["tenant_id", "supplier_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_item_suppliers_preferred",
            ["tenant_id", "item_id"],
            unique=True,
            sqlite_where=sa.text("preferred"),
            postgresql_where=sa.text("preferred"),
        )

    op.create_table(
        "plan_suggestions",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "supplier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_plan_suggestions_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_plan_suggestions_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["suppliers.id"],
            name=op.f("fk_plan_suggestions_supplier_id_suppliers"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "line_no", name=op.f("pk_plan_suggestions")),
    )
    with op.batch_alter_table("plan_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_suggestions_tenant_id_supplier_id"),
            ["tenant_id", "supplier_id"],
            unique=False,
        )

    op.create_table(
        "purchase_orders",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column(
            "supplier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("plan_run_id", sa.String(length=36), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'approved', 'sent', 'partially_received', 'received',"
            " 'cancelled')",
            name=op.f("ck_purchase_orders_status"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_purchase_orders_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["suppliers.id"], name=op.f("fk_purchase_orders_supplier_id_suppliers")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_purchase_orders")),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_tenant_id_status"), ["tenant_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchase_orders_tenant_id_supplier_id"),
            ["tenant_id", "supplier_id"],
            unique=False,
        )

    op.create_table(
        "purchase_order_lines",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("supplier_sku", sa.String(length=128), nullable=True),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.CheckConstraint(
            "qty > 0 AND received >= 0", name=op.f("ck_purchase_order_lines_quantities")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_purchase_order_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "po_id"],
            ["purchase_orders.tenant_id", "purchase_orders.id"],
            name=op.f("fk_purchase_order_lines_tenant_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "po_id", "line_no", name=op.f("pk_purchase_order_lines")
        ),
        sa.UniqueConstraint(
            "tenant_id",
            "po_id",
            "item_id",
            name=op.f("uq_purchase_order_lines_tenant_id_po_id_item_id"),
        ),
    )
    op.create_table(
        "purchase_order_receipts",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("po_id", sa.Integer(), nullable=False),
        sa.Column("receipt_no", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("qty", sa.BigInteger(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_purchase_order_receipts_qty_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "po_id"],
            ["purchase_orders.tenant_id", "purchase_orders.id"],
            name=op.f("fk_purchase_order_receipts_tenant_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "po_id", "receipt_no", "line_no", name=op.f("pk_purchase_order_receipts")
        ),
    )


def downgrade() -> None:
    op.drop_table("purchase_order_receipts")
    op.drop_table("purchase_order_lines")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_orders_tenant_id_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_purchase_orders_tenant_id_status"))

    op.drop_table("purchase_orders")
    with op.batch_alter_table("plan_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_suggestions_tenant_id_supplier_id"))

    op.drop_table("plan_suggestions")
    with op.batch_alter_table("item_suppliers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_item_suppliers_preferred",
            sqlite_where=sa.text("preferred"),
            postgresql_where=sa.text("preferred"),
        )
        batch_op.drop_index(batch_op.f("ix_item_suppliers_tenant_id_supplier_id"))

    op.drop_table("item_suppliers")
    op.drop_table("suppliers")
    op.drop_table("planning_settings")
    op.drop_table("plan_runs")
