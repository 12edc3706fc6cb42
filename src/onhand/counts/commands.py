"""`onhand counts generate|tasks|accuracy`: the cycle-count programme from the command line.

The services are imported by the commands, not at the top: every `onhand` command imports
this module (see cli.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..cli_database import open_database

counts_app = typer.Typer(help="Cycle counts: today's tasks, accuracy.", no_args_is_help=True)
out = Console()


@counts_app.command("generate")
def generate(
    tenant: Annotated[str | None, typer.Option(help="Tenant id (default: every tenant)")] = None,
    on: Annotated[
        str | None, typer.Option(help="Day YYYY-MM-DD (default: the tenant's today)")
    ] = None,
) -> None:
    """Make the count tasks due (the server's hourly job does the same)."""
    import sqlalchemy as sa

    from .. import db, tenants
    from ..tables import tenants as tenant_rows
    from . import service

    engine = open_database()
    day = date.fromisoformat(on) if on else None
    with db.read(engine) as conn:
        ids = [tenant] if tenant else conn.execute(sa.select(tenant_rows.c.id)).scalars().all()
    made = 0
    with Progress(console=out, transient=True) as progress:
        bar = progress.add_task("Making count tasks", total=len(ids))
        for t in ids:
            now = db.utcnow()
            with db.write(engine) as conn:
                done = service.generate(conn, t, day or tenants.load(conn, t).day(now), now)
            made += done["created"]
            progress.advance(bar)
    out.print(f"{made} count tasks made for {len(ids)} tenant(s).")


@counts_app.command("tasks")
def tasks(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    status: Annotated[str, typer.Option(help="open, review or posted")] = "open",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
) -> None:
    """Count tasks in walking order (no expected quantity before the count)."""
    from .. import db
    from . import service
    from .tables import count_tasks

    engine = open_database()
    with db.read(engine) as conn:
        rows = service.tasks(conn, tenant, [count_tasks.c.status == status], limit)
    table = Table("location", "sku", "class", "due", "counted", "expected", "task")
    for r in rows:
        table.add_row(
            r["location"],
            r["sku"],
            r["abc_class"],
            r["due_on"].isoformat(),
            "" if r["counted"] is None else str(r["counted"]),
            "" if r["expected"] is None else str(r["expected"]),
            r["id"],
        )
    out.print(table)


@counts_app.command("accuracy")
def accuracy(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    days: Annotated[int, typer.Option(min=1, max=3660)] = 90,
) -> None:
    """Share of counts within tolerance, per class."""
    from .. import db
    from . import service

    engine = open_database()
    with db.read(engine) as conn:
        doc = service.accuracy(conn, tenant, db.utcnow() - timedelta(days=days))
    table = Table("class", "counted", "within", "accuracy")
    for cls, share in [*doc["by_class"].items(), ("all", doc)]:
        shown = "" if share["accuracy"] is None else f"{share['accuracy']:.1%}"
        table.add_row(cls, str(share["counted"]), str(share["within"]), shown)
    out.print(table)
