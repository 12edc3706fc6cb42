"""Smoothing models stepped through time for many series and parameter sets at once.

Every model follows the small protocol the driver needs (``Model``): ``start`` takes
time-major data (periods × series), ``step(t)`` consumes period t and returns the one-step
errors of every parameter combination (combos × series), ``ahead(j)`` gives the j-step
forecasts from the current state, and ``factors`` the forecast-variance multipliers of the
chosen combinations. Formulas (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, ch. 8) are in ``forecast.py``'s docstring and docs/planning.md.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = [
    "HW_ALPHAS",
    "HW_GAMMAS",
    "HW_TRENDS",
    "SES",
    "SES_ALPHAS",
    "HoltWinters",
    "Model",
    "Theta",
]

# α = 0.02 (SES) and 0.03 (Holt–Winters): a level that averages months of noisy daily
# demand. On the accuracy benchmark's three validation windows they took mean MASE
# 1.299 → 1.293, 1.226 → 1.223 and 0.944 → 0.941 (the 32 daily pizza series most).
SES_ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)
HW_ALPHAS = (0.03, 0.1, 0.3)
HW_GAMMAS = (0.05, 0.2)
# (β/α, φ): a slow, lightly damped trend, a quicker, strongly damped one, and an undamped
# one: damped trends alone lag a steady trend (a series growing 0.25 a day was forecast
# to grow 0.1). Grids of 16 to 60 combinations did not forecast better on the accuracy
# benchmark's validation windows, and cost up to 5 times as much.
HW_TRENDS = ((0.02, 0.98), (0.15, 0.9), (0.1, 1.0))
# Without a season (yearly data, short histories) there is no γ axis and the series are
# usually short, so a finer grid is cheap: α up to 0.95 (a level that follows the data
# almost as a random walk does), β/α from 0.05 to 0.7 and φ ∈ {0.85, 0.95, 1}. On the
# accuracy benchmark's validation windows the two-α grid lagged every turn of the yearly
# trends (mean MASE of the 46 cigarette series 3.29 against 2.71).
HW_FLAT_ALPHAS = (0.3, 0.6, 0.8, 0.95)
HW_FLAT_SHARES = (0.05, 0.1, 0.2, 0.4, 0.7)
HW_FLAT_PHIS = (0.85, 0.95, 1.0)
# The strongly damped variant, a model of its own (its trend fades within a few periods,
# so it is handicapped less than the others in the backtest): φ ∈ {0.8, 0.9}; α, β/α from
# a grid as wide as the one above without a season, as HW_ALPHAS with one.
HW_DAMPED_PHIS = (0.8, 0.9)
HW_DAMPED_FLAT_ALPHAS = (0.2, 0.5, 0.8)
HW_DAMPED_FLAT_SHARES = (0.05, 0.2, 0.5)
HW_DAMPED_SHARES = (0.05, 0.2)
THETA_ALPHAS = (0.1, 0.3, 0.6)
THETAS = (2.0, 3.0, np.inf)  # drift = (1 − 1/θ) × the least-squares slope so far
THETA_GAMMAS = (0.05, 0.2)
MIN_TREND_POINTS = 4  # observed periods before a Theta drift is used


class Model(Protocol):
    """What the driver needs from a model: combinations stepped through time together."""

    name: str
    grid: int  # number of parameter combinations

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None: ...
    def step(self, t: int) -> np.ndarray: ...  # one-step errors (combos × series)
    def ahead(self, j: int) -> np.ndarray: ...  # j-step forecasts from the current state
    def factors(self, best: np.ndarray, h: int) -> np.ndarray: ...  # variance multipliers


class SES:
    """Simple exponential smoothing over a grid of α."""

    name = "ses"

    def __init__(self, alphas: tuple[float, ...] = SES_ALPHAS) -> None:
        self.alpha = np.asarray(alphas, dtype=np.float64).reshape(-1, 1)
        self.grid = self.alpha.shape[0]

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        self.y, self.w = y, w
        level, _, _ = initial_states(y, w, first, 1)
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
        if season <= 1:
            flat = [
                (a, a * share, 0.0, phi)
                for a in HW_FLAT_ALPHAS
                for share in HW_FLAT_SHARES
                for phi in HW_FLAT_PHIS
            ]
            return cls(season, *np.array(flat).T)
        gammas = HW_GAMMAS
        rows = [
            (a, a * share, g, phi)
            for a in HW_ALPHAS
            for share, phi in HW_TRENDS
            for g in gammas
            if g <= 1 - a
        ]
        return cls(season, *np.array(rows).T)

    @classmethod
    def strongly_damped(cls, season: int) -> HoltWinters:
        """The strongly damped grid: φ ∈ HW_DAMPED_PHIS (γ ≤ 1 − α where a season exists)."""
        flat = season <= 1
        rows = [
            (a, a * share, g, phi)
            for a in (HW_DAMPED_FLAT_ALPHAS if flat else HW_ALPHAS)
            for share in (HW_DAMPED_FLAT_SHARES if flat else HW_DAMPED_SHARES)
            for phi in HW_DAMPED_PHIS
            for g in ((0.0,) if flat else HW_GAMMAS)
            if g <= 1 - a
        ]
        return cls(season, *np.array(rows).T)

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        self.y, self.w, self.t = y, w, 0
        level, slope, seasonal = initial_states(y, w, first, self.m)
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
            self.damped[j] = damped_sum(self.phi, j).astype(self.level.dtype)
        trend = self.damped[j] * self.slope
        return self.level + trend + self.season[(self.t + j - 1) % self.m]

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a, b, g, p = (v[best] for v in (self.alpha, self.beta, self.gamma, self.phi))
        i = np.arange(1, h)[None, :]
        c = a + b * damped_sum(p, i) + g * (i % self.m == 0)
        return np.concatenate([np.ones_like(a), 1 + np.cumsum(c**2, axis=1)], axis=1)


def damped_sum(phi: np.ndarray, j: np.ndarray | int) -> np.ndarray:
    """φ + φ² + … + φʲ (j when φ = 1, an undamped trend)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(phi == 1, j * np.ones_like(phi), phi * (1 - phi**j) / (1 - phi))


