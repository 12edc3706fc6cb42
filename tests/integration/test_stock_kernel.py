"""The stock kernel on both databases: print-on-demand capacity in the ledger, `onhand check`
proving it, and `stock.changed` carrying the figures after each change."""

from __future__ import annotations

import random
import threading

import pytest
import sqlalchemy as sa
from test_reservations import avail, created, hold, line, ok, receive

from onhand import check, db, stock
from onhand.catalog import service as catalog
from onhand.tables import ledger, outbox, pod_bookings


@pytest.fixture
def shop(api):
    """One location, a physical item and a print-on-demand item (3 a day)."""
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK", "name": "A book"}))
    created(
        api.post("/items", json={"sku": "MUG", "name": "Mug", "kind": "pod", "capacity_per_day": 3})
    )
    return api


def findings(engine, tenant: str) -> list[str]:
    with db.read(engine) as conn:
        return [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]


def pod_ledger(engine, tenant: str) -> list[tuple[str, str, int]]:
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(ledger.c.reason, ledger.c.state, ledger.c.delta)
            .where(ledger.c.tenant_id == tenant, ledger.c.location_id.is_(None))
            .order_by(ledger.c.id)
        )
        return [tuple(r) for r in rows]


def test_print_on_demand_bookings_are_in_the_ledger(shop, engine, tenant):
    sold = hold(shop, line("MUG", 2))
    ok(shop.post(f"/reservations/{sold['id']}/commit"))
    back = hold(shop, line("MUG", 1))
    ok(shop.post(f"/reservations/{back['id']}/release"))
    assert pod_ledger(engine, tenant) == [
        ("reserve", "reserved", 2),
        ("commit", "reserved", -2),
        ("commit", "committed", 2),
        ("reserve", "reserved", 1),
        ("release", "reserved", -1),
    ]
    entries = ok(shop.get("/ledger", params={"reservation": sold["id"]}))["entries"]
    assert {(e["location"], e["state"]) for e in entries} == {
        (None, "reserved"),
        (None, "committed"),
    }
    assert all("day" in e for e in entries)
    assert findings(engine, tenant) == []


def test_check_finds_a_pod_booking_that_differs_from_its_ledger(shop, engine, tenant):
    hold(shop, line("MUG", 2))
    with db.write(engine) as conn:  # drift planted behind the kernel's back
        conn.execute(
            pod_bookings.update()
            .where(pod_bookings.c.tenant_id == tenant)
            .values(committed=pod_bookings.c.committed + 1)
        )
    found = findings(engine, tenant)
    assert any("pod item" in f and "committed is 1, ledger sums to 0" in f for f in found), found
    with db.write(engine) as conn:
        conn.execute(
            pod_bookings.update()
            .where(pod_bookings.c.tenant_id == tenant)
            .values(committed=pod_bookings.c.committed - 1)
        )
    assert findings(engine, tenant) == []


def test_stock_changed_carries_the_figures_after_a_batch_of_holds(shop, engine, tenant):
    receive(shop, "BOOK", "WH1", 10)
    hold(shop, line("BOOK", 3))
    with db.read(engine) as conn:
        payload = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "stock.changed")
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert payload == {
        "sku": "BOOK",
        "location": "WH1",
        "available": 7,
        "location_available": 7,
        "on_hand": 10,
        "reason": "reserve",
    }
    assert avail(shop, "BOOK")["available"] == 7


# ---- locking only the rows a batch touches ----------------------------------------------------


@pytest.fixture
def spread(api):
    """BOOK and PEN, 10 of each at WH1, WH2 and WH3."""
    for code in ("WH1", "WH2", "WH3"):
        created(api.post("/locations", json={"code": code, "name": code}))
    for sku in ("BOOK", "PEN"):
        created(api.post("/items", json={"sku": sku, "name": sku}))
        for code in ("WH1", "WH2", "WH3"):
            receive(api, sku, code, 10)
    return api


def _catalogue(engine, tenant):
    with db.read(engine) as conn:
        return catalog.items_by_sku(conn, tenant, {"BOOK", "PEN"}), catalog.locations_by_code(
            conn, tenant
        )


