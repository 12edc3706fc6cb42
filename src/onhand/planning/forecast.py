"""Demand forecasts for many series at once, in plain NumPy.

Input is a 2-D array (series × periods). Work is split into blocks of series; inside a
block every model runs over all series *and* all of its parameter combinations in one
array (combos × series), stepping through time. There is no Python loop over series.

Models (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, ch. 8):

- seasonal naive: ŷ_{T+j} = y_{T+j−m·⌈j/m⌉}
- simple exponential smoothing: ℓ ← ℓ + α·e
- additive Holt–Winters with damped trend, in error-correction form:
  ŷ = ℓ + φb + s_{t−m};  e = y − ŷ;  ℓ ← ℓ + φb + α·e;  b ← φb + β·e;  s_t ← s_{t−m} + γ·e;
  j-step forecast ℓ + (φ + … + φʲ)·b + s. Without a season it is Holt's damped trend.
- the same on log(y) for strictly positive series (multiplicative seasonality and trend).
- Croston, SBA and TSB for intermittent series (see ``intermittent.py``).

Fitting: each model's parameters come from a small grid evaluated for all series at
once; per series the combination with the least in-sample one-step squared error wins.
Model choice: a rolling-origin backtest over the last K·h periods (K ≤ 3 origins, each
forecasting h steps from the state at that origin, with parameters chosen on the data
before the first origin only), scored by mean absolute error (mean squared error for
intermittent series, since absolute error rewards forecasting zero). The winner is
averaged with up to two runners-up within 1.5× its backtest error (``combine``).

Intervals: sd_j = σ·sqrt(1 + Σ_{i<j} c_i²) with σ the one-step residual standard deviation
and c_i = α + β(φ + … + φⁱ) + γ·1[m | i] (exact for additive ETS; α alone for SES and the
intermittent models; seasonal naive uses σ·sqrt(⌈j/m⌉)). Bounds are mean ± z·sd, z the
normal quantile of the level, computed on the log scale for the log model; everything
is clipped at zero because demand is never negative.

Missing periods — NaN values or a ``stockout`` mask — are treated as unknown, never as
zero demand: the smoothing models carry their own one-step forecast through them (error
0, no learning), seasonal naive fills them from the previous season, and they are left
out of every error measure.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from onhand.planning.intermittent import TSB, Croston
from onhand.planning.policy import normal_quantile

__all__ = ["MODELS", "ForecastResult", "HoltWinters", "SES", "forecast", "season_for"]

MODELS = ("seasonal_naive", "ses", "holt_winters", "holt_winters_log", "croston", "sba", "tsb")
SES_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
HW_ALPHAS = (0.1, 0.3)
HW_GAMMAS = (0.05, 0.2)
# (β/α, φ): a slow, lightly damped trend, a quicker, strongly damped one, and an undamped
# one: damped trends alone lag a steady trend (a series growing 0.25 a day was forecast
# to grow 0.1). Grids of 16 to 60 combinations did not forecast better on the accuracy
# benchmark's validation windows, and cost up to 5 times as much.
HW_TRENDS = ((0.02, 0.98), (0.15, 0.9), (0.1, 1.0))
COMBINE_RATIO = 1.5  # models within 1.5× the best backtest error are averaged
INTERMITTENT_ALPHAS = (0.05, 0.1, 0.2, 0.3)
TSB_ALPHAS = (0.05, 0.2)
TSB_BETAS = (0.02, 0.05, 0.1, 0.2)
INTERMITTENT_ADI = 1.32  # Syntetos–Boylan cut-off on the mean demand interval


@dataclass(frozen=True)
class ForecastResult:
    """Forecasts of n series for h periods after each series' last period."""

    mean: np.ndarray  # (n, h) point forecast
    lo: np.ndarray  # (n, h) lower bound of the central interval
    hi: np.ndarray  # (n, h) upper bound
    model: np.ndarray  # (n,) name of the model chosen per series
    sigma: np.ndarray  # (n,) one-step residual standard deviation (for safety stock)
    level: float  # coverage of [lo, hi]


