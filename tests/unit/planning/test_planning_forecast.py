"""The forecasting engine: models, missing data, intervals, and the shape of its answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from onhand.planning.forecast import MODELS, HoltWinters, forecast, season_for
from onhand.planning.intermittent import croston, sba, tsb
from onhand.planning.models import MIN_TREND_POINTS, least_squares_slopes

WEEK = np.array([3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 2.0])


def weekly_history(weeks: int, patterns: np.ndarray) -> np.ndarray:
    """One row per pattern, each repeated for the given number of weeks."""
    return np.tile(patterns, (1, weeks))


def test_seasonal_naive_repeats_a_pure_weekly_pattern_exactly() -> None:
    patterns = np.stack([WEEK, WEEK[::-1] * 2, np.roll(WEEK, 3) + 1])
    y = weekly_history(20, patterns)
    result = forecast(y, horizon=10, season=7)
    expected = weekly_history(2, patterns)[:, :10]  # history ends on a full week
    np.testing.assert_allclose(result.mean, expected, atol=1e-9)
    assert all("seasonal_naive" in name for name in result.model)
    np.testing.assert_allclose(result.sigma, 0, atol=1e-9)
    np.testing.assert_allclose(result.lo, expected, atol=1e-9)


def test_holt_winters_follows_a_clean_trend_and_season() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(280 + 14)
    truth = 40 + 0.25 * t + 6 * np.sin(2 * np.pi * t / 7)
    y = truth[None, :280] + rng.normal(0, 0.3, (20, 280))
    result = forecast(y, horizon=14, season=7, combine=1)
    error = np.abs(result.mean - truth[280:]).mean() / truth[280:].mean()
    assert error < 0.02
    trend_models = {"holt_winters", "holt_winters_log", "theta", "theta_opt"}
    assert all(name in trend_models for name in result.model)  # a model with trend and season
    rise = result.mean[:, 7:].mean(axis=1) - result.mean[:, :7].mean(axis=1)
    assert np.all(np.abs(rise / (0.25 * 7) - 1) < 0.3)  # the trend is carried on


def test_holt_winters_with_fixed_parameters_matches_a_scalar_recursion() -> None:
    y = np.array([10.0, 14, 9, 11, 15, 10, 12, 16, 11, 13, 17, 12, 14, 18])
    alpha, beta, gamma, phi, m = 0.3, 0.05, 0.2, 0.9, 3
    model = HoltWinters(m, [alpha], [beta], [gamma], [phi])
    model.start(y[:, None].copy(), None, np.zeros(1, dtype=np.int64))
    level, slope = float(model.level[0, 0]), float(model.slope[0, 0])
    season = [float(model.season[k, 0, 0]) for k in range(m)]
    for t, value in enumerate(y):
        engine_error = float(model.step(t)[0, 0])
        guess = level + phi * slope + season[t % m]
        error = value - guess
        assert engine_error == pytest.approx(error)
        level, slope = level + phi * slope + alpha * error, phi * slope + beta * error
        season[t % m] += gamma * error
    t_next = len(y)
    expected = level + (phi + phi**2) * slope + season[(t_next + 1) % m]
    assert float(model.ahead(2)[0, 0]) == pytest.approx(expected)


def test_croston_sba_and_tsb_match_a_hand_computation() -> None:
    y = np.array([[0, 0, 3, 0, 5, 0, 0, 0, 2, 0]], dtype=float)
    # Croston, α = 0.1: start at the first demand (size 3, interval 3).
    # t=4: demand 5 after 2 periods: z = 3 + 0.1·(5−3) = 3.2, p = 3 + 0.1·(2−3) = 2.9
    # t=8: demand 2 after 4 periods: z = 3.2 + 0.1·(2−3.2) = 3.08, p = 2.9 + 0.1·(4−2.9) = 3.01
    assert croston(y, 0.1)[0] == pytest.approx(3.08 / 3.01)
    assert sba(y, 0.1)[0] == pytest.approx((1 - 0.1 / 2) * 3.08 / 3.01)
    # TSB, α = 0.1, β = 0.2: probability starts at 1/3 and moves every period.
    p = 1 / 3
    for occurred in (0, 1, 0, 0, 0, 1, 0):
        p += 0.2 * (occurred - p)
    assert tsb(y, 0.1, 0.2)[0] == pytest.approx(p * 3.08)


def test_intermittent_series_get_intermittent_models() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random((50, 200)) < 0.1) * rng.integers(1, 6, (50, 200))
    result = forecast(y.astype(float), horizon=7, season=7)
    intermittent = {"croston", "sba", "tsb"}
    share = np.mean([bool(intermittent & set(name.split("+"))) for name in result.model])
    assert share > 0.8
    rate = y.mean(axis=1)
    assert np.abs(result.mean[:, 0] - rate).mean() < 0.5 * rate.mean()


def test_stock_out_days_do_not_teach_the_model_that_demand_was_zero() -> None:
    rng = np.random.default_rng(11)
    y = rng.poisson(20, (30, 120)).astype(float)
    y[:, -10:] = 0  # shelf empty for the last ten days: no sales, demand unknown
    mask = np.zeros_like(y, dtype=bool)
    mask[:, -10:] = True
    masked = forecast(y, horizon=7, season=7, stockout=mask)
    naive = forecast(y, horizon=7, season=7)
    assert np.all(np.abs(masked.mean.mean(axis=1) - 20) < 4)  # a week of Poisson(20) noise
    assert naive.mean.mean() < 10  # without the mask the zeros do pull it down


def test_leading_missing_periods_are_the_same_as_a_shorter_history() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(150)
    short = 30 + 5 * np.sin(2 * np.pi * t[:100] / 7) + rng.normal(0, 1, 100)
    long = 25 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, 150)
    alone = forecast(short[None, :], horizon=14, season=7)
    padded = np.full((2, 150), np.nan)
    padded[0, 50:] = short
    padded[1] = long
    together = forecast(padded, horizon=14, season=7)
    np.testing.assert_allclose(together.mean[0], alone.mean[0], rtol=1e-9)
    np.testing.assert_allclose(together.hi[0], alone.hi[0], rtol=1e-9)


def test_intervals_cover_about_the_requested_share_of_outcomes() -> None:
    rng = np.random.default_rng(8)
    y = 50 + rng.normal(0, 5, (400, 200 + 7))
    result = forecast(y[:, :200], horizon=7, season=None, level=0.8)
    inside = (y[:, 200:] >= result.lo) & (y[:, 200:] <= result.hi)
    assert 0.72 < inside.mean() < 0.90
    wider = forecast(y[:, :200], horizon=7, season=None, level=0.95)
    assert np.all(wider.hi - wider.lo > result.hi - result.lo)


def test_float32_input_is_computed_in_float32_and_agrees_with_float64() -> None:
    rng = np.random.default_rng(4)
    y = rng.poisson(12, (40, 120)).astype(np.float32)
    single = forecast(y, horizon=7, season=7)
    double = forecast(y.astype(np.float64), horizon=7, season=7)
    assert single.mean.dtype == np.float32
    assert np.abs(single.mean - double.mean).max() < 0.05 * double.mean.mean()


def test_threads_and_blocks_do_not_change_the_answer() -> None:
    rng = np.random.default_rng(6)
    y = rng.poisson(8, (300, 90)).astype(float)
    one = forecast(y, horizon=5, season=7)
    many = forecast(y, horizon=5, season=7, block=64, workers=2)
    np.testing.assert_array_equal(one.mean, many.mean)
    np.testing.assert_array_equal(one.model, many.model)


@pytest.mark.parametrize(
    "kwargs", [{"horizon": 0}, {"horizon": 3, "level": 1.0}, {"horizon": 3, "combine": 0}]
)
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        forecast(np.ones((2, 30)), **kwargs)


def test_season_follows_the_frequency_and_the_history_length() -> None:
    assert season_for("daily", 365) == 7
    assert season_for("weekly", 60) is None
    assert season_for("weekly", 160) == 52
    assert season_for("monthly", 36) == 12


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 60)),
        elements=st.one_of(st.floats(0, 1e4), st.just(np.nan)),
    ),
    st.integers(1, 12),
    st.sampled_from([None, 4, 7]),
)
def test_forecasts_are_finite_ordered_and_never_negative(
    y: np.ndarray, horizon: int, season: int | None
) -> None:
    result = forecast(y, horizon, season)
    for part in (result.mean, result.lo, result.hi, result.sigma):
        assert np.all(np.isfinite(part)) and np.all(part >= 0)
    assert np.all(result.lo <= result.mean + 1e-9) and np.all(result.mean <= result.hi + 1e-9)
    assert all(set(name.split("+")) <= set(MODELS) for name in result.model)


@pytest.mark.parametrize("series", [4, 300])  # running sums: np.cumsum, then row by row
@pytest.mark.parametrize("gaps", [False, True])
def test_running_least_squares_slopes_match_a_fit_of_each_prefix(series: int, gaps: bool) -> None:
    rng = np.random.default_rng(5)
    y = np.cumsum(rng.normal(1, 3, (30, series)), axis=0)
    w = (rng.random((30, series)) > 0.2).astype(float) if gaps else np.ones((30, series))
    slopes = least_squares_slopes(y, w if gaps else None)
    for t in range(30):
        for col in range(0, series, 75):
            seen = np.flatnonzero(w[: t + 1, col])
            if seen.size < MIN_TREND_POINTS:
                assert slopes[t, col] == 0
            else:
                expected = np.polyfit(seen, y[seen, col], 1)[0]
                assert slopes[t, col] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_a_short_yearly_history_keeps_a_steady_trend() -> None:
    rng = np.random.default_rng(8)
    t = np.arange(24 + 6)
    truth = 50 + 3.0 * t
    y = truth[None, :24] + rng.normal(0, 1.0, (10, 24))
    result = forecast(y, horizon=6)
    growth = (result.mean[:, -1] - result.mean[:, 0]) / 5
    assert np.all(np.abs(growth - 3.0) < 0.6)
    assert all(("holt_winters" in m) or ("theta" in m) for m in result.model)


def test_a_short_random_walk_is_not_given_a_trend_it_does_not_have() -> None:
    # Short yearly histories often wander without a lasting trend; a trend that the early
    # backtest origins happened to reward must not be extrapolated.
    rng = np.random.default_rng(9)
    y = 100 + np.cumsum(rng.normal(0, 5, (400, 30)), axis=1)
    history, future = y[:, :24], y[:, 24:]
    result = forecast(history, horizon=6)
    # (level-only models, or the strongly damped trend, whose growth fades within a few
    # periods: 83 % of the series; without that model 65 % were level-only)
    lasting = ("holt_winters", "theta")
    no_lasting_trend = np.array([not any(k in m for k in lasting) for m in result.model])
    assert no_lasting_trend.mean() > 0.5
    naive_error = np.abs(history[:, -1:] - future).mean()
    # (the naive forecast is the best one for a random walk; without the handicap on trend
    # models this was 4.2 % worse than it, with it 2.5 %)
    assert np.abs(result.mean - future).mean() < 1.035 * naive_error


def test_a_trend_that_is_levelling_off_is_not_carried_on_in_full() -> None:
    # Growth of 4 a period that has been fading by 15 % a period for the last 14: the
    # strongly damped Holt–Winters follows the fading; without it the engine carried a
    # trend on (mean error 3.5 against 1.2 for the last value held flat).
    rng = np.random.default_rng(11)
    t = np.arange(36)
    truth = 100 + np.cumsum(np.where(t < 16, 4.0, 4.0 * 0.85 ** (t - 16.0)))
    y = truth[None, :30] + rng.normal(0, 0.5, (50, 30))
    result = forecast(y, horizon=6)
    assert np.mean(["holt_damped" in m for m in result.model]) > 0.8
    naive_error = np.abs(y[:, -1:] - truth[30:]).mean()
    assert np.abs(result.mean - truth[30:]).mean() < 0.8 * naive_error


def test_a_noisy_daily_series_with_a_steady_week_gets_a_slow_level() -> None:
    # Level 20, a weekly swing of ±5 and noise of sd 6: the best smoothing keeps the level
    # and season almost fixed. With α ≥ 0.1 the level follows the noise (mean error
    # against the truth 1.9 here); α = 0.03 in the Holt–Winters grid takes it to 1.3.
    rng = np.random.default_rng(1)
    t = np.arange(364 + 14)
    truth = 20 + 5 * np.sin(2 * np.pi * t / 7)
    y = truth[None, :364] + rng.normal(0, 6, (40, 364))
    result = forecast(y, horizon=14, season=7, combine=1)
    assert np.abs(result.mean - truth[364:]).mean() < 1.5


def test_a_flat_noisy_series_gets_a_level_that_barely_moves() -> None:
    # Two years of demand around 20 with noise of sd 6: simple exponential smoothing with
    # α = 0.02 averages about 100 days (mean error 0.59 here), α = 0.05 only 40 (0.74).
    rng = np.random.default_rng(0)
    y = 20 + rng.normal(0, 6, (40, 730))
    result = forecast(y, horizon=14, season=None, combine=1)
    assert np.abs(result.mean - 20).mean() < 0.66
