"""The outbox dispatcher: at least once, in id order, nothing lost across restarts or gaps."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import uuid

import nats
import nats.js.errors
import pytest
import sqlalchemy as sa
from eventkit import eventually, move, stock_tenant

from conftest import LiveServer
from onhand import auth, db
from onhand.events import outbox
from onhand.events.dispatcher import Dispatcher, Sink, load_cursor
from onhand.events.feed import Event
from onhand.events.leader import Leader
from onhand.events.nats_sink import NatsSink, subject
from onhand.events.tail import Notifier, OutboxTail
from onhand.tables import outbox as outbox_table


class Recorder(Sink):
    """Remembers every delivery; one in `fail_every` batches fails to force a retry."""

    def __init__(self, name: str, fail_every: int = 0) -> None:
        self.name = name
        self.delivered: list[tuple[int, str, str]] = []
        self.calls = 0
        self.fail_every = fail_every

    async def deliver(self, events):
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            raise ConnectionError("target unavailable")
        self.delivered.extend((e.id, e.tenant, e.body) for e in events)
        await asyncio.sleep(0.002)


def write_events(engine, tenant: str, n: int) -> None:
    for i in range(n):
        with db.write(engine) as conn:
            outbox.record(conn, tenant, "test.event", db.utcnow(), sku=f"S{i % 7}", n=i)


def tenant_ids(engine, tenant: str) -> list[int]:
    with db.read(engine) as conn:
        return list(
            conn.execute(
                sa.select(outbox_table.c.id)
                .where(outbox_table.c.tenant_id == tenant)
                .order_by(outbox_table.c.id)
            ).scalars()
        )


def test_a_killed_dispatcher_resumes_without_losing_or_reordering(engine, tenant):
    name = f"test-{uuid.uuid4().hex[:8]}"
    sink = Recorder(name, fail_every=5)

    async def scenario() -> None:
        notifier = Notifier(engine)
        await notifier.start()
        load_cursor(engine, name)  # the sink exists before the stream starts
        writer = threading.Thread(target=write_events, args=(engine, tenant, 120))
        writer.start()
        first = asyncio.create_task(Dispatcher(engine, sink, notifier, lease_seconds=0.5).run())
        await asyncio.to_thread(eventually, lambda: len(sink.delivered) >= 30)
        first.cancel()  # killed mid-stream, possibly between delivery and cursor advance
        await asyncio.gather(first, return_exceptions=True)
        second = asyncio.create_task(Dispatcher(engine, sink, notifier, lease_seconds=0.5).run())
        await asyncio.to_thread(writer.join)
        expected = set(await asyncio.to_thread(tenant_ids, engine, tenant))
        await asyncio.to_thread(eventually, lambda: expected <= {d[0] for d in sink.delivered}, 20)
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        await notifier.stop()

    asyncio.run(scenario())
    mine = [d for d in sink.delivered if d[1] == tenant]
    ids = [d[0] for d in mine]
    assert set(ids) == set(tenant_ids(engine, tenant))
    first_seen = list(dict.fromkeys(ids))
    assert first_seen == sorted(first_seen)  # in id order
    bodies: dict[int, str] = {}
    for event_id, _, body in mine:  # a duplicate is the same event, same id and content
        assert bodies.setdefault(event_id, body) == body


def test_only_one_leader_at_a_time(engine):
    name = f"lock-{uuid.uuid4().hex[:8]}"
    first, second = Leader(engine, name, 1.0), Leader(engine, name, 1.0)
    assert first._try_acquire()
    try:
        assert not second._try_acquire()
    finally:
        first._release()
    assert second._try_acquire()
    second._release()


@pytest.mark.postgres
def test_an_uncommitted_id_holds_back_later_ones_until_it_commits(
    postgres_url, migrated_engine_for
):
    engine = migrated_engine_for(postgres_url)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.read(engine) as conn:
        start = int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)
    slow = engine.connect()
    slow_tx = slow.begin()
    outbox.record(slow, tenant, "test.slow", db.utcnow())  # takes an id, does not commit yet
    write_events(engine, tenant, 1)  # a later id, committed
    tail = OutboxTail(engine, start, gap_min_age=0.05)
    try:
        mine = lambda evs: [e for e in evs if e.tenant == tenant]  # noqa: E731
        for _ in range(5):
            events, stalled = tail.poll()
            assert mine(events) == [] and stalled
        slow_tx.commit()
        got = []
        eventually(lambda: got.extend(mine(tail.poll()[0])) or len(got) == 2, timeout=5)
        assert [e.type for e in got] == ["test.slow", "test.event"]
    finally:
        slow.close()


@pytest.mark.postgres
def test_a_rolled_back_id_is_skipped_quickly(postgres_url, migrated_engine_for):
    engine = migrated_engine_for(postgres_url)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.read(engine) as conn:
        start = int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)
    with engine.connect() as conn:
        tx = conn.begin()
        outbox.record(conn, tenant, "test.lost", db.utcnow())
        write_events(engine, tenant, 1)
        tx.rollback()
    tail = OutboxTail(engine, start, gap_min_age=0.05)
    got = []
    eventually(
        lambda: got.extend(e for e in tail.poll()[0] if e.tenant == tenant) or got, timeout=2
    )  # well before the 30 s maximum
    assert [e.type for e in got] == ["test.event"]


class _Statements:
    """Counts the SQL statements an engine runs while active."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.count = engine, 0

    def _seen(self, *_: object) -> None:
        self.count += 1

    def __enter__(self) -> _Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def test_a_tail_behind_another_is_served_from_memory(engine):
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.read(engine) as conn:
        start = int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)
    write_events(engine, tenant, 30)
    ahead, behind = OutboxTail(engine, start, batch=20), OutboxTail(engine, start, batch=20)
    first, _ = ahead.poll()
    ahead.advance(first[-1].id)
    with _Statements(engine) as seen:
        served, stalled = behind.poll()
    assert seen.count == 0 and not stalled
    assert [e.id for e in served] == [e.id for e in first]
    behind.advance(served[-1].id)
    with _Statements(engine) as seen:  # past what was delivered: the database again
        rest, _ = behind.poll()
    assert seen.count > 0
    assert len([e for e in first + rest if e.tenant == tenant]) == 30


