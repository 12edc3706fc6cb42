"""Tables of returns: an RMA and its lines. Stock moves only through the stock kernel."""

import sqlalchemy as sa

from ..tables import Id, Qty, Time, metadata

rmas = sa.Table(
    "rmas",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    # requested -> approved -> received -> closed (every received line inspected); refused.
    sa.Column("status", sa.String(16), nullable=False),
    # Where returned goods are received (into quality_control).
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("order_reference", sa.String(200)),
    sa.Column("customer", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("refusal", sa.Text),
    sa.Column("created_by", sa.String(200)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "status", "created_at"),
    sa.CheckConstraint(
        "status IN ('requested', 'approved', 'received', 'closed', 'refused')", name="status"
    ),
)

rma_lines = sa.Table(
    "rma_lines",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("rma_id", sa.String(36), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("qty", Qty, nullable=False),  # asked to return
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("lot", sa.String(64)),
    sa.Column("serial", sa.String(128)),
    sa.Column("order_reference", sa.String(200)),
    sa.Column("received", Qty),  # units that arrived (None until received)
    # restock | damage | scrap | return_to_vendor, once inspected
    sa.Column("disposition", sa.String(20)),
    sa.Column("inspected_by", sa.String(200)),
    sa.Column("inspected_at", Time),
    sa.Column("inspection_note", sa.Text),
    sa.CheckConstraint("qty > 0", name="qty"),
)
