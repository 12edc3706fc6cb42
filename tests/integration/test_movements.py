"""Every movement type through the HTTP API, on SQLite and PostgreSQL.

Each test reads the figures back (availability per location) and the ledger, and finally
proves the invariants with `onhand check` for the tenant it used.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from onhand import check, db

WH1, WH2 = "WH1", "WH2"


@pytest.fixture
def shop(api, engine, tenant):
    """Two warehouses, a book counted in each, flour counted in grams, a backorderable poster."""
    for code in (WH1, WH2):
        assert api.post("/locations", json={"code": code, "name": code}).status_code == 201
    for item in (
        {"sku": "BOOK-1", "name": "A book"},
        {"sku": "FLOUR", "name": "Flour", "unit": "g", "units": {"kg": 1000}},
        {"sku": "POSTER", "name": "Poster", "allow_backorder": True},
    ):
        assert api.post("/items", json=item).status_code == 201
    yield api
    with db.read(engine) as conn:
        findings = [f for f in check.run(conn) if f"tenant {tenant} " in f.what]
    assert findings == [], "the invariants must hold after every test"


def move(api, type_: str, sku: str = "BOOK-1", location: str = WH1, **fields):
    return api.post("/movements", json={"type": type_, "sku": sku, "location": location, **fields})


def ok(api, type_: str, sku: str = "BOOK-1", location: str = WH1, **fields) -> dict:
    r = move(api, type_, sku, location, **fields)
    assert r.status_code == 201, r.text
    return r.json()


def at(api, sku: str = "BOOK-1", location: str = WH1) -> dict:
    """Every figure of one SKU at one location (zeros where nothing was ever stocked)."""
    doc = api.get(f"/availability/{sku}").json()
    for row in doc["locations"]:
        if row["location"] == location:
            return row
    return {
        s: 0
        for s in (
            "on_hand",
            "available",
            "reserved",
            "committed",
            "damaged",
            "quality_control",
            "safety_stock",
            "in_transit",
        )
    }


def figures(api, sku: str = "BOOK-1", location: str = WH1, *names: str) -> dict:
    names = names or (
        "on_hand",
        "available",
        "damaged",
        "quality_control",
        "safety_stock",
        "in_transit",
    )
    row = at(api, sku, location)
    return {n: row[n] for n in names}


def entries(movement: dict) -> set[tuple]:
    return {
        (e["sku"], e["location"], e["state"], e["delta"], e["reason"]) for e in movement["entries"]
    }


def ledger(api, sku: str = "BOOK-1") -> list[dict]:
    r = api.get("/ledger", params={"sku": sku})
    assert r.status_code == 200
    return r.json()["entries"]


# ---- each movement type ---------------------------------------------------------------


def test_receipt_raises_on_hand_and_writes_one_ledger_entry(shop):
    m = ok(shop, "receipt", qty=100, reference="PO-1")
    assert m["type"] == "receipt" and m["sku"] == "BOOK-1" and m["location"] == WH1
    assert m["qty"] == 100
    assert entries(m) == {("BOOK-1", WH1, "on_hand", 100, "receipt")}
    assert m["entries"][0]["reference"] == "PO-1"
    assert figures(shop) == {
        "on_hand": 100,
        "available": 100,
        "damaged": 0,
        "quality_control": 0,
        "safety_stock": 0,
        "in_transit": 0,
    }
    [entry] = ledger(shop)
    assert entry["movement_id"] == m["id"] and entry["delta"] == 100


def test_adjustment_is_signed(shop):
    ok(shop, "receipt", qty=10)
    up = ok(shop, "adjustment", qty=5, note="found behind the shelf")
    down = ok(shop, "adjustment", qty=-3)
    assert entries(up) == {("BOOK-1", WH1, "on_hand", 5, "adjustment")}
    assert entries(down) == {("BOOK-1", WH1, "on_hand", -3, "adjustment")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available") == {"on_hand": 12, "available": 12}


def test_damage_moves_available_units_into_damaged_without_changing_on_hand(shop):
    ok(shop, "receipt", qty=10)
    m = ok(shop, "damage", qty=3)
    assert entries(m) == {("BOOK-1", WH1, "damaged", 3, "damage")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "damaged") == {
        "on_hand": 10,
        "available": 7,
        "damaged": 3,
    }


def test_damage_can_take_units_out_of_quality_control(shop):
    ok(shop, "receipt", qty=10)
    ok(shop, "quality_hold", qty=4)
    m = ok(shop, "damage", qty=3, from_state="quality_control")
    assert entries(m) == {
        ("BOOK-1", WH1, "quality_control", -3, "damage"),
        ("BOOK-1", WH1, "damaged", 3, "damage"),
    }
    assert figures(shop, "BOOK-1", WH1, "available", "quality_control", "damaged") == {
        "available": 6,
        "quality_control": 1,
        "damaged": 3,
    }


def test_quality_hold_and_release(shop):
    ok(shop, "receipt", qty=10)
    hold = ok(shop, "quality_hold", qty=6)
    assert entries(hold) == {("BOOK-1", WH1, "quality_control", 6, "quality_hold")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "quality_control") == {
        "on_hand": 10,
        "available": 4,
        "quality_control": 6,
    }
    back = ok(shop, "quality_release", qty=4)
    assert entries(back) == {("BOOK-1", WH1, "quality_control", -4, "quality_release")}
    bad = ok(shop, "quality_release", qty=2, to_state="damaged")
    assert entries(bad) == {
        ("BOOK-1", WH1, "quality_control", -2, "quality_release"),
        ("BOOK-1", WH1, "damaged", 2, "quality_release"),
    }
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "quality_control", "damaged") == {
        "on_hand": 10,
        "available": 8,
        "quality_control": 0,
        "damaged": 2,
    }


def test_write_off_removes_damaged_units_from_on_hand(shop):
    ok(shop, "receipt", qty=10)
    ok(shop, "damage", qty=5)
    m = ok(shop, "write_off", qty=3)
    assert entries(m) == {
        ("BOOK-1", WH1, "on_hand", -3, "write_off"),
        ("BOOK-1", WH1, "damaged", -3, "write_off"),
    }
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "damaged") == {
        "on_hand": 7,
        "available": 5,
        "damaged": 2,
    }


def test_write_off_of_sellable_units(shop):
    ok(shop, "receipt", qty=10)
    m = ok(shop, "write_off", qty=4, from_state="available")
    assert entries(m) == {("BOOK-1", WH1, "on_hand", -4, "write_off")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available") == {"on_hand": 6, "available": 6}


def test_ship_lowers_on_hand(shop):
    ok(shop, "receipt", qty=10)
    m = ok(shop, "ship", qty=4, reference="ORDER-7")
    assert entries(m) == {("BOOK-1", WH1, "on_hand", -4, "ship")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available") == {"on_hand": 6, "available": 6}


def test_return_restocks_sellable_or_damaged_units(shop):
    sellable = ok(shop, "return", qty=2)
    broken = ok(shop, "return", qty=1, to_state="damaged")
    assert entries(sellable) == {("BOOK-1", WH1, "on_hand", 2, "return")}
    assert entries(broken) == {
        ("BOOK-1", WH1, "on_hand", 1, "return"),
        ("BOOK-1", WH1, "damaged", 1, "return"),
    }
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "damaged") == {
        "on_hand": 3,
        "available": 2,
        "damaged": 1,
    }


def test_transfer_writes_both_sides_in_one_movement(shop):
    ok(shop, "receipt", qty=50)
    m = ok(shop, "transfer", qty=30, to=WH2)
    assert entries(m) == {
        ("BOOK-1", WH1, "on_hand", -30, "transfer"),
        ("BOOK-1", WH2, "on_hand", 30, "transfer"),
    }
    assert {e["movement_id"] for e in m["entries"]} == {m["id"]}
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 20}
    assert figures(shop, "BOOK-1", WH2, "on_hand") == {"on_hand": 30}
    doc = shop.get("/availability/BOOK-1").json()
    assert doc["on_hand"] == 50 and doc["available"] == 50
    both = shop.get("/ledger", params={"movement": m["id"]}).json()["entries"]
    assert sorted(e["location"] for e in both) == [WH1, WH2]


@pytest.mark.parametrize("source, destination", [(WH1, WH2), (WH2, WH1)])
def test_refused_transfer_writes_neither_side(shop, tenant_state, source, destination):
    # Rows are touched in location order, so one direction credits the destination first:
    # the refusal of the source must roll that back too.
    ok(shop, "receipt", location=source, qty=5)
    ok(shop, "receipt", location=destination, qty=1)
    before = tenant_state()
    r = move(shop, "transfer", location=source, qty=6, to=destination)
    assert r.status_code == 409
    assert (r.json()["requested"], r.json()["available"]) == (6, 5)
    assert tenant_state() == before
    assert figures(shop, "BOOK-1", destination, "on_hand") == {"on_hand": 1}


def test_transfer_in_transit_arrives_with_transfer_receive(shop):
    ok(shop, "receipt", qty=20)
    out = ok(shop, "transfer", qty=8, to=WH2, in_transit=True)
    assert entries(out) == {
        ("BOOK-1", WH1, "on_hand", -8, "transfer"),
        ("BOOK-1", WH2, "in_transit", 8, "transfer"),
    }
    assert figures(shop, "BOOK-1", WH2, "on_hand", "available", "in_transit") == {
        "on_hand": 0,
        "available": 0,
        "in_transit": 8,
    }
    arrived = ok(shop, "transfer_receive", location=WH2, qty=8)
    assert entries(arrived) == {
        ("BOOK-1", WH2, "in_transit", -8, "transfer_receive"),
        ("BOOK-1", WH2, "on_hand", 8, "transfer_receive"),
    }
    assert figures(shop, "BOOK-1", WH2, "on_hand", "available", "in_transit") == {
        "on_hand": 8,
        "available": 8,
        "in_transit": 0,
    }


def test_count_writes_the_variance(shop):
    ok(shop, "receipt", qty=100)
    short = ok(shop, "count", counted=97)
    assert entries(short) == {("BOOK-1", WH1, "on_hand", -3, "count")}
    assert short["counted"] == 97
    over = ok(shop, "count", counted=110)
    assert entries(over) == {("BOOK-1", WH1, "on_hand", 13, "count")}
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 110}


def test_count_that_matches_still_leaves_a_zero_entry_as_proof_of_the_count(shop):
    ok(shop, "receipt", qty=7)
    same = ok(shop, "count", counted=7)
    assert entries(same) == {("BOOK-1", WH1, "on_hand", 0, "count")}
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 7}


def test_count_at_a_new_location_creates_the_stock(shop):
    m = ok(shop, "count", location=WH2, counted=12)
    assert entries(m) == {("BOOK-1", WH2, "on_hand", 12, "count")}
    assert figures(shop, "BOOK-1", WH2, "on_hand", "available") == {"on_hand": 12, "available": 12}


def test_safety_stock_sets_the_level_kept_back(shop):
    ok(shop, "receipt", qty=10)
    up = ok(shop, "safety_stock", qty=4)
    assert entries(up) == {("BOOK-1", WH1, "safety_stock", 4, "safety_stock")}
    down = ok(shop, "safety_stock", qty=1)
    assert entries(down) == {("BOOK-1", WH1, "safety_stock", -3, "safety_stock")}
    assert figures(shop, "BOOK-1", WH1, "on_hand", "available", "safety_stock") == {
        "on_hand": 10,
        "available": 9,
        "safety_stock": 1,
    }


def test_movement_records_actor_and_ledger_sums_to_the_balances(shop):
    ok(shop, "receipt", qty=40)
    ok(shop, "damage", qty=5)
    ok(shop, "transfer", qty=10, to=WH2)
    ok(shop, "ship", qty=3, location=WH2)
    totals: dict[tuple[str, str], int] = {}
    for e in ledger(shop):
        assert e["actor"] == "token:test"
        totals[e["location"], e["state"]] = totals.get((e["location"], e["state"]), 0) + e["delta"]
    assert totals == {(WH1, "on_hand"): 30, (WH1, "damaged"): 5, (WH2, "on_hand"): 7}


# ---- refusals ---------------------------------------------------------------------------

# (setup movements, refused movement, requested, available)
SHORTAGES = {
    "ship more than on hand": ([], ("ship", {"qty": 11}), 11, 10),
    "adjust below zero": ([], ("adjustment", {"qty": -11}), 11, 10),
    "damage more than available": ([("damage", {"qty": 4})], ("damage", {"qty": 7}), 7, 6),
    "hold more than available": ([], ("quality_hold", {"qty": 11}), 11, 10),
    "release more than held": (
        [("quality_hold", {"qty": 3})],
        ("quality_release", {"qty": 4}),
        4,
        3,
    ),
    "write off more than damaged": ([("damage", {"qty": 2})], ("write_off", {"qty": 3}), 3, 2),
    "transfer more than available": ([], ("transfer", {"qty": 11, "to": WH2}), 11, 10),
    "receive a transfer that is not in transit": ([], ("transfer_receive", {"qty": 1}), 1, 0),
    "ship stock kept back as safety stock": (
        [("safety_stock", {"qty": 8})],
        ("ship", {"qty": 3}),
        3,
        2,
    ),
    "count below the safety stock": (
        [("safety_stock", {"qty": 8})],
        ("count", {"counted": 5}),
        5,
        2,
    ),
    "keep back more than there is": ([], ("safety_stock", {"qty": 11}), 11, 10),
    "ship quarantined units": ([("quality_hold", {"qty": 10})], ("ship", {"qty": 1}), 1, 0),
}


@pytest.mark.parametrize(
    "setup, refused, requested, available", SHORTAGES.values(), ids=SHORTAGES.keys()
)
def test_a_movement_that_would_drive_a_state_negative_is_refused_and_changes_nothing(
    shop, tenant_state, setup, refused, requested, available
):
    ok(shop, "receipt", qty=10)
    for type_, fields in setup:
        ok(shop, type_, **fields)
    before = tenant_state()
    type_, fields = refused
    r = move(shop, type_, **fields)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/insufficient-stock")
    assert problem["status"] == 409 and problem["title"] and problem["detail"]
    assert (problem["sku"], problem["requested"], problem["available"]) == (
        "BOOK-1",
        requested,
        available,
    )
    assert tenant_state() == before, "a refused movement must change nothing"


def test_nothing_can_leave_a_location_that_never_had_stock(shop, tenant_state):
    before = tenant_state()
    r = move(shop, "ship", location=WH2, qty=1)
    assert r.status_code == 409
    assert (r.json()["requested"], r.json()["available"]) == (1, 0)
    assert tenant_state() == before


# ---- backorders ---------------------------------------------------------------------------


def test_backorder_item_may_keep_back_more_than_it_has(shop):
    ok(shop, "receipt", sku="POSTER", qty=5)
    ok(shop, "safety_stock", sku="POSTER", qty=8)
    assert figures(shop, "POSTER", WH1, "on_hand", "available", "safety_stock") == {
        "on_hand": 5,
        "available": -3,
        "safety_stock": 8,
    }
    assert move(shop, "safety_stock", qty=8).status_code == 409, "but a normal item may not"


def test_backorder_item_may_damage_stock_that_is_promised(shop):
    ok(shop, "receipt", sku="POSTER", qty=5)
    ok(shop, "safety_stock", sku="POSTER", qty=5)
    ok(shop, "damage", sku="POSTER", qty=2)
    assert figures(shop, "POSTER", WH1, "on_hand", "available", "damaged") == {
        "on_hand": 5,
        "available": -2,
        "damaged": 2,
    }


def test_backorder_item_still_never_ships_more_than_on_hand(shop, tenant_state):
    ok(shop, "receipt", sku="POSTER", qty=5)
    before = tenant_state()
    r = move(shop, "ship", sku="POSTER", qty=6)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/insufficient-stock") and r.json()["sku"] == "POSTER"
    assert move(shop, "adjustment", sku="POSTER", qty=-6).status_code == 409
    assert tenant_state() == before


def test_backorders_cannot_be_turned_off_while_stock_is_backordered(shop, tenant_state):
    ok(shop, "receipt", sku="POSTER", qty=5)
    ok(shop, "safety_stock", sku="POSTER", qty=8)
    before = tenant_state()
    r = shop.patch("/items/POSTER", json={"allow_backorder": False})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert tenant_state() == before
    ok(shop, "safety_stock", sku="POSTER", qty=5)
    r = shop.patch("/items/POSTER", json={"allow_backorder": False})
    assert r.status_code == 200 and r.json()["allow_backorder"] is False
    assert move(shop, "safety_stock", sku="POSTER", qty=6).status_code == 409


def test_backorder_item_cannot_damage_units_it_does_not_have(shop, tenant_state):
    ok(shop, "receipt", sku="POSTER", qty=2)
    before = tenant_state()
    assert move(shop, "damage", sku="POSTER", qty=5).status_code == 409
    assert move(shop, "quality_hold", sku="POSTER", qty=5).status_code == 409
    assert tenant_state() == before


# ---- decimal quantities -----------------------------------------------------------------


def test_decimal_input_converts_exactly_to_base_units(shop):
    m = ok(shop, "receipt", sku="FLOUR", qty="2.5 kg")
    assert m["qty"] == 2500
    assert entries(m) == {("FLOUR", WH1, "on_hand", 2500, "receipt")}
    ok(shop, "ship", sku="FLOUR", qty="250 g")
    ok(shop, "ship", sku="FLOUR", qty="0.001 kg")
    ok(shop, "count", sku="FLOUR", location=WH2, counted="1.25 kg")
    assert figures(shop, "FLOUR", WH1, "on_hand") == {"on_hand": 2249}
    assert figures(shop, "FLOUR", WH2, "on_hand") == {"on_hand": 1250}


@pytest.mark.parametrize("qty", ["2.5005 kg", "0.5 g", "0.0001 kg", 2.5, "2.5"])
def test_inexact_decimal_input_is_refused(shop, tenant_state, qty):
    before = tenant_state()
    r = move(shop, "receipt", sku="FLOUR", qty=qty)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/validation")
    assert tenant_state() == before


# ---- idempotency -------------------------------------------------------------------------


def test_idempotency_key_applies_a_movement_once_and_returns_the_first_answer(shop):
    body = {"type": "receipt", "sku": "BOOK-1", "location": WH1, "qty": 10}
    first = shop.post("/movements", json=body, headers={"Idempotency-Key": "rcpt-1"})
    again = shop.post("/movements", json=body, headers={"Idempotency-Key": "rcpt-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 10}
    assert len(ledger(shop)) == 1


def test_retries_racing_with_one_idempotency_key_apply_once(shop):
    body = {"type": "receipt", "sku": "BOOK-1", "location": WH1, "qty": 10}
    barrier = threading.Barrier(5)

    def send(_: int) -> tuple[int, str]:
        barrier.wait()
        r = shop.post("/movements", json=body, headers={"Idempotency-Key": "race"})
        return r.status_code, r.json()["id"]

    with ThreadPoolExecutor(5) as pool:
        answers = set(pool.map(send, range(5)))
    assert len(answers) == 1 and answers.pop()[0] == 201
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 10}
    assert len(ledger(shop)) == 1


def test_idempotency_key_with_another_body_is_refused(shop, tenant_state):
    body = {"type": "receipt", "sku": "BOOK-1", "location": WH1, "qty": 10}
    assert shop.post("/movements", json=body, headers={"Idempotency-Key": "k"}).status_code == 201
    before = tenant_state()
    r = shop.post("/movements", json={**body, "qty": 11}, headers={"Idempotency-Key": "k"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]
    assert tenant_state() == before


def test_a_refused_movement_does_not_use_up_its_idempotency_key(shop):
    body = {"type": "ship", "sku": "BOOK-1", "location": WH1, "qty": 3}
    assert shop.post("/movements", json=body, headers={"Idempotency-Key": "s"}).status_code == 409
    ok(shop, "receipt", qty=5)
    r = shop.post("/movements", json=body, headers={"Idempotency-Key": "s"})
    assert r.status_code == 201
    assert figures(shop, "BOOK-1", WH1, "on_hand") == {"on_hand": 2}
