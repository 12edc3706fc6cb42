"""db.Writes: the writes of a transaction sent together (one pipeline on PostgreSQL), with the
same rows, order, row counts and errors on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from onhand import db
from onhand.events import outbox as events
from onhand.tables import outbox, reservations


def _stored(engine, tenant):
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(outbox.c.type, outbox.c.sku, outbox.c.payload)
            .where(outbox.c.tenant_id == tenant)
            .order_by(outbox.c.id)
        )
        return [tuple(r) for r in rows]


def test_rows_sent_together_are_stored_in_order_with_their_values(engine, tenant):
    now = db.utcnow()
    tricky = 'a "quoted", {braced} \\ back-slashed ünïcode text'
    many = [
        events.event_row(tenant, "test.many", now, sku=f"S-{n}", n=n, note=tricky, doc=[n, None])
        for n in range(5)
    ]
    same = [events.event_row(tenant, "test.same", now, sku="SAME", n=0)] * 3
    one = [events.event_row(tenant, "test.one", now, location="WH1")]
    with db.write(engine) as conn:
        writes = db.Writes(conn)
        writes.insert(outbox, many)
        writes.insert(outbox, same)
        writes.insert(outbox, one)
        writes.insert(outbox, [])
        writes.flush()
    assert _stored(engine, tenant) == [
        (r["type"], r["sku"], r["payload"]) for r in many + same + one
    ]


def test_a_statement_sent_together_reports_its_row_count_to_its_check(engine, tenant):
    now = db.utcnow()
    seen = []
    with db.write(engine) as conn:
        writes = db.Writes(conn)
        writes.insert(outbox, [events.event_row(tenant, "test.old", now, n=n) for n in range(4)])
        writes.execute(
            outbox.update()
            .where(outbox.c.tenant_id == sa.bindparam("t"), outbox.c.type == "test.old")
            .values(type="test.new"),
            {"t": tenant},
            seen.append,
        )
        writes.flush()
    assert seen == [4]
    assert {t for t, _, _ in _stored(engine, tenant)} == {"test.new"}


def test_a_failed_write_raises_as_sqlalchemy_would_and_its_transaction_stores_nothing(
    engine, tenant
):
    now = db.utcnow()
    row = {
        "tenant_id": tenant,
        "id": "same-id",
        "status": "active",
        "expires_at": now,
        "created_at": now,
        "updated_at": now,
        "reference": None,
        "lines": [],
    }
    with pytest.raises(sa.exc.IntegrityError), db.write(engine) as conn:
        writes = db.Writes(conn)
        writes.insert(outbox, [events.event_row(tenant, "test.lost", now)])
        writes.insert(reservations, [row, row])
        writes.flush()
    assert _stored(engine, tenant) == []


def test_every_statement_sent_together_is_announced_to_sqlalchemy_listeners(engine, tenant):
    """The pipeline bypasses SQLAlchemy's cursor; its listeners (the tenant scan of this suite
    among them) must still see each statement, with the tenant it is scoped to."""
    now = db.utcnow()
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, many):
        seen.append(" ".join(statement.replace('"', "").split()))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        with db.write(engine) as conn:
            writes = db.Writes(conn)
            writes.insert(
                outbox, [events.event_row(tenant, "test.seen", now, n=n) for n in range(2)]
            )
            writes.execute(
                outbox.update()
                .where(outbox.c.tenant_id == sa.bindparam("t"), outbox.c.type == "test.seen")
                .values(type="test.heard"),
                {"t": tenant},
            )
            writes.flush()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    inserts = [s for s in seen if s.startswith("INSERT INTO outbox")]
    updates = [s for s in seen if s.startswith("UPDATE outbox")]
    assert len(inserts) == 1 and "tenant_id" in inserts[0]
    assert len(updates) == 1 and "tenant_id =" in updates[0]


# ---- db.fetch: reads of statements built once -------------------------------------------


def _outbox_rows(pg: bool) -> sa.Select:
    return (
        sa.select(outbox.c.type, outbox.c.sku, outbox.c.payload)
        .where(outbox.c.tenant_id == sa.bindparam("t"), db.in_bound(outbox.c.sku, "skus", pg=pg))
        .order_by(outbox.c.id)
    )


def test_fetch_reads_the_rows_and_values_sqlalchemy_reads(engine, tenant):
    now = db.utcnow()
    with db.write(engine) as conn:
        conn.execute(
            outbox.insert(),
            [
                events.event_row(tenant, "test.read", now, sku=f"S-{n}", n=n, doc=[n])
                for n in range(4)
            ],
        )
    seen: list[str] = []
    stmt = _outbox_rows(engine.dialect.name == "postgresql")
    with db.read(engine) as conn:
        sa.event.listen(conn, "before_cursor_execute", lambda *a: seen.append(a[2]))
        got = db.fetch(conn, stmt, {"t": tenant, "skus": ["S-3", "S-1", "NONE"]})
        again = db.fetch(conn, stmt, {"t": tenant, "skus": ["S-2"]})
        expected = conn.execute(stmt, {"t": tenant, "skus": ["S-3", "S-1", "NONE"]}).all()
    assert [(r.type, r.sku, r.payload) for r in got] == [tuple(r) for r in expected]
    assert [r.sku for r in got] == ["S-1", "S-3"] and [r.payload["n"] for r in again] == [2]
    assert len(seen) == 3, "every fetch is told to the statement listeners (the tenant scan)"


def test_fetch_raises_what_sqlalchemy_raises(engine, tenant):
    broken = sa.select(sa.literal_column("no_such_column")).select_from(outbox)
    with db.read(engine) as conn, pytest.raises(sa.exc.DBAPIError):
        db.fetch(conn, broken.where(outbox.c.tenant_id == sa.bindparam("t")), {"t": tenant})


def test_fetch_all_reads_each_statements_rows_in_the_callers_transaction(engine, tenant):
    now = db.utcnow()
    with db.write(engine) as conn:
        conn.execute(
            outbox.insert(),
            [events.event_row(tenant, "t.all", now, sku=f"S-{n}") for n in range(4)],
        )
    pg = engine.dialect.name == "postgresql"
    stmt = _outbox_rows(pg)
    locking = stmt.with_for_update() if pg else stmt
    seen: list[str] = []
    with db.write(engine) as conn:
        sa.event.listen(conn, "before_cursor_execute", lambda *a: seen.append(a[2]))
        first, second, none = db.fetch_all(
            conn,
            (locking, {"t": tenant, "skus": ["S-3"]}),
            (stmt, {"t": tenant, "skus": ["S-2", "S-0"]}),
            (stmt, {"t": tenant, "skus": []}),
        )
        assert [r.sku for r in first] == ["S-3"] and [r.sku for r in second] == ["S-0", "S-2"]
        assert list(none) == [] and len(seen) == 3
        if pg:  # the first statement's row lock is the caller's until its transaction ends
            with engine.connect() as other, pytest.raises(sa.exc.OperationalError):
                other.execute(sa.text("SET lock_timeout = '100ms'"))
                other.execute(locking, {"t": tenant, "skus": ["S-3"]}).all()
    broken = sa.select(sa.literal_column("no_such_column")).select_from(outbox)
    broken = broken.where(outbox.c.tenant_id == sa.bindparam("t"))
    with db.read(engine) as conn, pytest.raises(sa.exc.DBAPIError):
        db.fetch_all(conn, (stmt, {"t": tenant, "skus": ["S-1"]}), (broken, {"t": tenant}))
