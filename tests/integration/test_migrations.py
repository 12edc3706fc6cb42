"""Alembic migrations on a fresh SQLite file and a fresh PostgreSQL database.

upgrade → downgrade to base → upgrade must give the same schema, and that schema must be
the one tables.py describes (so `onhand migrate` and the code never disagree).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import PG_ADMIN_URL, need
from onhand import db, schema
from onhand.tables import metadata

# The modules whose tables the migrations environment registers besides tables.py.
for _module in (
    "onhand.cache.tables",
    "onhand.events.tables",
    "onhand.fulfilment.tables",
    "onhand.planning.tables",
    "onhand.web.reports.tables",
):
    importlib.import_module(_module)


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_engine(request, tmp_path) -> Iterator[sa.Engine]:
    """An engine on an empty database of each kind, removed afterwards."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        engine.dispose()
        return
    with db.scratch_database(need("PostgreSQL", PG_ADMIN_URL, 5432), "onhand_mig") as url:
        engine = db.make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def described(engine: sa.Engine) -> dict[str, dict]:
    """Tables with their columns (name, type, nullability), primary keys and indexes."""
    inspector = sa.inspect(engine)
    out = {}
    for table in inspector.get_table_names():
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "foreign_keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return out


def test_upgrade_downgrade_upgrade_gives_the_same_schema(fresh_engine):
    assert schema.current(fresh_engine) is None
    schema.upgrade(fresh_engine)
    assert schema.current(fresh_engine) == schema.head()
    first = described(fresh_engine)
    assert {
        "tenants",
        "tokens",
        "items",
        "locations",
        "balances",
        "ledger",
        "movements",
        "reservations",
        "reservation_lines",
        "idempotency_keys",
        "outbox",
    } <= set(first)

    schema.downgrade(fresh_engine, "base")
    assert schema.current(fresh_engine) is None
    assert set(sa.inspect(fresh_engine).get_table_names()) <= {"alembic_version"}

    schema.upgrade(fresh_engine)
    assert schema.current(fresh_engine) == schema.head()
    assert described(fresh_engine) == first


def test_migrations_build_the_schema_tables_py_describes(fresh_engine):
    schema.upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_twice_is_harmless(fresh_engine):
    schema.upgrade(fresh_engine)
    first = described(fresh_engine)
    schema.upgrade(fresh_engine)
    assert schema.current(fresh_engine) == schema.head()
    assert described(fresh_engine) == first


def test_upgrading_from_the_first_revision_keeps_the_data(fresh_engine):
    schema.upgrade(fresh_engine, "0001")
    assert schema.current(fresh_engine) == "0001"
    with db.write(fresh_engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name, settings, created_at) "
                "VALUES ('kept', 'Kept', '{}', :now)"
            ),
            {"now": datetime.now(UTC)},
        )
    schema.upgrade(fresh_engine)
    with db.read(fresh_engine) as conn:
        assert (
            conn.execute(sa.text("SELECT name FROM tenants WHERE id = 'kept'")).scalar() == "Kept"
        )
