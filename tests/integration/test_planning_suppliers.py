"""Suppliers and item–supplier links through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from planningkit import clean, created, problem, shop

ACME = {
    "code": "ACME",
    "name": "Acme Books",
    "currency": "GBP",
    "lead_time_days": 5,
    "lead_time_std_days": 1.5,
    "moq": 50,
    "pack_size": 12,
    "default_price": "4.20",
}


@pytest.fixture
def books(api, engine, tenant):
    shop(api, skus=("A", "B"))
    created(api.post("/suppliers", json=ACME))
    created(api.post("/suppliers", json={"code": "ZEN", "name": "Zen Paper", "lead_time_days": 10}))
    yield api
    assert clean(engine, tenant) == []


def test_a_supplier_is_created_read_listed_changed_and_deleted(books):
    doc = books.get("/suppliers/ACME").json()
    assert {k: doc[k] for k in ACME} == ACME | {"default_price": "4.2"}
    assert doc["active"] is True
    assert [s["code"] for s in books.get("/suppliers").json()["suppliers"]] == ["ACME", "ZEN"]
    changed = books.patch("/suppliers/ACME", json={"lead_time_days": 7, "active": False}).json()
    assert changed["lead_time_days"] == 7 and changed["active"] is False
    assert changed["moq"] == 50, "a patch leaves the other terms alone"
    assert [s["code"] for s in books.get("/suppliers?active=true").json()["suppliers"]] == ["ZEN"]
    assert books.delete("/suppliers/ZEN").status_code == 204
    problem(books.get("/suppliers/ZEN"), 404)


def test_defaults_of_a_new_supplier(books):
    doc = books.get("/suppliers/ZEN").json()
    assert (
        doc["currency"],
        doc["moq"],
        doc["pack_size"],
        doc["default_price"],
        doc["lead_time_std_days"],
    ) == ("EUR", 0, 1, None, 0)


BAD_SUPPLIERS = [
    ({"name": "No code", "lead_time_days": 3}, 422),
    (ACME | {"code": "ACME"}, 409),
    (ACME | {"code": "NEW", "lead_time_days": -1}, 422),
    (ACME | {"code": "NEW", "lead_time_std_days": -0.5}, 422),
    (ACME | {"code": "NEW", "pack_size": 0}, 422),
    (ACME | {"code": "NEW", "moq": -5}, 422),
    (ACME | {"code": "NEW", "moq": 2.5}, 422),
    (ACME | {"code": "NEW", "currency": "pound"}, 422),
    (ACME | {"code": "NEW", "default_price": "-1"}, 422),
    (ACME | {"code": "NEW", "default_price": "abc"}, 422),
    (ACME | {"code": "has space"}, 422),
    ({"code": "NEW", "name": "No lead time"}, 422),
]

BAD_LINKS = [
    ("PATCH", "/suppliers/ACME", {"pack_size": 0}, 422),
    ("PATCH", "/suppliers/NOPE", {"name": "x"}, 404),
    ("DELETE", "/suppliers/NOPE", None, 404),
    ("POST", "/items/A/suppliers", {"supplier": "NOPE"}, 404),
    ("POST", "/items/NOPE/suppliers", {"supplier": "ACME"}, 404),
    ("POST", "/items/A/suppliers", {"supplier": "ACME", "pack_size": 0}, 422),
    ("POST", "/items/A/suppliers", {"supplier": "ACME", "price": "-2"}, 422),
    ("PATCH", "/items/A/suppliers/ZEN", {"price": "1"}, 404),
    ("DELETE", "/items/A/suppliers/ZEN", None, 404),
    ("GET", "/suppliers/NOPE/performance", None, 404),
]


def test_bad_supplier_input_is_refused_and_changes_nothing(books, tenant_state):
    before = tenant_state()
    for body, status in BAD_SUPPLIERS:
        problem(books.post("/suppliers", json=body), status)
    assert tenant_state() == before


def test_bad_link_input_is_refused_and_changes_nothing(books, tenant_state):
    created(books.post("/items/A/suppliers", json={"supplier": "ACME"}))
    before = tenant_state()
    for method, path, body, status in BAD_LINKS:
        problem(books.request(method, path, json=body), status)
        assert tenant_state() == before, (method, path, body)


def test_links_carry_price_and_overrides_and_fall_back_to_the_supplier(books):
    link = created(
        books.post(
            "/items/A/suppliers",
            json={"supplier": "ACME", "supplier_sku": "AC-1", "price": "3.75", "pack_size": 6},
        )
    )
    assert (
        link["supplier_sku"],
        link["price"],
        link["effective_pack_size"],
        link["effective_moq"],
    ) == ("AC-1", "3.75", 6, 50)
    plain = created(books.post("/items/B/suppliers", json={"supplier": "ACME"}))
    assert (plain["price"], plain["effective_price"], plain["effective_pack_size"]) == (
        None,
        "4.2",
        12,
    )
    problem(books.post("/items/A/suppliers", json={"supplier": "ACME"}), 409)
    patched = books.patch("/items/A/suppliers/ACME", json={"moq": 0}).json()
    assert patched["effective_moq"] == 0 and patched["price"] == "3.75"
    assert books.delete("/items/A/suppliers/ACME").status_code == 204
    assert books.get("/items/A/suppliers").json()["suppliers"] == []


def test_an_item_has_one_preferred_supplier_at_most(books):
    created(books.post("/items/A/suppliers", json={"supplier": "ACME", "preferred": True}))
    created(books.post("/items/A/suppliers", json={"supplier": "ZEN", "preferred": True}))
    links = {
        s["supplier"]: s["preferred"] for s in books.get("/items/A/suppliers").json()["suppliers"]
    }
    assert links == {"ACME": False, "ZEN": True}
    books.patch("/items/A/suppliers/ACME", json={"preferred": True})
    links = {
        s["supplier"]: s["preferred"] for s in books.get("/items/A/suppliers").json()["suppliers"]
    }
    assert links == {"ACME": True, "ZEN": False}


def test_a_supplier_with_orders_cannot_be_deleted_but_can_be_deactivated(books):
    created(
        books.post(
            "/purchase-orders",
            json={"supplier": "ACME", "location": "WH1", "lines": [{"sku": "A", "qty": 5}]},
        )
    )
    assert problem(books.delete("/suppliers/ACME"), 409)["type"].endswith("/supplier-in-use")
    assert books.patch("/suppliers/ACME", json={"active": False}).json()["active"] is False


def test_deleting_a_supplier_removes_its_links(books):
    created(books.post("/items/A/suppliers", json={"supplier": "ZEN"}))
    assert books.delete("/suppliers/ZEN").status_code == 204
    assert books.get("/items/A/suppliers").json()["suppliers"] == []


def test_another_tenant_cannot_see_the_suppliers(books, client, engine):
    from conftest import Api, make_token

    other = Api(
        client,
        "other-" + books.tenant[:8],
        make_token(engine, "other-" + books.tenant[:8], "admin"),
    )
    assert other.get("/suppliers").json()["suppliers"] == []
    problem(other.get("/suppliers/ACME"), 404)
    problem(
        books.client.get(
            "/v1/" + other.tenant + "/suppliers", headers={"Authorization": f"Bearer {books.token}"}
        ),
        403,
    )
