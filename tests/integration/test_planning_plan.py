"""The replenishment plan on a scenario whose answer is known by hand.

Every item sold exactly its daily rate on each of the last 28 days and had no stock before,
so the forecast is that rate with no error (σ = 0, safety stock 0) and the earlier days
are masked as stock-out days rather than read as zero demand.

A: 10 a day, 30 left; ACME: lead time 5 days, MOQ 100, pack of 24, no price.
   ROP = 10·5 = 50 ≥ position 30 → order up to ROP + one week (70) = 120, i.e. 90,
   raised to the MOQ (100) and rounded up to whole packs (5 × 24 = 120).
   30 units last 3 days < 5 days of lead time → urgent, risk high.
B: 10 a day, 320 left, same supplier → nothing to order, risk low.
C: 2 a day, 4 left, no supplier → default lead time 14: ROP 28, up to 28 + 14 = 42,
   order 38; 2 days of cover → urgent, listed as unassigned.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from planningkit import clean, created, daily_sales, moves, problem, shop

from onhand import db
from onhand.planning import plan


@pytest.fixture
def planned(api, engine, tenant):
    shop(api, skus=("A", "B", "C"))
    created(
        api.post(
            "/suppliers",
            json={"code": "ACME", "name": "Acme", "lead_time_days": 5, "moq": 100, "pack_size": 24},
        )
    )
    for sku in ("A", "B"):
        created(
            api.post(
                f"/items/{sku}/suppliers",
                json={"supplier": "ACME", "preferred": True, "supplier_sku": f"X-{sku}"},
            )
        )
    moves(
        engine,
        tenant,
        daily_sales("A", "WH1", 310, 10, 28)
        + daily_sales("B", "WH1", 600, 10, 28)
        + daily_sales("C", "WH1", 60, 2, 28),
    )
    run = api.post("/plan")
    assert run.status_code == 200, run.text
    yield api
    assert clean(engine, tenant) == []


def lines(api, **params) -> dict[str, dict]:
    doc = api.get("/plan/suggestions", params=params).json()
    return {s["sku"]: s for s in doc["suggestions"]}


def test_suggestions_honour_moq_and_pack_size_and_flag_urgent_items(planned):
    run = planned.get("/plan").json()
    assert (run["status"], run["series"], run["suggestions"], run["urgent"]) == ("done", 3, 2, 2)
    due = lines(planned)
    assert set(due) == {"A", "C"}, "B has plenty"
    a = due["A"]
    assert (a["qty"], a["supplier"], a["supplier_sku"], a["urgent"], a["risk"]) == (
        120,
        "ACME",
        "X-A",
        True,
        "high",
    )
    assert (
        a["forecast_daily"],
        a["safety_stock"],
        a["reorder_point"],
        a["order_up_to"],
        a["days_of_cover"],
        a["lead_time_days"],
        a["lead_time_source"],
    ) == (10, 0, 50, 120, 3, 5, "supplier")
    assert (a["inventory_position"], a["available"], a["moq"], a["pack_size"]) == (30, 30, 100, 24)
    assert a["stockout_days"] == 182 - 28 and a["demand_in_history"] == 280
    c = due["C"]
    assert (c["qty"], c["supplier"], c["urgent"], c["lead_time_source"], c["reorder_point"]) == (
        38,
        None,
        True,
        "default",
        28,
    )
    b = lines(planned, all="true")["B"]
    assert (b["qty"], b["risk"], b["urgent"], b["days_of_cover"]) == (0, "low", False, 32)

    # grouped by supplier, unassigned last, paged by line
    doc = planned.get("/plan/suggestions?limit=1").json()
    assert [g["supplier"] for g in doc["suppliers"]] == ["ACME", None]
    assert [(g["lines"], g["units"], g["urgent_lines"]) for g in doc["suppliers"]] == [
        (1, 120, 1),
        (1, 38, 1),
    ]
    assert [s["sku"] for s in doc["suggestions"]] == ["A"], "supplier groups first, unassigned last"
    rest = planned.get(f"/plan/suggestions?after={doc['next_after']}").json()
    assert [s["sku"] for s in rest["suggestions"]] == ["C"] and rest["next_after"] is None
    assert list(lines(planned, supplier="ACME")) == ["A"]
    problem(planned.get("/plan/suggestions?supplier=NOPE"), 404)


def test_suggestions_become_draft_orders_once(planned):
    made = created(planned.post("/plan/purchase-orders", json={"suppliers": ["ACME"]}))
    [po] = made["purchase_orders"]
    assert (po["status"], po["supplier"], po["location"]) == ("draft", "ACME", "WH1")
    assert [(ln["sku"], ln["qty"], ln["supplier_sku"]) for ln in po["lines"]] == [("A", 120, "X-A")]
    assert made["unassigned"] == [{"sku": "C", "location": "WH1", "qty": 38}]
    assert lines(planned)["A"]["purchase_order"] == po["number"]
    again = created(planned.post("/plan/purchase-orders"))
    assert again["purchase_orders"] == [], "a suggestion turns into an order only once"
    problem(planned.post("/plan/purchase-orders", json={"suppliers": ["NOPE"]}), 404)

    planned.post(f"/purchase-orders/{po['id']}/approve")
    planned.post("/plan")
    a = lines(planned, all="true")["A"]
    assert (a["qty"], a["on_order"], a["inventory_position"]) == (0, 120, 150), (
        "an approved order counts as on order"
    )


def test_settings_have_defaults_and_validate(api, tenant_state):
    planned = api
    doc = planned.get("/plan/settings").json()
    assert (doc["service_level"], doc["ordering_cost"], doc["holding_rate"]) == (0.95, "25", 0.25)
    changed = planned.patch(
        "/plan/settings", json={"service_level": 0.99, "ordering_cost": "40"}
    ).json()
    assert (changed["service_level"], changed["ordering_cost"], changed["review_days"]) == (
        0.99,
        "40",
        7,
    )
    before = tenant_state()
    for body in (
        {"service_level": 1.0},
        {"service_level": 0.2},
        {"holding_rate": 0},
        {"history_days": 3},
        {"ordering_cost": "-1"},
    ):
        problem(planned.patch("/plan/settings", json=body), 422)
    assert tenant_state() == before


def test_one_plan_run_at_a_time(api, engine, tenant):
    now = db.utcnow()
    plan._claim(engine, tenant, now)  # another process is running the plan
    doc = problem(api.post("/plan"), 409)
    assert doc["type"].endswith("/plan-running")
    # a run that started long ago died with its process: a new run takes over
    result = plan.run(engine, tenant, now=now + plan.STALE_RUN + timedelta(minutes=1))
    assert result["status"] == "done"


def test_no_plan_yet_is_a_clear_404(api):
    assert problem(api.get("/plan/suggestions"), 404)["type"].endswith("/no-plan")
    assert problem(api.post("/plan/purchase-orders"), 404)["type"].endswith("/no-plan")


def test_stored_lines_keep_awkward_text_exactly(api, engine, tenant):
    """Lines are written as COPY text on PostgreSQL: backslashes, quotes, tabs and
    non-ASCII text in a supplier's SKU come back unchanged, on both databases."""
    shop(api, skus=("A",))
    created(api.post("/suppliers", json={"code": "ACME", "name": "Acme", "lead_time_days": 5}))
    awkward = 'Zürich\\N\t"x"\\\\y'
    created(
        api.post(
            "/items/A/suppliers",
            json={"supplier": "ACME", "preferred": True, "supplier_sku": awkward},
        )
    )
    moves(engine, tenant, daily_sales("A", "WH1", 45, 3, 14))
    assert api.post("/plan").status_code == 200
    (line,) = lines(api, all=True).values()
    assert line["supplier_sku"] == awkward
    assert line["supplier"] == "ACME" and line["qty"] > 0
