"""`onhand reconcile`: one reconciliation pass with a progress bar and a report."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..cli_database import open_database

out = Console()


def reconcile_command(
    limit: Annotated[int, typer.Option(help="Repairs to list in the report")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Compare every cached availability figure with the database and repair drift."""
    # Imported here: redis costs every other command's start about 0.4 s.
    from ..settings import get_settings
    from .reconcile import item_count, reconcile
    from .redis_cache import AvailabilityCache

    settings = get_settings()
    engine = open_database()
    if not settings.redis_url:
        Console(stderr=True).print(
            "[red]ONHAND_REDIS_URL is not set: there is no cache to reconcile.[/]"
        )
        raise typer.Exit(2)
    cache = AvailabilityCache.from_settings(settings, timeout=5.0)
    if not cache.ping():
        Console(stderr=True).print(f"[red]Redis does not answer at {settings.redis_url}.[/]")
        raise typer.Exit(1)
    total = item_count(engine)
    with Progress(
        TextColumn("reconciling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=as_json,
    ) as progress:
        task = progress.add_task("items", total=total)
        report = reconcile(engine, cache, progress=lambda n: progress.advance(task, n), keep=limit)
    if as_json:
        print(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "tenants": report.tenants,
                    "checked": report.checked,
                    "repaired": report.repaired,
                    "seconds": round(report.seconds, 3),
                }
            )
        )
        return
    summary = Table("tenants", "items checked", "repaired", "seconds", title=f"run {report.run_id}")
    summary.add_row(
        str(report.tenants), str(report.checked), str(report.repaired), f"{report.seconds:.2f}"
    )
    out.print(summary)
    if report.repairs:
        table = Table(
            "tenant",
            "sku",
            "kind",
            "was available",
            "now available",
            title=f"repairs (first {min(limit, report.repaired)} of {report.repaired})",
        )
        for r in report.repairs[:limit]:
            was = "—" if r.was is None else str(r.was.get("available"))
            table.add_row(r.tenant, r.sku, r.kind, was, str(r.now.get("available")))
        out.print(table)
