"""`onhand payouts`: a pay period's picker payouts as CSV, for payroll."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..cli_database import open_database
from ..errors import DomainError

__all__ = ["payouts_command"]


def payouts_command(
    tenant: Annotated[str, typer.Option(help="The tenant whose pickers to pay")],
    period: Annotated[
        str, typer.Option(help="A day (2026-12-01), a month (2026-12) or a range (a..b)")
    ],
    output: Annotated[
        Path | None, typer.Option(help="Write the CSV here instead of printing it")
    ] = None,
) -> None:
    """Print each picker's lines, accuracy, bracket and amount per day, as CSV."""
    from .. import db  # imported here, as every command's services are (see cli.py)
    from . import payouts

    engine = open_database()
    try:
        with db.read(engine) as conn:
            text = payouts.to_csv(payouts.report(conn, tenant, period))
    except DomainError as problem:
        typer.echo(f"error: {problem.detail}", err=True)
        raise typer.Exit(code=1) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)
