"""Dispatch availability and preferences, on SQLite and PostgreSQL."""

from __future__ import annotations

from apikit import assert_problem
from fulfilmentkit import item, location, put, receive

PREFS = {
    "zone_priorities": {"north": 1, "east": 2, "west": 3},
    "distances": {"south": {"east": 1, "north": 2, "west": 3}},
    "substitutes": {"MUG": ["MUG-XL"]},
    "inter_zone": {"allowed": True, "max_distance": None},
    "same_zone_eta_hours": 4,
    "eta_hours_per_distance": 24,
}


def _network(api) -> None:
    for code, zone, prio in [
        ("S-2", "south", 20),
        ("S-1", "south", 10),
        ("E-1", "east", 10),
        ("N-1", "north", 10),
        ("W-1", "west", 10),
    ]:
        location(api, code, zone=zone, priority=prio)
    item(api, "MUG")
    item(api, "MUG-XL")
    for code, qty in [("S-1", 3), ("S-2", 4), ("E-1", 10), ("N-1", 10), ("W-1", 10)]:
        receive(api, "MUG", code, qty)
    receive(api, "MUG-XL", "N-1", 6)
    assert put(api, "/policies/dispatch-preferences", json=PREFS).status_code == 200


def test_preferences_round_trip(api):
    assert api.get("/policies/dispatch-preferences").json()["substitutes"] == {}
    r = put(api, "/policies/dispatch-preferences", json=PREFS)
    assert r.status_code == 200, r.text
    assert api.get("/policies/dispatch-preferences").json() == PREFS


def test_nearest_stock_never_crosses_zones_when_the_zone_has_enough(api):
    _network(api)
    doc = api.get("/availability", params={"sku": "MUG", "zone": "south", "qty": 7}).json()
    assert doc["enough_in_zone"] is True
    assert [p["location"] for p in doc["locations"]] == ["S-1", "S-2"]
    assert all(not p["inter_zone"] for p in doc["locations"])


def test_short_zone_adds_other_zones_by_distance_then_priority(api):
    _network(api)
    doc = api.get("/availability", params={"sku": "MUG", "zone": "south", "qty": 8}).json()
    assert doc["enough_in_zone"] is False and doc["enough"] is True
    assert [(p["location"], p["distance"]) for p in doc["locations"]] == [
        ("S-1", 0),
        ("S-2", 0),
        ("E-1", 1),
        ("N-1", 2),
        ("W-1", 3),
    ]
    etas = [p["eta"] for p in doc["locations"]]
    assert etas == sorted(etas) and etas[0] < etas[2]


def test_inter_zone_rules_limit_the_distance(api):
    _network(api)
    prefs = PREFS | {"inter_zone": {"allowed": True, "max_distance": 1}}
    put(api, "/policies/dispatch-preferences", json=prefs)
    doc = api.get("/availability", params={"sku": "MUG", "zone": "south", "qty": 8}).json()
    assert [p["location"] for p in doc["locations"]] == ["S-1", "S-2", "E-1"]
    put(api, "/policies/dispatch-preferences", json=PREFS | {"inter_zone": {"allowed": False}})
    doc = api.get("/availability", params={"sku": "MUG", "zone": "south", "qty": 8}).json()
    assert [p["location"] for p in doc["locations"]] == ["S-1", "S-2"]
    assert doc["enough"] is False
    assert doc["substitutes"] == [{"sku": "MUG-XL", "available": 6}]


def test_branch_gives_its_zone_and_goes_first(api):
    _network(api)
    doc = api.get("/availability", params={"sku": "MUG", "branch": "S-2", "qty": 2}).json()
    assert doc["zone"] == "south"
    assert [p["location"] for p in doc["locations"]] == ["S-2", "S-1"]


def test_the_multi_sku_list_and_the_core_path_still_answer(api):
    _network(api)
    doc = api.get("/availability", params={"skus": "MUG,MUG-XL"}).json()
    assert [d["sku"] for d in doc["availability"]] == ["MUG", "MUG-XL"]
    core = api.get("/availability/MUG").json()
    assert core["available"] == 37 and {"sku", "on_hand", "reserved", "committed"} <= core.keys()


