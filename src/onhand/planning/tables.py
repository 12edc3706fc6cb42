"""Tables of replenishment: suppliers, item–supplier links, planning settings and runs,
purchase-order suggestions, purchase orders with their lines and receipts.

Supplier ids are surrogate keys like item ids; purchase orders are numbered per tenant
(PO-00001, …) from a counter on the tenant's planning settings row.
"""

import sqlalchemy as sa

from ..tables import Id, Qty, Time, metadata

Money = sa.Numeric(18, 6)

suppliers = sa.Table(
    "suppliers",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320)),
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
    # The lead time the supplier promises, in days: mean and standard deviation.
    sa.Column("lead_time_days", sa.Float, nullable=False),
    sa.Column("lead_time_std_days", sa.Float, nullable=False, server_default="0"),
    sa.Column("moq", Qty, nullable=False, server_default="0"),
    sa.Column("pack_size", Qty, nullable=False, server_default="1"),
    sa.Column("default_price", Money),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("tenant_id", "code"),
    sa.CheckConstraint("lead_time_days >= 0 AND lead_time_std_days >= 0", name="lead_time"),
    sa.CheckConstraint("moq >= 0 AND pack_size >= 1", name="lot_rules"),
)

# Which supplier sells which item, at what price; per-item pack size and MOQ override the
# supplier's. At most one link per item is preferred (a partial unique index).
item_suppliers = sa.Table(
    "item_suppliers",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("supplier_id", Id, sa.ForeignKey("suppliers.id"), primary_key=True),
    sa.Column("supplier_sku", sa.String(128)),
    sa.Column("price", Money),
    sa.Column("pack_size", Qty),
    sa.Column("moq", Qty),
    sa.Column("preferred", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "supplier_id"),
    sa.Index(
        "uq_item_suppliers_preferred",
        "tenant_id",
        "item_id",
        unique=True,
        sqlite_where=sa.text("preferred"),
        postgresql_where=sa.text("preferred"),
    ),
    sa.CheckConstraint(
        "(moq IS NULL OR moq >= 0) AND (pack_size IS NULL OR pack_size >= 1)", name="lot_rules"
    ),
)

# One row per tenant: the planning knobs, and the purchase-order number counter.
planning_settings = sa.Table(
    "planning_settings",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("last_po_number", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
)

# The tenant's current plan run; a new run replaces it (one run at a time per tenant).
plan_runs = sa.Table(
    "plan_runs",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("error", sa.Text),
)

# Policy figures per item and location of the current run; qty > 0 is an order suggestion.
plan_suggestions = sa.Table(
    "plan_suggestions",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    # Lines are numbered grouped by supplier, so paging by line_no pages by supplier.
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("supplier_id", Id, sa.ForeignKey("suppliers.id")),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("unit_price", Money),
    sa.Column("figures", sa.JSON, nullable=False),
    sa.Column("risk", sa.String(8), nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("purchase_order_id", sa.Integer),
    sa.Index(None, "tenant_id", "supplier_id"),
)

purchase_orders = sa.Table(
    "purchase_orders",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("supplier_id", Id, sa.ForeignKey("suppliers.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("expected_on", sa.Date),
    sa.Column("plan_run_id", sa.String(36)),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("approved_at", Time),
    sa.Column("sent_at", Time),
    sa.Column("closed_at", Time),
    sa.Index(None, "tenant_id", "status"),
    sa.Index(None, "tenant_id", "supplier_id"),
    sa.CheckConstraint(
        "status IN ('draft', 'approved', 'sent', 'partially_received', 'received', 'cancelled')",
        name="status",
    ),
)

purchase_order_lines = sa.Table(
    "purchase_order_lines",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("po_id", sa.Integer, primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("supplier_sku", sa.String(128)),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("received", Qty, nullable=False, server_default="0"),
    sa.Column("unit_price", Money),
    sa.ForeignKeyConstraint(
        ["tenant_id", "po_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
    ),
    sa.UniqueConstraint("tenant_id", "po_id", "item_id"),
    sa.CheckConstraint("qty > 0 AND received >= 0", name="quantities"),
)

# Every delivery booked against a purchase order; supplier performance is measured here.
purchase_order_receipts = sa.Table(
    "purchase_order_receipts",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("po_id", sa.Integer, primary_key=True),
    sa.Column("receipt_no", sa.Integer, primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("unit_cost", Money),
    sa.Column("actor", sa.String(200)),
    sa.Column("received_at", Time, nullable=False),
    sa.ForeignKeyConstraint(
        ["tenant_id", "po_id"], ["purchase_orders.tenant_id", "purchase_orders.id"]
    ),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
)


# Freight, duty, insurance and handling of a purchase order or of one receipt movement,
# allocated over its lines when stock is valued (planning/landed.py).
landed_charges = sa.Table(
    "landed_charges",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("po_id", sa.Integer),
    sa.Column("movement_id", sa.String(36)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("basis", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "po_id"),
    sa.Index(None, "tenant_id", "movement_id"),
    sa.CheckConstraint("(po_id IS NULL) <> (movement_id IS NULL)", name="target"),
    sa.CheckConstraint("amount > 0", name="amount"),
    sa.CheckConstraint(
        "kind IN ('freight', 'duty', 'insurance', 'handling', 'other')", name="kind"
    ),
    sa.CheckConstraint("basis IN ('value', 'quantity', 'weight')", name="basis"),
)
