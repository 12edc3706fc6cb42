"""Rate limits per client address: 429 with Retry-After past the limit.

Fixed windows of `rate_limit_window_seconds` on the wall clock, so every process agrees where a
window starts. Counts live in process memory by default; with `ONHAND_REDIS_URL` set they live
in Redis (one INCR per request), so several processes behind a load balancer share them. When
Redis does not answer, each process falls back to its own counts rather than refusing traffic.

The key is (rate class, tenant, client address): `public` tokens are limited (they sit in web
pages, anyone can copy them), `storefront` tokens only when `storefront_rate_limit` is set (a
checkout server sends a whole flash sale from one address), admin and sync never.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import redis
import redis.asyncio as aioredis
from starlette.requests import HTTPConnection

from .auth import Caller
from .errors import RateLimited
from .installation import redis_prefix
from .settings import Settings

log = logging.getLogger(__name__)


class TooManyRequests(RateLimited):
    def __init__(self, retry_after: int, limit: int, window: int) -> None:
        super().__init__(
            f"More than {limit} requests in {window} s from this address; "
            f"retry in {retry_after} s.",
            retry_after=retry_after,  # problems.py sends it as Retry-After too
        )


class MemoryLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one request; the seconds to wait when it is over the limit, else None."""
        now = time.time()
        index = int(now // window)
        seen, count = self._counts.get(key, (index, 0))
        count = count + 1 if seen == index else 1
        self._counts[key] = (index, count)
        if len(self._counts) > 100_000:  # forget finished windows
            self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
        return _wait(now, index, window) if count > limit else None


class RedisLimiter:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = aioredis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self.prefix = prefix
        self.fallback = MemoryLimiter()
        self._warned = 0.0

    async def hit(self, key: str, limit: int, window: int) -> int | None:
        now = time.time()
        index = int(now // window)
        name = f"{self.prefix}ratelimit:{key}:{index}"
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, window + 1)
                count, _ = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            if time.monotonic() - self._warned > 60:
                log.warning("rate limits: Redis unreachable (%s); counting per process", exc)
                self._warned = time.monotonic()
            return await self.fallback.hit(key, limit, window)
        return _wait(now, index, window) if int(count) > limit else None


def _wait(now: float, index: int, window: int) -> int:
    return max(1, math.ceil((index + 1) * window - now))


def make_limiter(settings: Settings) -> MemoryLimiter | RedisLimiter:
    if settings.redis_url:
        return RedisLimiter(settings.redis_url, redis_prefix(settings))
    return MemoryLimiter()


def limit_for(settings: Settings, rate_class: str) -> int:
    return settings.public_rate_limit if rate_class == "public" else settings.storefront_rate_limit


async def check(conn: HTTPConnection, caller: Caller) -> None:
    """Raise TooManyRequests when the caller's address is over its class's limit."""
    rate_class = caller.rate_class
    if rate_class is None:
        return
    state: Any = conn.app.state
    settings: Settings = state.settings
    limit = limit_for(settings, rate_class)
    if limit <= 0:
        return
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = state.rate_limiter = make_limiter(settings)
    address = conn.client.host if conn.client else "unknown"
    window = settings.rate_limit_window_seconds
    wait = await limiter.hit(f"{rate_class}:{caller.tenant}:{address}", limit, window)
    if wait is not None:
        raise TooManyRequests(wait, limit, window)
