"""`onhand forecast` on CSV files: daily, weekly and monthly round trips, and bad input."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from onhand.planning.commands import forecast_command
from onhand.planning.csvio import PlanningInputError, read_demand_csv, read_demand_groups

WEEK = [4, 6, 5, 7, 12, 15, 3]


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("forecast")(forecast_command)

    @app.command("version")  # a second command, so "forecast" must be named as in onhand
    def version() -> None:
        typer.echo("test")

    return app


def write_rows(
    path: Path,
    rows: list[tuple[str, str, object]],
    header: tuple[str, ...] = ("series_id", "date", "qty"),
) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(*args: str):  # noqa: ANN201 (click Result)
    return CliRunner().invoke(cli(), ["forecast", *args])


def read_output(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def add_months(d: date, k: int) -> date:
    year, month = divmod(d.month - 1 + k, 12)
    return date(d.year + year, month + 1, 1)


def test_daily_file_round_trips_and_keeps_the_weekly_pattern(tmp_path: Path) -> None:
    start = date(2024, 1, 1)  # a Monday
    rows = [("SKU-A", (start + timedelta(days=i)).isoformat(), WEEK[i % 7]) for i in range(84)]
    # SKU-B starts later, ends earlier and skips a day: missing days are zero demand.
    rows += [
        ("SKU-B", (start + timedelta(days=i)).isoformat(), 2) for i in range(20, 70) if i != 40
    ]
    src = write_rows(tmp_path / "daily.csv", rows)
    out = tmp_path / "forecast.csv"
    result = run("--input", str(src), "--horizon", "7", "--output", str(out))
    assert result.exit_code == 0, result.output
    got = read_output(out)
    assert [r["series_id"] for r in got] == ["SKU-A"] * 7 + ["SKU-B"] * 7
    a_dates = [r["date"] for r in got[:7]]
    assert a_dates == [(start + timedelta(days=84 + i)).isoformat() for i in range(7)]
    assert got[7]["date"] == (start + timedelta(days=70)).isoformat()
    np.testing.assert_allclose([float(r["forecast"]) for r in got[:7]], WEEK, atol=1e-3)
    for r in got:
        assert 0 <= float(r["lo"]) <= float(r["forecast"]) <= float(r["hi"])


def test_weekly_file_round_trips(tmp_path: Path) -> None:
    start = date(2024, 1, 7)  # Sundays
    rng = np.random.default_rng(1)
    rows = [
        (sid, (start + timedelta(weeks=i)).isoformat(), int(rng.poisson(30)))
        for sid in ("north", "south")
        for i in range(40)
    ]
    src = write_rows(tmp_path / "weekly.csv", rows)
    out = tmp_path / "out.csv"
    result = run("--input", str(src), "--horizon", "4", "--output", str(out), "--level", "0.9")
    assert result.exit_code == 0, result.output
    got = read_output(out)
    assert [r["date"] for r in got[:4]] == [
        (start + timedelta(weeks=40 + i)).isoformat() for i in range(4)
    ]
    assert all(15 < float(r["forecast"]) < 45 for r in got)


@pytest.mark.parametrize("month_end", [False, True])
def test_monthly_file_round_trips(tmp_path: Path, month_end: bool) -> None:
    def stamp(k: int) -> str:
        first = add_months(date(2021, 1, 1), k)
        return ((add_months(first, 1) - timedelta(days=1)) if month_end else first).isoformat()

    season = [100, 90, 120, 130, 150, 170, 160, 150, 120, 110, 100, 180]
    rows = [("drug-a10", stamp(k), season[k % 12] + 2 * k) for k in range(36)]
    src = write_rows(tmp_path / "monthly.csv", rows)
    out = tmp_path / "out.csv"
    result = run("--input", str(src), "--horizon", "3", "--output", str(out))
    assert result.exit_code == 0, result.output
    got = read_output(out)
    assert [r["date"] for r in got] == [stamp(36), stamp(37), stamp(38)]
    assert float(got[0]["forecast"]) == pytest.approx(season[0] + 72, rel=0.1)


def test_duplicate_rows_are_added_up(tmp_path: Path) -> None:
    rows = [("x", "2024-03-01", 2), ("x", "2024-03-01", 3), ("x", "2024-03-02", 1)]
    history = read_demand_csv(write_rows(tmp_path / "dup.csv", rows))
    assert history.frequency == "daily"
    np.testing.assert_array_equal(history.values, [[5.0, 1.0]])


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        ([("a", "2024-01-01", 1)], ("sku", "date", "qty"), "missing column(s) series_id"),
        ([("a", "01/02/2024", 1), ("a", "2024-01-03", 1)], None, "cannot read date"),
        ([("a", "2024-01-01", "lots"), ("a", "2024-01-02", 1)], None, "cannot read quantity"),
        ([("a", "2024-01-01", -3), ("a", "2024-01-02", 1)], None, "quantity must be"),
        ([("a", "2024-01-01", 1)], None, "single date"),
        ([("a", "2024-01-01", 1), ("a", "2024-01-04", 1)], None, "cannot infer the frequency"),
        ([], None, "no rows"),
    ],
)
def test_bad_files_exit_non_zero_with_one_clear_line(
    tmp_path: Path, rows: list, header: tuple, message: str
) -> None:
    src = write_rows(tmp_path / "bad.csv", rows, header or ("series_id", "date", "qty"))
    result = run("--input", str(src), "--horizon", "3", "--output", str(tmp_path / "o.csv"))
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "0"], "--horizon must be at least 1"),
        (["--horizon", "3", "--level", "1.5"], "--level must lie"),
    ],
)
def test_bad_options_exit_non_zero(tmp_path: Path, args: list[str], message: str) -> None:
    src = write_rows(tmp_path / "ok.csv", [("a", "2024-01-01", 1), ("a", "2024-01-02", 2)])
    result = run("--input", str(src), "--output", str(tmp_path / "o.csv"), *args)
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip()[7:]}"]
    assert message in result.stderr


def test_missing_and_empty_files_are_reported(tmp_path: Path) -> None:
    result = run(
        "--input", str(tmp_path / "nope.csv"), "--horizon", "2", "--output", str(tmp_path / "o.csv")
    )
    assert result.exit_code != 0 and "does not exist" in result.stderr
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(PlanningInputError, match="empty"):
        read_demand_csv(tmp_path / "empty.csv")


def test_a_weekly_series_next_to_a_daily_one_is_read_as_weekly(tmp_path: Path) -> None:
    start = date(2024, 1, 1)  # a Monday
    rows = [("daily", (start + timedelta(days=i)).isoformat(), WEEK[i % 7]) for i in range(84)]
    # Weekly totals of about 140 on Sundays; read as daily they would be 140 and six zeros.
    rows += [("weekly", (start + timedelta(days=6, weeks=k)).isoformat(), 140) for k in range(30)]
    src = write_rows(tmp_path / "mixed.csv", rows)
    out = tmp_path / "out.csv"
    result = run("--input", str(src), "--horizon", "3", "--output", str(out))
    assert result.exit_code == 0, result.output
    got = read_output(out)
    assert [r["series_id"] for r in got] == ["daily"] * 3 + ["weekly"] * 3  # input order
    weekly = got[3:]
    last = start + timedelta(days=6, weeks=29)
    assert [r["date"] for r in weekly] == [
        (last + timedelta(weeks=k)).isoformat() for k in (1, 2, 3)
    ]
    assert all(float(r["forecast"]) == pytest.approx(140, abs=1) for r in weekly)
    assert [r["date"] for r in got[:3]] == [
        (start + timedelta(days=84 + k)).isoformat() for k in range(3)
    ]
    np.testing.assert_allclose([float(r["forecast"]) for r in got[:3]], WEEK[:3], atol=1e-3)


def test_weekly_series_on_different_weekdays_keep_their_own_dates(tmp_path: Path) -> None:
    mondays, fridays = date(2024, 1, 1), date(2024, 1, 5)
    rows = [("mon", (mondays + timedelta(weeks=k)).isoformat(), 10 + k % 2) for k in range(20)]
    rows += [("fri", (fridays + timedelta(weeks=k)).isoformat(), 5) for k in range(10)]
    out = tmp_path / "out.csv"
    src = write_rows(tmp_path / "weeks.csv", rows)
    result = run("--input", str(src), "--horizon", "2", "--output", str(out))
    assert result.exit_code == 0, result.output
    got = {(r["series_id"], r["date"]) for r in read_output(out)}
    assert got == {
        ("mon", (mondays + timedelta(weeks=20)).isoformat()),
        ("mon", (mondays + timedelta(weeks=21)).isoformat()),
        ("fri", (fridays + timedelta(weeks=10)).isoformat()),
        ("fri", (fridays + timedelta(weeks=11)).isoformat()),
    }


def test_a_mixed_file_is_read_as_one_history_per_frequency(tmp_path: Path) -> None:
    rows = [("d", f"2024-01-0{i}", 1) for i in range(1, 8)]
    rows += [("m", add_months(date(2023, 1, 1), k).isoformat(), 30) for k in range(12)]
    src = write_rows(tmp_path / "mixed.csv", rows)
    groups = read_demand_groups(src)
    assert [(g.frequency, g.series_ids) for g in groups] == [("daily", ["d"]), ("monthly", ["m"])]
    assert groups[1].values.tolist() == [[30.0] * 12]  # not 365 days with zeros between
    with pytest.raises(PlanningInputError, match="different frequencies: 1 daily, 1 monthly"):
        read_demand_csv(src)


def test_a_single_date_in_a_mixed_file_is_refused_clearly(tmp_path: Path) -> None:
    rows = [("d", f"2024-01-0{i}", 1) for i in range(1, 8)]
    rows += [("w", (date(2024, 1, 7) + timedelta(weeks=k)).isoformat(), 9) for k in range(4)]
    rows += [("lonely", "2024-01-03", 4)]
    src = write_rows(tmp_path / "mixed.csv", rows)
    result = run("--input", str(src), "--horizon", "2", "--output", str(tmp_path / "o.csv"))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: cannot infer the frequency of series 'lonely': it has a single date and the "
        "other series are not all alike (daily, weekly on Sundays); give it a second date"
    )
    assert not (tmp_path / "o.csv").exists()
