"""GET /items/{sku}/forecast: one item's forecast day by day with its prediction interval.

The scenario sold A at WH1 on each of the last 56 days with a weekly pattern (a dozen or so
on weekdays, two or three at the weekend, never quite the same), from a receipt before the
first sale; before that the shelf was empty. WH2 sold one a day. The answer is checked
against the plan's own forecast() run on the same numbers, and for the shape a person expects
of it: the weekly pattern carries on, and the interval widens the further ahead it looks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from planningkit import created, days_ago, moves, problem, shop

from onhand.planning.forecast import forecast

DAYS = 56
HISTORY = 182  # the tenant's default history_days
HORIZON = 56  # and horizon_days


def sold_on(day: date, n: int) -> int:
    base = 2 if day.weekday() >= 5 else 12
    return base + (n * 5) % 3  # a little noise, so the one-step error is not zero


@pytest.fixture
def history(api, engine, tenant):
    shop(api, skus=("A",), codes=("WH1", "WH2"))
    created(api.post("/items", json={"sku": "E-BOOK", "name": "E-book", "kind": "digital"}))
    today = datetime.now(UTC).date()
    steps = [
        (days_ago(DAYS + 1), {"type": "receipt", "sku": "A", "location": "WH1", "qty": 2000}),
        (days_ago(DAYS + 1), {"type": "receipt", "sku": "A", "location": "WH2", "qty": 500}),
    ]
    sales: dict[str, dict[date, int]] = {"WH1": {}, "WH2": {}}
    for n in range(DAYS, 0, -1):
        day = today - timedelta(days=n)
        sales["WH1"][day], sales["WH2"][day] = sold_on(day, n), 1
        for code, qty in (("WH1", sold_on(day, n)), ("WH2", 1)):
            steps.append((days_ago(n), {"type": "ship", "sku": "A", "location": code, "qty": qty}))
    moves(engine, tenant, steps)
    return today, sales


def expected(today: date, per_day: dict[date, int], level: float) -> tuple[np.ndarray, ...]:
    """The plan's forecast() on the history as the test wrote it."""
    start = today - timedelta(days=HISTORY)
    days = [start + timedelta(days=d) for d in range(HISTORY)]
    y = np.array([[per_day.get(d, 0) for d in days]], dtype=np.float64)
    empty = np.array([[d < today - timedelta(days=DAYS + 1) for d in days]])
    fc = forecast(y, HORIZON, 7, stockout=empty, level=level)
    return fc.mean[0], fc.lo[0], fc.hi[0]


def test_the_forecast_is_the_models_day_by_day_with_an_interval_that_widens(api, history):
    today, sales = history
    doc = api.get("/items/A/forecast", params={"location": "WH1"}).json()
    assert (doc["sku"], doc["location"], doc["level"]) == ("A", "WH1", 0.95)
    assert doc["model"] != "none" and doc["sigma"] > 0

    # The past it learned from: what was sold, and the empty shelf before the first receipt.
    actual = {date.fromisoformat(a["date"]): a for a in doc["actual"]}
    assert len(actual) == HISTORY and max(actual) == today - timedelta(days=1)
    for day, qty in sales["WH1"].items():
        assert actual[day] == {"date": day.isoformat(), "demand": qty, "stockout": False}
    assert actual[today - timedelta(days=DAYS + 5)]["stockout"] is True

    days = [date.fromisoformat(f["date"]) for f in doc["forecast"]]
    assert days == [today + timedelta(days=j) for j in range(HORIZON)]
    mean = np.array([f["mean"] for f in doc["forecast"]])
    lo = np.array([f["lo"] for f in doc["forecast"]])
    hi = np.array([f["hi"] for f in doc["forecast"]])
    # The same numbers as the model run on the history written above.
    for got, want in zip((mean, lo, hi), expected(today, sales["WH1"], 0.95), strict=True):
        np.testing.assert_allclose(got, want, atol=0.006)
    # Per day, not one rate: weekdays forecast far more than weekends, as they sold.
    weekend = np.array([d.weekday() >= 5 for d in days])
    assert mean[~weekend].mean() > 3 * mean[weekend].mean(), mean
    assert np.all((lo <= mean) & (mean <= hi))
    # The interval widens with the horizon: each week's is wider than the week's before. By the
    # week, since the weekend's band is clipped at zero; how much wider is the fitted model's
    # (checked above), and with a slow level on this steady pattern it can be as little as 12 %.
    width = hi - lo
    weekly = width.reshape(-1, 7).mean(axis=1)
    assert np.all(np.diff(weekly) > 0), weekly
    assert width[0] > 0

    # A lower level is a narrower band around the same forecast.
    narrow = api.get("/items/A/forecast", params={"location": "WH1", "level": 0.8}).json()
    assert [f["mean"] for f in narrow["forecast"]] == [f["mean"] for f in doc["forecast"]]
    narrow_width = np.array([f["hi"] - f["lo"] for f in narrow["forecast"]])
    assert np.all(narrow_width <= width + 0.01) and narrow_width.sum() < width.sum()


def test_without_a_location_it_forecasts_the_items_total_demand(api, history):
    today, sales = history
    doc = api.get("/items/A/forecast", params={"days": 14}).json()
    assert doc["location"] is None and len(doc["forecast"]) == 14
    total = {d: sales["WH1"][d] + sales["WH2"][d] for d in sales["WH1"]}
    actual = {date.fromisoformat(a["date"]): a["demand"] for a in doc["actual"]}
    assert {d: actual[d] for d in total} == total
    mean, lo, hi = expected(today, total, 0.95)
    np.testing.assert_allclose([f["mean"] for f in doc["forecast"]], mean[:14], atol=0.006)
    np.testing.assert_allclose([f["hi"] for f in doc["forecast"]], hi[:14], atol=0.006)


def test_an_item_that_never_sold_forecasts_zero(api, history):
    created(api.post("/items", json={"sku": "NEW", "name": "New"}))
    doc = api.get("/items/NEW/forecast").json()
    assert doc["model"] == "none" and len(doc["forecast"]) == HORIZON
    assert {(f["mean"], f["lo"], f["hi"]) for f in doc["forecast"]} == {(0, 0, 0)}
    assert not any(a["demand"] for a in doc["actual"])


def test_what_cannot_be_forecast_is_a_problem(api, history):
    assert problem(api.get("/items/E-BOOK/forecast"), 422)["detail"].startswith("E-BOOK is a")
    problem(api.get("/items/NOPE/forecast"), 404)
    problem(api.get("/items/A/forecast", params={"location": "NOWHERE"}), 404)
    problem(api.get("/items/A/forecast", params={"level": 1.5}), 422)
    problem(api.get("/items/A/forecast", params={"days": 0}), 422)
