"""Shopify's cost-based rate limit, mirrored on our side: one leaky bucket per store.

Every answer reports `throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}`; the
bucket takes those figures as the truth and refills at the restore rate between answers. A
request first takes its expected cost from the bucket and waits (sleeps, never spins) until
the bucket holds that much, so a sync stays under Shopify's limit instead of hitting it. All
callers of one store in a process share its bucket: partner reads run in parallel, while all
writes to the owner's store share one budget.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

# Shopify's standard plan until the first answer says otherwise.
DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE = 100.0


class Bucket:
    def __init__(self, maximum: float = DEFAULT_MAXIMUM, restore: float = DEFAULT_RESTORE) -> None:
        self.maximum = maximum
        self.restore = restore
        self.available = maximum
        self.at = time.monotonic()
        self.lock = asyncio.Lock()

    def level(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        return min(self.maximum, self.available + self.restore * (now - self.at))

    async def take(self, cost: float) -> None:
        """Wait until `cost` points are in the bucket, then take them."""
        cost = min(cost, self.maximum)
        async with self.lock:
            while True:
                now = time.monotonic()
                level = self.level(now)
                if level >= cost:
                    self.available, self.at = level - cost, now
                    return
                await asyncio.sleep((cost - level) / max(self.restore, 1.0))

    def give_back(self, cost: float) -> None:
        """Return points taken for a request that did not run."""
        now = time.monotonic()
        self.available, self.at = min(self.maximum, self.level(now) + cost), now

    def observe(self, status: dict[str, Any], refund: float = 0.0) -> None:
        """Adopt the figures of an answer's throttleStatus."""
        try:
            self.maximum = float(status["maximumAvailable"])
            self.restore = float(status["restoreRate"])
            self.available = float(status["currentlyAvailable"])
        except (KeyError, TypeError, ValueError):
            return
        self.at = time.monotonic()

    def wait_for(self, cost: float) -> float:
        """Seconds until the bucket holds `cost` points again."""
        return max(0.0, (min(cost, self.maximum) - self.level()) / max(self.restore, 1.0))


_buckets: dict[tuple[int, str], Bucket] = {}


def bucket_for(store: str) -> Bucket:
    """The bucket of one store (its API URL) for the running event loop."""
    key = (id(asyncio.get_running_loop()), store)
    bucket = _buckets.get(key)
    if bucket is None:
        if len(_buckets) > 10_000:
            _buckets.clear()
        bucket = _buckets[key] = Bucket()
    return bucket
