"""Demand history in and forecasts out, as CSV (the csv module and NumPy, no pandas).

Input columns ``series_id,date,qty`` (any order, more columns ignored); dates are ISO
``YYYY-MM-DD`` (monthly data may also use ``YYYY-MM``). The frequency is inferred per
series from the gaps between its dates: daily (some gap of 1 day), weekly (all dates on
one weekday) or monthly (all dates on one day of the month, or all on month ends). A
file may mix frequencies: its series are read as one history per frequency (and weekday
or day of the month), each forecast with its own season. A series with a single date
takes the frequency of the others when they all share one. Rows of the same series and
period are added up; periods missing between a series' first and last date count as zero
demand. Output columns ``series_id,date,forecast,lo,hi`` hold the periods after each
series' last date, series in the order of the input.
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

__all__ = [
    "DemandHistory",
    "PlanningInputError",
    "read_demand_csv",
    "read_demand_groups",
    "write_forecast_csv",
]

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
    rows: np.ndarray | None = None  # each series' position among all series of the file

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


def _describe(frequency: str, anchor: int) -> str:
    if frequency == "weekly":
        return f"weekly on {calendar.day_name[(anchor - 1) % 7]}s"
    if frequency == "monthly":
        return "monthly on month ends" if anchor == 0 else f"monthly on day {anchor}"
    return frequency


def _frequencies(
    ordinals: np.ndarray, series: np.ndarray, names: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per series a frequency code (0 daily, 1 weekly, 2 monthly) and its anchor (weekly:
    weekday offset; monthly: day of month, 0 = month end). Series with a single date get
    the frequency all other series share, or the file is refused."""
    n = len(names)
    order = np.lexsort((ordinals, series))
    s, o = series[order], ordinals[order]
    same = s[1:] == s[:-1]
    gaps = np.diff(o)
    step = same & (gaps > 0)
    smallest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(smallest, s[1:][step], gaps[step])
    weekday = o % 7
    days = (o - date(1970, 1, 1).toordinal()).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_end = (days + 1).astype("datetime64[M]") != months
    lo = lambda v: _per_series(np.minimum.at, v, s, n, np.iinfo(np.int64).max)  # noqa: E731
    hi = lambda v: _per_series(np.maximum.at, v, s, n, np.iinfo(np.int64).min)  # noqa: E731
    one_weekday = lo(weekday) == hi(weekday)
    one_day = lo(day_of_month) == hi(day_of_month)
    all_ends = lo(month_end.astype(np.int64)) == 1
    code = np.full(n, -1)
    anchor = np.zeros(n, dtype=np.int64)
    single = smallest == np.iinfo(np.int64).max
    code[smallest == 1] = 0
    weekly = ~single & (smallest % 7 == 0) & one_weekday
    code[weekly] = 1
    anchor[weekly] = lo(weekday)[weekly]
    monthly = ~single & (smallest >= 28) & (smallest <= 31) & (one_day | all_ends)
    code[monthly] = 2
    anchor[monthly] = np.where(all_ends, 0, lo(day_of_month))[monthly]
    bad = np.flatnonzero(~single & (code < 0))
    if bad.size:
        k = int(bad[0])
        raise PlanningInputError(
            f"cannot infer the frequency of series {names[k]!r}: its dates are "
            f"{int(smallest[k])} days apart; use daily dates, weekly dates on one weekday, "
            "or monthly dates on one day of the month"
        )
    known = sorted({(int(c), int(a)) for c, a in zip(code[~single], anchor[~single], strict=True)})
    if not known:
        raise PlanningInputError("cannot infer the frequency: every series has a single date")
    if single.any():
        k = int(np.flatnonzero(single)[0])
        if len(known) > 1:
            kinds = ", ".join(_describe(FREQUENCIES[c], a) for c, a in known)
            raise PlanningInputError(
                f"cannot infer the frequency of series {names[k]!r}: it has a single date and "
                f"the other series are not all alike ({kinds}); give it a second date"
            )
        code[single], anchor[single] = known[0]
        # weekly: the single date must fall on the weekday of the others
        if known[0][0] == 1 and np.any(lo(weekday)[single] != known[0][1]):
            raise PlanningInputError(
                f"series {names[k]!r} has a single date on another weekday than the "
                "weekly series of the file"
            )
    return code, anchor


