"""The cache's two leader jobs: write-through after each event, and the reconciliation loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from redis.exceptions import RedisError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db
from ..events.dispatcher import Sink
from ..events.feed import Event
from .figures import entries_for_skus, skus_at
from .reconcile import reconcile
from .redis_cache import AvailabilityCache

log = logging.getLogger(__name__)


class CacheSink(Sink):
    """Writes the figures of every SKU an event touched, read from the database at publish time."""

    name = "redis"

    def __init__(self, engine: Engine, cache: AvailabilityCache) -> None:
        self.engine = engine
        self.cache = cache

    async def deliver(self, events: list[Event]) -> None:
        touched: dict[str, set[str]] = defaultdict(set)
        moved: dict[str, set[str]] = defaultdict(set)  # locations whose zone or priority changed
        for ev in events:
            if ev.sku:
                touched[ev.tenant].add(ev.sku)
            elif ev.type == "location.updated" and ev.location and _shown(ev):
                moved[ev.tenant].add(ev.location)
        if touched or moved:
            await asyncio.to_thread(self._write, touched, moved)

    def _write(self, touched: dict[str, set[str]], moved: dict[str, set[str]]) -> None:
        now = db.utcnow()
        with db.read(self.engine) as conn:
            for tenant, codes in moved.items():
                touched[tenant] |= set(skus_at(conn, tenant, sorted(codes)))
            fresh = {t: entries_for_skus(conn, t, sorted(skus), now) for t, skus in touched.items()}
        for tenant, entries in fresh.items():
            self.cache.write(tenant, entries)  # raises while Redis is down: the batch is retried


def _shown(ev: Event) -> bool:
    """Whether a location change shows in cached entries (they carry zone and priority)."""
    return bool({"zone", "priority"} & set(ev.payload.get("changed") or ()))


async def keep(
    engine: Engine, cache: AvailabilityCache, interval: float, check_every: float = 0.5
) -> None:
    """Reconcile every `interval` seconds; rebuild first whenever Redis (re)appears unready.

    After an outage nothing cached can be trusted: the `ready` marker is dropped (readers go to
    the database), every figure is rewritten, and the marker comes back.
    """
    healthy: bool | None = None  # None: not checked yet
    due = 0.0
    while True:
        try:
            up = await asyncio.to_thread(cache.ping)
            if up and (healthy is False or not await asyncio.to_thread(cache.is_ready)):
                log.info("availability cache: rebuilding")
                await asyncio.to_thread(cache.set_ready, False)
                report = await asyncio.to_thread(reconcile, engine, cache, record=False)
                await asyncio.to_thread(cache.set_ready, True)
                log.info(
                    "availability cache rebuilt: %s items in %.1f s", report.checked, report.seconds
                )
                due = time.monotonic() + interval
            elif up and time.monotonic() >= due:
                report = await asyncio.to_thread(reconcile, engine, cache)
                if report.repaired:
                    log.warning(
                        "availability cache: repaired %s of %s figures",
                        report.repaired,
                        report.checked,
                    )
                due = time.monotonic() + interval
            healthy = up
        except asyncio.CancelledError:
            raise
        except (RedisError, SQLAlchemyError, OSError) as exc:
            log.warning("availability cache reconciliation failed (%s)", exc)
            healthy = False
        await asyncio.sleep(check_every)
