"""Backorders: ETAs from purchase orders or lead time, allocation oldest first."""

from __future__ import annotations

from datetime import date, timedelta

from fulfilmentkit import figures, item, location, put, receive, sell


def _shop(api, lead_time_days: float = 10) -> None:
    location(api, "WH", zone="north")
    item(api, "BOOK", allow_backorder=True)
    item(api, "BOOK-PB")
    receive(api, "BOOK-PB", "WH", 5)
    r = api.post(
        "/suppliers",
        json={"code": "PUB", "name": "Publisher", "lead_time_days": lead_time_days},
    )
    assert r.status_code == 201, r.text
    r = api.post("/items/BOOK/suppliers", json={"supplier": "PUB", "price": "4.00"})
    assert r.status_code == 201, r.text


def _order(api, qty: int, expected: date) -> int:
    r = api.post(
        "/purchase-orders",
        json={
            "supplier": "PUB",
            "location": "WH",
            "lines": [{"sku": "BOOK", "qty": qty}],
            "expected_on": expected.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    po = r.json()["id"]
    for action in ("approve", "send"):
        assert api.post(f"/purchase-orders/{po}/{action}").status_code == 200
    return po


def _backorder(api, event_id: str, qty: int) -> dict:
    doc = sell(api, "web", {"id": event_id, "sku": "BOOK", "qty": qty, "location": "WH"})
    assert doc["results"][0]["result"] == "backordered", doc
    return doc["results"][0]["backorders"][0]


def test_eta_comes_from_the_lead_time_without_an_order(api):
    _shop(api, lead_time_days=10)
    line = _backorder(api, "e1", 2)
    assert line["eta"] == (date.today() + timedelta(days=10)).isoformat()
    assert line["eta_basis"] == "lead time of PUB"


def test_eta_comes_from_the_order_that_covers_the_queue(api):
    _shop(api)
    soon, later = date.today() + timedelta(days=3), date.today() + timedelta(days=6)
    _order(api, 3, soon)
    _order(api, 10, later)
    first = _backorder(api, "e1", 2)  # 2 waiting: the first order's 3 cover it
    second = _backorder(api, "e2", 2)  # 4 waiting: only with the second order
    assert first["eta"] == soon.isoformat() and "PO-" in first["eta_basis"]
    assert second["eta"] == later.isoformat()
    listed = api.get("/backorders", params={"status": "open"}).json()["backorders"]
    assert [b["eta"] for b in listed] == [soon.isoformat(), later.isoformat()]


def test_an_earlier_order_moves_the_eta_and_says_so(api, engine, tenant):
    _shop(api, lead_time_days=30)
    line = _backorder(api, "e1", 2)
    assert line["eta"] == (date.today() + timedelta(days=30)).isoformat()
    soon = date.today() + timedelta(days=2)
    _order(api, 5, soon)
    doc = api.post("/backorders/allocate").json()
    assert doc["eta_changed"][0]["eta"] == soon.isoformat()
    assert api.get("/backorders").json()["backorders"][0]["eta"] == soon.isoformat()
    import sqlalchemy as sa

    from onhand import db
    from onhand.tables import outbox

    with db.read(engine) as conn:
        types = (
            conn.execute(
                sa.select(outbox.c.type).where(outbox.c.tenant_id == tenant).order_by(outbox.c.id)
            )
            .scalars()
            .all()
        )
    assert "backorder.created" in types and "backorder.eta_changed" in types


def test_arriving_stock_goes_to_the_oldest_backorders_first(api):
    _shop(api)
    po = _order(api, 10, date.today() + timedelta(days=1))
    a = _backorder(api, "a", 3)
    b = _backorder(api, "b", 4)
    c = _backorder(api, "c", 2)
    assert figures(api, "BOOK", "WH")["available"] == -9
    # 5 arrive: a (3) fits, b (4) does not; c (2) would fit but may not overtake b.
    r = api.post(f"/purchase-orders/{po}/receipts", json={"lines": [{"sku": "BOOK", "qty": 5}]})
    assert r.status_code == 201, r.text
    done = api.post("/backorders/allocate").json()["allocated"]
    assert [x["id"] for x in done] == [a["id"]]
    r = api.post(f"/purchase-orders/{po}/receipts", json={"lines": [{"sku": "BOOK", "qty": 5}]})
    done = api.post("/backorders/allocate").json()["allocated"]
    assert [x["id"] for x in done] == [b["id"], c["id"]]
    listed = api.get("/backorders").json()["backorders"]
    assert [x["status"] for x in listed] == ["allocated"] * 3
    # Allocated lines wait to be picked and shipped: committed until then.
    assert figures(api, "BOOK", "WH")["committed"] == 9
    tasks = api.get("/pick-tasks").json()["tasks"]
    assert sorted(t["qty"] for t in tasks if t["source"] == "backorder") == [2, 3, 4]


def test_open_backorders_offer_their_substitutes(api):
    _shop(api)
    prefs = {"substitutes": {"BOOK": ["BOOK-PB"]}}
    assert put(api, "/policies/dispatch-preferences", json=prefs).status_code == 200
    _backorder(api, "e1", 1)
    listed = api.get("/backorders").json()["backorders"]
    assert listed[0]["substitutes"] == [{"sku": "BOOK-PB", "available": 5}]


def test_the_serve_job_allocates_arrived_stock(api, engine, tenant):
    from onhand.fulfilment.jobs import allocate_all

    _shop(api)
    line = _backorder(api, "e1", 2)
    allocate_all(engine)  # nothing has arrived: the line stays open
    assert api.get("/backorders").json()["backorders"][0]["status"] == "open"
    receive(api, "BOOK", "WH", 2)
    allocate_all(engine)
    (listed,) = api.get("/backorders").json()["backorders"]
    assert (listed["id"], listed["status"]) == (line["id"], "allocated")


# ---- holds beyond stock ------------------------------------------------------------------------


def _hold(api, qty: int, **fields) -> dict:
    r = api.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": qty}], **fields})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_hold_beyond_stock_is_a_backorder_line_with_a_promised_date(api):
    _shop(api, lead_time_days=7)
    receive(api, "BOOK", "WH", 2)
    res = _hold(api, 5)
    (line,) = res["backorders"]
    expected = (date.today() + timedelta(days=7)).isoformat()
    assert (line["sku"], line["location"], line["qty"], line["eta"]) == ("BOOK", "WH", 3, expected)
    assert res["lines"][0]["allocations"] == [
        {"sku": "BOOK", "location": "WH", "qty": 5, "backordered": 3}
    ]
    (listed,) = api.get("/backorders", params={"status": "open"}).json()["backorders"]
    assert (listed["id"], listed["origin"], listed["eta_basis"]) == (
        line["id"],
        f"reservation:{res['id']}",
        "lead time of PUB",
    )
    book = figures(api, "BOOK", "WH")
    assert (book["reserved"], book["available"]) == (5, -3)
    # A hold within stock makes no line.
    item(api, "INK", allow_backorder=True)
    receive(api, "INK", "WH", 4)
    r = api.post("/reservations", json={"lines": [{"sku": "INK", "qty": 4}]})
    assert "backorders" not in r.json()
    assert len(api.get("/backorders").json()["backorders"]) == 1


def test_a_hold_of_an_item_without_backorders_is_still_refused(api):
    _shop(api)
    r = api.post("/reservations", json={"lines": [{"sku": "BOOK-PB", "qty": 6}]})
    assert r.status_code == 409
    assert api.get("/backorders").json()["backorders"] == []


def test_a_hold_waits_behind_the_purchase_order_queue(api):
    _shop(api)
    soon, later = date.today() + timedelta(days=3), date.today() + timedelta(days=9)
    _order(api, 4, soon)
    _order(api, 10, later)
    sale = _backorder(api, "e1", 3)  # 3 waiting: the first order covers it
    res = _hold(api, 2)  # 5 waiting: only with the second order
    assert sale["eta"] == soon.isoformat()
    assert res["backorders"][0]["eta"] == later.isoformat()


def test_arrivals_go_to_sales_and_holds_oldest_first_then_the_hold_is_picked(api, engine, tenant):
    import sqlalchemy as sa

    from onhand import db
    from onhand.tables import outbox

    _shop(api)
    sale = _backorder(api, "e1", 2)
    res = _hold(api, 3)
    late = _backorder(api, "e2", 1)
    assert api.post(f"/reservations/{res['id']}/commit").status_code == 200
    # Committed but short: nothing to pick and nothing to ship yet.
    assert api.get("/pick-tasks").json()["tasks"] == []
    r = api.post(f"/reservations/{res['id']}/ship")
    assert r.status_code == 409 and r.json()["type"].endswith("/backorder-open")
    receive(api, "BOOK", "WH", 4)  # the sale (2) fits; the hold (3) does not, nor may e2 pass it
    done = api.post("/backorders/allocate").json()["allocated"]
    assert [x["id"] for x in done] == [sale["id"]]
    receive(api, "BOOK", "WH", 2)
    done = api.post("/backorders/allocate").json()["allocated"]
    assert [x["id"] for x in done] == [res["backorders"][0]["id"], late["id"]]
    tasks = api.get("/pick-tasks").json()["tasks"]
    assert sorted((t["source"], t["qty"]) for t in tasks) == [
        ("backorder", 1),
        ("backorder", 2),
        ("reservation", 3),
    ]
    with db.read(engine) as conn:
        allocated = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "backorder.allocated")
            .order_by(outbox.c.id)
        ).scalars()
        assert [p["origin"] for p in allocated] == [
            "consumption:web:e1",
            f"reservation:{res['id']}",
            "consumption:web:e2",
        ]
    assert figures(api, "BOOK", "WH")["available"] == 0


