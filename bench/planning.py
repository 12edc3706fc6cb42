"""The planning kernels alone: forecast + policy + order suggestions for N synthetic series.

What it measures: `forecast()` and `suggest_orders()` with the settings `POST /plan` and
`onhand plan` use (`plan.FORECAST_BLOCK` series per block on `plan.FORECAST_WORKERS`
threads, float32, the default history of `PlanSettings.history_days` days and horizon of
`horizon_days`), on synthetic arrays: no database, no history read, nothing stored. The
whole service path (ledger read, forecast, policy, suggestions written) is measured by
`bench/plan_e2e.py`.

Generates N synthetic daily demand series (half smooth with a weekly pattern, a quarter
trending, a quarter intermittent, plus optional stock-out stretches), then runs them
through the real engine chunk by chunk, so memory stays bounded whatever N is:

    python bench/planning.py --series 1000000 --json

Prints one JSON line: series, days, seconds_generate, seconds_forecast, seconds_policy
(wall clock), cpu_seconds_forecast (CPU time of the process: on a shared machine wall
time includes waiting for the CPU), load_average (1-minute, at the start),
series_per_second (forecast + policy), peak_memory_mb (ru_maxrss), and a few totals
that show the work was done.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import Counter

import numpy as np

from onhand.planning import plan
from onhand.planning.forecast import forecast
from onhand.planning.policy import economic_order_quantity, suggest_orders
from onhand.planning.settings import PlanSettings


def synthetic_demand(
    rng: np.random.Generator, n: int, days: int, stockouts: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """Daily demand (n × days, float32) and a stock-out mask (None when stockouts is 0)."""
    t = np.arange(days, dtype=np.float32)
    kind = rng.random(n)
    base = rng.uniform(2, 60, n).astype(np.float32)[:, None]
    weekly = 1 + rng.uniform(0, 0.5, (n, 1)).astype(np.float32) * np.sin(
        2 * np.pi * (t[None, :] + rng.integers(0, 7, (n, 1))) / 7
    )
    slope = np.where(kind[:, None] >= 0.5, rng.uniform(-0.001, 0.004, (n, 1)), 0)
    rate = base * weekly * (1 + slope * t[None, :]).astype(np.float32)
    noise = rng.standard_normal((n, days), dtype=np.float32)
    y = np.maximum(np.rint(rate + np.sqrt(rate) * noise), 0)
    sparse = kind >= 0.75  # intermittent: rare orders of a few units
    if sparse.any():
        k = int(sparse.sum())
        occurs = rng.random((k, days), dtype=np.float32) < rng.uniform(0.05, 0.4, (k, 1))
        y[sparse] = occurs * (1 + rng.poisson(rng.uniform(0.5, 4, (k, 1)), (k, days)))
    mask = None
    if stockouts > 0:
        hit = rng.random(n) < stockouts
        start = rng.integers(0, days - 10, n)[:, None]
        mask = hit[:, None] & (t[None, :] >= start) & (t[None, :] < start + 7)
        y[mask] = 0  # what a stock-out looks like in sales data
    return y.astype(np.float32), mask


def plan_chunk(
    rng: np.random.Generator,
    y: np.ndarray,
    mask: np.ndarray | None,
    horizon: int,
    block: int,
    workers: int,
) -> tuple[float, float, dict[str, object]]:
    start, cpu = time.perf_counter(), time.process_time()
    fc = forecast(y, horizon, plan.SEASON, stockout=mask, block=block, workers=workers)
    mid, cpu = time.perf_counter(), time.process_time() - cpu
    n = y.shape[0]
    daily = fc.mean.mean(axis=1)
    eoq = economic_order_quantity(
        daily * 365, ordering_cost=rng.uniform(20, 80, n), holding_cost=rng.uniform(0.5, 5, n)
    )
    days_held = rng.uniform(0, 40, n)  # stock on hand, as days of forecast demand
    orders = suggest_orders(
        fc.mean,
        fc.sigma,
        on_hand=np.rint(daily * days_held),
        on_order=rng.integers(0, 3, n) * np.rint(daily * 7),
        reserved=np.rint(daily * rng.uniform(0, 1, n)),
        lead_time=rng.integers(2, 15, n),
        lead_time_std=1.0,
        service_level=0.95,
        lot_size=eoq,
        moq=rng.integers(0, 50, n),
        pack_size=rng.choice([1, 6, 12, 24], n),
    )
    end = time.perf_counter()
    totals = {
        "cpu_seconds_forecast": cpu,
        "units_suggested": int(orders.quantity.sum()),
        "items_to_order": int((orders.quantity > 0).sum()),
        "urgent": int(orders.urgent.sum()),
        "risk": Counter(orders.risk.tolist()),
        "models": Counter(m for name in fc.model.tolist() for m in name.split("+")),
    }
    return mid - start, end - mid, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    defaults = PlanSettings()
    parser.add_argument("--days", type=int, default=defaults.history_days)
    parser.add_argument("--horizon", type=int, default=defaults.horizon_days)
    parser.add_argument("--chunk", type=int, default=plan.FORECAST_CHUNK)
    parser.add_argument("--block", type=int, default=plan.FORECAST_BLOCK)
    parser.add_argument("--workers", type=int, default=plan.FORECAST_WORKERS)
    parser.add_argument(
        "--stockouts", type=float, default=0.05, help="share of series with a 7-day stock-out"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    load = os.getloadavg()[0]
    t_gen = t_fc = t_pol = 0.0
    summary: dict[str, object] = {
        "cpu_seconds_forecast": 0.0,
        "units_suggested": 0,
        "items_to_order": 0,
        "urgent": 0,
        "risk": Counter(),
        "models": Counter(),
    }
    for lo in range(0, args.series, args.chunk):
        n = min(args.chunk, args.series - lo)
        t0 = time.perf_counter()
        y, mask = synthetic_demand(rng, n, args.days, args.stockouts)
        t_gen += time.perf_counter() - t0
        fc_s, pol_s, totals = plan_chunk(rng, y, mask, args.horizon, args.block, args.workers)
        t_fc, t_pol = t_fc + fc_s, t_pol + pol_s
        for key, value in totals.items():
            summary[key] += value  # type: ignore[operator]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    report = {
        "series": args.series,
        "days": args.days,
        "horizon": args.horizon,
        "chunk": args.chunk,
        "block": args.block,
        "workers": args.workers,
        "settings_of_the_service": args.block == plan.FORECAST_BLOCK
        and args.workers == plan.FORECAST_WORKERS,
        "seconds_generate": round(t_gen, 2),
        "seconds_forecast": round(t_fc, 2),
        "seconds_policy": round(t_pol, 2),
        "series_per_second": round(args.series / (t_fc + t_pol)),
        "peak_memory_mb": round(peak, 1),
        "load_average": round(load, 2),
    }
    report |= {
        k: dict(v) if isinstance(v, Counter) else round(v, 2) if isinstance(v, float) else v
        for k, v in summary.items()
    }
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
