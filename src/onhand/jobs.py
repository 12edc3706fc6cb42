"""Background jobs run inside `onhand serve`: each job is one asyncio task."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine

from .events.workers import EventWorkers
from .settings import Settings


class Jobs:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.tasks: list[asyncio.Task] = []
        # Outbox dispatchers, webhook sender, cache reconciliation: each under its own leader.
        self.events = EventWorkers(engine, settings)

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

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.events.stop()
