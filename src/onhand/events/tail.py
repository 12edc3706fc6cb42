"""Following the outbox in id order without skipping a row that has yet to commit.

Why gaps need care: on PostgreSQL an id is taken from the sequence when the row is inserted,
but becomes visible only when its transaction commits, so id 11 can be visible while id 10
is still in flight (or was rolled back and will never appear). A reader that jumped to 11
would skip 10 for good.

Choice: deliver in strict id order and hold back at the first missing id until it is known
to be final. It is final once every transaction that was running when the gap was first seen
has ended (`pg_snapshot_xmin` of a new snapshot has passed the `xmax` of the snapshot taken
right after the read that revealed the gap: the missing id's transaction took its id before
the visible later id was taken, so it was running then). The horizon is checked *before*
re-reading, so a row that committed in the meantime is read rather than skipped. A short
minimum age covers the microseconds between `nextval` and the transaction getting an xid, and
a maximum age (default 30 s) stops one transaction left idle for hours from stalling every
stream; past it the gap is skipped with a warning. A rollback therefore costs ~0.1 s of delay,
not "a few seconds", while a long transaction that wrote events early is still waited for.

On SQLite writers are serialised (one write transaction at a time) and a rolled-back rowid is
reused, so rows appear in id order and a gap never needs waiting for.

One read for all: a process follows the outbox with several tails (one per sink it leads, and
the live hub's), which used to read every event once each. The tails of one engine share a
window of recent events (`Recent`): what one tail read is kept, and a tail behind it is served
from memory up to the highest id any tail has delivered past. Below that id every gap is final
(a tail only passes a gap once it is known to be final), and every event there was read by
the tail that passed it, so memory holds all there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine

from .. import db
from .feed import Event, read_after

log = logging.getLogger(__name__)
CHANNEL = "onhand_outbox"


@dataclass
class Gap:
    cover: int  # every missing id below this was allocated before the read that saw the gap
    seen: float  # monotonic time the gap was first seen
    xmax: int  # xmax of the snapshot taken just after that read


@dataclass
class Recent:
    """Events lately read from one database's outbox, shared by its tails in this process.

    Holds every event with lo < id <= hi as some tail read them; `final` is the highest id any
    tail delivered past, below which no event can still appear.
    """

    capacity: int = 10_000
    events: dict[int, Event] = field(default_factory=dict)
    lo: int = -1
    hi: int = -1
    final: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, after: int, limit: int) -> list[Event]:
        """The events after `after` that are final and held here (none: read the database)."""
        with self.lock:
            top = min(self.hi, self.final)
            if after < self.lo or after >= top:
                return []
            out = []
            for i in range(after + 1, top + 1):
                if i in self.events:
                    out.append(self.events[i])
                    if len(out) == limit:
                        break
            return out

    def store(self, after: int, rows: list[Event]) -> None:
        """Keep what a read of the rows after `after` returned (all visible ones, in order)."""
        if not rows:
            return
        with self.lock:
            if after > self.hi or rows[-1].id < self.lo:  # not joined to what is held
                self.events, self.lo, self.hi = {}, after, after
            self.lo = min(self.lo, after)
            self.hi = max(self.hi, rows[-1].id)
            for ev in rows:
                self.events[ev.id] = ev
            if len(self.events) > 2 * self.capacity:  # trim now and then, not every read
                ids = sorted(self.events)
                self.lo = max(self.lo, ids[-self.capacity - 1])
                self.events = {i: self.events[i] for i in ids[-self.capacity :]}

    def delivered(self, last: int) -> None:
        with self.lock:
            self.final = max(self.final, last)


_recent: weakref.WeakKeyDictionary[Engine, Recent] = weakref.WeakKeyDictionary()


def recent(engine: Engine) -> Recent:
    with _guard:
        return _recent.setdefault(engine, Recent())


_guard = threading.Lock()


class OutboxTail:
    """A cursor over the outbox; `poll` returns the next rows that are safe to hand out."""

    def __init__(
        self,
        engine: Engine,
        cursor: int,
        *,
        batch: int = 500,
        gap_min_age: float = 0.1,
        gap_max_age: float = 30.0,
    ) -> None:
        self.engine = engine
        self.cursor = cursor
        self.batch = batch
        self.gap_min_age = gap_min_age
        self.gap_max_age = gap_max_age
        self.gap: Gap | None = None
        self.sqlite = db.is_sqlite(engine)
        self.recent = recent(engine)

    def poll(self) -> tuple[list[Event], bool]:
        """(events, stalled): stalled means a gap holds back rows and is worth re-checking soon."""
        if served := self.recent.serve(self.cursor, self.batch):
            return served, False
        with db.read(self.engine) as conn:
            horizon = self._horizon_passed(conn)
            rows = read_after(conn, self.cursor, self.batch)
            self.recent.store(self.cursor, rows)
            out: list[Event] = []
            expected = self.cursor + 1
            for ev in rows:
                if ev.id != expected and not self._may_skip(expected, horizon):
                    self._note_gap(conn, expected, rows[-1].id)
                    return out, True
                out.append(ev)
                expected = ev.id + 1
        return out, False

    def advance(self, last: int) -> None:
        """The events up to `last` were delivered: every id up to it is final."""
        self.cursor = max(self.cursor, last)
        self.recent.delivered(last)
        if self.gap and self.cursor >= self.gap.cover:
            self.gap = None

    def _horizon_passed(self, conn: Connection) -> bool:
        if self.sqlite or self.gap is None:
            return False
        xmin = conn.execute(
            sa.text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")
        ).scalar_one()
        return int(xmin) >= self.gap.xmax

    def _may_skip(self, missing: int, horizon_passed: bool) -> bool:
        if self.sqlite:
            return True
        gap = self.gap
        if gap is None or missing >= gap.cover:
            return False
        age = time.monotonic() - gap.seen
        if age >= self.gap_max_age:
            log.warning("outbox id %s still missing after %.0f s; skipping it", missing, age)
            return True
        return horizon_passed and age >= self.gap_min_age

    def _note_gap(self, conn: Connection, missing: int, cover: int) -> None:
        if self.gap and self.gap.cover > missing:
            return  # already waiting for this gap: keep its age
        xmax = conn.execute(
            sa.text("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
        ).scalar_one()
        self.gap = Gap(cover, time.monotonic(), int(xmax))


class Notifier:
    """Wakes waiting tailers when the outbox grows.

    PostgreSQL: one LISTEN connection per notifier (the migration's trigger NOTIFYs per insert
    statement). SQLite has no NOTIFY: commits of write transactions in this process wake the
    tailers at once, and writes from other processes are found by polling.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.waiters: set[asyncio.Event] = set()
        self.connected = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def waiter(self) -> asyncio.Event:
        waiter = asyncio.Event()
        self.waiters.add(waiter)
        return waiter

    def forget(self, waiter: asyncio.Event) -> None:
        self.waiters.discard(waiter)

    def wake(self) -> None:
        for waiter in list(self.waiters):
            waiter.set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if db.is_sqlite(self.engine):
            sa_event.listen(self.engine, "commit", self._on_commit)
        else:
            self._task = asyncio.create_task(self._listen(), name="outbox-listen")

    async def stop(self) -> None:
        if db.is_sqlite(self.engine) and sa_event.contains(self.engine, "commit", self._on_commit):
            sa_event.remove(self.engine, "commit", self._on_commit)
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _on_commit(self, conn: Connection) -> None:
        if conn.get_execution_options().get("write") and self._loop and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake)

    async def _listen(self) -> None:
        import psycopg

        dsn = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected, delay = True, 0.5
                    self.wake()  # anything written while we were not listening
                    async for _ in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:  # the database restarted or the network broke
                log.warning("outbox LISTEN failed (%s); polling until it reconnects", exc)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def wait(waiter: asyncio.Event, timeout: float) -> None:
    """Sleep until woken or `timeout` passed; the caller polls either way.

    `asyncio.timeout`, not `wait_for`: on Python 3.11 a cancel that arrives as the waiter
    is set is swallowed by `wait_for`, and the cancelled dispatcher polled on until the stop
    gave up on it 5 s later."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await waiter.wait()
    waiter.clear()
