"""Inventory policy: safety stock, reorder point, EOQ and order suggestions.

Every function works on NumPy arrays (one entry per item, broadcasting allowed)
and never loops over items in Python. Units: demand and its standard deviation
are *per period* (the period of the forecast, usually a day); lead times are in
the same periods.

Formulas (Silver, Pyke & Thomas, *Inventory and Production Management*):

- demand over the lead time:       D_L = d·L
- its standard deviation:          σ_DL = sqrt(L·σ_d² + d²·σ_L²)
- safety stock (cycle service):    SS = z·σ_DL,  z = Φ⁻¹(service level)
- safety stock (fill rate):        SS = k·σ_DL,  G(k) = (1 − fill)·Q / σ_DL
  with the unit normal loss G(k) = φ(k) − k·(1 − Φ(k))
- reorder point:                   ROP = D_L + SS
- economic order quantity:         EOQ = sqrt(2·D·S / H)
  (D annual demand, S cost per order, H holding cost per unit and year)
- order-up-to level (periodic review R): S = d·(L + R) + z·sqrt((L + R)·σ_d² + d²·σ_L²)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "OrderSuggestions",
    "economic_order_quantity",
    "fill_rate_k",
    "lead_time_demand_std",
    "min_max",
    "normal_cdf",
    "normal_loss",
    "normal_pdf",
    "normal_quantile",
    "order_up_to_level",
    "reorder_point",
    "safety_stock",
    "suggest_orders",
]

# Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425

# Chebyshev fit of erfc (Numerical Recipes `erfcc`), fractional error < 1.2e-7.
_ERFC = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def _poly(coefs: tuple[float, ...], x: np.ndarray) -> np.ndarray:
    """Horner evaluation, highest power first."""
    out = np.full_like(x, coefs[0])
    for c in coefs[1:]:
        out = out * x + c
    return out


def normal_quantile(p: ArrayLike) -> np.ndarray:
    """Φ⁻¹(p) for p in (0, 1): the z with P(Z ≤ z) = p (Acklam's algorithm)."""
    p = np.asarray(p, dtype=np.float64)
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("probabilities must lie strictly between 0 and 1")
    q = np.minimum(p, 1 - p)  # the tails are symmetric
    tail = np.sqrt(-2 * np.log(np.maximum(q, 1e-300)))
    x_tail = _poly(_C, tail) / (_poly(_D, tail) * tail + 1)
    r = (p - 0.5) ** 2
    x_mid = _poly(_A, r) * (p - 0.5) / (_poly(_B, r) * r + 1)
    x_tail = np.where(p < 0.5, x_tail, -x_tail)
    return np.where(q < _P_LOW, x_tail, x_mid)


def normal_pdf(x: ArrayLike) -> np.ndarray:
    """φ(x) = exp(−x²/2) / sqrt(2π)."""
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def normal_cdf(x: ArrayLike) -> np.ndarray:
    """Φ(x) = erfc(−x/√2) / 2, with erfc from a Chebyshev fit."""
    u = -np.asarray(x, dtype=np.float64) / np.sqrt(2.0)
    z = np.abs(u)
    t = 1.0 / (1.0 + 0.5 * z)
    # _ERFC is stored lowest power first; Horner needs the reverse.
    erfc = t * np.exp(-z * z + _poly(_ERFC[::-1], t))
    erfc = np.where(u >= 0, erfc, 2.0 - erfc)
    return 0.5 * erfc


def normal_loss(k: ArrayLike) -> np.ndarray:
    """Unit normal loss G(k) = φ(k) − k·(1 − Φ(k)): expected shortage per unit σ."""
    k = np.asarray(k, dtype=np.float64)
    return normal_pdf(k) - k * (1.0 - normal_cdf(k))


def fill_rate_k(
    fill_rate: ArrayLike,
    order_qty: ArrayLike,
    sigma_dl: ArrayLike,
    *,
    k_min: float = -4.0,
    k_max: float = 6.0,
) -> np.ndarray:
    """Safety factor k meeting a fill rate: solve G(k) = (1 − fill)·Q / σ_DL.

    G is strictly decreasing, so bisection on whole arrays converges for every item
    at once; the answer is clipped to [k_min, k_max].
    """
    fill, q, s = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (fill_rate, order_qty, sigma_dl))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        target = np.where(s > 0, (1.0 - fill) * q / s, np.inf)
    lo = np.full(target.shape, k_min)
    hi = np.full(target.shape, k_max)
    for _ in range(50):  # 10 / 2^50 is far below any meaningful precision
        mid = 0.5 * (lo + hi)
        too_low = normal_loss(mid) > target  # shortage still too big: raise k
        lo = np.where(too_low, mid, lo)
        hi = np.where(too_low, hi, mid)
    return 0.5 * (lo + hi)


