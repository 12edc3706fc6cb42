"""SQLAlchemy Core tables. Every table carries tenant_id and every index leads with it.

Changes here need an Alembic revision in migrations/versions (autogenerate, then read it).
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from .stock import model

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A 64-bit surrogate key that SQLite also auto-increments (it only does so for INTEGER).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Qty = sa.BigInteger


class UTCDateTime(sa.TypeDecorator):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; onhand stores UTC instants")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


Time = UTCDateTime

STATES = model.STATES

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("settings", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", Time, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    sa.Column("expires_at", Time),
    sa.Column("last_used_at", Time),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("parent_id", Id, sa.ForeignKey("locations.id")),
    sa.Column("zone", sa.String(64)),
    sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("tenant_id", "code"),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("sku", sa.String(128), nullable=False),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False, server_default="each"),
    # Larger units accepted on input, as base units per unit: {"kg": 1000} for a gram item.
    sa.Column("units", sa.JSON, nullable=False, default=dict),
    sa.Column("barcode", sa.String(64)),
    sa.Column("attributes", sa.JSON, nullable=False, default=dict),
    sa.Column("allow_backorder", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("low_stock_threshold", Qty),
    sa.Column("reorder_point", Qty),
    sa.Column("capacity_per_day", Qty),
    sa.Column("unit_cost", sa.Numeric(18, 6)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # none: stock per (item, location) only; lot: also per lot (batch) with its expiry date.
    sa.Column("tracking", sa.String(8), nullable=False, server_default="none"),
    # Never sell (hold or ship) a lot with fewer days left than this before it expires.
    sa.Column("min_shelf_life_days", sa.Integer),
    # Announce `lot.expiring` this many days before a lot's expiry date (null: 3).
    sa.Column("expiry_warning_days", sa.Integer),
    sa.UniqueConstraint("tenant_id", "sku"),
    sa.Index(None, "tenant_id", "barcode"),
    sa.CheckConstraint("kind IN ('physical', 'digital', 'licensed', 'pod', 'bundle')", name="kind"),
    sa.CheckConstraint("tracking IN ('none', 'lot', 'serial')", name="tracking"),
)

bundle_components = sa.Table(
    "bundle_components",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("bundle_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("component_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("qty", Qty, nullable=False),
    sa.CheckConstraint("qty > 0", name="qty_positive"),
)

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), primary_key=True),
    *(sa.Column(state, Qty, nullable=False, server_default="0") for state in STATES),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint(" AND ".join(f"{s} >= 0" for s in STATES), name="states_not_negative"),
    # Also unique per row, so a planner with stale statistics cannot pick it for a range scan.
    sa.Index(None, "tenant_id", "location_id", "item_id"),
)

# A lot (batch) of a lot-tracked item: its code, dates, and where it came from.
lots = sa.Table(
    "lots",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    # The last day it may be sold or used ("use by"); null: it does not expire.
    sa.Column("expires_on", sa.Date),
    sa.Column("best_before", sa.Date),
    sa.Column("manufactured_on", sa.Date),
    sa.Column("supplier", sa.String(64)),
    # The receipt it came in: the movement, and its reference (a purchase order number).
    sa.Column("movement_id", sa.String(36)),
    sa.Column("reference", sa.String(200)),
    # When `lot.expiring` was announced, when the expiry job moved it to quality_control,
    # and when it was recalled.
    sa.Column("warned_at", Time),
    sa.Column("expired_at", Time),
    sa.Column("recalled_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("tenant_id", "item_id", "code"),
    sa.Index(None, "tenant_id", "item_id", "expires_on"),
    sa.Index(None, "tenant_id", "expires_on"),
)

# Per lot, the same states as `balances`: a lot-tracked item's balance row at a location is
# the sum of its lot rows there (safety_stock and incoming stay on the balance row only).
lot_balances = sa.Table(
    "lot_balances",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), primary_key=True),
    sa.Column("lot_id", Id, sa.ForeignKey("lots.id"), primary_key=True),
    *(sa.Column(state, Qty, nullable=False, server_default="0") for state in STATES),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint(" AND ".join(f"{s} >= 0" for s in STATES), name="states_not_negative"),
    sa.Index(None, "tenant_id", "lot_id", "location_id"),
)

# Every unit of a serial-tracked item, one row per serial number (so never in two places):
# where it is and what became of it. Written with the movement that moved it.
serial_numbers = sa.Table(
    "serial_numbers",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("serial", sa.String(128), primary_key=True),
    # in_stock | in_transit (on its way to location_id) | shipped | written_off
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id")),
    sa.Column("received_movement_id", sa.String(36), nullable=False),
    sa.Column("last_movement_id", sa.String(36), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint(
        "status IN ('in_stock', 'in_transit', 'shipped', 'written_off')", name="status"
    ),
    sa.CheckConstraint(
        "(location_id IS NULL) = (status IN ('shipped', 'written_off'))", name="placed"
    ),
    sa.Index(None, "tenant_id", "item_id", "location_id", "status"),
)

movements = sa.Table(
    "movements",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("note", sa.Text),
    sa.Column("actor", sa.String(200)),
    sa.Column("created_at", Time, nullable=False),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    # Null for a print-on-demand booking, which names its `day` instead.
    sa.Column("location_id", Id, sa.ForeignKey("locations.id")),
    sa.Column("day", sa.Date),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("delta", Qty, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("movement_id", sa.String(36)),
    sa.Column("reservation_id", sa.String(36)),
    sa.Column("actor", sa.String(200)),
    sa.Column("unit_cost", sa.Numeric(18, 6)),
    sa.Column("created_at", Time, nullable=False),
    # The lot the change is of (lot-tracked items only).
    sa.Column("lot_id", Id, sa.ForeignKey("lots.id")),
    sa.Index(None, "tenant_id", "item_id", "id"),
    sa.Index(None, "tenant_id", "location_id", "id"),
    sa.Index(None, "tenant_id", "created_at"),
    sa.Index(None, "tenant_id", "movement_id"),
    sa.Index(None, "tenant_id", "reservation_id"),
    # A lot's trace reads its rows in order; only lot-tracked rows carry one.
    sa.Index(
        None,
        "tenant_id",
        "lot_id",
        "id",
        sqlite_where=sa.text("lot_id IS NOT NULL"),
        postgresql_where=sa.text("lot_id IS NOT NULL"),
    ),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("reference", sa.String(200)),
    # The answer's lines as granted: [{"sku", "qty", "location", "allocations": [...]}].
    sa.Column("lines", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # How often the hold was extended (capped by the tenant's max_reservation_extensions).
    sa.Column("extensions", sa.Integer, nullable=False, server_default="0"),
    sa.Index(None, "status", "expires_at"),
    sa.Index(None, "tenant_id", "created_at"),
)

# One row per (item, location) a hold took stock from. `active` and `expires_at` are copied
# from the reservation so that availability can discount lapsed holds with one index range.
reservation_lines = sa.Table(
    "reservation_lines",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("reservation_id", sa.String(36), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    # Which line of the request this part serves (a line may be split across locations,
    # and a bundle line becomes one part per component).
    sa.Column("request_line", sa.Integer, nullable=False),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id")),
    sa.Column("day", sa.Date),
    sa.Column("qty", Qty, nullable=False),
    sa.Column("parent_sku", sa.String(128)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    # The lot the part holds (lot-tracked items only).
    sa.Column("lot_id", Id, sa.ForeignKey("lots.id")),
    sa.Index(
        "ix_reservation_lines_active",
        "tenant_id",
        "item_id",
        "location_id",
        "expires_at",
        # Spelled as each database spells a true boolean, so its planner matches the index.
        sqlite_where=sa.text("active = 1"),
        postgresql_where=sa.text("active"),
    ),
)

# Print-on-demand capacity booked per item and day (the tenant's calendar day).
pod_bookings = sa.Table(
    "pod_bookings",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("reserved", Qty, nullable=False, server_default="0"),
    sa.Column("committed", Qty, nullable=False, server_default="0"),
    sa.CheckConstraint("reserved >= 0 AND committed >= 0", name="not_negative"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(48), nullable=False),
    sa.Column("sku", sa.String(128)),
    sa.Column("location", sa.String(64)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "id"),
)
