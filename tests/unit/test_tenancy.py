"""Tenant scoping: the tenancy builders always filter, and the SQL scan catches a query that
does not (tests/tenantscan.py is what the whole suite runs every statement through)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from conftest import SQL
from onhand import tenancy
from onhand.tables import balances, bundle_components, items, locations, tenants


def sql(stmt: sa.ClauseElement, dialect: sa.Dialect) -> str:
    return str(stmt.compile(dialect=dialect))


DIALECTS = [sqlite.dialect(), postgresql.psycopg.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_builders_are_scoped_and_plain_statements_are_caught(dialect):
    problems = SQL.scanner.problems
    part = items.alias("part")
    scoped = [
        tenancy.select("t1", items).where(items.c.sku == "A"),
        tenancy.select("t1", items, items.c.id, locations.c.code)
        .join(locations, locations.c.id == items.c.id)
        .where(tenancy.of("t1", locations)),
        tenancy.select("t1", bundle_components, part.c.sku).join(
            part, sa.and_(part.c.id == bundle_components.c.component_id, tenancy.of("t1", part))
        ),
        tenancy.update("t1", items).where(items.c.id == 1).values(active=False),
        tenancy.delete("t1", locations).where(locations.c.code == "WH1"),
        tenancy.insert("t1", locations).values(code="WH1", name="Main"),
        tenancy.select("t1", tenants),
        # joined by tenant column to a scoped table
        tenancy.select("t1", balances, balances.c.on_hand).join(
            locations,
            sa.and_(
                locations.c.id == balances.c.location_id,
                locations.c.tenant_id == balances.c.tenant_id,
            ),
        ),
    ]
    for stmt in scoped:
        assert problems(sql(stmt, dialect)) == [], sql(stmt, dialect)
    unscoped = {
        "items": sa.select(items).where(items.c.sku == "A"),
        "locations": tenancy.select("t1", items, items.c.id, locations.c.code).join(
            locations, locations.c.id == items.c.id
        ),
        "part": tenancy.select("t1", bundle_components, part.c.sku).join(
            part, part.c.id == bundle_components.c.component_id
        ),
        "balances": balances.update().where(balances.c.item_id == 1).values(on_hand=0),
        "tenants": sa.select(tenants),
        "locations (text)": sa.text("DELETE FROM locations WHERE id = 5"),
    }
    for what, stmt in unscoped.items():
        assert problems(sql(stmt, dialect)) != [], (what, sql(stmt, dialect))
    assert problems("INSERT INTO items (sku, name) VALUES (?, ?)") == ["items"]
    assert problems("INSERT INTO balances (item_id, location_id) VALUES (?, ?)") == ["balances"]


def test_of_needs_a_tenant_table():
    with pytest.raises(TypeError):
        tenancy.of("t1")
    with pytest.raises(TypeError):
        tenancy.select("t1", sa.table("plain", sa.column("x")))


def test_the_suite_records_statements():
    # The listener is installed for the whole session; this test's own module compiles only,
    # so the count is what earlier tests emitted (zero when run alone is fine too).
    assert sa.event.contains(sa.Engine, "before_cursor_execute", SQL.record)


def test_a_sqlite_write_outside_db_write_is_caught(tmp_path):
    """The scan's other rule: on SQLite an onhand write must come through db.write (BEGIN
    IMMEDIATE); one in a read transaction can fail at once with SQLITE_BUSY."""
    from onhand import auth, db, schema
    from tenantscan import Recorder, Scanner

    engine = db.make_engine(f"sqlite:///{tmp_path / 'scan.db'}")
    schema.upgrade(engine)
    scan = Recorder(Scanner(set()))
    # This test plants an offender on purpose: the session's own scan must not see it.
    sa.event.remove(sa.Engine, "before_cursor_execute", SQL.record)
    sa.event.listen(engine, "before_cursor_execute", scan.record)
    try:
        with db.write(engine) as conn:
            auth.ensure_tenant(conn, "t-written")
        assert not scan.deferred_writes
        with db.read(engine) as conn:
            auth.ensure_tenant(conn, "t-read")
    finally:
        sa.event.remove(engine, "before_cursor_execute", scan.record)
        sa.event.listen(sa.Engine, "before_cursor_execute", SQL.record)
        engine.dispose()
    assert [w for w in scan.deferred_writes if w.startswith("auth.py:ensure_tenant")], dict(
        scan.deferred_writes
    )
    assert scan.offenders(), "an offender fails the session"
