"""Background jobs run inside `onhand serve`: each job is one asyncio task."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from .events.workers import EventWorkers
from .settings import Settings

if TYPE_CHECKING:
    from .channels.jobs import ChannelJobs


class Jobs:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.tasks: list[asyncio.Task] = []
        # Outbox dispatchers, webhook sender, cache reconciliation: each under its own leader.
        self.events = EventWorkers(engine, settings)
        self.channels: ChannelJobs | None = None

    async def start(self) -> None:
        from .events.leader import Leader
        from .fulfilment.jobs import allocate_forever
        from .reservations.sweeper import sweep_forever

        self.tasks.append(asyncio.create_task(sweep_forever(self.engine), name="expiry-sweeper"))
        allocator = Leader(self.engine, "backorder-allocator", self.settings.leader_lease_seconds)
        self.tasks.append(
            asyncio.create_task(
                allocator.run(lambda: allocate_forever(self.engine)), name="backorder-allocator"
            )
        )
        await self.events.start()
        from .channels.jobs import ChannelJobs  # live push and schedule, after the notifier

        self.channels = ChannelJobs(self.engine, self.settings, self.events.notifier)
        await self.channels.start()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.channels:
            await self.channels.stop()
        await self.events.stop()
