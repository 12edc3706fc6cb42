"""Tables of the channels feature: channels, mappings, sync runs with their items, processed
webhooks, sales recorded from store orders, and the adjustments passed on to partners.

Secrets (`access_token`, `webhook_secret`) are stored only as Fernet tokens (see secrets.py).
"""

import sqlalchemy as sa

from ..tables import Id, Qty, Time, metadata

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("shop", sa.String(255), nullable=False),
    sa.Column("api_url", sa.String(2000), nullable=False),
    sa.Column("access_token_enc", sa.Text, nullable=False),
    sa.Column("access_token_hint", sa.String(4), nullable=False),
    sa.Column("webhook_secret_enc", sa.Text),
    # [{"location": "WH1", "channel_location": "gid://shopify/Location/1"}]
    sa.Column("locations", sa.JSON, nullable=False),
    sa.Column("sync_interval_minutes", sa.Integer, nullable=False, server_default="60"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("alert_emails", sa.JSON, nullable=False),
    # A store's own minimum shelf life for lot items (on top of the item's): never offer or
    # sell a lot with fewer days left than this on that store.
    sa.Column("min_shelf_life_days", sa.Integer),
    # The failure last mailed (None once a run succeeds again): one email per failure.
    sa.Column("alerted_error", sa.Text),
    # Orders read up to this instant at the last sync (missed webhooks are found from here).
    sa.Column("orders_read_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("tenant_id", "code"),
    sa.CheckConstraint("role IN ('store', 'partner')", name="role"),
)

channel_mappings = sa.Table(
    "channel_mappings",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("channel_id", Id, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("variant", sa.String(200), nullable=False),
    sa.Column("inventory_item", sa.String(200), nullable=False),
    sa.Column("tracked", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("matched_by", sa.String(16), nullable=False),
    # Allocation of a store channel: hold back `buffer` units, or offer at most `share` %.
    sa.Column("buffer", Qty),
    sa.Column("share", sa.Integer),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("tenant_id", "channel_id", "variant"),
)

# Units held for a store channel (state `reserved` in balances, written by the stock kernel):
# what the store is offered under a buffer or share allocation, plus its sales not yet
# recorded. See allocations.py.
channel_allocations = sa.Table(
    "channel_allocations",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("channel_id", Id, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), primary_key=True),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("qty >= 0", name="qty"),
)

sync_runs = sa.Table(
    "sync_runs",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("channel_id", Id, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    # The process running it renews this; a run whose lease ran out was interrupted.
    sa.Column("lease_until", Time),
    sa.Column("items_ok", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items_unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("items_skipped", sa.Integer, nullable=False, server_default="0"),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Index(None, "tenant_id", "channel_id", "started_at"),
    # The run lock: at most one running run per channel, enforced by the database itself.
    sa.Index(
        "ix_sync_runs_one_running",
        "tenant_id",
        "channel_id",
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    ),
)

sync_run_items = sa.Table(
    "sync_run_items",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(128)),
    sa.Column("channel_item", sa.String(200)),
    sa.Column("channel_location", sa.String(200)),
    sa.Column("before", Qty),
    sa.Column("after", Qty),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text),
    # Why a store was offered this figure: {"available": 10, "buffer": 2} and the like.
    sa.Column("offer", sa.JSON),
)

channel_webhooks = sa.Table(
    "channel_webhooks",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("channel_id", Id, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("webhook_id", sa.String(200), primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("received_at", Time, nullable=False),
)

# One row per store order line recorded in onhand (from a webhook or the order list).
channel_sales = sa.Table(
    "channel_sales",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("channel_id", Id, sa.ForeignKey("channels.id"), primary_key=True),
    sa.Column("order_id", sa.String(200), primary_key=True),
    sa.Column("line_id", sa.String(200), primary_key=True),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("qty", Qty, nullable=False),
    # [{"location": "WH1", "qty": 2}]: where the units were taken from.
    sa.Column("taken", sa.JSON, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("recorded_at", Time, nullable=False),
)

# A sale of partner-held stock passed on to the partner's store, once per order line.
channel_forwards = sa.Table(
    "channel_forwards",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("partner_id", Id, sa.ForeignKey("channels.id"), nullable=False),
    sa.Column("inventory_item", sa.String(200), nullable=False),
    sa.Column("channel_location", sa.String(200), nullable=False),
    sa.Column("delta", Qty, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # The request last sent: retried with the same key and changeFromQuantity after a crash or
    # a lost answer, so Shopify applies it once.
    sa.Column("request_key", sa.String(64)),
    sa.Column("change_from", Qty),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("done_at", Time),
    sa.Index(None, "tenant_id", "status"),
)

# Items whose stock changed since the last live push (coalesced: one row per item).
channel_push_queue = sa.Table(
    "channel_push_queue",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("sku", sa.String(128), primary_key=True),
    sa.Column("queued_at", Time, nullable=False),
)
