"""How every `onhand` command opens its database.

Each command names the database it uses in one line on stderr (password hidden), so a command
run in the wrong folder is noticed at once. Only `migrate`, `serve` and `demo` may create a
database: opening a SQLite URL creates an empty file, so the others check that the file exists
first, and they refuse a database without onhand's schema with a clear message instead of a
traceback (and, for `check`, instead of reporting that an empty file is consistent).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# Every command module imports this one: SQLAlchemy, Alembic (`schema`) and the settings are
# imported when a command opens its database, not when the CLI starts (see cli.py).

err = Console(stderr=True)


def describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def sqlite_file(engine: Engine) -> Path | None:
    """The file behind a SQLite engine (None for PostgreSQL and in-memory databases)."""
    from . import db

    if not db.is_sqlite(engine) or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database or "").resolve()


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def open_database(
    *,
    create: bool = False,
    schema_mode: Literal["require", "upgrade", "any"] = "require",
    pool_size: int = 5,
) -> Engine:
    """The engine of ONHAND_DATABASE_URL, after saying which database it is.

    `create`: the command may create the database (a new SQLite file). `schema_mode`: the
    schema must be there at the head revision ("require"), is brought there ("upgrade"), or is
    the command's own business ("any", for `migrate`).
    """
    import sqlalchemy as sa

    from . import db, schema
    from .settings import get_settings

    engine = db.make_engine(get_settings().database_url, pool_size=pool_size)
    err.print(f"database: {escape(describe(engine))}", highlight=False, soft_wrap=True)
    path = sqlite_file(engine)
    if path is not None and not create and not path.exists():
        raise fail(
            f"there is no database at {path}. Run `onhand migrate` to create it there, or set "
            "ONHAND_DATABASE_URL to the database you mean."
        )
    try:
        current = schema.current(engine)
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0][:300]
        raise fail(f"cannot open the database {describe(engine)}: {reason}") from None
    if schema_mode == "any":
        return engine
    if schema_mode == "upgrade":
        if current != schema.head():
            schema.upgrade(engine)
        return engine
    if current is None:
        raise fail(
            f"the database {describe(engine)} has no onhand schema (it is empty or not onhand's). "
            "Run `onhand migrate` first."
        )
    if current != schema.head():
        raise fail(
            f"the database {describe(engine)} is at schema {current}, and this onhand needs "
            f"{schema.head()}. Run `onhand migrate` first."
        )
    return engine
