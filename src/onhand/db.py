"""Engine and transactions: every difference between SQLite and PostgreSQL lives here.

Writers take the database's write lock up front (`BEGIN IMMEDIATE` on SQLite), so a
transaction that reads a row before changing it can never be overtaken half-way; on
PostgreSQL the conditional UPDATEs and `FOR UPDATE` row locks give the same guarantee.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from functools import lru_cache
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


def in_bound(column: sa.ColumnElement[Any], name: str, *, pg: bool) -> Any:
    """`column IN :name` in a statement built once for `fetch`: on PostgreSQL `= ANY` of one
    bound array (an IN list would be rendered again for every execution), on SQLite an
    expanding bind."""
    if pg:
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


def fetch(conn: Connection, stmt: sa.Executable, params: dict[str, Any]) -> Sequence[Any]:
    """The rows of a statement built once (kept at module level or cached), read by attribute.

    On PostgreSQL it goes to the driver as compiled once, which skips SQLAlchemy's work per
    execution (the cache key; the result's set-up alone was 8 % of a worker's time serving
    holds, docs/performance.md). Values come as psycopg reads them, without the column types'
    result processing, so it is for columns whose values need none. On SQLite it runs through
    SQLAlchemy. Listeners are told of the statement as `Writes` tells them.
    """
    return fetch_all(conn, (stmt, params))[0]


def fetch_all(
    conn: Connection, *queries: tuple[sa.Executable, dict[str, Any]]
) -> list[Sequence[Any]]:
    """`fetch` of several statements, their rows in the same order. On PostgreSQL they go out
    in one pipeline: one round trip, the statements run one after another as if sent apart
    (a row lock the first takes is held when the next runs)."""
    if is_sqlite(conn):
        return [conn.execute(stmt, params).all() for stmt, params in queries]
    import psycopg
    from psycopg.rows import namedtuple_row

    driver = conn.connection.driver_connection
    assert driver is not None  # a live pooled connection always has its psycopg connection
    cursors = []
    query, args = "", None
    try:
        with driver.pipeline() if len(queries) > 1 else nullcontext():
            for stmt, params in queries:
                query, args = _raw(conn.dialect, stmt, params)
                cur = driver.cursor(row_factory=namedtuple_row)
                cursors.append(cur)
                conn.dispatch.before_cursor_execute(conn, cur, query, args, None, False)
                cur.execute(query, args)
        return [cur.fetchall() for cur in cursors]
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(query, args, exc, psycopg.Error) from exc
    finally:
        for cur in cursors:
            cur.close()


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


class Writes:
    """The writes of one transaction, queued and sent together by `flush`.

    On PostgreSQL they go out in one pipeline (psycopg's pipeline mode): every statement is
    sent, then one sync, so a batch's guarded UPDATEs and its inserts cost one round trip. An
    insert is one `INSERT ... SELECT FROM unnest(...)` with one array per column. On SQLite
    they run one after another. A statement may come with a `check` of its row count, called
    after the statements were sent (a guard's refusal raises there, and the caller's
    transaction rolls back with everything it sent).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._steps: list[tuple[Any, Any, Callable[[int], None] | None]] = []

    def insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Rows with the same keys."""
        if rows:
            self._steps.append((table, rows, None))

    def execute(
        self, stmt: sa.Executable, params: Any, check: Callable[[int], None] | None = None
    ) -> None:
        """`params`: a dict (one execution), or on SQLite a list of dicts (executemany)."""
        self._steps.append((stmt, params, check))

    def flush(self) -> None:
        steps, self._steps = self._steps, []
        if not steps:
            return
        if is_sqlite(self.conn):
            for what, params, check in steps:
                stmt = what.insert() if isinstance(what, sa.Table) else what
                done = self.conn.execute(stmt, params)
                if check is not None:
                    check(done.rowcount)
            return
        self._pipeline(steps)

    def _pipeline(self, steps: list[tuple[Any, Any, Callable[[int], None] | None]]) -> None:
        import psycopg

        driver = self.conn.connection.driver_connection
        assert driver is not None  # a live pooled connection always has its psycopg connection
        sent: list[tuple[Any, Callable[[int], None] | None]] = []
        query, args = "", None
        # Statements sent here bypass SQLAlchemy's cursor, so its listeners (the test suite's
        # tenant scan, an operator's SQL logging or tracing) are told of each one by hand.
        announce = self.conn.dispatch.before_cursor_execute
        try:
            with driver.pipeline():
                for what, params, check in steps:
                    if isinstance(what, sa.Table):
                        query, args = _unnest_insert(what, tuple(params[0]), params)
                    else:
                        query, args = _raw(self.conn.dialect, what, params)
                    cur = driver.cursor()
                    announce(self.conn, cur, query, args, None, False)
                    cur.execute(query, args)
                    sent.append((cur, check))
        except psycopg.Error as exc:
            # The same exceptions as any statement run through SQLAlchemy (IntegrityError, ...).
            raise sa.exc.DBAPIError.instance(query, args, exc, psycopg.Error) from exc
        for cur, check in sent:
            if check is not None:
                check(cur.rowcount)
            cur.close()


def _unnest_insert(
    table: sa.Table, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> tuple[str, dict[str, Any]]:
    """One INSERT of many rows. A column whose rows all hold the same value (the tenant, the
    moment, a reason) is sent once; the others as arrays, unnested side by side; a JSON column
    as one JSON array (a json[] of many documents costs several times more to send)."""
    from psycopg.types.json import Json

    args: dict[str, Any] = {}
    shape = []
    for n, c in enumerate(columns):
        values = [r[c] for r in rows]
        if isinstance(table.c[c].type, sa.JSON):
            args[f"c{n}"] = Json(values)
            shape.append("json" if len(values) > 1 else "one json")
            if len(values) == 1:
                args[f"c{n}"] = Json(values[0])
        elif all(v == values[0] for v in values):
            args[f"c{n}"] = values[0]
            shape.append("one")
        else:
            args[f"c{n}"] = values
            shape.append("many")
    args["rows"] = len(rows)  # when every column is the same in all rows
    return _unnest_sql(table, columns, tuple(shape), len(rows) > 1), args


@lru_cache(maxsize=256)
def _unnest_sql(
    table: sa.Table, columns: tuple[str, ...], shape: tuple[str, ...], many: bool
) -> str:
    pg = postgresql.dialect()
    out, arrays, names = [], [], []
    for n, (c, how) in enumerate(zip(columns, shape, strict=True)):
        sql_type = table.c[c].type.compile(dialect=pg)
        if how in ("one", "one json"):
            out.append(f"%(c{n})s::{sql_type}")
            continue
        if how == "json":
            assert sql_type == "JSON", "a JSON column is json on PostgreSQL"
            arrays.append(
                f"ARRAY(SELECT e FROM json_array_elements(%(c{n})s::json) WITH ORDINALITY"
                " AS j(e, k) ORDER BY k)"
            )
        else:
            arrays.append(f"%(c{n})s::{sql_type}[]")
        names.append(f"v{n}")
        out.append(f"v{n}")
    if arrays:
        source = f" FROM unnest({', '.join(arrays)}) AS v({', '.join(names)})"
    else:
        source = " FROM generate_series(1, %(rows)s)" if many else ""
    targets = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table.name}" ({targets}) SELECT {", ".join(out)}{source}'


def _raw(dialect: sa.Dialect, stmt: sa.Executable, params: dict[str, Any]) -> tuple[str, Any]:
    """A Core statement as the driver takes it: its SQL, and its parameters bound by type."""
    assert isinstance(params, dict), "one execution per statement in a pipeline"
    compiled, processors = _compiled(dialect, stmt)
    args = compiled.construct_params(params)
    for name, process in processors.items():
        args[name] = process(args[name])
    return compiled.string, args


@lru_cache(maxsize=512)
def _compiled(dialect: sa.Dialect, stmt: sa.Executable) -> tuple[Any, dict[str, Any]]:
    compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
    processors = {}
    for name, bind in compiled.binds.items():
        if (process := bind.type.bind_processor(dialect)) is not None:
            processors[name] = process
    return compiled, processors


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
