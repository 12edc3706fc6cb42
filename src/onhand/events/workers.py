"""The event jobs of `onhand serve`: one dispatcher per sink, the webhook sender, the cache
keeper. Each runs under its own leader, so with several processes each job runs in exactly one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from ..cache.redis_cache import AvailabilityCache

from ..settings import Settings
from ..stopping import cancel_all
from .alerts import AlertSink
from .dispatcher import Dispatcher, Sink
from .leader import Leader
from .tail import Notifier
from .webhook_delivery import Sender, WebhookSink


class EventWorkers:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.notifier = Notifier(engine)
        self.tasks: list[asyncio.Task] = []
        self.sinks: list[Sink] = []
        self.cache: AvailabilityCache | None = None

    async def start(self) -> None:
        s, engine = self.settings, self.engine
        lease = s.leader_lease_seconds
        await self.notifier.start()
        webhook_sink = WebhookSink()
        self.sinks = [AlertSink(), webhook_sink]
        if s.nats_url:
            from .nats_sink import NatsSink

            self.sinks.append(
                NatsSink(s.nats_url, stream=s.nats_stream, prefix=s.nats_subject_prefix)
            )
        if s.redis_url:
            from ..cache.keeper import CacheSink, keep
            from ..cache.redis_cache import AvailabilityCache

            self.cache = AvailabilityCache.from_settings(s, timeout=2.0)
            self.sinks.append(CacheSink(engine, self.cache))
            cache = self.cache
            self._spawn(
                "cache-reconcile",
                Leader(engine, "cache-reconcile", lease).run(
                    lambda: keep(engine, cache, s.reconcile_interval_seconds)
                ),
            )
        for sink in self.sinks:
            self._spawn(
                f"dispatch:{sink.name}",
                Dispatcher(engine, sink, self.notifier, lease_seconds=lease).run(),
            )
        sender = Sender(engine, s, webhook_sink.queued)
        self._spawn("webhook-sender", Leader(engine, "webhook-sender", lease).run(sender.run))

    def _spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        self.tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        await cancel_all(self.tasks)
        await self.notifier.stop()
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if close:
                await close()
        if self.cache is not None:
            self.cache.close()
