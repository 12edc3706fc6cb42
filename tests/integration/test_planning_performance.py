"""Supplier performance from hand-made receipts, and its use in the plan.

ACME promises 5 days. Three orders sent on day 0 are delivered after 4, 6 and 8 days
(one on time); the second delivers 6 of 10 and is then cancelled. A fourth order is still
open and a fifth was cancelled before it was sent: neither counts towards the fill rate.
  lead time: mean 6, sample standard deviation 2; on time 1 of 3;
  fill rate: (10 + 6 + 10) / 30.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from planningkit import clean, created, daily_sales, days_ago, moves, shop

from onhand import db
from onhand.planning import orders
from onhand.planning.schemas import LineIn, PurchaseOrderIn, ReceiptIn, ReceiptLineIn


def place(engine, tenant, at, qty: int = 10) -> int:
    """An approved order for A sent at `at` (to WH2, away from the sales at WH1)."""
    with db.write(engine) as conn:
        po = orders.create(
            conn,
            tenant,
            PurchaseOrderIn(supplier="ACME", location="WH2", lines=[LineIn(sku="A", qty=qty)]),
            "t",
            at,
        )
        orders.transition(conn, tenant, po["id"], "approve", "t", at)
        orders.transition(conn, tenant, po["id"], "send", "t", at)
        return po["id"]


def deliver(engine, tenant, po_id: int, qty: int, at) -> None:
    with db.write(engine) as conn:
        orders.receive(
            conn, tenant, po_id, ReceiptIn(lines=[ReceiptLineIn(sku="A", qty=qty)]), "t", at
        )


def cancel(engine, tenant, po_id: int, at) -> None:
    with db.write(engine) as conn:
        orders.transition(conn, tenant, po_id, "cancel", "t", at)


def at_wh1(api) -> dict:
    [line] = [
        s
        for s in api.get("/plan/suggestions?all=true").json()["suggestions"]
        if s["location"] == "WH1"
    ]
    return line


@pytest.fixture
def acme(api, engine, tenant):
    shop(api, skus=("A",), codes=("WH1", "WH2"))
    created(
        api.post(
            "/suppliers",
            json={
                "code": "ACME",
                "name": "Acme",
                "lead_time_days": 5,
                "lead_time_std_days": 0.5,
                "default_price": "1",
            },
        )
    )
    created(api.post("/items/A/suppliers", json={"supplier": "ACME", "preferred": True}))
    yield api
    assert clean(engine, tenant) == []


def test_performance_numbers_from_receipts_feed_the_plan(acme, engine, tenant):
    day0 = days_ago(40)
    first, second, third = (place(engine, tenant, day0) for _ in range(3))
    deliver(engine, tenant, first, 10, day0 + timedelta(days=4))
    deliver(engine, tenant, second, 6, day0 + timedelta(days=6))
    cancel(engine, tenant, second, day0 + timedelta(days=7))

    perf = acme.get("/suppliers/ACME/performance").json()
    assert (perf["receipts"], perf["used_for_planning"]) == (2, False)
    moves(engine, tenant, daily_sales("A", "WH1", 300, 10, 28))
    acme.post("/plan")
    a = at_wh1(acme)
    assert (a["lead_time_days"], a["lead_time_std_days"], a["lead_time_source"]) == (
        5,
        0.5,
        "supplier",
    )

    deliver(engine, tenant, third, 10, day0 + timedelta(days=8))
    place(engine, tenant, day0 + timedelta(days=9))  # still open
    with db.write(engine) as conn:  # never sent
        po = orders.create(
            conn,
            tenant,
            PurchaseOrderIn(supplier="ACME", location="WH2", lines=[LineIn(sku="A", qty=99)]),
            "t",
            day0,
        )
        orders.transition(conn, tenant, po["id"], "cancel", "t", day0)

    perf = acme.get("/suppliers/ACME/performance").json()
    assert perf == perf | {
        "supplier": "ACME",
        "receipts": 3,
        "lead_time_days_mean": 6.0,
        "lead_time_days_std": 2.0,
        "on_time_rate": round(1 / 3, 4),
        "fill_rate": round(26 / 30, 4),
        "units_ordered": 30,
        "units_delivered": 26,
        "used_for_planning": True,
        "promised_lead_time_days": 5,
    }
    acme.post("/plan")
    a = at_wh1(acme)
    assert (a["lead_time_days"], a["lead_time_std_days"], a["lead_time_source"]) == (
        6,
        2,
        "measured",
    )
    assert a["safety_stock"] == pytest.approx(1.6449 * 10 * 2, abs=0.05), (
        "SS = z·σ_DL with σ_DL = d·σ_L when demand has no error"
    )


def test_a_supplier_without_orders_has_no_figures_yet(acme):
    perf = acme.get("/suppliers/ACME/performance").json()
    assert (
        perf["receipts"],
        perf["lead_time_days_mean"],
        perf["on_time_rate"],
        perf["fill_rate"],
    ) == (0, None, None, None)