@pytest.mark.postgres
def test_a_shared_window_never_hides_a_row_that_committed_late(postgres_url, migrated_engine_for):
    engine = migrated_engine_for(postgres_url)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.read(engine) as conn:
        start = int(conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0)
    slow = engine.connect()
    slow_tx = slow.begin()
    outbox.record(slow, tenant, "test.slow", db.utcnow())  # an id taken, not committed yet
    write_events(engine, tenant, 1)
    ahead = OutboxTail(engine, start, gap_min_age=0.05)
    behind = OutboxTail(engine, start, gap_min_age=0.05)
    mine = lambda evs: [e.type for e in evs if e.tenant == tenant]  # noqa: E731
    try:
        assert mine(ahead.poll()[0]) == [] and mine(behind.poll()[0]) == []  # both wait
        slow_tx.commit()
        got: list[Event] = []
        eventually(lambda: got.extend(ahead.poll()[0]) or "test.event" in mine(got), timeout=5)
        ahead.advance(got[-1].id)
        assert mine(got) == ["test.slow", "test.event"]
        with _Statements(engine) as seen:
            served, _ = behind.poll()
        assert seen.count == 0 and mine(served) == ["test.slow", "test.event"]
    finally:
        slow.close()


async def _stream_ids(url: str, prefix: str, tenant: str) -> dict[int, list[int]]:
    """Per event id, the Nats-Msg-Id of every copy in the stream."""
    nc = await nats.connect(url)
    try:
        sub = await nc.jetstream().subscribe(f"{prefix}.{tenant}.>", ordered_consumer=True)
        seen: dict[int, list[int]] = {}
        while True:
            try:
                msg = await sub.next_msg(timeout=1.5)
            except nats.errors.TimeoutError:
                return seen
            seen.setdefault(json.loads(msg.data)["id"], []).append(int(msg.headers["Nats-Msg-Id"]))
    finally:
        await nc.close()


async def _delete_stream(url: str, stream: str) -> None:
    nc = await nats.connect(url)
    try:
        await nc.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