class Model(Protocol):
    """What the driver needs from a model: combinations stepped through time together."""

    name: str
    grid: int  # number of parameter combinations

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None: ...
    def step(self, t: int) -> np.ndarray: ...  # one-step errors (combos × series)
    def ahead(self, j: int) -> np.ndarray: ...  # j-step forecasts from the current state
    def factors(self, best: np.ndarray, h: int) -> np.ndarray: ...  # variance multipliers


def season_for(frequency: str, periods: int) -> int | None:
    """The seasonal period for a data frequency, or None when history is too short."""
    m = {"daily": 7, "weekly": 52, "monthly": 12, "quarterly": 4}.get(frequency)
    return m if m is not None and periods >= 2 * m else None


class SES:
    """Simple exponential smoothing over a grid of α."""

    name = "ses"

    def __init__(self, alphas: tuple[float, ...] = SES_ALPHAS) -> None:
        self.alpha = np.asarray(alphas, dtype=np.float64).reshape(-1, 1)
        self.grid = self.alpha.shape[0]

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        self.y, self.w = y, w
        level, _, _ = _initial_states(y, w, first, 1)
        self.a = self.alpha.astype(y.dtype)
        self.level = np.broadcast_to(level.astype(y.dtype), (self.grid, y.shape[1])).copy()
        self.e, self.tmp = np.empty_like(self.level), np.empty_like(self.level)

    def step(self, t: int) -> np.ndarray:
        e = np.subtract(self.y[t], self.level, out=self.e)
        if self.w is not None:
            e *= self.w[t]
        self.level += np.multiply(self.a, e, out=self.tmp)
        return e

    def ahead(self, j: int) -> np.ndarray:
        return self.level

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        return 1 + np.arange(h)[None, :] * self.alpha[best] ** 2


class HoltWinters:
    """Additive Holt–Winters with damped trend over a grid of (α, β, γ, φ)."""

    name = "holt_winters"

    def __init__(
        self, season: int, alpha: np.ndarray, beta: np.ndarray, gamma: np.ndarray, phi: np.ndarray
    ) -> None:
        self.m = max(int(season), 1)
        col = lambda a: np.asarray(a, dtype=np.float64).reshape(-1, 1)  # noqa: E731
        self.alpha, self.beta, self.gamma, self.phi = map(col, (alpha, beta, gamma, phi))
        if self.m == 1:
            self.gamma = np.zeros_like(self.gamma)
        self.grid = self.alpha.shape[0]

    @classmethod
    def gridded(cls, season: int) -> HoltWinters:
        """The default parameter grid (γ only where a season exists, γ ≤ 1 − α)."""
        gammas = HW_GAMMAS if season > 1 else (0.0,)
        rows = [
            (a, a * share, g, phi)
            for a in HW_ALPHAS
            for share, phi in HW_TRENDS
            for g in gammas
            if g <= 1 - a
        ]
        return cls(season, *np.array(rows).T)

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        self.y, self.w, self.t = y, w, 0
        level, slope, seasonal = _initial_states(y, w, first, self.m)
        dt = y.dtype
        self.a, self.b_, self.g, self.p = (
            v.astype(dt) for v in (self.alpha, self.beta, self.gamma, self.phi)
        )
        shape = (self.grid, y.shape[1])
        self.level = np.broadcast_to(level.astype(dt), shape).copy()
        self.slope = np.broadcast_to(slope.astype(dt), shape).copy()
        self.first, self.last_start = first, int(first.max(initial=0))
        self.damped: dict[int, np.ndarray] = {}  # φ + … + φʲ per j, computed once
        self.season = np.broadcast_to(
            seasonal[:, None, :].astype(dt), (self.m, self.grid, y.shape[1])
        ).copy()
        self.e, self.tmp = np.empty_like(self.level), np.empty_like(self.level)

    def step(self, t: int) -> np.ndarray:
        self.t = t + 1
        s = self.season[t % self.m]
        if t < self.last_start:
            # Before its first observation a series stands still (no trend drift), so
            # that late starters are fitted as if their history began at period 0.
            alive = t >= self.first
            self.slope *= np.where(alive, self.p, 1)
            self.level += self.slope * alive
        else:
            self.slope *= self.p  # φb
            self.level += self.slope  # ℓ + φb
        e, tmp = np.subtract(self.y[t], self.level, out=self.e), self.tmp
        if self.m > 1:
            e -= s
        if self.w is not None:
            e *= self.w[t]
        self.level += np.multiply(self.a, e, out=tmp)
        self.slope += np.multiply(self.b_, e, out=tmp)
        if self.m > 1:
            s += np.multiply(self.g, e, out=tmp)
        return e

    def ahead(self, j: int) -> np.ndarray:
        if j not in self.damped:
            self.damped[j] = _damped_sum(self.phi, j).astype(self.level.dtype)
        trend = self.damped[j] * self.slope
        return self.level + trend + self.season[(self.t + j - 1) % self.m]

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a, b, g, p = (v[best] for v in (self.alpha, self.beta, self.gamma, self.phi))
        i = np.arange(1, h)[None, :]
        c = a + b * _damped_sum(p, i) + g * (i % self.m == 0)
        return np.concatenate([np.ones_like(a), 1 + np.cumsum(c**2, axis=1)], axis=1)


