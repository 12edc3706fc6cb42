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
    else:
        periods = np.cumsum(w, axis=0)[np.minimum(idx, y.shape[0] - 1), cols]
    return idx, size.astype(y.dtype), np.maximum(periods, 1.0).astype(y.dtype)


class _Intermittent:
    """Shared bookkeeping: which periods are observed and after the first demand."""

    def _begin(self, y: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        self.y, self.w = y, w
        self.active_from, z0, p0 = _first_demand(y, w)
        self.q = np.zeros(y.shape[1], dtype=y.dtype)  # observed periods since last demand
        return z0, p0

    def _observed(self, t: int) -> np.ndarray:
        live = t > self.active_from
        return live if self.w is None else live & (self.w[t] > 0)


class Croston(_Intermittent):
    """Croston's method (``variant="croston"``) or its SBA correction (``"sba"``)."""

    def __init__(self, alpha: np.ndarray, variant: str = "croston") -> None:
        self.alpha = np.asarray(alpha, dtype=np.float64).reshape(-1, 1)
        self.name = variant
        self.grid = self.alpha.shape[0]
        self.bias = 1 - self.alpha / 2 if variant == "sba" else np.ones_like(self.alpha)

    def start(self, y: np.ndarray, w: np.ndarray | None, first: np.ndarray) -> None:
        z0, p0 = self._begin(y, w)
        self.a = self.alpha.astype(y.dtype)
        self.k = self.bias.astype(y.dtype)
        self.z = np.broadcast_to(z0, (self.grid, z0.size)).copy()
        self.p = np.broadcast_to(p0, (self.grid, p0.size)).copy()

    def step(self, t: int) -> np.ndarray:
        obs = self._observed(t)
        e = (self.y[t] - self.ahead(1)) * obs
        self.q += obs
        hit = obs & (self.y[t] > 0)
        if hit.any():
            self.z = np.where(hit, self.z + self.a * (self.y[t] - self.z), self.z)
            self.p = np.where(hit, self.p + self.a * (self.q - self.p), self.p)
            self.q[hit] = 0
        return e

    def ahead(self, j: int) -> np.ndarray:
        return self.k * self.z / self.p

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a = self.alpha[best, 0][:, None]
        return 1 + np.arange(h)[None, :] * a**2  # SES-like growth of the error variance

    def params(self, best: np.ndarray) -> dict[str, np.ndarray]:
        return {"alpha": self.alpha[best, 0]}


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
        obs = self._observed(t)
        e = (self.y[t] - self.ahead(1)) * obs
        hit = obs & (self.y[t] > 0)
        self.p += self.b * (hit - self.p) * obs
        if hit.any():
            self.z = np.where(hit, self.z + self.a * (self.y[t] - self.z), self.z)
        return e

    def ahead(self, j: int) -> np.ndarray:
        return self.p * self.z

    def factors(self, best: np.ndarray, h: int) -> np.ndarray:
        a = self.alpha[best, 0][:, None]
        return 1 + np.arange(h)[None, :] * a**2

    def params(self, best: np.ndarray) -> dict[str, np.ndarray]:
        return {"alpha": self.alpha[best, 0], "beta": self.beta[best, 0]}


def _run_fixed(model: Croston | TSB, y: np.ndarray) -> np.ndarray:
    """Filter series × periods data with one parameter set; return the next-period forecast."""
    yt = np.ascontiguousarray(np.atleast_2d(np.asarray(y, dtype=np.float64)).T)
    model.start(yt, None, np.zeros(yt.shape[1], dtype=np.int64))
    for t in range(yt.shape[0]):
        model.step(t)
    return model.ahead(1)[0]


def croston(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Croston forecast per series (rows of ``y``) with a fixed smoothing constant."""
    return _run_fixed(Croston(np.array([alpha])), y)


def sba(y: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Syntetos–Boylan approximation: Croston × (1 − α/2)."""
    return _run_fixed(Croston(np.array([alpha]), "sba"), y)


def tsb(y: np.ndarray, alpha: float = 0.1, beta: float = 0.1) -> np.ndarray:
    """TSB forecast per series with fixed size (α) and probability (β) constants."""
    return _run_fixed(TSB(np.array([alpha]), np.array([beta])), y)
