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
