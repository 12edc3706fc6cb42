"""Landed cost: charges on a purchase order or a receipt, spread over its lines by value,
quantity or weight, in FIFO and average valuation, reported apart from the purchase cost.

PO-1 brings A 10 @ 2.00 (value 20) and B 30 @ 1.00 (value 30).
  freight 10.00 by value:   A 4.00 (0.40 a unit), B 6.00 (0.20)
  duty 3.00 by quantity:    A 0.75 (0.075),       B 2.25 (0.075)
  so A lands at 2.475 a unit and B at 1.275.
"""

from __future__ import annotations

from decimal import Decimal

from apikit import assert_problem
from planningkit import clean, created

from onhand.planning.landed import split


def _valuation(api, method: str) -> dict[str, tuple[str, str, str]]:
    doc = api.get("/valuation", params={"method": method}).json()
    return {r["sku"]: (r["value"], r["purchase_value"], r["landed_value"]) for r in doc["items"]}


def _setup(api, weights: dict[str, int] | None = None) -> dict:
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    for sku in ("A", "B"):
        body = {"sku": sku, "name": sku}
        if weights:
            body["attributes"] = {"weight": weights[sku]}
        created(api.post("/items", json=body))
    created(
        api.post(
            "/suppliers",
            json={"code": "ACME", "name": "Acme", "currency": "GBP", "lead_time_days": 5},
        )
    )
    po = created(
        api.post(
            "/purchase-orders",
            json={
                "supplier": "ACME",
                "location": "WH1",
                "lines": [
                    {"sku": "A", "qty": 10, "unit_price": "2.00"},
                    {"sku": "B", "qty": 30, "unit_price": "1.00"},
                ],
            },
        )
    )
    return po


def _receive_all(api, po: dict) -> None:
    for step in ("approve", "send"):
        assert api.post(f"/purchase-orders/{po['id']}/{step}").status_code == 200
    r = api.post(
        f"/purchase-orders/{po['id']}/receipts",
        json={"lines": [{"sku": "A", "qty": 10}, {"sku": "B", "qty": 30}]},
    )
    assert r.status_code in (200, 201), r.text


def test_order_charges_are_spread_and_land_in_fifo_and_average(api, engine, tenant):
    po = _setup(api)
    path = f"/purchase-orders/{po['id']}/charges"
    created(api.post(path, json={"kind": "freight", "amount": "10.00", "basis": "value"}))
    doc = created(api.post(path, json={"kind": "duty", "amount": "3.00", "basis": "quantity"}))
    assert [(c["kind"], [(x["sku"], x["amount"]) for x in c["lines"]]) for c in doc["charges"]] == [
        ("freight", [("A", "4"), ("B", "6")]),
        ("duty", [("A", "0.75"), ("B", "2.25")]),
    ]
    assert [(x["sku"], x["landed"], x["per_unit"]) for x in doc["by_line"]] == [
        ("A", "4.75", "0.475"),
        ("B", "8.25", "0.275"),
    ]
    _receive_all(api, po)
    for method in ("fifo", "average"):
        assert _valuation(api, method) == {
            "A": ("24.75", "20.00", "4.75"),
            "B": ("38.25", "30.00", "8.25"),
        }, method
    r = api.post("/movements", json={"type": "ship", "sku": "A", "location": "WH1", "qty": 4})
    assert r.status_code == 201
    # A receipt with its own handling charge: 10 @ 3.00 + 5.00 = 3.50 a unit.
    got = api.post(
        "/movements",
        json={"type": "receipt", "sku": "A", "location": "WH1", "qty": 10, "unit_cost": "3.00"},
    ).json()
    created(
        api.post(f"/movements/{got['id']}/charges", json={"kind": "handling", "amount": "5.00"})
    )
    # 6 left @ 2.475 and 10 @ 3.50, bought at 2.00 and 3.00.
    assert _valuation(api, "fifo")["A"] == ("49.85", "42.00", "7.85")
    assert _valuation(api, "average")["A"] == ("49.85", "42.00", "7.85")
    r = api.post("/movements", json={"type": "ship", "sku": "A", "location": "WH1", "qty": 8})
    assert r.status_code == 201
    # FIFO ships the 6 older units first: 8 left @ 3.50, bought @ 3.00.
    assert _valuation(api, "fifo")["A"] == ("28.00", "24.00", "4.00")
    totals = api.get("/valuation", params={"method": "fifo"}).json()["totals"]
    assert (totals["value"], totals["purchase_value"], totals["landed_value"]) == (
        "66.25",
        "54.00",
        "12.25",
    )
    assert clean(engine, tenant) == []


def test_a_weight_basis_uses_the_items_weight(api):
    po = _setup(api, weights={"A": 2, "B": 1})  # A weighs 20 in all, B 30
    doc = created(
        api.post(
            f"/purchase-orders/{po['id']}/charges",
            json={"kind": "freight", "amount": "9.00", "basis": "weight"},
        )
    )
    assert [(x["sku"], x["amount"]) for x in doc["charges"][0]["lines"]] == [
        ("A", "3.6"),
        ("B", "5.4"),
    ]


def test_bad_charges_are_refused_and_change_nothing(api, tenant_state):
    po = _setup(api)
    receipt = api.post(
        "/movements", json={"type": "receipt", "sku": "A", "location": "WH1", "qty": 1}
    ).json()
    ship = api.post("/movements", json={"type": "ship", "sku": "A", "location": "WH1", "qty": 1})
    before = tenant_state()
    path = f"/purchase-orders/{po['id']}/charges"
    good = {"kind": "freight", "amount": "10.00", "basis": "value"}
    for body in (
        dict(good, amount="0"),
        dict(good, amount="-1"),
        dict(good, kind="bribe"),
        dict(good, basis="colour"),
        dict(good, bogus=1),
        dict(good, basis="weight"),  # no item has a weight
    ):
        assert_problem(api.post(path, json=body), 422)
    assert_problem(api.post("/purchase-orders/99999/charges", json=good), 404)
    assert_problem(api.post("/movements/nope/charges", json=good), 404)
    assert_problem(api.post(f"/movements/{ship.json()['id']}/charges", json=good), 422)
    assert tenant_state() == before
    # That receipt has no unit cost, so it weighs nothing by value; by quantity it carries all.
    assert_problem(api.post(f"/movements/{receipt['id']}/charges", json=good), 422)
    created(api.post(f"/movements/{receipt['id']}/charges", json=dict(good, basis="quantity")))
    assert api.post(f"/purchase-orders/{po['id']}/cancel").status_code == 200
    assert "cancelled" in assert_problem(api.post(path, json=good), 422)["detail"]


def test_shares_are_whole_cents_that_add_up_to_the_charge():
    shares = split(Decimal("10.00"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})
    assert sorted(shares.values()) == [Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    odd = split(Decimal("0.05"), {"a": Decimal(7), "b": Decimal(3), "c": Decimal(1)})
    assert sum(odd.values()) == Decimal("0.05") and odd["a"] >= odd["b"] >= odd["c"]
