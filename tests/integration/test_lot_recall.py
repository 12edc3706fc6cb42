"""The expiry job, recalls and a lot's trace (issue 11), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from onhand import check, db
from onhand.stock import recall
from onhand.tables import ledger, lots, outbox

WH1, WH2 = "WH1", "WH2"


def today() -> date:
    """The tenant's day (its time zone is UTC), read when asked: a run that crosses midnight
    must not date its lots from the day the module was imported."""
    return datetime.now(UTC).date()


def day(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


@pytest.fixture
def kitchen(api, engine, tenant):
    for code in (WH1, WH2):
        assert api.post("/locations", json={"code": code, "name": code}).status_code == 201
    r = api.post(
        "/items",
        json={"sku": "MILK", "name": "Milk", "tracking": "lot", "expiry_warning_days": 2},
    )
    assert r.status_code == 201, r.text
    yield api
    with db.read(engine) as conn:
        findings = [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]
    assert findings == [], "the invariants must hold after every test"


def ok(r, status: int = 201) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def receive(api, code: str, qty: int, expires_in: int, location: str = WH1, **extra) -> dict:
    body = {
        "type": "receipt",
        "sku": "MILK",
        "location": location,
        "qty": qty,
        "lot": {"code": code, "expires_on": day(expires_in), "supplier": "DAIRY"},
        **extra,
    }
    return ok(api.post("/movements", json=body))


def events(engine, tenant: str, kind: str) -> list[dict]:
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == kind)
            .order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


def lots_doc(api) -> dict[str, dict]:
    return {row["lot"]: row for row in api.get("/availability/MILK").json()["lots"]}


def test_the_expiry_job_moves_expired_lots_aside_and_warns_ahead(kitchen, engine, tenant):
    receive(kitchen, "OLD", 5, -1)
    receive(kitchen, "SOON", 4, 2)
    receive(kitchen, "LATER", 6, 9)
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 1}]})
    assert ok(r)["lines"][0]["allocations"][0]["lot"] == "SOON"
    assert recall.expire_due(engine) >= 1
    old = lots_doc(kitchen)["OLD"]
    assert (old["quality_control"], old["available"], old["on_hand"]) == (5, 0, 5)
    with db.read(engine) as conn:
        moved = conn.execute(
            sa.select(ledger.c.state, ledger.c.delta)
            .join(lots, lots.c.id == ledger.c.lot_id)
            .where(ledger.c.tenant_id == tenant, ledger.c.reason == "expired")
        ).all()
    assert [tuple(m) for m in moved] == [("quality_control", 5)]
    expired = events(engine, tenant, "lot.expired")
    assert [(e["lot"], e["quality_control"]) for e in expired] == [("OLD", 5)]
    warned = events(engine, tenant, "lot.expiring")
    assert [(e["lot"], e["days_left"], e["on_hand"]) for e in warned] == [("SOON", 2, 4)]
    # A second run announces and moves nothing again.
    recall.expire_due(engine)
    assert len(events(engine, tenant, "lot.expired")) == 1
    assert len(events(engine, tenant, "lot.expiring")) == 1
    assert kitchen.get("/availability/MILK").json()["available"] == 9
    listed = ok(kitchen.get("/lots/expiring?days=3"), 200)["lots"]
    assert [(x["lot"], x["days_left"]) for x in listed] == [("OLD", -1), ("SOON", 2)]


def test_a_recall_blocks_the_lot_moves_holds_and_returns_the_trace(kitchen, engine, tenant):
    receive(kitchen, "BAD", 10, 3, reference="PO-7")
    receive(kitchen, "BAD", 4, 3, location=WH2)
    receive(kitchen, "GOOD", 5, 6)
    # Sold and shipped, sold and not shipped, held (moves to GOOD), held beyond GOOD (released).
    sold = ok(kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 2}]}))
    ok(kitchen.post(f"/reservations/{sold['id']}/commit"), 200)
    ok(kitchen.post(f"/reservations/{sold['id']}/ship"), 200)
    shipped = ok(
        kitchen.post(
            "/movements",
            json={"type": "ship", "sku": "MILK", "location": WH1, "qty": 1, "reference": "SO-9"},
        )
    )
    held = ok(
        kitchen.post(
            "/reservations",
            json={"lines": [{"sku": "MILK", "qty": 3, "location": WH1}], "reference": "cart-1"},
        )
    )
    big = ok(
        kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 4, "location": WH2}]})
    )
    assert {a["lot"] for a in held["lines"][0]["allocations"]} == {"BAD"}
    doc = ok(kitchen.post("/lots/MILK/BAD/recall", json={"reason": "supplier notice"}), 200)
    # The hold of 3 at WH1 now holds GOOD; the one at WH2 (no other lot there) was released.
    assert doc["recall"]["holds_moved"] == [
        {"reservation_id": held["id"], "location": WH1, "lot": "GOOD", "qty": 3}
    ]
    assert doc["recall"]["holds_released"] == [big["id"]]
    assert ok(kitchen.get(f"/reservations/{big['id']}"), 200)["status"] == "released"
    moved = ok(kitchen.get(f"/reservations/{held['id']}"), 200)
    assert moved["status"] == "active"
    assert moved["lines"][0]["allocations"] == [
        {"sku": "MILK", "location": WH1, "qty": 3, "lot": "GOOD"}
    ]
    # Every free unit of BAD is in quality control; nothing of it can be sold or held.
    bad = lots_doc(kitchen)["BAD"]
    assert (bad["on_hand"], bad["quality_control"], bad["available"]) == (11, 11, 0)
    assert bad["sellable"] is False
    r = kitchen.post(
        "/movements",
        json={"type": "ship", "sku": "MILK", "location": WH1, "qty": 1, "lot": "BAD"},
    )
    assert r.status_code == 409 and "recalled" in r.json()["detail"]
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 1, "lot": "BAD"}]})
    assert r.status_code == 409
    # The trace: origin, where the units are, who took them.
    assert doc["origin"]["supplier"] == "DAIRY" and doc["origin"]["reference"] == "PO-7"
    assert sorted((x["location"], x["qty"]) for x in doc["origin"]["receipts"]) == [
        (WH1, 10),
        (WH2, 4),
    ]
    assert {(x["location"], x["on_hand"], x["quality_control"]) for x in doc["now"]} == {
        (WH1, 7, 7),
        (WH2, 4, 4),
    }
    takers = {h["reservation_id"]: h for h in doc["reservations"]}
    assert (takers[sold["id"]]["held"], takers[sold["id"]]["shipped"]) == (2, 2)
    assert (takers[held["id"]]["held"], takers[held["id"]]["given_back"]) == (3, 3)
    assert takers[big["id"]]["given_back"] == 4
    assert doc["shipments"] == [
        {
            "location": WH1,
            "qty": 1,
            "reference": "SO-9",
            "movement_id": shipped["id"],
            "at": doc["shipments"][0]["at"],
        }
    ]
    initiated = events(engine, tenant, "inventory.recall.initiated")
    assert [(e["lot"], e["quality_control"], e["holds_released"]) for e in initiated] == [
        ("BAD", 11, [big["id"]])
    ]
    good = {
        h["reservation_id"]: h
        for h in ok(kitchen.get("/lots/MILK/GOOD/trace"), 200)["reservations"]
    }
    assert (good[held["id"]]["held"], good[held["id"]]["given_back"]) == (3, 0)
    # A second recall is refused and changes nothing; the trace reads the same.
    r = kitchen.post("/lots/MILK/BAD/recall")
    assert r.status_code == 409 and r.json()["type"].endswith("/lot-recalled")
    again = ok(kitchen.get("/lots/MILK/BAD/trace"), 200)
    assert again["now"] == doc["now"] and again["reservations"] == doc["reservations"]


def test_recall_and_trace_of_unknown_lots_are_404(kitchen):
    receive(kitchen, "A", 1, 3)
    for path in ("/lots/MILK/NOPE/trace", "/lots/NOPE/A/trace"):
        assert kitchen.get(path).status_code == 404
    r = kitchen.post("/lots/MILK/NOPE/recall")
    assert r.status_code == 404 and r.json()["type"].endswith("/unknown-lot")
    assert lots_doc(kitchen)["A"]["sellable"] is True


def test_a_purchase_order_receipt_brings_a_lot_of_its_supplier(kitchen):
    ok(
        kitchen.post(
            "/suppliers",
            json={"code": "DALE", "name": "Dale Dairy", "lead_time_days": 1, "default_price": "1"},
        )
    )
    body = {"supplier": "DALE", "location": WH1, "lines": [{"sku": "MILK", "qty": 12}]}
    po = ok(kitchen.post("/purchase-orders", json=body))
    for action in ("approve", "send"):
        ok(kitchen.post(f"/purchase-orders/{po['id']}/{action}"), 200)
    receipt = {"lines": [{"sku": "MILK", "qty": 12, "lot": {"code": "P1", "expires_on": day(5)}}]}
    ok(kitchen.post(f"/purchase-orders/{po['id']}/receipts", json=receipt))
    lot = lots_doc(kitchen)["P1"]
    assert (lot["on_hand"], lot["supplier"], lot["expires_on"]) == (12, "DALE", day(5))
    origin = ok(kitchen.get("/lots/MILK/P1/trace"), 200)["origin"]
    assert (origin["supplier"], origin["reference"]) == ("DALE", po["number"])
    assert [(x["qty"], x["reference"]) for x in origin["receipts"]] == [(12, po["number"])]


def test_metrics_count_expiring_lots_and_units_left_in_expired_or_recalled_ones(
    kitchen, engine, tenant
):
    from onhand.events.metrics import DatabaseCollector

    receive(kitchen, "OLD", 5, -1)
    receive(kitchen, "SOON", 4, 2)
    receive(kitchen, "LATER", 6, 9)
    receive(kitchen, "BAD", 3, 9)
    ok(kitchen.post("/lots/MILK/BAD/recall"), 200)
    collector = DatabaseCollector()
    collector.engine = engine
    samples = {
        m.name: s.value
        for m in collector.collect()
        if m.name.startswith("onhand_lots_")
        for s in m.samples
        if s.labels.get("tenant") == tenant
    }
    assert samples == {
        "onhand_lots_expiring": 1,
        "onhand_lots_expired_units": 5,
        "onhand_lots_recalled_units": 3,
    }


def test_the_expiry_job_moves_open_holds_off_an_expired_lot(kitchen, engine, tenant):
    from datetime import time

    receive(kitchen, "TODAY", 4, 0)
    receive(kitchen, "LATER", 1, 9)
    a_day = 24 * 3600
    small = ok(
        kitchen.post(
            "/reservations", json={"lines": [{"sku": "MILK", "qty": 1}], "ttl_seconds": a_day}
        )
    )
    big = ok(
        kitchen.post(
            "/reservations", json={"lines": [{"sku": "MILK", "qty": 3}], "ttl_seconds": a_day}
        )
    )
    assert small["lines"][0]["allocations"][0]["lot"] == "TODAY"
    # Just after midnight (the tenant's day is UTC): TODAY is past, the holds still run.
    tomorrow = datetime.combine(today() + timedelta(days=1), time(0, 1), UTC)
    assert recall.expire_due(engine, now=tomorrow) >= 1  # every tenant of the database
    (expired,) = events(engine, tenant, "lot.expired")
    assert expired["holds_moved"] == [
        {"reservation_id": small["id"], "location": WH1, "lot": "LATER", "qty": 1}
    ]
    assert expired["holds_released"] == [big["id"]], "LATER has no room for 3 more"
    assert ok(kitchen.get(f"/reservations/{big['id']}"), 200)["status"] == "released"
    moved = ok(kitchen.get(f"/reservations/{small['id']}"), 200)
    assert moved["lines"][0]["allocations"] == [
        {"sku": "MILK", "location": WH1, "qty": 1, "lot": "LATER"}
    ]
    assert expired["quality_control"] == 4


def test_a_return_of_a_lot_item_comes_back_into_its_lot(kitchen, engine, tenant):
    receive(kitchen, "L1", 6, 5)
    ok(kitchen.post("/movements", json={"type": "ship", "sku": "MILK", "location": WH1, "qty": 2}))
    line = {"sku": "MILK", "qty": 2, "reason": "leaking cap", "lot": "L1"}
    rma = ok(kitchen.post("/rma", json={"location": WH1, "order_reference": "#7", "lines": [line]}))
    ok(kitchen.post(f"/rma/{rma['id']}/approve"), 200)
    ok(kitchen.post(f"/rma/{rma['id']}/receive", json={}), 200)
    back = lots_doc(kitchen)["L1"]
    assert (back["on_hand"], back["quality_control"], back["available"]) == (6, 2, 4)
    inspect = {"lines": [{"line": 1, "disposition": "scrap"}]}
    ok(kitchen.post(f"/rma/{rma['id']}/inspect", json=inspect), 200)
    assert (lots_doc(kitchen)["L1"]["on_hand"], lots_doc(kitchen)["L1"]["quality_control"]) == (
        4,
        0,
    )
    # A return naming a lot the item never had is refused, nothing received.
    line = {"sku": "MILK", "qty": 1, "reason": "?", "lot": "NOPE"}
    other = ok(kitchen.post("/rma", json={"location": WH1, "lines": [line]}))
    ok(kitchen.post(f"/rma/{other['id']}/approve"), 200)
    r = kitchen.post(f"/rma/{other['id']}/receive", json={})
    assert r.status_code == 404 and r.json()["type"].endswith("/unknown-lot")
    assert lots_doc(kitchen)["L1"]["on_hand"] == 4
