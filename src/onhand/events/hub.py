"""The in-process fan-out behind SSE and WebSocket: one outbox tail per process, one bounded
queue per subscriber.

Every `onhand serve` process tails the outbox itself (woken by NOTIFY on PostgreSQL), so a
client connected to any process sees changes made through any other. A subscriber whose queue
fills up is dropped with a final `dropped` marker instead of slowing the others down; it may
reconnect with Last-Event-ID and resume from the outbox.

When the server is asked to stop, `close_all` ends every stream with a final `CLOSED` marker:
an open stream never ends by itself, and the server waits for open responses before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db
from ..stopping import cancel_all
from . import metrics
from .feed import Event, last_id, read_after
from .tail import Notifier, OutboxTail, wait

log = logging.getLogger(__name__)
DROPPED = object()  # the last item a dropped subscriber's queue receives
HEARTBEAT = object()  # time to send a keep-alive comment
CLOSED = object()  # the server is stopping: end the stream (the client reconnects elsewhere)
_hubs: weakref.WeakSet[Hub] = weakref.WeakSet()


class ShuttingDown(Exception):
    """No new subscriber while the server stops."""


def close_all() -> None:
    """End every stream of every hub of this process (call it on the event loop)."""
    for hub in list(_hubs):
        hub.close()


class Subscriber:
    def __init__(self, tenant: str, accept: Callable[[Event], bool], maxsize: int) -> None:
        self.tenant = tenant
        self.accept = accept
        self.queue: asyncio.Queue[object] = asyncio.Queue(maxsize)
        self.dropped = False
        self.position = 0  # events with a larger id come through the queue


class Hub:
    def __init__(
        self,
        engine: Engine,
        *,
        queue_size: int = 1000,
        poll_seconds: float | None = None,
        heartbeat_seconds: float = 15.0,
    ) -> None:
        self.engine = engine
        self.queue_size = queue_size
        self.heartbeat_seconds = heartbeat_seconds
        self.poll_seconds = poll_seconds or (0.05 if db.is_sqlite(engine) else 1.0)
        self.position = 0
        self.subscribers: dict[str, set[Subscriber]] = {}
        self.notifier = Notifier(engine)
        self._task: asyncio.Task | None = None
        self._beat_task: asyncio.Task | None = None
        self._started: asyncio.Future | None = None
        self.closing = False
        _hubs.add(self)

    async def subscribe(
        self, tenant: str, accept: Callable[[Event], bool] = lambda e: True
    ) -> Subscriber:
        if self.closing:
            raise ShuttingDown("the server is shutting down")
        await self._ensure_running()
        sub = Subscriber(tenant, accept, self.queue_size)
        # No await between reading the position and registering: nothing published falls between.
        sub.position = self.position
        self.subscribers.setdefault(tenant, set()).add(sub)
        metrics.LIVE_SUBSCRIBERS.inc()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.tenant)
        if subs and sub in subs:
            subs.discard(sub)
            metrics.LIVE_SUBSCRIBERS.dec()
            if not subs:
                del self.subscribers[sub.tenant]

    def publish(self, events: list[Event]) -> None:
        for ev in events:
            for sub in list(self.subscribers.get(ev.tenant, ())):
                if not sub.accept(ev):
                    continue
                try:
                    sub.queue.put_nowait(ev)
                except asyncio.QueueFull:
                    self._drop(sub)
            self.position = ev.id

    def close(self) -> None:
        """Tell every subscriber to finish: its stream ends after what is already queued."""
        self.closing = True
        for subs in list(self.subscribers.values()):
            for sub in list(subs):
                self.unsubscribe(sub)
                if sub.queue.full():  # nothing queued is lost: the client resumes from the outbox
                    while not sub.queue.empty():
                        sub.queue.get_nowait()
                sub.queue.put_nowait(CLOSED)

    def _drop(self, sub: Subscriber) -> None:
        self.unsubscribe(sub)
        sub.dropped = True
        while not sub.queue.empty():
            sub.queue.get_nowait()
        sub.queue.put_nowait(DROPPED)
        metrics.LIVE_DROPPED.inc()

    async def backlog(self, sub: Subscriber, after: int, page: int = 1000) -> list[list[Event]]:
        """Stored events of the subscriber's tenant after `after`, up to the queue's start."""
        pages: list[list[Event]] = []
        while after < sub.position:
            rows = await asyncio.to_thread(self._read, sub.tenant, after, sub.position, page)
            if not rows:
                break
            pages.append([e for e in rows if sub.accept(e)])
            after = rows[-1].id
        return pages

    def _read(self, tenant: str, after: int, upto: int, page: int) -> list[Event]:
        with db.read(self.engine) as conn:
            return read_after(conn, after, page, tenant=tenant, upto=upto)

    async def _ensure_running(self) -> None:
        """The tail starts with the first subscriber: a process nobody listens to stays idle."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._feed(), name="live-hub")
            self._beat_task = asyncio.create_task(self._beat(), name="live-heartbeat")
        await asyncio.shield(self._started)

    async def _feed(self) -> None:
        assert self._started is not None
        try:
            await self.notifier.start()
            waiter = self.notifier.waiter()
            self.position = await asyncio.to_thread(self._head)
            tail = OutboxTail(self.engine, self.position)
        except BaseException as exc:
            self._started.set_exception(exc)
            self._started = None
            raise
        self._started.set_result(None)
        while True:
            try:
                events, stalled = await asyncio.to_thread(tail.poll)
            except SQLAlchemyError as exc:
                log.warning("live hub: outbox read failed (%s)", exc)
                await asyncio.sleep(1.0)
                continue
            if events:
                self.publish(events)
                tail.advance(events[-1].id)
                continue
            await wait(waiter, 0.02 if stalled else self.poll_seconds)

    async def _beat(self) -> None:
        """One timer for all subscribers: a wait_for per subscriber and event cost more than
        the whole fan-out."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            for subs in list(self.subscribers.values()):
                for sub in list(subs):
                    if sub.queue.empty():
                        sub.queue.put_nowait(HEARTBEAT)

    def _head(self) -> int:
        with db.read(self.engine) as conn:
            return last_id(conn)

    async def stop(self) -> None:
        await cancel_all([t for t in (self._task, self._beat_task) if t])
        self._task = self._beat_task = None
        self._started = None
        await self.notifier.stop()
