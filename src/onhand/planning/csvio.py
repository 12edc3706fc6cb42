"""Demand history in and forecasts out, as CSV (the csv module and NumPy, no pandas).

Input columns ``series_id,date,qty`` (any order, more columns ignored); dates are ISO
``YYYY-MM-DD`` (monthly data may also use ``YYYY-MM``). One file has one frequency,
inferred from the gaps between a series' dates: daily (gaps of 1 day), weekly (all
dates on one weekday) or monthly (all dates on one day of the month, or all on month
ends). Rows of the same series and period are added up; periods missing between a
series' first and last date count as zero demand. Output columns
``series_id,date,forecast,lo,hi`` hold the periods after each series' last date.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from onhand.planning.forecast import ForecastResult

__all__ = ["DemandHistory", "PlanningInputError", "read_demand_csv", "write_forecast_csv"]

REQUIRED = ("series_id", "date", "qty")


class PlanningInputError(ValueError):
    """The input cannot be used; the message says why, in one line, for a person."""


@dataclass(frozen=True)
class DemandHistory:
    """Demand per series, right-aligned on each series' last period.

    ``values`` is (series × periods); NaN marks periods before a series' first date.
    """

    series_ids: list[str]
    frequency: str  # "daily" | "weekly" | "monthly"
    values: np.ndarray
    last_period: np.ndarray  # period number of each series' last date
    anchor: int  # weekly: weekday offset; monthly: day of month (0 = month end)

    def date_of(self, period: int) -> date:
        """The calendar date of a period number."""
        if self.frequency == "daily":
            return date.fromordinal(period)
        if self.frequency == "weekly":
            return date.fromordinal(period * 7 + self.anchor)
        year, month = divmod(period, 12)
        last_day = calendar.monthrange(year, month + 1)[1]
        return date(year, month + 1, min(self.anchor or last_day, last_day))


def _parse_date(text: str, line: int) -> date:
    text = text.strip()
    try:
        if len(text) == 7:  # YYYY-MM: a month
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text)
    except ValueError:
        raise PlanningInputError(
            f"line {line}: cannot read date {text!r} (expected YYYY-MM-DD)"
        ) from None


def _parse_qty(text: str, line: int) -> float:
    try:
        qty = float(text)
    except ValueError:
        raise PlanningInputError(f"line {line}: cannot read quantity {text!r}") from None
    if not np.isfinite(qty) or qty < 0:
        raise PlanningInputError(f"line {line}: quantity must be a number ≥ 0, got {text!r}")
    return qty


def _rows(path: Path, on_progress: Callable[[int], None] | None) -> Iterator[tuple[int, dict]]:
    """Rows with their line numbers; on_progress gets bytes read every 10,000 rows."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        columns = {(c or "").strip().lower(): c for c in (reader.fieldnames or [])}
        missing = [c for c in REQUIRED if c not in columns]
        if not reader.fieldnames:
            raise PlanningInputError(f"{path.name} is empty: expected a header series_id,date,qty")
        if missing:
            raise PlanningInputError(
                f"missing column(s) {', '.join(missing)}; found {', '.join(reader.fieldnames)}"
            )
        for i, row in enumerate(reader):
            if on_progress is not None and i % 10_000 == 0:
                on_progress(raw.tell())
            yield reader.line_num, {c: row[columns[c]] for c in REQUIRED}


def _frequency(ordinals: np.ndarray, series: np.ndarray) -> tuple[str, np.ndarray, int]:
    """Infer the frequency; return it, the period number of every row, and the anchor."""
    order = np.lexsort((ordinals, series))
    same = series[order][1:] == series[order][:-1]
    gaps = np.diff(ordinals[order])[same]
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        raise PlanningInputError("cannot infer the frequency: every series has a single date")
    smallest = int(gaps.min())
    if smallest == 1:
        return "daily", ordinals, 0
    weekday = ordinals % 7
    if smallest % 7 == 0 and np.all(weekday == weekday[0]):
        return "weekly", (ordinals - weekday[0]) // 7, int(weekday[0])
    if 28 <= smallest <= 31:
        days = [date.fromordinal(int(o)) for o in np.unique(ordinals)]
        month_end = all(d.day == calendar.monthrange(d.year, d.month)[1] for d in days)
        if month_end or len({d.day for d in days}) == 1:
            anchor = 0 if month_end else days[0].day
            months = np.array([d.year * 12 + d.month - 1 for d in days])
            return "monthly", months[np.searchsorted(np.unique(ordinals), ordinals)], anchor
    raise PlanningInputError(
        f"cannot infer the frequency: dates are {smallest} days apart; use daily dates, "
        "weekly dates on one weekday, or monthly dates on one day of the month"
    )


def read_demand_csv(path: Path, on_progress: Callable[[int], None] | None = None) -> DemandHistory:
    """Read a series_id,date,qty file into a right-aligned demand matrix."""
    index: dict[str, int] = {}
    codes: list[int] = []
    ordinals: list[int] = []
    quantities: list[float] = []
    for line, row in _rows(path, on_progress):
        sid = (row["series_id"] or "").strip()
        if not sid:
            raise PlanningInputError(f"line {line}: series_id is empty")
        codes.append(index.setdefault(sid, len(index)))
        ordinals.append(_parse_date(row["date"] or "", line).toordinal())
        quantities.append(_parse_qty(row["qty"] or "", line))
    if not codes:
        raise PlanningInputError(f"{path.name} has a header but no rows")
    series = np.asarray(codes, dtype=np.int64)
    frequency, periods, anchor = _frequency(np.asarray(ordinals, dtype=np.int64), series)
    n = len(index)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, series, periods)
    np.maximum.at(last, series, periods)
    length = last - first + 1
    width = int(length.max())
    values = np.where(np.arange(width)[None, :] >= (width - length)[:, None], 0.0, np.nan)
    np.add.at(values, (series, width - 1 - (last[series] - periods)), quantities)
    return DemandHistory(list(index), frequency, values, last, anchor)


def write_forecast_csv(
    path: Path,
    history: DemandHistory,
    result: ForecastResult,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write series_id,date,forecast,lo,hi for the periods after each series' last date."""
    horizon = result.mean.shape[1]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["series_id", "date", "forecast", "lo", "hi"])
        for i, sid in enumerate(history.series_ids):
            base = int(history.last_period[i])
            writer.writerows(
                (
                    sid,
                    history.date_of(base + j + 1).isoformat(),
                    f"{result.mean[i, j]:.3f}",
                    f"{result.lo[i, j]:.3f}",
                    f"{result.hi[i, j]:.3f}",
                )
                for j in range(horizon)
            )
            if on_progress is not None and i % 1000 == 999:
                on_progress(1000)
