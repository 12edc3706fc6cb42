"""`onhand forecast`: demand forecasts for a CSV of history, from the command line.

The command is a plain function with Typer annotations; the main CLI registers it with
``app.command("forecast")(forecast_command)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

__all__ = ["forecast_command"]


def _fail(message: str) -> typer.Exit:
    """Print one line for a person on stderr and give the exit to raise (no traceback)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def forecast_command(
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            help="CSV of demand history with columns series_id,date,qty "
            "(daily, weekly or monthly dates, inferred per series; missing periods count as 0).",
        ),
    ],
    horizon: Annotated[
        int,
        typer.Option(
            "--horizon", help="Number of periods to forecast after each series' last date."
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", help="CSV to write with columns series_id,date,forecast,lo,hi."),
    ],
    level: Annotated[
        float, typer.Option("--level", help="Coverage of the lo–hi interval, between 0 and 1.")
    ] = 0.8,
) -> None:
    """Forecast demand for every series in a CSV file."""
    # Imported here: NumPy and the forecast cost every other command's start (see cli.py).
    from onhand.planning.csvio import (
        PlanningInputError,
        read_demand_groups,
        write_forecast_groups,
    )
    from onhand.planning.forecast import forecast, season_for

    if horizon < 1:
        raise _fail(f"--horizon must be at least 1, got {horizon}")
    if not 0 < level < 1:
        raise _fail(f"--level must lie strictly between 0 and 1, got {level}")
    if not input.is_file():
        raise _fail(f"input file {input} does not exist")
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description:8}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            reading = progress.add_task("reading", total=max(input.stat().st_size, 1))
            groups = read_demand_groups(
                input, on_progress=lambda done: progress.update(reading, completed=done)
            )
            progress.update(reading, completed=input.stat().st_size)
            n = sum(len(g.series_ids) for g in groups)
            fitting = progress.add_task("fitting", total=n)
            parts = []
            for history in groups:  # one forecast per frequency, each with its own season
                result = forecast(
                    history.values,
                    horizon,
                    season_for(history.frequency, history.values.shape[1]),
                    level=level,
                    workers=min(2, os.cpu_count() or 1),
                    on_block=lambda done: progress.advance(fitting, done),
                )
                parts.append((history, result))
            writing = progress.add_task("writing", total=n)
            write_forecast_groups(
                output, parts, on_progress=lambda done: progress.advance(writing, done)
            )
            progress.update(writing, completed=n)
    except PlanningInputError as exc:
        raise _fail(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read or write a file: {exc}") from None
    kinds = " + ".join(f"{len(h.series_ids)} {h.frequency}" for h, _ in parts)
    console.print(f"{kinds} series × {horizon} periods → {output}")
