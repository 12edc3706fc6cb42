"""Consumption events from tills and delivery apps, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from apikit import assert_problem
from fulfilmentkit import figures, item, location, lots_on_hand, receive, receive_lot, sell

from onhand import check


def _cafe(api) -> None:
    location(api, "CAFE", zone="leeds")
    item(api, "BEANS", unit="g", units={"kg": 1000})
    item(api, "MILK", unit="ml", units={"l": 1000})
    item(api, "CUP")
    r = api.post(
        "/items",
        json={
            "sku": "LATTE",
            "name": "Latte",
            "kind": "bundle",
            "components": [
                {"sku": "BEANS", "qty": 18},
                {"sku": "MILK", "qty": 200},
                {"sku": "CUP", "qty": 1},
            ],
        },
    )
    assert r.status_code == 201, r.text
    receive(api, "BEANS", "CAFE", 1000)
    receive(api, "MILK", "CAFE", 2000)
    receive(api, "CUP", "CAFE", 50)


def test_a_recipe_sale_consumes_its_ingredients(api):
    _cafe(api)
    doc = sell(api, "pos-leeds-1", {"id": "s1", "sku": "LATTE", "qty": 3, "location": "CAFE"})
    assert doc["results"] == [{"id": "s1", "result": "applied"}]
    assert figures(api, "BEANS", "CAFE")["on_hand"] == 1000 - 3 * 18
    assert figures(api, "MILK", "CAFE")["on_hand"] == 2000 - 3 * 200
    assert figures(api, "CUP", "CAFE")["on_hand"] == 50 - 3
    entries = api.get("/ledger", params={"sku": "MILK"}).json()["entries"]
    assert entries[0]["reason"] == "consumption" and entries[0]["delta"] == -600


def test_replay_after_an_offline_day_applies_once(api):
    _cafe(api)
    queue = [
        {"id": f"q{i}", "sku": "CUP", "qty": 1, "location": "CAFE", "at": "2026-11-30T10:00:00Z"}
        for i in range(10)
    ]
    first = sell(api, "pos-leeds-1", *queue[:6])
    assert first["counts"] == {"applied": 6}
    # The till comes back online and sends its whole offline queue again, plus new sales.
    again = sell(api, "pos-leeds-1", *queue)
    assert [r["result"] for r in again["results"]] == ["duplicate"] * 6 + ["applied"] * 4
    assert again["results"][0]["first_result"] == "applied"
    assert figures(api, "CUP", "CAFE")["on_hand"] == 50 - 10
    # The same id from another till is another sale.
    other = sell(api, "pos-leeds-2", queue[0])
    assert other["counts"] == {"applied": 1}
    assert figures(api, "CUP", "CAFE")["on_hand"] == 50 - 11


def test_an_id_twice_in_one_batch_is_one_sale(api):
    _cafe(api)
    e = {"id": "x", "sku": "CUP", "qty": 2, "location": "CAFE"}
    doc = sell(api, "app", e, e)
    assert [r["result"] for r in doc["results"]] == ["applied", "duplicate"]
    assert figures(api, "CUP", "CAFE")["on_hand"] == 48


def test_racing_resends_of_one_batch_apply_it_once(api, client):
    _cafe(api)
    events = [{"id": f"r{i}", "sku": "CUP", "qty": 1, "location": "CAFE"} for i in range(20)]
    answers = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        r = api.post("/consumption", json={"source": "pos-race", "events": events})
        answers.append(r)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    applied = sum(r.json()["counts"].get("applied", 0) for r in answers)
    assert applied == 20
    assert figures(api, "CUP", "CAFE")["on_hand"] == 30


def test_no_stock_is_refused_or_backordered_per_item_setting(api):
    _cafe(api)
    item(api, "CAKE", allow_backorder=True)
    receive(api, "CAKE", "CAFE", 1)
    doc = sell(
        api,
        "pos-leeds-1",
        {"id": "a", "sku": "CUP", "qty": 60, "location": "CAFE"},
        {"id": "b", "sku": "CAKE", "qty": 3, "location": "CAFE"},
        {"id": "c", "sku": "NOPE", "qty": 1, "location": "CAFE"},
    )
    a, b, c = doc["results"]
    assert a["result"] == "refused" and "CUP at CAFE: 60 needed, 50 available" in a["reason"]
    assert b["result"] == "backordered" and b["backorders"][0]["qty"] == 2
    assert c["result"] == "refused" and "NOPE" in c["reason"]
    assert figures(api, "CUP", "CAFE")["on_hand"] == 50
    cake = figures(api, "CAKE", "CAFE")
    assert (cake["on_hand"], cake["committed"], cake["available"]) == (0, 2, -2)
    listed = api.get("/backorders").json()["backorders"]
    assert [(x["sku"], x["qty"], x["status"]) for x in listed] == [("CAKE", 2, "open")]
    # The refused sale is remembered as refused; the unknown SKU may be sent again later.
    again = sell(api, "pos-leeds-1", {"id": "a", "sku": "CUP", "qty": 60, "location": "CAFE"})
    assert again["results"][0] == {"id": "a", "result": "duplicate", "first_result": "refused"}


def test_a_recipe_with_one_missing_ingredient_consumes_nothing(api):
    _cafe(api)
    doc = sell(api, "pos", {"id": "big", "sku": "LATTE", "qty": 11, "location": "CAFE"})
    assert doc["results"][0]["result"] == "refused"
    assert "MILK at CAFE: 2200 needed, 2000 available" in doc["results"][0]["reason"]
    assert figures(api, "BEANS", "CAFE")["on_hand"] == 1000
    assert figures(api, "CUP", "CAFE")["on_hand"] == 50


def test_sales_in_a_batch_take_stock_in_order(api):
    _cafe(api)
    doc = sell(
        api,
        "pos",
        {"id": "1", "sku": "CUP", "qty": 30, "location": "CAFE"},
        {"id": "2", "sku": "CUP", "qty": 30, "location": "CAFE"},
        {"id": "3", "sku": "CUP", "qty": 20, "location": "CAFE"},
    )
    assert [r["result"] for r in doc["results"]] == ["applied", "refused", "applied"]
    assert figures(api, "CUP", "CAFE")["on_hand"] == 0


def test_decimal_quantities_convert_exactly(api):
    _cafe(api)
    doc = sell(
        api,
        "pos",
        {"id": "1", "sku": "BEANS", "qty": "0.25 kg", "location": "CAFE"},
        {"id": "2", "sku": "BEANS", "qty": "0.0001 kg", "location": "CAFE"},
    )
    assert doc["results"][0]["result"] == "applied"
    assert (
        doc["results"][1]["result"] == "refused" and "whole number" in doc["results"][1]["reason"]
    )
    assert figures(api, "BEANS", "CAFE")["on_hand"] == 750


def test_a_bad_batch_is_a_problem_and_changes_nothing(api, tenant_state):
    _cafe(api)
    before = tenant_state()
    r = api.post("/consumption", json={"source": "pos", "events": []})
    assert_problem(r, 422)
    r = api.post("/consumption", json={"source": "pos", "events": [{"id": "1", "sku": "CUP"}]})
    assert_problem(r, 422)
    assert tenant_state() == before


def test_consumption_needs_the_admin_scope(api, engine, tenant, client):
    from conftest import Api, make_token

    shop = Api(client, tenant, make_token(engine, tenant, "storefront"))
    r = shop.post(
        "/consumption",
        json={"source": "p", "events": [{"id": "1", "sku": "A", "qty": 1, "location": "X"}]},
    )
    assert_problem(r, 403)


def test_a_batch_at_one_cafe_announces_the_item_total_over_every_cafe(api, engine, tenant):
    import sqlalchemy as sa

    from onhand import db
    from onhand.tables import outbox

    _cafe(api)
    location(api, "CAFE-2", zone="york")
    location(api, "CAFE-3", zone="hull")
    receive(api, "CUP", "CAFE-2", 20)
    receive(api, "CUP", "CAFE-3", 30)
    sell(api, "pos-leeds-1", {"id": "s1", "sku": "CUP", "qty": 4, "location": "CAFE"})
    with db.read(engine) as conn:
        last = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "stock.changed")
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert (last["sku"], last["location"], last["location_available"]) == ("CUP", "CAFE", 46)
    assert last["available"] == 46 + 20 + 30


def test_a_backorder_at_a_cafe_that_never_stocked_the_item(api):
    _cafe(api)
    location(api, "CAFE-2", zone="york")
    item(api, "CAKE", allow_backorder=True)
    receive(api, "CAKE", "CAFE", 5)
    doc = sell(
        api,
        "pos-york-1",
        {"id": "a", "sku": "CAKE", "qty": 2, "location": "CAFE-2"},
        {"id": "b", "sku": "CAKE", "qty": 1, "location": "CAFE-2"},
    )
    assert [r["result"] for r in doc["results"]] == ["backordered", "backordered"]
    cake = figures(api, "CAKE", "CAFE-2")
    assert (cake["on_hand"], cake["committed"], cake["available"]) == (0, 3, -3)
    assert figures(api, "CAKE", "CAFE")["available"] == 5


def test_a_sale_of_a_serial_tracked_item_is_refused_and_the_rest_of_the_batch_applies(api):
    _cafe(api)
    r = api.post("/items", json={"sku": "CAM", "name": "Camera", "tracking": "serial"})
    assert r.status_code == 201, r.text
    r = api.post(
        "/movements",
        json={"type": "receipt", "sku": "CAM", "location": "CAFE", "serials": ["SN-1", "SN-2"]},
    )
    assert r.status_code == 201, r.text
    doc = sell(
        api,
        "pos-leeds-1",
        {"id": "a", "sku": "CAM", "qty": 1, "location": "CAFE"},
        {"id": "b", "sku": "CUP", "qty": 2, "location": "CAFE"},
    )
    a, b = doc["results"]
    assert a["result"] == "refused" and "CAM is tracked by serial number" in a["reason"]
    assert b == {"id": "b", "result": "applied"}
    assert figures(api, "CAM", "CAFE")["on_hand"] == 2
    assert figures(api, "CUP", "CAFE")["on_hand"] == 48


def test_a_till_sells_a_lot_item_from_its_sellable_lots_first_expired_first_out(
    api, engine, tenant
):
    """A till does not say which lot it sold: the sale takes the lots that may still be sold
    (not past the item's shelf-life limit, not recalled), the one expiring first first."""
    _cafe(api)
    item(api, "OAT", tracking="lot", min_shelf_life_days=2)
    receive_lot(
        api, "OAT", "CAFE", "OLD", 4, days=1
    )  # inside the 2 days of shelf life: no longer sold
    receive_lot(api, "OAT", "CAFE", "SOON", 3, days=5)
    receive_lot(api, "OAT", "CAFE", "LATER", 6, days=9)
    doc = sell(
        api,
        "pos-leeds-1",
        {"id": "a", "sku": "OAT", "qty": 4, "location": "CAFE"},
        {"id": "b", "sku": "OAT", "qty": 6, "location": "CAFE"},
    )
    a, b = doc["results"]
    assert a == {"id": "a", "result": "applied"}
    # 5 sellable units left (LATER's): the OLD lot's 4 do not make up the 6.
    assert b["result"] == "refused"
    assert "OAT at CAFE: 6 needed, 5 available in lots that may still be sold" in b["reason"]
    assert lots_on_hand(api, "OAT") == {"OLD": 4, "LATER": 5}  # SOON is used up
    entries = api.get("/ledger", params={"sku": "OAT", "reason": "consumption"}).json()
    assert sorted((e["lot"], e["delta"]) for e in entries["entries"]) == [
        ("LATER", -1),
        ("SOON", -3),
    ]
    # A recalled lot is not sold from either, and a lot item is not shipped from a till.
    r = api.post("/lots/OAT/LATER/recall", json={"reason": "supplier notice"})
    assert r.status_code in (200, 201), r.text
    doc = sell(
        api,
        "pos-leeds-1",
        {"id": "c", "sku": "OAT", "qty": 1, "location": "CAFE"},
        {"id": "d", "sku": "OAT", "qty": 1, "location": "CAFE", "ship": True},
    )
    c, d = doc["results"]
    assert c["result"] == "refused" and "1 needed, 0 available" in c["reason"], c
    assert d["result"] == "refused" and "ship it through a reservation" in d["reason"], d
    assert lots_on_hand(api, "OAT") == {"OLD": 4, "LATER": 5}  # SOON is used up
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []
