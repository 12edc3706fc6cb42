"""Croston, SBA and TSB for intermittent demand, vectorised over series × parameters.

The classes follow the small protocol the forecast driver in ``forecast.py`` uses:
``start(y, w, first)`` takes time-major data (periods × series) and the observed-weights
(1 observed, 0 missing or None), ``step(t)`` consumes period t and returns the one-step
error for every parameter combination (combos × series, 0 where unobserved),
``ahead(j)`` gives the j-step forecast from the current state and ``factors`` the
variance multipliers of the chosen combinations.

Conventions (Croston 1972; Syntetos & Boylan 2005; Teunter, Syntetos & Babai 2011):
the states start at the first observed non-zero demand with size z₀ = that demand and
interval p₀ = the number of observed periods up to and including it; updating starts
with the period after it. Missing periods (stock-outs) are skipped entirely: they
neither count as zero demand nor lengthen the interval.

- Croston: on a demand y > 0 after q periods, z ← z + α(y − z), p ← p + α(q − p);
  forecast z / p.
- SBA: Croston times (1 − α/2), which removes Croston's positive bias.
- TSB: every observed period p ← p + β(1[y>0] − p) (p is now a probability, p₀ = 1/interval),
  and on a demand z ← z + α(y − z); forecast p · z.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Croston", "TSB", "croston", "sba", "tsb"]


def _first_demand(y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Index of the first observed demand, its size, and the observed periods up to it."""
    seen = y > 0 if w is None else (y > 0) & (w > 0)
    has = seen.any(axis=0)
    idx = np.where(has, seen.argmax(axis=0), y.shape[0])
    cols = np.arange(y.shape[1])
    size = np.where(has, y[np.minimum(idx, y.shape[0] - 1), cols], 0.0)
    if w is None:
        periods = idx + 1.0
    else:  # observed periods up to the first demand
        periods = (w * (np.arange(y.shape[0])[:, None] <= idx[None, :])).sum(axis=0)
    return idx, size.astype(y.dtype), np.maximum(periods, 1.0).astype(y.dtype)


class _Intermittent:
    """Shared bookkeeping, computed for all periods at once before the time loop.

    obs[t]: period t is observed and after the first demand; hit[t]: it has a demand;
    gap[t]: at a demand, the observed periods since the previous one (Croston's q).
    """

    # Set by _begin (masks) and by each subclass's start (smoothing constant and size state).
    all_obs: np.ndarray
    any_hit: np.ndarray
    a: np.ndarray
    z: np.ndarray

    def _begin(self, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        self.y = y
        first, z0, p0 = _first_demand(y, w)
        obs = np.arange(y.shape[0])[:, None] > first[None, :]
        if w is not None:
            obs &= w > 0
        hit = obs & (y > 0)
        self.obs, self.hit = obs.astype(y.dtype), hit.astype(y.dtype)
        self.gap = np.empty_like(self.obs)
        count, last = np.zeros(y.shape[1], y.dtype), np.zeros(y.shape[1], y.dtype)
        for t in range(y.shape[0]):  # faster than cumsum along axis 0
            count += self.obs[t]
            np.multiply(count - last, self.hit[t], out=self.gap[t])
            last = np.where(hit[t], count, last)
        self.all_obs, self.any_hit = np.asarray(obs.all(axis=1)), np.asarray(hit.any(axis=1))
        return z0, p0

    def _smooth_size(self, t: int) -> None:
        """z ← z + α(y − z) where period t has a demand."""
        d = self.y[t] - self.z
        d *= self.hit[t]
        d *= self.a
        self.z += d


class Croston(_Intermittent):
    """Croston's method and its SBA correction, in one pass (they share their states).

    Combinations 0..G−1 are Croston with the given α, G..2G−1 SBA with the same α.
    """

    name = "croston"

    def __init__(self, alpha: np.ndarray) -> None:
        self.alpha_one = np.asarray(alpha, dtype=np.float64).reshape(-1, 1)
        g = self.alpha_one.shape[0]
        self.alpha = np.concatenate([self.alpha_one, self.alpha_one])
        self.bias = np.concatenate([np.ones_like(self.alpha_one), 1 - self.alpha_one / 2])
        self.grid = 2 * g
        self.groups = {"croston": np.arange(g), "sba": np.arange(g, 2 * g)}

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        z0, p0 = self._begin(y, w)
        g = self.alpha_one.shape[0]
        self.a = self.alpha_one.astype(y.dtype)
        self.k = self.bias.reshape(2, g, 1).astype(y.dtype)
        self.z = np.broadcast_to(z0, (g, z0.size)).copy()
        self.p = np.broadcast_to(p0, (g, p0.size)).copy()
        self.rate = self.z / self.p

    def step(self, t: int) -> np.ndarray:
        e = self.y[t] - self.ahead(1)
        if not self.all_obs[t]:
            e *= self.obs[t]
        if self.any_hit[t]:
            self._smooth_size(t)
            d = self.gap[t] - self.p
            d *= self.hit[t]
            d *= self.a
            self.p += d
            self.rate = self.z / self.p
        return e

    def ahead(self, j: int) -> np.ndarray:
        return (self.k * self.rate).reshape(self.grid, -1)

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a = self.alpha[best, 0][:, None]
        return 1 + np.arange(h)[None, :] * a**2  # SES-like growth of the error variance


class TSB(_Intermittent):
    """Teunter–Syntetos–Babai: smooths demand probability every period, size on demand."""

    name = "tsb"

    def __init__(self, alpha: np.ndarray, beta: np.ndarray) -> None:
        self.alpha = np.asarray(alpha, dtype=np.float64).reshape(-1, 1)
        self.beta = np.asarray(beta, dtype=np.float64).reshape(-1, 1)
        self.grid = self.alpha.shape[0]

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        z0, p0 = self._begin(y, w)
        self.a, self.b = self.alpha.astype(y.dtype), self.beta.astype(y.dtype)
        self.z = np.broadcast_to(z0, (self.grid, z0.size)).copy()
        self.p = np.broadcast_to(1 / p0, (self.grid, p0.size)).copy()

    def step(self, t: int) -> np.ndarray:
        e = self.y[t] - self.ahead(1)
        d = self.hit[t] - self.p
        d *= self.b
        if not self.all_obs[t]:
            e *= self.obs[t]
            d *= self.obs[t]
        self.p += d
        if self.any_hit[t]:
            self._smooth_size(t)
        return e

    def ahead(self, j: int) -> np.ndarray:
        return self.p * self.z

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a = self.alpha[best, 0][:, None]
        return 1 + np.arange(h)[None, :] * a**2


def _run_fixed(model: Croston | TSB, y: np.ndarray, combo: int = 0) -> np.ndarray:
    """Filter series × periods data with one parameter set; return the next-period forecast."""
    yt = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=np.float64)).T)
    model.start(yt, None, np.zeros(yt.shape[1], dtype=np.int64))
    for t in range(yt.shape[0]):
        model.step(t)
    return model.ahead(1)[combo]


def croston(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Croston forecast per series (rows of ``y``) with a fixed smoothing constant."""
    return _run_fixed(Croston(np.array([alpha])), y, 0)


def sba(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Syntetos–Boylan approximation: Croston × (1 − α/2)."""
    return _run_fixed(Croston(np.array([alpha])), y, 1)


def tsb(y: np.ndarray, alpha: float = 0.1, beta: float = 0.1) -> np.ndarray:
    """TSB forecast per series with fixed size (α) and probability (β) constants."""
    return _run_fixed(TSB(np.array([alpha]), np.array([beta])), y)
