"""The outbox dispatcher: hands committed outbox rows to one sink, at least once, in id order.

Each sink (NATS, webhooks, the Redis cache, threshold alerts, …) has its own cursor row in
`event_cursors` and its own leader, so a slow or broken sink delays nobody else and only one
process in the fleet does a sink's side effects. A batch is first delivered (`Sink.deliver`,
external side effects, retried with backoff until it succeeds), then `Sink.apply` (database
side effects) and the cursor advance commit in one transaction. A crash between the two means
the batch is delivered again after the restart, with the same event ids: consumers dedupe by
id (NATS does it itself through Nats-Msg-Id). The cursor update is fenced on the value it
read, so a deposed leader that still runs can never move it backwards or apply twice.

Which rows are safe to deliver, and why an id gap is waited for, is explained in `tail.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import db
from . import metrics
from .feed import Event, last_id
from .leader import Leader
from .tables import event_cursors
from .tail import Notifier, OutboxTail, wait

log = logging.getLogger(__name__)


class Sink:
    """Override `deliver` for side effects outside the database, `apply` for those inside it."""

    name = "sink"

    async def deliver(self, events: list[Event]) -> None:
        """Raise to have the whole batch retried later."""

    def apply(self, conn: Connection, events: list[Event]) -> None:
        """Runs in the transaction that advances the cursor: exactly once per event."""


class FencedOut(Exception):
    """Another dispatcher moved this sink's cursor: we are no longer its leader."""


def load_cursor(engine: Engine, sink: str) -> int:
    """The sink's cursor; a new sink starts at the present (it does not replay history)."""
    with db.write(engine) as conn:
        row = conn.execute(
            sa.select(event_cursors.c.last_id).where(event_cursors.c.sink == sink)
        ).first()
        if row is not None:
            return int(row.last_id)
        start = last_id(conn)
        conn.execute(
            db.insert(conn, event_cursors)
            .values(sink=sink, last_id=start, updated_at=db.utcnow())
            .on_conflict_do_nothing()
        )
        return int(
            conn.execute(
                sa.select(event_cursors.c.last_id).where(event_cursors.c.sink == sink)
            ).scalar_one()
        )


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        sink: Sink,
        notifier: Notifier,
        *,
        lease_seconds: float = 10.0,
        poll_seconds: float | None = None,
        batch: int = 500,
        gather_seconds: float = 0.1,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.notifier = notifier
        self.leader = Leader(engine, f"dispatch:{sink.name}", lease_seconds)
        # SQLite has no NOTIFY across processes: poll briefly. PostgreSQL polls only as a fallback.
        self.poll_seconds = poll_seconds or (0.05 if db.is_sqlite(engine) else 1.0)
        self.batch = batch
        # After a round, the next waits until this long after the round began: under load a
        # round then takes the events of many commits (each poll, sink transaction and cursor
        # update costs the same for one event as for hundreds), while an event after a quiet
        # spell is still delivered at once. The price is at most this much added delay.
        self.gather_seconds = gather_seconds

    async def run(self) -> None:
        await self.leader.run(self._lead)

    async def _lead(self) -> None:
        cursor = await asyncio.to_thread(load_cursor, self.engine, self.sink.name)
        tail = OutboxTail(self.engine, cursor, batch=self.batch)
        waiter = self.notifier.waiter()
        try:
            while True:
                began = time.monotonic()
                events, stalled = await asyncio.to_thread(tail.poll)
                if events:
                    await self._deliver(events)
                    await asyncio.to_thread(self._advance, tail.cursor, events)
                    tail.advance(events[-1].id)
                    metrics.PUBLISHED.labels(self.sink.name).inc(len(events))
                    rest = self.gather_seconds - (time.monotonic() - began)
                    if len(events) < self.batch and rest > 0:
                        await asyncio.sleep(rest)
                    continue
                await wait(waiter, 0.02 if stalled else self.poll_seconds)
        finally:
            self.notifier.forget(waiter)

    async def _deliver(self, events: list[Event]) -> None:
        delay = 0.1
        while True:
            try:
                await self.sink.deliver(events)
                return
            except asyncio.CancelledError:
                raise
            # Sinks are pluggable (NATS, webhooks, cache): whatever one raises is counted, logged
            # and retried, since a delivery must never be dropped.
            except Exception as exc:  # noqa: BLE001
                metrics.SINK_FAILURES.labels(self.sink.name).inc()
                log.warning(
                    "sink %s: delivery of ids %s..%s failed (%r); retrying in %.1f s",
                    self.sink.name,
                    events[0].id,
                    events[-1].id,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _advance(self, before: int, events: list[Event]) -> None:
        started = time.perf_counter()
        with db.write(self.engine) as conn:
            self.sink.apply(conn, events)
            moved = conn.execute(
                event_cursors.update()
                .where(
                    event_cursors.c.sink == self.sink.name,
                    event_cursors.c.last_id == before,
                )
                .values(last_id=events[-1].id, updated_at=db.utcnow())
            ).rowcount
            if moved != 1:
                raise FencedOut(f"cursor of {self.sink.name} moved elsewhere")
        metrics.APPLY_SECONDS.labels(self.sink.name).observe(time.perf_counter() - started)