def test_a_released_or_lapsed_hold_cancels_its_backorder_line(api, engine, tenant):
    _shop(api)
    gone = _hold(api, 2)
    lapsing = _hold(api, 3, ttl_seconds=1)
    kept = _hold(api, 1)
    assert api.post(f"/reservations/{gone['id']}/release").status_code == 200
    statuses = {b["id"]: b["status"] for b in api.get("/backorders").json()["backorders"]}
    assert statuses[gone["backorders"][0]["id"]] == "cancelled"
    import time

    time.sleep(1.2)
    # The lapsed hold's units are free already: its line is cancelled, not given stock.
    receive(api, "BOOK", "WH", 1)
    done = api.post("/backorders/allocate").json()["allocated"]
    assert [x["id"] for x in done] == [kept["backorders"][0]["id"]]
    statuses = {b["id"]: b["status"] for b in api.get("/backorders").json()["backorders"]}
    assert statuses[lapsing["backorders"][0]["id"]] == "cancelled"
    from onhand.reservations.lifecycle import expire_due

    expire_due(engine)
    assert figures(api, "BOOK", "WH")["reserved"] == 1


def test_allocation_racing_releases_never_deadlocks(api, engine, tenant):
    import threading

    from onhand import db
    from onhand.fulfilment import backorders
    from onhand.reservations import lifecycle

    if db.is_sqlite(engine):
        import pytest

        pytest.skip("SQLite writers hold the whole database; the row locks are PostgreSQL's")
    _shop(api)
    item(api, "PEN", allow_backorder=True)
    holds = [_hold(api, 1) for _ in range(12)]
    for _ in range(6):
        r = api.post("/reservations", json={"lines": [{"sku": "PEN", "qty": 1}]})
        assert r.status_code == 201, r.text
    errors: list[BaseException] = []

    def allocating() -> None:
        for _ in range(12):
            try:
                with db.write(engine) as conn:
                    backorders.allocate(conn, tenant, db.utcnow())
            except BaseException as problem:  # noqa: BLE001 - reported by the test
                errors.append(problem)

    def releasing() -> None:
        for res in holds:
            try:
                with db.write(engine) as conn:
                    lifecycle.release(conn, tenant, res["id"], "ann")
            except BaseException as problem:  # noqa: BLE001 - reported by the test
                errors.append(problem)

    receive(api, "BOOK", "WH", 3)
    threads = [threading.Thread(target=f) for f in (allocating, releasing, allocating)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    listed = api.get("/backorders", params={"sku": "BOOK"}).json()["backorders"]
    assert {b["status"] for b in listed} == {"cancelled"}
    assert figures(api, "BOOK", "WH")["reserved"] == 0
