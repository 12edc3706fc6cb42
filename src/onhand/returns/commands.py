"""`onhand rma list`: returns and where their units went."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_database import open_database

rma_app = typer.Typer(help="Returns (RMA).", no_args_is_help=True)
out = Console()


@rma_app.command("list")
def list_rmas(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    status: Annotated[
        str | None, typer.Option(help="requested, approved, received, closed or refused")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Returns, newest first, a row per line."""
    from .. import db  # imported here, as every command's services are (see cli.py)
    from . import service

    engine = open_database()
    with db.read(engine) as conn:
        found = service.listing(conn, tenant, status, limit)
    table = Table("return", "status", "order", "line", "sku", "qty", "received", "disposition")
    for rma in found:
        for ln in rma["lines"]:
            table.add_row(
                rma["id"][:8],
                rma["status"],
                ln["order_reference"] or "",
                str(ln["line"]),
                ln["sku"],
                str(ln["qty"]),
                "" if ln["received"] is None else str(ln["received"]),
                ln["disposition"] or "",
            )
    out.print(table)
