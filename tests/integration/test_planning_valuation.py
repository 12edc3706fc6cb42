"""FIFO and moving-average valuation on a known sequence, and ABC classes by value.

A at WH1: 10 @ 1.00, 10 @ 2.00, ship 15, 10 @ 4.00, ship 3, transfer 4 to WH2, return 1.
  FIFO:    WH1 keeps 8 @ 4 and the return @ 4 (last receipt cost) = 36; WH2 got 2 @ 2 + 2 @ 4 = 12.
  average: 1.50 after the second receipt; 5 left worth 7.50; + 10 @ 4 → 15 worth 47.50
           (19/6 each); ship 3 → 38.00; transfer 4 → WH1 25.33, WH2 12.67; the return joins
           at the average → WH1 28.50.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from planningkit import clean, days_ago, move, problem, shop


@pytest.fixture
def valued(api, engine, tenant):
    shop(api, skus=("A",), codes=("WH1", "WH2"))
    a = {"sku": "A", "location": "WH1"}
    for days, fields in [
        (10, {"type": "receipt", "qty": 10, "unit_cost": Decimal("1.00")}),
        (9, {"type": "receipt", "qty": 10, "unit_cost": Decimal("2.00")}),
        (8, {"type": "ship", "qty": 15}),
        (7, {"type": "receipt", "qty": 10, "unit_cost": Decimal("4.00")}),
        (6, {"type": "ship", "qty": 3}),
        (5, {"type": "transfer", "qty": 4, "to": "WH2"}),
        (4, {"type": "return", "qty": 1}),
    ]:
        move(engine, tenant, days_ago(days), **a, **fields)
    yield api
    assert clean(engine, tenant) == []


def rows(doc: dict) -> dict[str, tuple]:
    return {r["location"]: (r["qty"], r["value"]) for r in doc["items"]}


def test_fifo_and_average_value_the_same_stock_differently(valued):
    fifo = valued.get("/valuation?method=fifo").json()
    assert rows(fifo) == {"WH1": (9, "36.00"), "WH2": (4, "12.00")}
    assert fifo["totals"] == {
        "qty": 13,
        "value": "48.00",
        "purchase_value": "48.00",  # no freight or duty charged
        "landed_value": "0.00",
        "lines": 2,
    }
    average = valued.get("/valuation?method=average").json()
    assert rows(average) == {"WH1": (9, "28.50"), "WH2": (4, "12.67")}
    assert average["totals"]["value"] == "41.17"
    assert valued.get("/valuation?method=average&location=WH2").json()["items"] == [
        {
            "sku": "A",
            "location": "WH2",
            "qty": 4,
            "unit_cost": "3.166667",
            "value": "12.67",
            "purchase_value": "12.67",
            "landed_value": "0.00",
            "uncosted_qty": 0,
        }
    ]


def test_valuation_as_of_an_earlier_day(valued):
    day = lambda n: days_ago(n).date().isoformat()  # noqa: E731
    assert rows(valued.get(f"/valuation?method=fifo&as_of={day(9)}").json()) == {
        "WH1": (20, "30.00")
    }
    assert rows(valued.get(f"/valuation?method=fifo&as_of={day(8)}").json()) == {
        "WH1": (5, "10.00")
    }
    assert rows(valued.get(f"/valuation?method=average&as_of={day(8)}").json()) == {
        "WH1": (5, "7.50")
    }
    assert valued.get(f"/valuation?as_of={day(11)}").json()["items"] == []


def test_bad_valuation_queries_are_4xx(valued):
    problem(valued.get("/valuation?method=lifo"), 422)
    problem(valued.get("/valuation?as_of=2999-01-01"), 422)
    problem(valued.get("/valuation?as_of=yesterday"), 422)
    problem(valued.get("/valuation?location=NOPE"), 404)
    problem(valued.get("/valuation/abc?a=0.9&b=0.5"), 422)


def test_abc_classes_split_the_cumulative_value(api, engine, tenant):
    skus = ("I1", "I2", "I3", "I4", "I5", "I6")
    shop(api, skus=skus)
    for sku, qty, cost in [
        ("I1", 100, "5"),
        ("I2", 100, "3"),
        ("I3", 100, "1"),
        ("I4", 60, "1"),
        ("I5", 40, "1"),
        ("I6", 5, "9"),
    ]:
        move(
            engine,
            tenant,
            days_ago(3),
            type="receipt",
            sku=sku,
            location="WH1",
            qty=qty,
            unit_cost=Decimal(cost),
        )
    move(engine, tenant, days_ago(2), type="ship", sku="I6", location="WH1", qty=5)
    doc = api.get("/valuation/abc").json()
    # values 500, 300, 100, 60, 40 of 1000: the shares before each are 0, .5, .8, .9, .96
    assert [(i["sku"], i["value"], i["class"]) for i in doc["items"]] == [
        ("I1", "500.00", "A"),
        ("I2", "300.00", "A"),
        ("I3", "100.00", "B"),
        ("I4", "60.00", "B"),
        ("I5", "40.00", "C"),
        ("I6", "0.00", "C"),
    ]
    assert doc["classes"] == {"A": 2, "B": 2, "C": 2} and doc["total_value"] == "1000.00"
    tight = api.get("/valuation/abc?a=0.5&b=0.85").json()
    assert [i["class"] for i in tight["items"]] == ["A", "B", "B", "C", "C", "C"]
    assert clean(engine, tenant) == []
