"""Background jobs of the channels: the live push, driven by the outbox, and the schedule.

- `PushSink` is an outbox sink: in the dispatcher's transaction it queues each changed SKU
  once in channel_push_queue (a burst of changes to one item is one row), never from inside
  the stock transaction itself.
- The pusher drains that queue every `channel_push_seconds` and pushes the queued items to
  every enabled store, so a change reaches Shopify within seconds and coalesced per item.
- The scheduler starts the runs that are due (`sync_interval_minutes` after the last one),
  partners first, then stores.
Each runs under its own leader, so with several processes each job runs in exactly one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import db, tenancy
from ..events.dispatcher import Dispatcher, Sink
from ..events.feed import Event
from ..events.leader import Leader
from ..events.tail import Notifier
from ..settings import Settings
from ..stopping import cancel_all
from . import sync
from .tables import channel_push_queue, channels, sync_runs

log = logging.getLogger(__name__)


class PushSink(Sink):
    name = "channels"

    def apply(self, conn: Connection, events: list[Event]) -> None:
        rows = {
            (e.tenant, e.sku): {"tenant_id": e.tenant, "sku": e.sku, "queued_at": e.at}
            for e in events
            if e.type == "stock.changed" and e.sku
        }
        if rows:
            conn.execute(
                db.insert(conn, channel_push_queue).on_conflict_do_nothing(), list(rows.values())
            )


def take_queue(engine: Engine, limit: int = 5000) -> dict[str, set[str]]:
    """The queued SKUs by tenant, removed from the queue."""
    q = channel_push_queue
    with db.write(engine) as conn:
        rows = list(conn.execute(sa.select(q.c.tenant_id, q.c.sku).limit(limit)))
        for tenant in {r.tenant_id for r in rows}:
            conn.execute(
                q.delete().where(
                    tenancy.of(tenant, q),
                    q.c.sku.in_([r.sku for r in rows if r.tenant_id == tenant]),
                )
            )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r.tenant_id, set()).add(r.sku)
    return out


async def push_forever(ctx: sync.Context, every: float) -> None:
    while True:
        queued = await asyncio.to_thread(take_queue, ctx.engine)
        if queued:
            results = await asyncio.gather(
                *(sync.push(ctx, tenant, skus) for tenant, skus in queued.items()),
                return_exceptions=True,
            )
            for r in results:
                if isinstance(r, BaseException):
                    log.warning("live push failed: %r", r)
        await asyncio.sleep(every)


def due(engine: Engine) -> dict[str, list[Any]]:
    """Enabled channels whose last run started more than their interval ago, by tenant."""
    now = db.utcnow()
    last = (
        sa.select(sync_runs.c.channel_id, sa.func.max(sync_runs.c.started_at).label("last"))
        .group_by(sync_runs.c.channel_id)
        .subquery()
    )
    with db.read(engine) as conn:
        rows = list(
            conn.execute(
                sa.select(channels, last.c.last)
                .outerjoin(last, last.c.channel_id == channels.c.id)
                .where(channels.c.enabled)
            )
        )
    out: dict[str, list[Any]] = {}
    for r in rows:
        if r.last is None or r.last <= now - timedelta(minutes=r.sync_interval_minutes):
            out.setdefault(r.tenant_id, []).append(r)
    return out


async def schedule_forever(ctx: sync.Context, every: float) -> None:
    while True:
        for tenant, rows in (await asyncio.to_thread(due, ctx.engine)).items():
            rows.sort(key=lambda r: (r.role != "partner", r.code))
            started = await asyncio.to_thread(
                sync.start_runs, ctx.engine, tenant, [r.id for r in rows], "schedule"
            )
            roles = {r.id: r.role for r in rows}
            new = [(run.channel_id, roles[run.channel_id], run.id) for run, f in started if f]
            if new:
                sync.spawn(sync.run_in_order(ctx, tenant, new))
        await asyncio.sleep(every)


class ChannelJobs:
    def __init__(self, engine: Engine, settings: Settings, notifier: Notifier) -> None:
        self.engine, self.settings, self.notifier = engine, settings, notifier
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        s = self.settings
        lease = s.leader_lease_seconds
        try:
            ctx = sync.Context.of(self.engine, s)
        except Exception as exc:  # noqa: BLE001  (no key: channels cannot run, the rest can)
            log.warning("channel jobs not started: %s", exc)
            return
        dispatcher = Dispatcher(self.engine, PushSink(), self.notifier, lease_seconds=lease)
        self.tasks = [
            asyncio.create_task(dispatcher.run(), name="dispatch:channels"),
            asyncio.create_task(
                Leader(self.engine, "channel-push", lease).run(
                    lambda: push_forever(ctx, s.channel_push_seconds)
                ),
                name="channel-push",
            ),
            asyncio.create_task(
                Leader(self.engine, "channel-schedule", lease).run(
                    lambda: schedule_forever(ctx, s.channel_schedule_seconds)
                ),
                name="channel-schedule",
            ),
        ]

    async def stop(self) -> None:
        await cancel_all(self.tasks)