def lead_time_demand_std(
    demand: ArrayLike, demand_std: ArrayLike, lead_time: ArrayLike, lead_time_std: ArrayLike = 0.0
) -> np.ndarray:
    """σ_DL = sqrt(L·σ_d² + d²·σ_L²)."""
    d, sd, lt, slt = (
        np.asarray(a, dtype=np.float64) for a in (demand, demand_std, lead_time, lead_time_std)
    )
    return np.sqrt(lt * sd**2 + d**2 * slt**2)


def safety_stock(
    demand: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
) -> np.ndarray:
    """SS = z·σ_DL with z = Φ⁻¹(cycle service level)."""
    z = normal_quantile(service_level)
    return z * lead_time_demand_std(demand, demand_std, lead_time, lead_time_std)


def reorder_point(demand: ArrayLike, lead_time: ArrayLike, safety: ArrayLike) -> np.ndarray:
    """ROP = d·L + SS."""
    return np.asarray(demand, dtype=np.float64) * np.asarray(
        lead_time, dtype=np.float64
    ) + np.asarray(safety, dtype=np.float64)


def economic_order_quantity(
    annual_demand: ArrayLike, ordering_cost: ArrayLike, holding_cost: ArrayLike
) -> np.ndarray:
    """EOQ = sqrt(2·D·S / H); 0 where there is no demand, inf where holding is free."""
    d, s, h = (
        np.asarray(a, dtype=np.float64) for a in (annual_demand, ordering_cost, holding_cost)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        eoq = np.sqrt(2.0 * np.maximum(d, 0.0) * s / h)
    return np.where(d > 0, eoq, 0.0)


def order_up_to_level(
    demand: ArrayLike,
    demand_std: ArrayLike,
    lead_time: ArrayLike,
    review_period: ArrayLike,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
) -> np.ndarray:
    """Periodic review: S = d·(L + R) + z·sqrt((L + R)·σ_d² + d²·σ_L²)."""
    protect = np.asarray(lead_time, dtype=np.float64) + np.asarray(review_period, dtype=np.float64)
    return np.asarray(demand, dtype=np.float64) * protect + safety_stock(
        demand, demand_std, protect, lead_time_std, service_level
    )


def min_max(reorder: ArrayLike, order_qty: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Min/max levels: min = ROP, max = ROP + Q (order back up to max when at or below min)."""
    low = np.asarray(reorder, dtype=np.float64)
    return low, low + np.asarray(order_qty, dtype=np.float64)


@dataclass(frozen=True)
class OrderSuggestions:
    """What to buy now, per item; every field is an array with one entry per item."""

    quantity: np.ndarray  # units to order now (int64), 0 when no order is due
    reorder_point: np.ndarray  # D_L + SS
    safety_stock: np.ndarray
    order_up_to: np.ndarray  # ROP + lot size: the level an order restores
    lead_time_demand: np.ndarray  # D_L, forecast demand while an order is in transit
    inventory_position: np.ndarray  # on_hand + on_order − reserved
    days_of_cover: np.ndarray  # periods until available stock runs out (inf: never)
    risk: np.ndarray  # "high" | "medium" | "low"
    urgent: np.ndarray  # stock on the shelf runs out within the lead time


def _demand_within(forecast: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Cumulative forecast demand over a (fractional) number of periods per item.

    Past the forecast horizon the mean forecast rate is carried on.
    """
    n, h = forecast.shape
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(forecast, axis=1)], axis=1)
    whole = np.clip(np.floor(periods).astype(np.int64), 0, h)
    rows = np.arange(n)
    inside = cum[rows, whole] + (periods - whole) * forecast[rows, np.minimum(whole, h - 1)]
    beyond = cum[:, h] + (periods - h) * cum[:, h] / h
    return np.where(periods <= h, inside, beyond)


