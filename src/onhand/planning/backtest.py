"""Blocks of series, the time loop that fits a model on them, and its rolling-origin backtest.

``run`` filters every parameter combination of a model through time; at each backtest
origin it forecasts h steps from the state there and adds the errors (parameters for
this are chosen on the data before the first origin only). ``_pick`` then chooses, per
series, the combination with the least in-sample one-step squared error. Seasonal naive
needs no time loop and is scored here in closed form on the same origins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import Model

__all__ = ["Block", "Fit", "prepare", "run", "seasonal_naive"]


@dataclass(frozen=True)
class Block:
    """One block of series, time-major, with everything the models share."""

    y: np.ndarray  # (T, n) demand; unobserved entries hold 0
    w: np.ndarray | None  # (T, n) 1 observed / 0 missing; None when all observed
    first: np.ndarray  # (n,) first observed period
    season: int  # 1 when there is none
    horizon: int
    origins: tuple[int, ...]  # backtest origins, ascending; () when history is short
    burn: int  # start-up periods left out of the in-sample error
    v: np.ndarray | None  # (T, n) w without each series' own start-up periods

    def take(self, cols: np.ndarray) -> Block:
        if cols.all():
            return self
        pick = lambda a: None if a is None else a[:, cols]  # noqa: E731
        return Block(
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
class Fit:
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


def prepare(y: np.ndarray, stockout: np.ndarray | None, horizon: int, season: int) -> Block:
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
    return Block(yt, w, first, season, horizon, origins, burn, v)


def _filled(b: Block) -> np.ndarray:
    """History with missing periods copied from one season earlier (the series mean
    within the first season)."""
    y = b.y.copy()
    if b.w is None:
        return y
    fill = (y * b.w).sum(axis=0) / np.maximum(b.w.sum(axis=0), 1)
    for t in range(y.shape[0]):  # a loop over time; each row covers every series
        y[t] = np.where(b.w[t] > 0, y[t], y[t - b.season] if t >= b.season else fill)
    return y


def seasonal_naive(b: Block, z: float) -> dict[str, Fit]:
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
    return {"seasonal_naive": Fit(mean, mean - z * sd, mean + z * sd, sigma, mae, mse)}


def _scores(
    b: Block, abs_err: np.ndarray, sq_err: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backtest MAE and MSE; without origins the in-sample σ stands in for both."""
    if not b.origins:
        return sigma, sigma**2
    cnt = np.maximum(b.backtest_count(), 1)
    return abs_err / cnt, sq_err / cnt


def run(
    model: Model,
    b: Block,
    z: float,
    log: bool = False,
    name: str | None = None,
    squared: bool | None = None,
) -> dict[str, Fit]:
    """Filter every parameter combination through time, backtest, then forecast.

    ``model.groups`` (default: all combinations under ``model.name``) lets one pass
    serve several named models that share their states, such as Croston and SBA (on the
    log scale their names get "_log").
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
    suffix = "_log" if log and getattr(model, "groups", None) else ""
    return {
        group + suffix: _pick(model, b, z, log, idx, (sse, sse_pre, bt_abs, bt_sq), ahead, count)
        for group, idx in groups.items()
    }


def _pick(
    model: Model,
    b: Block,
    z: float,
    log: bool,
    idx: np.ndarray,
    errors: tuple[np.ndarray, ...],
    ahead: np.ndarray,
    count: np.ndarray,
) -> Fit:
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
    return Fit(mean, lo, hi, sigma, mae, mse)


def _exp(x: np.ndarray) -> np.ndarray:
    """exp for the log model, capped so that a runaway fit cannot overflow (it loses the
    backtest instead)."""
    cap = 40.0 if x.dtype == np.float32 else 300.0
    return np.exp(np.minimum(x, cap))


def _backtest(
    model: Model,
    b: Block,
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
