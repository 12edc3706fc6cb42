"""Tables of cycle counts. A count changes stock only through stock movements."""

import sqlalchemy as sa

from ..tables import Id, Qty, Time, metadata

# How often each ABC class is counted and how far a count may stray before a manager decides.
count_programmes = sa.Table(
    "count_programmes",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    # {"A": {"every_days": 30, "tolerance_pct": "1", "tolerance_units": 0}, "B": …, "C": …}
    sa.Column("classes", sa.JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

count_tasks = sa.Table(
    "count_tasks",
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
    sa.Column("location_id", Id, sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("abc_class", sa.String(1), nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    # open -> posted (within tolerance) | review -> posted (approved) | open again (recount)
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("expected", Qty),  # on_hand when counted; never shown before the count
    sa.Column("counted", Qty),
    sa.Column("within", sa.Boolean),  # the count was within the class's tolerance
    sa.Column("counted_by", sa.String(200)),
    sa.Column("counted_at", Time),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", Time),
    sa.Column("movement_id", sa.String(36)),
    sa.Column("created_at", Time, nullable=False),
    sa.Index(None, "tenant_id", "status", "due_on"),
    sa.Index(None, "tenant_id", "item_id", "location_id", "counted_at"),
    # One task at a time per item and location: a new one only once the last is posted.
    sa.Index(
        "ix_count_tasks_one_open",
        "tenant_id",
        "item_id",
        "location_id",
        unique=True,
        sqlite_where=sa.text("status IN ('open', 'review')"),
        postgresql_where=sa.text("status IN ('open', 'review')"),
    ),
    sa.CheckConstraint("status IN ('open', 'review', 'posted')", name="status"),
)
