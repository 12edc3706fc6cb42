"""Engine and transactions: every difference between SQLite and PostgreSQL lives here.

Writers take the database's write lock up front (`BEGIN IMMEDIATE` on SQLite), so a
transaction that reads a row before changing it can never be overtaken half-way; on
PostgreSQL the conditional UPDATEs and `FOR UPDATE` row locks give the same guarantee.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Accept the plain `postgresql://` spelling and use psycopg 3 for it."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    # psycopg would prepare repeated statements, and PostgreSQL then switches them to a generic
    # plan that cannot see which tenant or how many SKUs: measured 8x slower item look-ups and
    # balance updates that scan a whole location. Statements are not prepared, so each one is
    # planned for its parameters. (plan_cache_mode=force_custom_plan did the same, but it also
    # re-plans the foreign-key checks inside an INSERT row by row: a group-commit batch's
    # ledger and reservation lines took twice as long.)
    return sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"prepare_threshold": None},
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of the driver's implicit one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A read-write transaction: commits on success, rolls back on any exception."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (a consistent snapshot on both databases)."""
    with engine.connect() as conn, conn.begin():
        yield conn


def insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT on both databases."""
    module = sqlite if is_sqlite(conn) else postgresql
    return module.insert(table)


def one_of(conn: Connection, column: sa.ColumnElement[Any], values: list[Any]) -> Any:
    """`column IN values`; on PostgreSQL `column = ANY(array)`: one bound array, so the
    compiled statement is reused as it is (an IN list is rendered again for every execution,
    which cost about 4 % of a hold's CPU over HTTP)."""
    if is_sqlite(conn):
        return column.in_(values)
    return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))


def for_update(conn: Connection, stmt: sa.Select) -> sa.Select:
    """Lock the selected rows on PostgreSQL; SQLite already holds the write lock."""
    return stmt if is_sqlite(conn) else stmt.with_for_update()


def iso(moment: datetime) -> str:
    """An instant as JSON shows it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bulk_insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the same keys: COPY on PostgreSQL, executemany on SQLite.

    COPY is several times faster than row-by-row INSERTs for the batches group commit
    writes (ledger, holds, outbox), and it fires the same triggers.
    """
    if not rows:
        return
    if is_sqlite(conn):
        conn.execute(table.insert(), rows)
        return
    from psycopg.types.json import Json

    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, sa.JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    driver = conn.connection.driver_connection
    assert driver is not None  # a live pooled connection always has its psycopg connection
    with driver.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([Json(row[c]) if c in as_json else row[c] for c in columns])


@contextmanager
def scratch_database(admin_url: str, prefix: str = "onhand_scratch") -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL) for a test or benchmark; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