def _periods_of_cover(forecast: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """First (fractional) period at which cumulative demand reaches the stock."""
    n, h = forecast.shape
    cum = np.cumsum(forecast, axis=1)
    k = np.sum(cum < stock[:, None], axis=1)  # whole periods fully covered
    rows = np.arange(n)
    before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    rate_here = forecast[rows, np.minimum(k, h - 1)]
    rate_tail = cum[:, -1] / h
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inside = k + (stock - before) / rate_here
        beyond = h + (stock - cum[:, -1]) / rate_tail
    cover = np.where(k < h, inside, np.where(rate_tail > 0, beyond, np.inf))
    return np.where(stock <= 0, 0.0, cover)


def suggest_orders(
    forecast: ArrayLike,
    sigma: ArrayLike,
    *,
    on_hand: ArrayLike,
    lead_time: ArrayLike,
    on_order: ArrayLike = 0,
    reserved: ArrayLike = 0,
    lead_time_std: ArrayLike = 0.0,
    service_level: ArrayLike = 0.95,
    fill_rate: ArrayLike | None = None,
    lot_size: ArrayLike | None = None,
    review_period: ArrayLike = 7,
    moq: ArrayLike = 0,
    pack_size: ArrayLike = 1,
) -> OrderSuggestions:
    """Turn forecasts and stock into purchase suggestions, for all items at once.

    forecast is (items × periods) of expected demand, sigma the one-step forecast error
    standard deviation per item. Then, per item:

    - D_L = forecast demand over the lead time L (the mean rate is carried on past the
      horizon), d = D_L / L, σ_DL = sqrt(L·σ² + d²·σ_L²);
    - SS = z·σ_DL for the cycle service level, or k·σ_DL for a fill-rate target
      (G(k) = (1 − fill)·Q / σ_DL);
    - ROP = D_L + SS; lot size Q = ``lot_size`` (e.g. an EOQ) or else the forecast demand
      of one review period; order-up-to level = ROP + Q;
    - inventory position IP = on_hand + on_order − reserved; when IP ≤ ROP the order is
      order-up-to − IP, raised to the MOQ and rounded up to whole packs, else 0;
    - days of cover: periods until on_hand − reserved is used up by the forecast;
      ``urgent`` when that happens before the lead time is over (open purchase orders
      are not assumed to arrive earlier than a new one would);
    - risk: "high" if urgent or IP − D_L ≤ 0 (a stock-out is expected before an order
      placed now arrives), "medium" if IP − D_L < SS, else "low".
    """
    f = np.maximum(np.atleast_2d(np.asarray(forecast, dtype=np.float64)), 0.0)
    n, _ = f.shape

    def per_item(a: ArrayLike) -> np.ndarray:
        return np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))

    lt, sd = per_item(lead_time), per_item(sigma)
    lead_demand = _demand_within(f, lt)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(lt > 0, lead_demand / lt, f[:, 0])
    sigma_dl = lead_time_demand_std(rate, sd, lt, per_item(lead_time_std))
    base_lot = (
        per_item(lot_size) if lot_size is not None else _demand_within(f, per_item(review_period))
    )
    if fill_rate is None:
        factor = normal_quantile(per_item(service_level))
    else:
        factor = fill_rate_k(per_item(fill_rate), np.maximum(base_lot, 1e-9), sigma_dl)
    safety = np.maximum(factor * sigma_dl, 0.0)
    rop = lead_demand + safety
    up_to = rop + base_lot

    position = per_item(on_hand) + per_item(on_order) - per_item(reserved)
    shortfall = np.where(position <= rop, up_to - position, 0.0)
    pack = np.maximum(per_item(pack_size), 1.0)
    wanted = np.maximum(shortfall, per_item(moq))
    qty = np.where(shortfall > 0, np.ceil(wanted / pack - 1e-9) * pack, 0.0).astype(np.int64)

    cover = _periods_of_cover(f, per_item(on_hand) - per_item(reserved))
    urgent = cover < lt
    projected = position - lead_demand
    risk = np.where(
        urgent | (projected <= 0), "high", np.where(projected < safety, "medium", "low")
    )
    return OrderSuggestions(
        quantity=qty,
        reorder_point=rop,
        safety_stock=safety,
        order_up_to=up_to,
        lead_time_demand=lead_demand,
        inventory_position=position,
        days_of_cover=cover,
        risk=risk,
        urgent=urgent,
    )