@pytest.mark.postgres
@pytest.mark.nats
@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_loses_nothing_on_nats(
    postgres_url, migrated_engine_for, nats_url
):
    engine = migrated_engine_for(postgres_url)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        token = auth.create_token(conn, tenant, ["admin"]).token
    # A stream of its own: ids restart with every test database, and the server would drop
    # a repeated Nats-Msg-Id within its duplicate window.
    run = uuid.uuid4().hex[:8]
    stream, prefix = f"ONHAND_TEST_{run}", f"onhandtest{run}"
    env = {
        "ONHAND_NATS_URL": nats_url,
        "ONHAND_LEADER_LEASE_SECONDS": "1",
        "ONHAND_NATS_STREAM": stream,
        "ONHAND_NATS_SUBJECT_PREFIX": prefix,
    }
    writer_server = LiveServer(postgres_url, {"ONHAND_RUN_JOBS": "false"})
    dispatching = LiveServer(postgres_url, env)
    try:
        shop = stock_tenant(writer_server.url, tenant, token, {"A": 0})
        for i in range(60):
            move(shop, "receipt", "A", 1)
            if i == 30:
                os.kill(dispatching.proc.pid, signal.SIGKILL)  # no chance to clean up
        dispatching.proc.wait(10)
        dispatching = LiveServer(postgres_url, env)
        ids = tenant_ids(engine, tenant)
        seen = eventually(
            lambda: (
                (s := asyncio.run(_stream_ids(nats_url, prefix, tenant)))
                and set(s) >= set(ids)
                and s
            ),
            timeout=30,
        )
    finally:
        writer_server.stop()
        dispatching.stop()
        asyncio.run(_delete_stream(nats_url, stream))
    assert set(seen) == set(ids)
    # The restarted dispatcher sent again what the killed one had sent but not recorded;
    # JetStream dropped those copies by their Nats-Msg-Id: each event is in the stream once.
    assert {event_id: msg_ids for event_id, msg_ids in seen.items() if msg_ids != [event_id]} == {}


@pytest.mark.nats
def test_jetstream_drops_a_redelivered_event_by_its_message_id(nats_url):
    """At least once from the outbox becomes once on NATS: a batch sent again after a crash
    (the same ids) is acknowledged as duplicate and not stored twice."""
    run = uuid.uuid4().hex[:8]
    stream, prefix, tenant = f"ONHAND_TEST_{run}", f"onhandtest{run}", "t1"
    now = db.utcnow()
    events = [Event(i, tenant, "stock.changed", f"SKU{i}", "WH1", now) for i in range(1, 6)]

    async def scenario() -> tuple[list[bool], dict[int, list[int]]]:
        sink = NatsSink(nats_url, stream=stream, prefix=prefix)
        try:
            await sink.deliver(events[:3])
            await sink.deliver(events[1:])  # 2 and 3 again, as after a crash, then 4 and 5
            js = await sink._connected()
            again = [
                (await js.publish(subject(prefix, ev), ev.body.encode(), headers=msg_id(ev)))
                for ev in events[:2]
            ]
        finally:
            await sink.close()
        return [ack.duplicate for ack in again], await _stream_ids(nats_url, prefix, tenant)

    try:
        duplicates, seen = asyncio.run(scenario())
    finally:
        asyncio.run(_delete_stream(nats_url, stream))
    assert duplicates == [True, True]
    assert seen == {i: [i] for i in range(1, 6)}


def msg_id(ev: Event) -> dict[str, str]:
    return {"Nats-Msg-Id": str(ev.id)}


@pytest.mark.parametrize("gather", [0.1, 0.0], ids=["gathered", "round-per-commit"])
def test_under_a_stream_of_commits_a_round_takes_many_of_them(engine, tenant, gather):
    """Each round (poll, sink transaction, cursor update) costs about the same for one event
    as for hundreds: with a steady stream of small commits, rounds gather the events of
    several commits, and still deliver every event once, in order."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    sink = Recorder(name)
    commits = 60

    def stream() -> None:
        for i in range(commits):
            with db.write(engine) as conn:
                outbox.record(conn, tenant, "test.event", db.utcnow(), sku="S", n=i)
            threading.Event().wait(0.01)

    async def scenario() -> None:
        notifier = Notifier(engine)
        await notifier.start()
        load_cursor(engine, name)
        task = asyncio.create_task(
            Dispatcher(engine, sink, notifier, lease_seconds=0.5, gather_seconds=gather).run()
        )
        await asyncio.to_thread(stream)
        expected = await asyncio.to_thread(tenant_ids, engine, tenant)
        await asyncio.to_thread(eventually, lambda: len(sink.delivered) >= len(expected), 20)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await notifier.stop()
        assert [d[0] for d in sink.delivered if d[1] == tenant] == expected

    asyncio.run(scenario())
    if gather:
        assert sink.calls <= commits / 3, sink.calls
    else:  # the same stream, a round per commit or close to it: what the gathering saves
        assert sink.calls > commits / 3, sink.calls
