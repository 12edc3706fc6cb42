"""Purchase orders end to end: lifecycle, incoming and on_hand, receipts, CSV, retries."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from planningkit import clean, created, problem, shop

CSV_HEADER = [
    "po_number",
    "status",
    "supplier",
    "supplier_name",
    "currency",
    "ship_to",
    "expected_on",
    "line_no",
    "sku",
    "supplier_sku",
    "description",
    "unit",
    "qty_ordered",
    "qty_received",
    "qty_outstanding",
    "unit_price",
    "line_total",
]


@pytest.fixture
def buyer(api, engine, tenant):
    shop(api, skus=("A", "B", "C"), codes=("WH1", "WH2"))
    created(
        api.post(
            "/suppliers",
            json={
                "code": "ACME",
                "name": "Acme",
                "currency": "GBP",
                "lead_time_days": 4.5,
                "default_price": "2.00",
            },
        )
    )
    created(
        api.post(
            "/items/A/suppliers", json={"supplier": "ACME", "supplier_sku": "AC-A", "price": "1.50"}
        )
    )
    yield api
    assert clean(engine, tenant) == []


def figures(api, sku: str, location: str = "WH1") -> tuple[int, int, int]:
    """(on_hand, incoming, available) of one SKU at one location."""
    for row in api.get(f"/availability/{sku}").json()["locations"]:
        if row["location"] == location:
            return row["on_hand"], row["incoming"], row["available"]
    return 0, 0, 0


def order(api, **extra) -> dict:
    body = {
        "supplier": "ACME",
        "location": "WH1",
        "lines": [{"sku": "A", "qty": 10}, {"sku": "B", "qty": 4, "unit_price": "3.25"}],
    }
    return created(api.post("/purchase-orders", json=body | extra))


def act(api, po: dict, action: str, status: int = 200) -> dict:
    r = api.post(f"/purchase-orders/{po['id']}/{action}")
    assert r.status_code == status, r.text
    return r.json()


def ledger(api, sku: str) -> list[tuple]:
    rows = api.get(f"/ledger?sku={sku}").json()["entries"]
    cost = lambda c: None if c is None else str(Decimal(c).normalize())  # noqa: E731
    return sorted(
        (e["state"], e["delta"], e["reason"], e["reference"], cost(e["unit_cost"])) for e in rows
    )


def test_a_draft_takes_prices_from_the_link_then_the_supplier(buyer):
    po = order(buyer)
    assert po["number"] == "PO-00001" and po["status"] == "draft" and po["currency"] == "GBP"
    lines = {ln["sku"]: ln for ln in po["lines"]}
    assert (lines["A"]["unit_price"], lines["A"]["supplier_sku"]) == ("1.5", "AC-A")
    assert lines["B"]["unit_price"] == "3.25", "a price on the line wins"
    assert po["total"] == "28" and po["units"] == 14
    assert figures(buyer, "A") == (0, 0, 0), "a draft changes no stock"
    assert order(buyer)["number"] == "PO-00002"


def test_the_whole_lifecycle_moves_incoming_then_on_hand(buyer):
    po = order(buyer)
    approved = act(buyer, po, "approve")
    assert approved["status"] == "approved" and approved["approved_at"]
    assert figures(buyer, "A") == (0, 10, 0) and figures(buyer, "B") == (0, 4, 0)
    sent = act(buyer, po, "send")
    assert sent["status"] == "sent" and sent["expected_on"], "expected from the lead time"

    part = created(
        buyer.post(
            f"/purchase-orders/{po['id']}/receipts", json={"lines": [{"sku": "A", "qty": 6}]}
        )
    )
    assert part["status"] == "partially_received"
    assert {ln["sku"]: ln["outstanding"] for ln in part["lines"]} == {"A": 4, "B": 4}
    assert figures(buyer, "A") == (6, 4, 6)

    done = created(
        buyer.post(
            f"/purchase-orders/{po['id']}/receipts",
            json={"lines": [{"sku": "A", "qty": 4}, {"sku": "B", "qty": 4}]},
        )
    )
    assert done["status"] == "received" and done["closed_at"]
    assert figures(buyer, "A") == (10, 0, 10) and figures(buyer, "B") == (4, 0, 4)
    assert [len(r["lines"]) for r in done["receipts"]] == [1, 2]
    assert ledger(buyer, "A") == sorted(
        [
            ("incoming", 10, "po", "PO-00001", None),
            ("incoming", -6, "po_receipt", "PO-00001", "1.5"),
            ("on_hand", 6, "po_receipt", "PO-00001", "1.5"),
            ("incoming", -4, "po_receipt", "PO-00001", "1.5"),
            ("on_hand", 4, "po_receipt", "PO-00001", "1.5"),
        ]
    )


ILLEGAL = {
    "draft": ("send", "receive"),
    "approved": ("approve", "receive"),
    "sent": ("approve", "send"),
    "received": ("cancel", "receive"),
    "cancelled": ("approve", "send", "cancel", "receive"),
}
PATHS = {
    "draft": [],
    "approved": ["approve"],
    "sent": ["approve", "send"],
    "received": ["approve", "send", "receive"],
    "cancelled": ["cancel"],
}


def test_illegal_transitions_are_409_and_change_nothing(buyer, tenant_state):
    receipt = {"lines": [{"sku": "A", "qty": 3}]}
    orders = {}
    for status, steps in PATHS.items():
        orders[status] = po = order(buyer, lines=[{"sku": "A", "qty": 3}])
        for step in steps:
            if step == "receive":
                created(buyer.post(f"/purchase-orders/{po['id']}/receipts", json=receipt))
            else:
                act(buyer, po, step)
    before = tenant_state()
    for status, actions in ILLEGAL.items():
        for action in actions:
            url = f"/purchase-orders/{orders[status]['id']}"
            r = (
                buyer.post(f"{url}/receipts", json=receipt)
                if action == "receive"
                else buyer.post(f"{url}/{action}")
            )
            doc = problem(r, 409)
            assert doc["type"].endswith("/illegal-transition") and doc["order_status"] == status
            assert f"is {status}; only an order that is" in doc["detail"]
    assert tenant_state() == before


def test_over_receipt_is_refused_unless_allowed(buyer, tenant_state):
    po = order(buyer, lines=[{"sku": "A", "qty": 5}])
    act(buyer, po, "approve")
    act(buyer, po, "send")
    before = tenant_state()
    doc = problem(
        buyer.post(
            f"/purchase-orders/{po['id']}/receipts", json={"lines": [{"sku": "A", "qty": 6}]}
        ),
        409,
    )
    assert doc["type"].endswith("/over-receipt")
    assert (doc["outstanding"], doc["qty"]) == (5, 6) and "allow_over_receipt" in doc["detail"]
    assert tenant_state() == before
    done = created(
        buyer.post(
            f"/purchase-orders/{po['id']}/receipts",
            json={"lines": [{"sku": "A", "qty": 6}], "allow_over_receipt": True},
        )
    )
    assert done["status"] == "received" and done["lines"][0]["received"] == 6
    assert figures(buyer, "A") == (6, 0, 6), "the surplus goes to on_hand, incoming stops at 0"


def test_bad_receipts_and_orders_are_4xx_and_change_nothing(buyer, tenant_state):
    po = order(buyer)
    act(buyer, po, "approve")
    act(buyer, po, "send")
    before = tenant_state()
    url = f"/purchase-orders/{po['id']}/receipts"
    for body, status in [
        ({"lines": [{"sku": "C", "qty": 1}]}, 422),
        ({"lines": [{"sku": "A", "qty": 0}]}, 422),
        ({"lines": [{"sku": "A", "qty": -2}]}, 422),
        ({"lines": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 1}]}, 422),
        ({"lines": []}, 422),
        ({"lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 9}]}, 409),
    ]:
        problem(buyer.post(url, json=body), status)
    problem(
        buyer.post("/purchase-orders/999/receipts", json={"lines": [{"sku": "A", "qty": 1}]}), 404
    )
    problem(buyer.post("/purchase-orders/999/approve"), 404)
    for body, status in [
        ({"supplier": "NOPE", "location": "WH1", "lines": [{"sku": "A", "qty": 1}]}, 404),
        ({"supplier": "ACME", "location": "NOPE", "lines": [{"sku": "A", "qty": 1}]}, 404),
        ({"supplier": "ACME", "location": "WH1", "lines": [{"sku": "NOPE", "qty": 1}]}, 404),
        ({"supplier": "ACME", "location": "WH1", "lines": [{"sku": "A", "qty": 0}]}, 422),
        ({"supplier": "ACME", "location": "WH1", "lines": []}, 422),
        (
            {
                "supplier": "ACME",
                "location": "WH1",
                "lines": [{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}],
            },
            422,
        ),
    ]:
        problem(buyer.post("/purchase-orders", json=body), status)
    problem(
        buyer.patch(f"/purchase-orders/{po['id']}", json={"lines": [{"sku": "A", "qty": 1}]}), 409
    )
    assert tenant_state() == before


def test_cancelling_removes_only_the_outstanding_incoming(buyer):
    po = order(buyer)
    act(buyer, po, "approve")
    act(buyer, po, "send")
    created(
        buyer.post(
            f"/purchase-orders/{po['id']}/receipts", json={"lines": [{"sku": "A", "qty": 7}]}
        )
    )
    cancelled = act(buyer, po, "cancel")
    assert cancelled["status"] == "cancelled"
    assert figures(buyer, "A") == (7, 0, 7) and figures(buyer, "B") == (0, 0, 0)
    assert ("incoming", -3, "po_cancel", "PO-00001", None) in ledger(buyer, "A")


def test_a_draft_can_be_edited_and_cancelled_without_touching_stock(buyer):
    po = order(buyer)
    edited = buyer.patch(
        f"/purchase-orders/{po['id']}",
        json={
            "lines": [{"sku": "C", "qty": 2, "unit_price": "9"}],
            "location": "WH2",
            "note": "rush",
        },
    ).json()
    assert [(ln["sku"], ln["qty"]) for ln in edited["lines"]] == [("C", 2)]
    assert (edited["location"], edited["note"]) == ("WH2", "rush")
    act(buyer, po, "cancel")
    assert ledger(buyer, "C") == []


def test_csv_of_one_order_and_of_all_open_orders(buyer):
    first = order(buyer)
    act(buyer, first, "approve")
    second = order(buyer, lines=[{"sku": "C", "qty": 1}], location="WH2")
    third = order(buyer, lines=[{"sku": "A", "qty": 1}])
    act(buyer, third, "cancel")

    r = buyer.get(f"/purchase-orders/{first['id']}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="PO-00001.csv"' in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == CSV_HEADER
    assert rows[1] == [
        "PO-00001",
        "approved",
        "ACME",
        "Acme",
        "GBP",
        "WH1",
        "",
        "1",
        "A",
        "AC-A",
        "Item A",
        "each",
        "10",
        "0",
        "10",
        "1.5",
        "15",
    ]
    assert rows[2][8:] == ["B", "", "Item B", "each", "4", "0", "4", "3.25", "13"]

    every = list(csv.DictReader(io.StringIO(buyer.get("/purchase-orders.csv").text)))
    assert [(r["po_number"], r["sku"]) for r in every] == [
        ("PO-00001", "A"),
        ("PO-00001", "B"),
        ("PO-00002", "C"),
    ], "cancelled orders are not open"
    assert second["number"] == "PO-00002"
    problem(buyer.get("/purchase-orders/999.csv"), 404)


def test_listing_filters_by_status_and_supplier(buyer):
    a, b = order(buyer), order(buyer)
    act(buyer, b, "approve")
    assert [
        p["number"] for p in buyer.get("/purchase-orders?status=approved").json()["purchase_orders"]
    ] == [b["number"]]
    page = buyer.get("/purchase-orders?limit=1").json()
    assert [p["number"] for p in page["purchase_orders"]] == [a["number"]] and page[
        "next_after"
    ] == a["id"]
    assert len(buyer.get("/purchase-orders?supplier=ACME").json()["purchase_orders"]) == 2
    problem(buyer.get("/purchase-orders?status=lost"), 422)


def test_a_retried_receipt_with_the_same_key_applies_once(buyer):
    po = order(buyer)
    act(buyer, po, "approve")
    act(buyer, po, "send")
    key = {"Idempotency-Key": "delivery-1"}
    body = {"lines": [{"sku": "A", "qty": 2}]}
    first = created(buyer.post(f"/purchase-orders/{po['id']}/receipts", json=body, headers=key))
    again = created(buyer.post(f"/purchase-orders/{po['id']}/receipts", json=body, headers=key))
    assert first == again and figures(buyer, "A") == (2, 8, 2)
    retried = buyer.post(f"/purchase-orders/{po['id']}/approve", headers={"Idempotency-Key": "k"})
    assert retried.status_code == 409