def _damped_sum(phi: np.ndarray, j: np.ndarray | int) -> np.ndarray:
    """φ + φ² + … + φʲ (j when φ = 1, an undamped trend)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(phi == 1, j * np.ones_like(phi), phi * (1 - phi**j) / (1 - phi))


def _initial_states(
    y: np.ndarray, w: np.ndarray | None, first: np.ndarray, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level (one period before the first observation), slope and seasonal slots.

    A weighted least-squares line through the first 2–4 seasons (blocks of 2 periods
    without a season) from each series' first observation gives level and slope; the
    mean deviation from that line per position in the season gives the seasonal
    indices, stored in slot (t mod m) of the period they belong to, summing to zero.
    """
    periods, n = y.shape
    p = m if m > 1 else 2
    width = p * max(2, min(4, periods // (2 * p)))
    x = np.arange(width, dtype=np.float64)[:, None]
    idx = first[None, :] + np.arange(width)[:, None]
    inside = idx < periods
    idx = np.minimum(idx, periods - 1)
    cols = np.arange(n)
    vals = y[idx, cols].astype(np.float64)
    wt = inside * (1.0 if w is None else w[idx, cols].astype(np.float64))
    total = np.maximum(wt.sum(axis=0), 1e-12)
    x_bar = (wt * x).sum(axis=0) / total
    y_bar = (wt * vals).sum(axis=0) / total
    spread = (wt * (x - x_bar) ** 2).sum(axis=0)
    slope = np.where(
        spread > 0, (wt * (x - x_bar) * (vals - y_bar)).sum(axis=0) / np.maximum(spread, 1e-12), 0.0
    )
    level = y_bar - slope * (x_bar + 1)
    seasonal = np.zeros((m, n))
    if m > 1:
        dev = (vals - y_bar - slope * (x - x_bar)) * wt
        phase = np.arange(width) % m
        sums = np.zeros((m, n))
        counts = np.zeros((m, n))
        np.add.at(sums, phase, dev)
        np.add.at(counts, phase, wt)
        index = sums / np.maximum(counts, 1e-12)
        index -= index.sum(axis=0) / m
        seasonal[(first[None, :] + np.arange(m)[:, None]) % m, cols] = index
    return level, slope, seasonal


@dataclass(frozen=True)
class _Block:
    """One block of series, time-major, with everything the models share."""

    y: np.ndarray  # (T, n) demand; unobserved entries hold 0
    w: np.ndarray | None  # (T, n) 1 observed / 0 missing; None when all observed
    first: np.ndarray  # (n,) first observed period
    season: int  # 1 when there is none
    horizon: int
    origins: tuple[int, ...]  # backtest origins, ascending; () when history is short
    burn: int  # start-up periods left out of the in-sample error
    v: np.ndarray | None  # (T, n) w without each series' own start-up periods

    def take(self, cols: np.ndarray) -> _Block:
        if cols.all():
            return self
        pick = lambda a: None if a is None else a[:, cols]  # noqa: E731
        return _Block(
            self.y[:, cols],
            pick(self.w),
            self.first[cols],
            self.season,
            self.horizon,
            self.origins,
            self.burn,
            pick(self.v),
        )

    def scored(self) -> np.ndarray:
        """Periods per series that count in the in-sample error."""
        if self.v is None:
            return np.full(self.y.shape[1], float(self.y.shape[0] - self.burn))
        return self.v.sum(axis=0, dtype=np.float64)

    def observed(self, rows: slice) -> np.ndarray:
        """Observed periods per series within rows."""
        if self.w is None:
            return np.full(self.y.shape[1], float(len(range(*rows.indices(self.y.shape[0])))))
        return self.w[rows].sum(axis=0, dtype=np.float64)

    def backtest_count(self) -> np.ndarray:
        cnt = np.zeros(self.y.shape[1])
        for o in self.origins:
            cnt += self.observed(slice(o, o + self.horizon))
        return cnt


@dataclass(frozen=True)
class _Fit:
    """One model's result for a block: forecasts, residual σ and backtest errors."""

    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    sigma: np.ndarray
    mae: np.ndarray
    mse: np.ndarray


def _origins(periods: int, horizon: int, season: int) -> tuple[int, ...]:
    """Up to 3 origins h apart, keeping at least two seasons (and 6 periods) before them."""
    need = max(2 * season, 6)
    k = 3
    while k > 0 and periods - k * horizon < need:
        k -= 1
    return tuple(periods - i * horizon for i in range(k, 0, -1))


def _prepare(y: np.ndarray, stockout: np.ndarray | None, horizon: int, season: int) -> _Block:
    dtype = np.float32 if y.dtype == np.float32 else np.float64
    yt = np.ascontiguousarray(y.T, dtype=dtype)
    missing = ~np.isfinite(yt)
    if stockout is not None:
        missing |= np.asarray(stockout, dtype=bool).T
    w = v = None
    first = np.zeros(yt.shape[1], dtype=np.int64)
    origins = _origins(yt.shape[0], horizon, season)
    burn = min(season, (origins[0] if origins else yt.shape[0]) // 2)
    if missing.any():
        yt[missing] = 0
        w = (~missing).astype(dtype)
        first = np.where(w.any(axis=0), w.argmax(axis=0), 0)
        since = np.arange(yt.shape[0])[:, None] - first[None, :]
        v = w * ((since < 0) | (since >= burn))  # burn-in counts from each series' start
    return _Block(yt, w, first, season, horizon, origins, burn, v)


def _filled(b: _Block) -> np.ndarray:
    """History with missing periods copied from one season earlier (the series mean
    within the first season)."""
    y = b.y.copy()
    if b.w is None:
        return y
    fill = (y * b.w).sum(axis=0) / np.maximum(b.w.sum(axis=0), 1)
    for t in range(y.shape[0]):  # a loop over time; each row covers every series
        y[t] = np.where(b.w[t] > 0, y[t], y[t - b.season] if t >= b.season else fill)
    return y


def _seasonal_naive(b: _Block, z: float) -> dict[str, _Fit]:
    """Seasonal naive in closed form: ŷ_{T+j} = y_{T+j−m·⌈j/m⌉}."""
    m, h, (periods, n) = b.season, b.horizon, b.y.shape
    y = _filled(b)
    err = y[m:] - y[:-m]
    if b.v is not None:
        err *= b.v[m:]
        count = b.v[m:].sum(axis=0, dtype=np.float64)
    else:
        count = np.full(n, float(periods - m))
    sigma = np.sqrt(np.einsum("tn,tn->n", err, err, dtype=np.float64) / np.maximum(count - 1, 1))
    steps = np.arange(h)
    abs_err, sq_err = np.zeros(n), np.zeros(n)
    for o in b.origins:
        e = b.y[o : o + h] - y[o - m + steps % m]
        if b.w is not None:
            e *= b.w[o : o + h]
        abs_err += np.abs(e).sum(axis=0)
        sq_err += np.einsum("tn,tn->n", e, e, dtype=np.float64)
    mean = y[periods - m + steps % m].T.astype(np.float64)
    sd = sigma[:, None] * np.sqrt(steps // m + 1)[None, :]
    mae, mse = _scores(b, abs_err, sq_err, sigma)
    return {"seasonal_naive": _Fit(mean, mean - z * sd, mean + z * sd, sigma, mae, mse)}


def _scores(
    b: _Block, abs_err: np.ndarray, sq_err: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backtest MAE and MSE; without origins the in-sample σ stands in for both."""
    if not b.origins:
        return sigma, sigma**2
    cnt = np.maximum(b.backtest_count(), 1)
    return abs_err / cnt, sq_err / cnt


def _run(
    model: Model,
    b: _Block,
    z: float,
    log: bool = False,
    name: str | None = None,
    squared: bool | None = None,
) -> dict[str, _Fit]:
    """Filter every parameter combination through time, backtest, then forecast.

    ``model.groups`` (default: all combinations under ``model.name``) lets one pass
    serve several named models that share their states, such as Croston and SBA.
    ``squared`` limits the backtest to squared (True) or absolute (False) errors when
    only one of them will be used.
    """
    y = np.log(np.where(b.y > 0, b.y, 1)) if log else b.y
    model.start(y, b.w, b.first)
    periods, n = y.shape
    shape = (model.grid, n)
    sse, tmp = np.zeros(shape, y.dtype), np.empty(shape, y.dtype)
    sse_pre = sse
    bt_abs, bt_sq = np.zeros(shape, y.dtype), np.zeros(shape, y.dtype)
    split = b.origins[0] if b.origins else periods
    for t in range(periods):
        if t in b.origins:
            _backtest(
                model, b, t, log, None if squared else bt_abs, None if squared is False else bt_sq
            )
        if t == split:
            sse_pre = sse.copy()
        e = model.step(t)
        if b.v is not None:
            np.multiply(e, e, out=tmp)
            tmp *= b.v[t]
            sse += tmp
        elif t >= b.burn:
            np.multiply(e, e, out=tmp)
            sse += tmp
    ahead = np.stack([model.ahead(j) for j in range(1, b.horizon + 1)])  # (h, combos, n)
    count = np.maximum(b.scored() - 1, 1)
    groups = getattr(model, "groups", None) or {name or model.name: np.arange(model.grid)}
    return {
        name: _pick(model, b, z, log, idx, (sse, sse_pre, bt_abs, bt_sq), ahead, count)
        for name, idx in groups.items()
    }


def _pick(
    model: Model,
    b: _Block,
    z: float,
    log: bool,
    idx: np.ndarray,
    errors: tuple[np.ndarray, ...],
    ahead: np.ndarray,
    count: np.ndarray,
) -> _Fit:
    """Per series, the combination (among idx) with the least in-sample error."""
    sse, sse_pre, bt_abs, bt_sq = errors
    cols = np.arange(sse.shape[1])
    best = idx[sse[idx].argmin(axis=0)]
    chosen = idx[sse_pre[idx].argmin(axis=0)] if b.origins else best
    sigma = np.sqrt(sse[best, cols] / count)
    mean = ahead[:, best, cols].T.astype(np.float64)
    sd = sigma[:, None] * np.sqrt(model.factors(best, b.horizon))
    lo, hi = mean - z * sd, mean + z * sd
    if log:
        mean, lo, hi = _exp(mean), _exp(lo), _exp(hi)
        sigma = sigma * mean[:, 0]  # delta method: σ_y ≈ ŷ·σ_log
    mae, mse = _scores(b, bt_abs[chosen, cols], bt_sq[chosen, cols], sigma)
    return _Fit(mean, lo, hi, sigma, mae, mse)


def _exp(x: np.ndarray) -> np.ndarray:
    """exp for the log model, capped so that a runaway fit cannot overflow (it loses the
    backtest instead)."""
    cap = 40.0 if x.dtype == np.float32 else 300.0
    return np.exp(np.minimum(x, cap))


def _backtest(
    model: Model,
    b: _Block,
    origin: int,
    log: bool,
    bt_abs: np.ndarray | None,
    bt_sq: np.ndarray | None,
) -> None:
    """Add the errors of the h forecasts made from the state at this origin."""
    for j in range(1, b.horizon + 1):
        guess = model.ahead(j)
        if log:
            guess = _exp(guess)
        e = b.y[origin + j - 1] - guess
        if b.w is not None:
            e *= b.w[origin + j - 1]
        if bt_abs is not None:
            bt_abs += np.abs(e)
        if bt_sq is not None:
            e *= e
            bt_sq += e


def _classify(b: _Block) -> tuple[np.ndarray, np.ndarray]:
    """Intermittent (mean interval between demands ≥ 1.32) and strictly positive series."""
    observed = b.observed(slice(0, None))
    seen = b.y > 0 if b.w is None else (b.y > 0) & (b.w > 0)
    demands = seen.sum(axis=0)
    intermittent = observed >= INTERMITTENT_ADI * np.maximum(demands, 1)
    positive = demands == observed
    return intermittent & (demands > 0), positive & (demands > 0)


def _families(b: _Block) -> list[tuple[str, np.ndarray]]:
    """Model families and the series each is fitted to."""
    intermittent, positive = _classify(b)
    everyone = np.ones_like(intermittent)
    return [
        ("seasonal_naive", everyone),
        ("ses", everyone),
        ("holt_winters", ~intermittent),
        ("holt_winters_log", ~intermittent & positive),
        ("croston", intermittent),
        ("tsb", intermittent),
    ]


def _fit_family(name: str, b: _Block, z: float) -> dict[str, _Fit]:
    if name == "seasonal_naive":
        return _seasonal_naive(b, z)
    if name == "ses":
        return _run(SES(), b, z)
    # Smooth series are judged on absolute, intermittent ones on squared backtest errors.
    if name in ("holt_winters", "holt_winters_log"):
        return _run(
            HoltWinters.gridded(b.season), b, z, log=name.endswith("_log"), name=name, squared=False
        )
    if name == "croston":  # one pass gives Croston and SBA
        return _run(Croston(np.array(INTERMITTENT_ALPHAS)), b, z, squared=True)
    alpha, beta = np.meshgrid(np.array(TSB_ALPHAS), np.array(TSB_BETAS))
    return _run(TSB(alpha.ravel(), beta.ravel()), b, z, squared=True)


def _forecast_block(
    y: np.ndarray, stockout: np.ndarray | None, horizon: int, season: int, z: float, combine: int
) -> tuple[np.ndarray, ...]:
    """Fit every eligible model on one block; per series average the best few.

    Up to ``combine`` models are averaged: the backtest winner and the runners-up whose
    backtest error is within ``COMBINE_RATIO`` times the winner's. Averaging a few good
    models forecasts better than betting on one (tuned on the accuracy benchmark).
    """
    b = _prepare(y, stockout, horizon, season)
    n = b.y.shape[1]
    intermittent, _ = _classify(b)
    k = len(MODELS)
    score, sigmas = np.full((k, n), np.inf), np.zeros((k, n))
    fits = np.zeros((3, k, n, horizon), dtype=b.y.dtype)  # mean, lo, hi
    for family, eligible in _families(b):
        cols = np.flatnonzero(eligible)
        if cols.size == 0:
            continue
        for name, fit in _fit_family(family, b.take(eligible), z).items():
            code = MODELS.index(name)
            score[code, cols] = np.where(intermittent[cols], fit.mse, fit.mae)
            for i, part in enumerate((fit.mean, fit.lo, fit.hi)):
                fits[i, code, cols] = part
            sigmas[code, cols] = fit.sigma
    score = np.where(np.isnan(score), np.inf, score)
    rank = np.argsort(score, axis=0, kind="stable")[:combine]
    cols = np.arange(n)
    top = score[rank, cols]
    use = (top <= COMBINE_RATIO * top[0]) & np.isfinite(top)
    use[0] = True
    weight = use / use.sum(axis=0)
    mean, lo, hi = (np.einsum("kn,knh->nh", weight, f[rank, cols]) for f in fits)
    sigma = (weight * sigmas[rank, cols]).sum(axis=0)
    members = np.zeros(n, dtype=np.int64)
    for r in range(rank.shape[0]):
        members |= use[r] * (1 << rank[r])
    return (np.maximum(mean, 0), np.maximum(lo, 0), np.maximum(hi, 0), members, sigma)


def _member_names(members: np.ndarray) -> np.ndarray:
    """Bit sets of models to names such as "holt_winters+seasonal_naive"."""
    codes, inverse = np.unique(members, return_inverse=True)
    names = ["+".join(m for i, m in enumerate(MODELS) if c >> i & 1) for c in codes]
    return np.asarray(names, dtype=object)[inverse].astype(str)


def _blocks(y: np.ndarray, stockout: np.ndarray | None, size: int) -> list[np.ndarray]:
    """Row indices per block; series with missing periods get blocks of their own, so
    that complete series skip the bookkeeping that missing data needs."""
    gaps = ~np.isfinite(y).all(axis=1)
    if stockout is not None:
        gaps |= np.asarray(stockout, dtype=bool).any(axis=1)
    groups = (np.flatnonzero(~gaps), np.flatnonzero(gaps))
    return [g[i : i + size] for g in groups for i in range(0, g.size, size)]


def forecast(
    y: np.ndarray,
    horizon: int,
    season: int | None = None,
    *,
    stockout: np.ndarray | None = None,
    level: float = 0.8,
    combine: int = 3,
    block: int = 8192,
    workers: int = 1,
    on_block: Callable[[int], None] | None = None,
) -> ForecastResult:
    """Forecast every row of ``y`` (series × periods) for ``horizon`` periods.

    ``season`` is the seasonal period (7 for daily data, 52 weekly, 12 monthly) or None.
    ``stockout`` (same shape, bool) marks periods whose demand is unknown because the
    shelf was empty; NaN in ``y`` means the same. ``combine`` is the most models averaged
    per series (1: pure backtest selection). Series are processed ``block`` at a
    time (bounding memory), on ``workers`` threads (NumPy releases the GIL), and
    ``on_block`` is called with the number of series finished after each block.
    float32 input is computed in float32, anything else in float64.
    """
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] == 0:
        raise ValueError("y must be a 2-D array of series × periods with at least one period")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if not 0 < level < 1:
        raise ValueError("level must lie strictly between 0 and 1")
    if combine < 1:
        raise ValueError("combine must be at least 1")
    if stockout is not None and np.shape(stockout) != y.shape:
        raise ValueError("stockout must have the same shape as y")
    m = season if season and season > 1 and y.shape[1] >= 2 * season else 1
    z = float(normal_quantile((1 + level) / 2))
    n = y.shape[0]
    dtype = np.float32 if y.dtype == np.float32 else np.float64
    mean, lo, hi = (np.empty((n, horizon), dtype) for _ in range(3))
    sigma, members = np.empty(n, dtype), np.empty(n, np.int64)

    def run(rows: np.ndarray) -> None:
        mask = None if stockout is None else np.asarray(stockout)[rows]
        mean[rows], lo[rows], hi[rows], members[rows], sigma[rows] = _forecast_block(
            y[rows], mask, horizon, m, z, combine
        )
        if on_block is not None:
            on_block(rows.size)

    blocks = _blocks(y, stockout, block)
    if workers > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, blocks))
    else:
        for rows in blocks:
            run(rows)
    return ForecastResult(mean, lo, hi, _member_names(members), sigma, level)
