"""Shipping a committed reservation: committed and on_hand fall once, with the hold's id."""

from apikit import assert_problem

from conftest import Api, make_token
from onhand import check, db


def _setup(api):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    assert api.post("/items", json={"sku": "BOOK", "name": "Book"}).status_code == 201
    r = api.post(
        "/movements", json={"type": "receipt", "sku": "BOOK", "location": "WH1", "qty": 10}
    )
    assert r.status_code == 201, r.text


def _figures(api):
    doc = api.get("/availability/BOOK").json()
    return {k: doc[k] for k in ("on_hand", "reserved", "committed", "available")}


def test_shipping_a_committed_sale_lowers_committed_and_on_hand_once(api, engine, tenant):
    _setup(api)
    hold = api.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": 3}]}).json()
    assert_problem(api.post(f"/reservations/{hold['id']}/ship"), 409, "reservation-not-committed")
    assert api.post(f"/reservations/{hold['id']}/commit").status_code == 200
    assert _figures(api) == {"on_hand": 10, "reserved": 0, "committed": 3, "available": 7}

    first = api.post(f"/reservations/{hold['id']}/ship")
    assert first.status_code == 200, first.text
    assert _figures(api) == {"on_hand": 7, "reserved": 0, "committed": 0, "available": 7}
    again = api.post(f"/reservations/{hold['id']}/ship")
    assert again.status_code == 200 and again.json()["shipped_at"] == first.json()["shipped_at"]
    assert _figures(api) == {"on_hand": 7, "reserved": 0, "committed": 0, "available": 7}

    entries = api.get(f"/ledger?reservation={hold['id']}&reason=ship").json()["entries"]
    assert sorted((e["state"], e["delta"]) for e in entries) == [("committed", -3), ("on_hand", -3)]
    with db.read(engine) as conn:
        assert [f for f in check.run(conn) if tenant in f.what] == []


def test_a_storefront_cannot_ship(api, client, engine, tenant):
    _setup(api)
    hold = api.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": 1}]}).json()
    shop = Api(client, tenant, make_token(engine, tenant, "storefront"))
    assert shop.post(f"/reservations/{hold['id']}/commit").status_code == 200
    assert_problem(shop.post(f"/reservations/{hold['id']}/ship"), 403)
    assert _figures(api)["committed"] == 1


def test_a_released_hold_cannot_be_shipped(api):
    _setup(api)
    hold = api.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": 2}]}).json()
    assert api.post(f"/reservations/{hold['id']}/release").status_code == 200
    assert_problem(api.post(f"/reservations/{hold['id']}/ship"), 409, "reservation-not-committed")
    assert _figures(api) == {"on_hand": 10, "reserved": 0, "committed": 0, "available": 10}