def _per_series(
    reduce: Callable[..., None], values: np.ndarray, series: np.ndarray, n: int, start: int
) -> np.ndarray:
    out = np.full(n, start, dtype=np.int64)
    reduce(out, series, values.astype(np.int64))
    return out


FREQUENCIES = ("daily", "weekly", "monthly")


def _periods(frequency: str, ordinals: np.ndarray, anchor: int) -> np.ndarray:
    """The period number of every date (days, weeks or months since the year 1)."""
    if frequency == "daily":
        return ordinals
    if frequency == "weekly":
        return (ordinals - anchor) // 7
    months = (
        (ordinals - date(1970, 1, 1).toordinal()).astype("datetime64[D]").astype("datetime64[M]")
    )
    return months.astype(np.int64) + 1970 * 12


def _history(
    ids: list[str],
    series: np.ndarray,
    periods: np.ndarray,
    quantities: np.ndarray,
    frequency: str,
    anchor: int,
    rows: np.ndarray,
) -> DemandHistory:
    """A right-aligned matrix for the given series (codes 0..len(ids)-1)."""
    n = len(ids)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, series, periods)
    np.maximum.at(last, series, periods)
    length = last - first + 1
    width = int(length.max())
    values = np.where(np.arange(width)[None, :] >= (width - length)[:, None], 0.0, np.nan)
    np.add.at(values, (series, width - 1 - (last[series] - periods)), quantities)
    return DemandHistory(ids, frequency, values, last, anchor, rows)


def read_demand_groups(
    path: Path, on_progress: Callable[[int], None] | None = None
) -> list[DemandHistory]:
    """Read a series_id,date,qty file into one right-aligned history per frequency."""
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
    days = np.asarray(ordinals, dtype=np.int64)
    qty = np.asarray(quantities)
    names = list(index)
    code, anchor = _frequencies(days, series, names)
    out = []
    for c, a in sorted({(int(c), int(a)) for c, a in zip(code, anchor, strict=True)}):
        members = np.flatnonzero((code == c) & (anchor == a))  # in input order
        local = np.full(len(names), -1)
        local[members] = np.arange(members.size)
        pick = local[series] >= 0
        frequency = FREQUENCIES[c]
        out.append(
            _history(
                [names[k] for k in members],
                local[series[pick]],
                _periods(frequency, days[pick], a),
                qty[pick],
                frequency,
                a,
                members,
            )
        )
    return out


def read_demand_csv(path: Path, on_progress: Callable[[int], None] | None = None) -> DemandHistory:
    """Read a file whose series all have one frequency into a right-aligned demand matrix."""
    groups = read_demand_groups(path, on_progress)
    if len(groups) > 1:
        kinds = ", ".join(f"{len(g.series_ids)} {_describe(g.frequency, g.anchor)}" for g in groups)
        raise PlanningInputError(f"the series have different frequencies: {kinds}")
    return groups[0]


def write_forecast_csv(
    path: Path,
    history: DemandHistory,
    result: ForecastResult,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Write series_id,date,forecast,lo,hi for the periods after each series' last date."""
    write_forecast_groups(path, [(history, result)], on_progress)


def write_forecast_groups(
    path: Path,
    parts: list[tuple[DemandHistory, ForecastResult]],
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """The forecasts of every group of a file, series in the order of the input."""
    series = [
        (int(h.rows[i]) if h.rows is not None else i, h, r, i)
        for h, r in parts
        for i in range(len(h.series_ids))
    ]
    series.sort(key=lambda entry: entry[0])
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["series_id", "date", "forecast", "lo", "hi"])
        for done, (_, history, result, i) in enumerate(series, start=1):
            base = int(history.last_period[i])
            writer.writerows(
                (
                    history.series_ids[i],
                    history.date_of(base + j + 1).isoformat(),
                    f"{result.mean[i, j]:.3f}",
                    f"{result.lo[i, j]:.3f}",
                    f"{result.hi[i, j]:.3f}",
                )
                for j in range(result.mean.shape[1])
            )
            if on_progress is not None and done % 1000 == 0:
                on_progress(1000)
