"""lots: items get `tracking`; lots, per-lot balances, and the lot of ledger and hold rows

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

# Spelled out here, not imported: a revision stays as it was written.
STATES = (
    "on_hand",
    "reserved",
    "committed",
    "damaged",
    "quality_control",
    "safety_stock",
    "incoming",
    "in_transit",
)
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(
            sa.Column("tracking", sa.String(8), nullable=False, server_default="none")
        )
        batch_op.add_column(sa.Column("min_shelf_life_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expiry_warning_days", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_items_tracking"), "tracking IN ('none', 'lot', 'serial')"
        )
    op.create_table(
        "lots",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("expires_on", sa.Date()),
        sa.Column("best_before", sa.Date()),
        sa.Column("manufactured_on", sa.Date()),
        sa.Column("supplier", sa.String(64)),
        sa.Column("movement_id", sa.String(36)),
        sa.Column("reference", sa.String(200)),
        sa.Column("warned_at", Time),
        sa.Column("expired_at", Time),
        sa.Column("recalled_at", Time),
        sa.Column("created_at", Time, nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "item_id", "code", name=op.f("uq_lots_tenant_id_item_id_code")
        ),
    )
    op.create_index(
        "ix_lots_tenant_id_item_id_expires_on", "lots", ["tenant_id", "item_id", "expires_on"]
    )
    op.create_index("ix_lots_tenant_id_expires_on", "lots", ["tenant_id", "expires_on"])
    op.create_table(
        "lot_balances",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("item_id", Id, sa.ForeignKey("items.id"), primary_key=True),
        sa.Column("location_id", Id, sa.ForeignKey("locations.id"), primary_key=True),
        sa.Column("lot_id", Id, sa.ForeignKey("lots.id"), primary_key=True),
        *(sa.Column(s, sa.BigInteger(), nullable=False, server_default="0") for s in STATES),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            " AND ".join(f"{s} >= 0" for s in STATES),
            name=op.f("ck_lot_balances_states_not_negative"),
        ),
    )
    op.create_index(
        "ix_lot_balances_tenant_id_lot_id_location_id",
        "lot_balances",
        ["tenant_id", "lot_id", "location_id"],
    )
    # A plain ADD COLUMN (nullable, no table copy): the ledger may be large.
    for table in ("ledger", "reservation_lines"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN lot_id INTEGER"
                f" CONSTRAINT fk_{table}_lot_id_lots REFERENCES lots (id)"
            )
        else:
            op.add_column(
                table,
                sa.Column(
                    "lot_id",
                    Id,
                    sa.ForeignKey("lots.id", name=f"fk_{table}_lot_id_lots"),
                    nullable=True,
                ),
            )
    op.create_index(
        "ix_ledger_tenant_id_lot_id_id",
        "ledger",
        ["tenant_id", "lot_id", "id"],
        sqlite_where=sa.text("lot_id IS NOT NULL"),
        postgresql_where=sa.text("lot_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_tenant_id_lot_id_id", table_name="ledger")
    for table in ("reservation_lines", "ledger"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("lot_id")
    op.drop_index("ix_lot_balances_tenant_id_lot_id_location_id", table_name="lot_balances")
    op.drop_table("lot_balances")
    op.drop_index("ix_lots_tenant_id_expires_on", table_name="lots")
    op.drop_index("ix_lots_tenant_id_item_id_expires_on", table_name="lots")
    op.drop_table("lots")
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_constraint(op.f("ck_items_tracking"), type_="check")
        batch_op.drop_column("expiry_warning_days")
        batch_op.drop_column("min_shelf_life_days")
        batch_op.drop_column("tracking")
