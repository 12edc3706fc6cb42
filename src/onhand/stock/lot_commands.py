"""`onhand lots expiring|trace|recall`: lots of lot-tracked items from the command line.

The services are imported by the commands, not at the top: every `onhand` command imports
this module (see cli.py).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_database import open_database
from ..errors import DomainError

lots_app = typer.Typer(help="Lots: expiring soon, the trace, a recall.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@lots_app.command("expiring")
def expiring(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    days: Annotated[int, typer.Option(min=0, max=3650, help="Days ahead")] = 7,
) -> None:
    """Lots with stock that expire within DAYS (or have expired), soonest first."""
    from .. import db
    from . import recall as lot_recall

    engine = open_database()
    with db.read(engine) as conn:
        rows = lot_recall.expiring(conn, tenant, days, db.utcnow())
    table = Table("sku", "lot", "use by", "days left", "on hand", "recalled")
    for r in rows:
        table.add_row(
            r["sku"],
            r["lot"],
            r["expires_on"],
            str(r["days_left"]),
            str(r["on_hand"]),
            "yes" if r["recalled"] else "",
        )
    out.print(table)


@lots_app.command("trace")
def trace(
    sku: Annotated[str, typer.Argument(help="The item")],
    lot: Annotated[str, typer.Argument(help="The lot code")],
    tenant: Annotated[str, typer.Option(help="Tenant id")],
) -> None:
    """Where a lot came from, where every unit is, and who took units of it (JSON)."""
    from .. import db
    from . import recall as lot_recall

    engine = open_database()
    try:
        with db.read(engine) as conn:
            doc = lot_recall.trace(conn, tenant, sku, lot)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    out.print_json(json.dumps(doc, default=str))


@lots_app.command("recall")
def recall(
    sku: Annotated[str, typer.Argument(help="The item")],
    lot: Annotated[str, typer.Argument(help="The lot code")],
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    reason: Annotated[str | None, typer.Option(help="Why, e.g. the supplier's recall")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Take every unit of a lot off sale at once (holds move to other lots or are released)."""
    from .. import db
    from . import recall as lot_recall

    if not yes:
        typer.confirm(f"Recall lot {lot} of {sku} everywhere?", abort=True)
    engine = open_database()
    try:
        with db.write(engine) as conn:
            doc = lot_recall.recall(conn, tenant, sku, lot, "cli", db.utcnow(), reason)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    done = doc["recall"]
    held = sum(q["qty"] for q in done["quality_control"])
    out.print(
        f"Lot {lot} of {sku} recalled: {held} units into quality control, "
        f"{done['holds_moved']} holds moved to other lots, {done['holds_released']} released."
    )
