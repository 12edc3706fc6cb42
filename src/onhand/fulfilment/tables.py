"""Tables of fulfilment: consumption events, backorders, dispatch preferences, pick tasks,
waves, pick confirmations and payout brackets. Balances and the ledger stay with stock/.
"""

import sqlalchemy as sa

from ..tables import Id, Qty, Time, metadata

# One row per sale reported by a till or delivery app. The primary key is the idempotency
# rule: an event id is applied once per tenant and source, however often it is resent.
consumption_events = sa.Table(
    "consumption_events",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("ship", sa.Boolean, nullable=False, server_default=sa.false()),
    # applied | backordered | refused
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(300)),
    sa.Column("sold_at", Time, nullable=False),
    sa.Column("received_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "received_at"),
)

# A sale or hold beyond stock, waiting for stock to arrive; allocated oldest first.
backorders = sa.Table(
    "backorders",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    # Where it came from: "consumption:<source>:<event id>" and the SKU the buyer asked for.
    sa.Column("origin", sa.String(300), nullable=False),
    sa.Column("ordered_sku", sa.String(128), nullable=False),
    # open | allocated | cancelled
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("eta", sa.Date),
    sa.Column("eta_basis", sa.String(200)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("allocated_at", Time),
    sa.Index(None, "tenant_id", "status", "item_id", "created_at"),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
)

# One document per tenant: zone priorities, zone distances, substitutes, inter-zone rules.
dispatch_preferences = sa.Table(
    "dispatch_preferences",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("preferences", sa.JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

waves = sa.Table(
    "waves",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("zone", sa.String(64)),
    sa.Column("group_by", sa.String(16), nullable=False),
    # open | shipped
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("cutoff", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("shipped_at", Time),
    sa.Index(None, "tenant_id", "created_at"),
)

# One line to pick: an item at a bin for one committed reservation, backorder or shipped sale.
pick_tasks = sa.Table(
    "pick_tasks",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    # reservation | backorder | consumption
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(300), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("picked", Qty),
    # open | picked | shipped
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("wave_id", sa.String(36)),
    sa.Column("picker", sa.String(200)),
    sa.Column("due_by", Time),
    sa.Column("created_at", Time, nullable=False),
    # Creation order among tasks made at the same instant (one batch makes many).
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("picked_at", Time),
    sa.Column("shipped_at", Time),
    sa.UniqueConstraint("tenant_id", "source", "source_id", "item_id", "location_id"),
    sa.Index(None, "tenant_id", "wave_id"),
    sa.Index(None, "tenant_id", "status", "created_at"),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
)

# Every scan a picker made: a confirmed line (ok or short) or a wrong item scanned.
pick_confirmations = sa.Table(
    "pick_confirmations",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(36), nullable=False),
    sa.Column("picker", sa.String(200), nullable=False),
    sa.Column("scanned", sa.String(128), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    # ok | short | wrong
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Index(None, "tenant_id", "at"),
)

# Payout brackets per tenant: [{"up_to": 200, "rate": "0.10"}, …, {"up_to": null, …}].
payout_brackets = sa.Table(
    "payout_brackets",
    metadata,
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("brackets", sa.JSON, nullable=False),
    sa.Column("max_error_rate", sa.Numeric(9, 6), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