def _last_changed(engine, tenant) -> dict:
    with db.read(engine) as conn:
        return conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "stock.changed")
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one()


def _take(engine, tenant, sku, code, qty, *, only=True, before_commit=None):
    found, places = _catalogue(engine, tenant)
    it, loc = found[sku], places[code]
    with db.write(engine) as conn:
        now = db.utcnow()
        rows = {(it.id, loc.id)} if only else None
        locked = stock.lock(conn, tenant, {it.id}, now, only=rows)
        stock.apply(
            conn,
            tenant,
            [stock.Change(it, {"on_hand": -qty}, location=loc)],
            stock.Posting(reason="ship"),
            now,
            locked=locked,
        )
        if before_commit:
            before_commit()


def test_a_lock_of_only_the_touched_rows_reads_them_and_events_carry_the_item_total(
    spread, engine, tenant
):
    found, places = _catalogue(engine, tenant)
    book, wh2 = found["BOOK"], places["WH2"]
    with db.write(engine) as conn:
        locked = stock.lock(conn, tenant, {book.id}, db.utcnow(), only={(book.id, wh2.id)})
        assert [f.code for f in locked[book.id]] == ["WH2"]
        assert locked[book.id][0].available == 10
    _take(engine, tenant, "BOOK", "WH2", 4)
    assert _last_changed(engine, tenant) == {
        "sku": "BOOK",
        "location": "WH2",
        "available": 26,
        "location_available": 6,
        "on_hand": 6,
        "reason": "ship",
    }
    assert avail(spread, "BOOK")["available"] == 26
    assert findings(engine, tenant) == []


def test_two_partial_lockers_of_one_item_wait_for_each_other_so_each_total_is_exact(
    spread, engine, tenant
):
    if db.is_sqlite(engine):
        pytest.skip("SQLite writers hold the whole database; the row locks are PostgreSQL's")
    first_holds, let_go = threading.Event(), threading.Event()

    def first():
        _take(
            engine,
            tenant,
            "BOOK",
            "WH1",
            1,
            before_commit=lambda: (first_holds.set(), let_go.wait(10)),
        )

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_holds.wait(10)
    second_done = threading.Event()
    t2 = threading.Thread(
        target=lambda: (_take(engine, tenant, "BOOK", "WH3", 2), second_done.set())
    )
    t2.start()
    # The second batch touches another row of the same item: it waits for the item's lock.
    assert not second_done.wait(0.5)
    let_go.set()
    t1.join(10)
    t2.join(10)
    assert second_done.is_set()
    last = _last_changed(engine, tenant)
    assert (last["location"], last["available"]) == ("WH3", 27)


def test_partial_and_whole_item_lockers_mixed_never_deadlock(spread, engine, tenant):
    if db.is_sqlite(engine):
        pytest.skip("SQLite writers hold the whole database; the row locks are PostgreSQL's")
    found, places = _catalogue(engine, tenant)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(25):
            picks = rng.sample([(s, c) for s in ("BOOK", "PEN") for c in ("WH1", "WH2", "WH3")], 3)
            only = rng.random() < 0.5
            try:
                with db.write(engine) as conn:
                    now = db.utcnow()
                    rows = {(found[s].id, places[c].id) for s, c in picks}
                    locked = stock.lock(
                        conn, tenant, {i for i, _ in rows}, now, only=rows if only else None
                    )
                    stock.apply(
                        conn,
                        tenant,
                        [
                            stock.Change(found[s], {"on_hand": +1}, location=places[c])
                            for s, c in reversed(picks)
                        ],
                        stock.Posting(reason="receipt"),
                        now,
                        locked=locked,
                    )
            except BaseException as problem:  # noqa: BLE001 - reported by the test below
                errors.append(problem)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert avail(spread, "BOOK")["on_hand"] + avail(spread, "PEN")["on_hand"] == 60 + 4 * 25 * 3
    assert findings(engine, tenant) == []
