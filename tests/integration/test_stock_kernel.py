"""The stock kernel on both databases: print-on-demand capacity in the ledger, `onhand check`
proving it, and `stock.changed` carrying the figures after each change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from test_reservations import avail, created, hold, line, ok, receive

from onhand import check, db
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