def test_bad_preferences_and_unknown_skus_are_problems(api, tenant_state):
    _network(api)
    before = tenant_state()
    bad = PREFS | {"substitutes": {"MUG": ["MUG"]}}
    assert_problem(put(api, "/policies/dispatch-preferences", json=bad), 422)
    assert_problem(put(api, "/policies/dispatch-preferences", json={"zone_priorities": 3}), 422)
    assert_problem(api.get("/availability", params={"sku": "NOPE", "zone": "south"}), 404)
    assert_problem(api.get("/availability", params={"sku": "MUG", "qty": 0}), 422)
    assert tenant_state() == before


def test_dispatch_availability_needs_admin(api, engine, tenant, client):
    from conftest import Api, make_token

    shop = Api(client, tenant, make_token(engine, tenant, "storefront"))
    _network(api)
    assert_problem(shop.get("/availability", params={"sku": "MUG", "zone": "south"}), 403)
    assert shop.get("/availability", params={"skus": "MUG"}).status_code == 200


def test_the_nearest_zone_reservation_strategy_follows_the_distance_table(api):
    _network(api)
    prefs = PREFS | {"distances": {"south": {"west": 1, "north": 2, "east": 3}}}
    assert put(api, "/policies/dispatch-preferences", json=prefs).status_code == 200
    # South holds 7: a hold of 10 takes those, then the nearest other zone (west, distance 1),
    # not the first by location priority and code (E-1) nor by zone priority (north).
    body = {"lines": [{"sku": "MUG", "qty": 10}], "allocation": "nearest_zone", "zone": "south"}
    r = api.post("/reservations", json=body)
    assert r.status_code == 201, r.text
    taken = {a["location"]: a["qty"] for a in r.json()["lines"][0]["allocations"]}
    assert taken == {"S-1": 3, "S-2": 4, "W-1": 3}


def test_the_nearest_zone_reservation_strategy_keeps_the_inter_zone_rules(api):
    _network(api)
    body = {"lines": [{"sku": "MUG", "qty": 10}], "allocation": "nearest_zone", "zone": "south"}
    closed = PREFS | {"inter_zone": {"allowed": False, "max_distance": None}}
    assert put(api, "/policies/dispatch-preferences", json=closed).status_code == 200
    # South holds 7: no other zone may give the rest.
    r = api.post("/reservations", json=body)
    assert r.status_code == 409, r.text
    assert (r.json()["requested"], r.json()["available"]) == (10, 7)
    # Up to distance 1 from south: east (10) may, north (2) and west (3) may not.
    near = PREFS | {"inter_zone": {"allowed": True, "max_distance": 1}}
    assert put(api, "/policies/dispatch-preferences", json=near).status_code == 200
    r = api.post("/reservations", json=body)
    assert r.status_code == 201, r.text
    taken = {a["location"]: a["qty"] for a in r.json()["lines"][0]["allocations"]}
    assert taken == {"S-1": 3, "S-2": 4, "E-1": 3}
    r = api.post("/reservations", json=body | {"lines": [{"sku": "MUG", "qty": 8}]})
    assert r.status_code == 409 and r.json()["available"] == 7
    r = api.post("/reservations", json=body | {"lines": [{"sku": "MUG", "qty": 7}]})
    assert r.status_code == 201, r.text
    assert r.json()["lines"][0]["allocations"] == [{"sku": "MUG", "location": "E-1", "qty": 7}]


def test_a_nearest_zone_hold_never_crosses_zones_when_the_zone_has_enough(api):
    _network(api)
    body = {"lines": [{"sku": "MUG", "qty": 7}], "allocation": "nearest_zone", "zone": "south"}
    r = api.post("/reservations", json=body)
    assert r.status_code == 201, r.text
    taken = {a["location"]: a["qty"] for a in r.json()["lines"][0]["allocations"]}
    assert taken == {"S-1": 3, "S-2": 4}
