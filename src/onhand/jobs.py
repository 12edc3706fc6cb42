"""Background jobs run inside `onhand serve`: each job is one asyncio task."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from .events.workers import EventWorkers
from .settings import Settings
from .stopping import cancel_all

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
        from . import db
        from .counts.jobs import generate_forever
        from .events import alerts
        from .events.leader import Leader
        from .fulfilment.jobs import allocate_forever
        from .reservations.sweeper import sweep_forever
        from .stock.recall import expire_forever
        from .web.reports.tiles import refresh_forever

        def seed() -> None:
            with db.write(self.engine) as conn:
                alerts.seed(conn, db.utcnow())

        # Every item's alert level is known from the start (metrics, later crossings).
        await asyncio.to_thread(seed)

        self.tasks.append(asyncio.create_task(sweep_forever(self.engine), name="expiry-sweeper"))
        if not db.is_sqlite(self.engine):  # SQLite computes the console tiles on the fly
            tiles = Leader(self.engine, "console-tiles", self.settings.leader_lease_seconds)
            self.tasks.append(
                asyncio.create_task(
                    tiles.run(lambda: refresh_forever(self.engine)), name="console-tiles"
                )
            )
        counts = Leader(self.engine, "count-tasks", self.settings.leader_lease_seconds)
        self.tasks.append(
            asyncio.create_task(
                counts.run(lambda: generate_forever(self.engine)), name="count-tasks"
            )
        )
        allocator = Leader(self.engine, "backorder-allocator", self.settings.leader_lease_seconds)
        self.tasks.append(
            asyncio.create_task(
                allocator.run(lambda: allocate_forever(self.engine)), name="backorder-allocator"
            )
        )
        lot_expiry = Leader(self.engine, "lot-expiry", self.settings.leader_lease_seconds)
        self.tasks.append(
            asyncio.create_task(
                lot_expiry.run(lambda: expire_forever(self.engine)), name="lot-expiry"
            )
        )
        await self.events.start()
        from .channels.jobs import ChannelJobs  # live push and schedule, after the notifier

        self.channels = ChannelJobs(self.engine, self.settings, self.events.notifier)
        await self.channels.start()

    async def stop(self) -> None:
        await cancel_all(self.tasks)
        if self.channels:
            await self.channels.stop()
        await self.events.stop()