def initial_states(
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


class Theta(HoltWinters):
    """The Theta method as simple exponential smoothing with drift (Hyndman & Billah 2003),
    made dynamic and seasonal, over a grid of (α, θ, γ).

    The drift is (1 − 1/θ)·B_t, with B_t the least-squares slope of the observed history
    up to t (updated every period, so a backtest never sees the future; Fiorucci et al.
    2016). θ = 2 is the classic Theta method (half the slope); a larger θ follows the
    trend more fully (θ = ∞: the whole slope); θ = 1 would be SES. The season is a state
    of its own as in additive Holt–Winters:
    ŷ = ℓ + d + s_{t−m};  ℓ ← ℓ + d + α·e;  s_t ← s_{t−m} + γ·e;  j-step ℓ + j·d + s.
    Groups: "theta" is the classic θ = 2, "theta_opt" chooses θ per series as well.
    """

    name = "theta"

    def __init__(
        self, season: int, alpha: np.ndarray, theta: np.ndarray, gamma: np.ndarray
    ) -> None:
        ones = np.ones_like(np.asarray(alpha, dtype=np.float64))
        super().__init__(season, alpha, 0 * ones, gamma, ones)
        self.theta = np.asarray(theta, dtype=np.float64).reshape(-1, 1)
        self.share = 1 - 1 / self.theta
        classic = np.flatnonzero(self.theta[:, 0] == 2)
        self.groups = {"theta": classic, "theta_opt": np.arange(self.grid)}

    @classmethod
    def gridded(cls, season: int) -> Theta:
        gammas = THETA_GAMMAS if season > 1 else (0.0,)
        rows = [(a, th, g) for a in THETA_ALPHAS for th in THETAS for g in gammas]
        return cls(season, *np.array(rows).T)

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        super().start(y, w, first)
        self.slope[:] = 0
        self.k = self.share.astype(y.dtype)
        self.slopes = least_squares_slopes(y, w)
        self.trend = np.zeros(y.shape[1], dtype=y.dtype)

    def step(self, t: int) -> np.ndarray:
        self.t = t + 1
        s = self.season[t % self.m]
        np.multiply(self.k, self.trend, out=self.slope)  # the drift d
        self.level += self.slope
        e, tmp = np.subtract(self.y[t], self.level, out=self.e), self.tmp
        if self.m > 1:
            e -= s
        if self.w is not None:
            e *= self.w[t]
        self.level += np.multiply(self.a, e, out=tmp)
        if self.m > 1:
            s += np.multiply(self.g, e, out=tmp)
        self.trend = self.slopes[t]
        return e

    def ahead(self, j: int) -> np.ndarray:
        drift = self.k * self.trend
        return self.level + j * drift + self.season[(self.t + j - 1) % self.m]


def least_squares_slopes(y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Per period t and series, the weighted least-squares slope of the observed data up
    to and including t (0 before MIN_TREND_POINTS observations), from running sums of
    count, Σt, Σt², Σy and Σty, all periods at once. Without missing data the first three
    are the same for every series."""
    t = np.arange(y.shape[0], dtype=np.float64)[:, None]
    if w is None:
        c, st, stt = t + 1, np.cumsum(t, axis=0), np.cumsum(t * t, axis=0)
        yw = y.astype(np.float64)
    else:
        wt = w.astype(np.float64)
        c, st, stt = (_accumulate(wt * t**k) for k in range(3))
        yw = y * wt
    slope = _accumulate(yw * t)  # Σty, becoming the slope in place
    sy = _accumulate(yw)
    slope *= c
    sy *= st
    slope -= sy
    spread = c * stt - st * st
    enough = (c >= MIN_TREND_POINTS) & (spread > 0)
    slope /= np.where(enough, spread, 1)
    slope *= enough
    return slope.astype(y.dtype)


def _accumulate(a: np.ndarray) -> np.ndarray:
    """Running sums down the rows, in place. For many series a row at a time is several
    times faster than np.cumsum along the first axis; for a few, np.cumsum is."""
    if a.ndim == 1 or a.shape[1] < 256:
        return np.cumsum(a, axis=0, out=a)
    for i in range(1, a.shape[0]):
        np.add(a[i], a[i - 1], out=a[i])
    return a
