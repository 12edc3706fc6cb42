"""`onhand plan`: run the replenishment plan for a tenant and show what to buy.

A plain function with Typer annotations; the main CLI registers it with
``app.command("plan")(plan_command)``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..cli_database import open_database
from ..errors import DomainError

__all__ = ["plan_command"]

STAGES = {
    "history": "demand history",
    "forecast": "forecasting",
    "policy": "policy",
    "store": "storing",
}


def plan_command(
    tenant: Annotated[str, typer.Option(help="The tenant to plan for, e.g. demo")],
    show: Annotated[int, typer.Option(help="How many suggestion lines to print")] = 20,
    orders: Annotated[
        bool,
        typer.Option(
            "--orders/--no-orders", help="Also turn the suggestions into draft purchase orders"
        ),
    ] = False,
) -> None:
    """Forecast demand, compute reorder points and suggest purchase orders per supplier."""
    # Imported here: NumPy and the planning services cost every other command's start (cli.py).
    from .. import db
    from . import plan

    out, err = Console(), Console(stderr=True)
    engine = open_database(schema_mode="upgrade", pool_size=2)
    columns = (
        TextColumn("{task.description:15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("starting", total=1)

            def tick(stage: str, done: int, total: int) -> None:
                progress.update(
                    task, description=STAGES.get(stage, stage), completed=done, total=max(total, 1)
                )

            summary = plan.run(engine, tenant, progress=tick)
        with db.read(engine) as conn:
            page = plan.suggestions(conn, tenant, limit=max(show, 1))
        made = None
        if orders:
            with db.write(engine) as conn:
                made = plan.to_purchase_orders(conn, tenant, None, "cli:plan", db.utcnow())
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    out.print(
        f"planned [bold]{summary['series']}[/] item-locations "
        f"({summary['forecasted']} with demand): [bold]{summary['suggestions']}[/] to order, "
        f"[red]{summary['urgent']}[/] urgent"
    )
    groups = Table("supplier", "lines", "units", "urgent", "value", title="by supplier")
    for g in page["suppliers"]:
        groups.add_row(
            g["supplier"] or "(no supplier)",
            str(g["lines"]),
            str(g["units"]),
            str(g["urgent_lines"]),
            f"{g['value'] or '-'} {g['currency'] or ''}",
        )
    out.print(groups)
    lines = Table(
        "supplier",
        "sku",
        "at",
        "qty",
        "avail",
        "cover",
        "lead",
        "risk",
        title=f"first {len(page['suggestions'])} lines (cover and lead time in days)",
    )
    for s in page["suggestions"]:
        cover = "-" if s["days_of_cover"] is None else f"{s['days_of_cover']:.1f}"
        risk = f"[red]{s['risk']}![/]" if s["urgent"] else s["risk"]
        lines.add_row(
            s["supplier"] or "-",
            s["sku"],
            s["location"],
            str(s["qty"]),
            str(s["available"]),
            cover,
            f"{s['lead_time_days']:g}",
            risk,
        )
    out.print(lines)
    if made is not None:
        numbers = ", ".join(po["number"] for po in made["purchase_orders"]) or "none"
        out.print(
            f"draft purchase orders: {numbers}; {len(made['unassigned'])} lines have no supplier"
        )
