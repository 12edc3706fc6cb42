"""PATCH /v1/{tenant}/locations/{code}: a location is renamed, re-zoned, re-prioritised and
moved in the tree; bad requests, other tenants and narrower tokens change nothing."""

from __future__ import annotations

import threading
import uuid

import pytest
from apikit import assert_problem

from conftest import Api, make_token
from onhand import auth, db
from onhand.catalog import service
from onhand.catalog.schemas import LocationPatch
from onhand.errors import Invalid


@pytest.fixture
def tree(api: Api) -> Api:
    """Two warehouses; NORTH holds zone N-A, which holds bin N-A1 (with stock in it)."""
    for body in (
        {"code": "NORTH", "name": "Leeds", "zone": "north", "priority": 10},
        {"code": "SOUTH", "name": "Bristol", "zone": "south", "priority": 20},
        {"code": "N-A", "name": "Aisle A", "parent": "NORTH", "zone": "north"},
        {"code": "N-A1", "name": "Bin A1", "parent": "N-A", "zone": "north", "priority": 5},
    ):
        assert api.post("/locations", json=body).status_code == 201
    assert api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}).status_code == 201
    receipt = {"type": "receipt", "sku": "BOOK-1", "location": "N-A1", "qty": 7}
    assert api.post("/movements", json=receipt).status_code == 201
    return api


def _tenant_with(engine, *scopes: str) -> tuple[str, str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, name)
    return name, make_token(engine, name, *scopes)


def test_a_location_is_renamed_and_nothing_else_changes(tree):
    before = tree.get("/locations/N-A1").json()
    r = tree.patch("/locations/N-A1", json={"name": "Bin A1 (top shelf)"})
    assert r.status_code == 200, r.text
    assert r.json() == {**before, "name": "Bin A1 (top shelf)"}
    assert tree.get("/locations/N-A1").json() == r.json()
    listed = {loc["code"]: loc["name"] for loc in tree.get("/locations").json()["locations"]}
    assert listed["N-A1"] == "Bin A1 (top shelf)" and listed["NORTH"] == "Leeds"


def test_zone_and_priority_change_and_the_zone_can_be_cleared(tree):
    r = tree.patch("/locations/SOUTH", json={"zone": "west", "priority": 1})
    assert r.status_code == 200, r.text
    assert (r.json()["zone"], r.json()["priority"]) == ("west", 1)
    # Priority orders the list (lower first), so the change shows there at once.
    assert tree.get("/locations").json()["locations"][0]["code"] == "SOUTH"
    cleared = tree.patch("/locations/SOUTH", json={"zone": None})
    assert cleared.status_code == 200 and cleared.json()["zone"] is None
    assert cleared.json()["priority"] == 1


def test_a_location_moves_to_another_parent_with_its_stock(tree):
    r = tree.patch("/locations/N-A", json={"parent": "SOUTH"})
    assert r.status_code == 200, r.text
    assert r.json()["parent"] == "SOUTH"
    assert tree.get("/locations/N-A").json()["parent"] == "SOUTH"
    # What is inside goes along, and the stock stays in its bin.
    assert tree.get("/locations/N-A1").json()["parent"] == "N-A"
    places = tree.get("/availability/BOOK-1").json()["locations"]
    assert [(p["location"], p["on_hand"]) for p in places] == [("N-A1", 7)]
    # null takes it out of every warehouse: it becomes one itself.
    top = tree.patch("/locations/N-A", json={"parent": None})
    assert top.status_code == 200 and top.json()["parent"] is None


def test_the_documented_request_example_is_accepted(tree):
    spec = tree.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/{tenant}/locations/{code}"]["patch"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    example = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["examples"][0]
    r = tree.patch("/locations/NORTH", json=example)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in example} == example


REFUSED = [
    pytest.param("NOPE", {"name": "x"}, 404, "unknown-location", id="unknown-location"),
    pytest.param("N-A1", {"parent": "NOPE"}, 422, "unknown-location", id="unknown-parent"),
    pytest.param("N-A", {"parent": "N-A"}, 422, "location-cycle", id="own-parent"),
    pytest.param("NORTH", {"parent": "N-A1"}, 422, "location-cycle", id="into-own-bin"),
    pytest.param("N-A", {"parent": "N-A1"}, 422, "location-cycle", id="into-own-child"),
    pytest.param("N-A1", {}, 422, "validation", id="empty-body"),
    pytest.param("N-A1", {"code": "N-B1"}, 422, "validation", id="code-is-not-editable"),
    pytest.param("N-A1", {"name": "x", "colour": "red"}, 422, "validation", id="unknown-field"),
    pytest.param("N-A1", {"name": None}, 422, "validation", id="null-name"),
    pytest.param("N-A1", {"name": ""}, 422, "validation", id="empty-name"),
    pytest.param("N-A1", {"name": "x" * 201}, 422, "validation", id="long-name"),
    pytest.param("N-A1", {"priority": None}, 422, "validation", id="null-priority"),
    pytest.param("N-A1", {"priority": -1}, 422, "validation", id="negative-priority"),
    pytest.param("N-A1", {"priority": "5"}, 422, "validation", id="priority-as-text"),
    pytest.param("N-A1", {"zone": "z" * 65}, 422, "validation", id="long-zone"),
    pytest.param("N-A1", {"parent": 3}, 422, "validation", id="parent-by-id"),
    pytest.param("N-A1", {"name": "a\u0000b"}, 422, "validation", id="nul-in-name"),
    pytest.param("N-A1", ["name"], 422, "validation", id="body-not-an-object"),
]


@pytest.mark.parametrize(("code", "body", "status", "slug"), REFUSED)
def test_a_refused_change_changes_nothing(tree, tenant_state, code, body, status, slug):
    before = tenant_state()
    assert_problem(tree.patch(f"/locations/{code}", json=body), status, slug)
    assert tenant_state() == before


def test_another_tenants_token_cannot_edit_a_location(tree, engine, tenant_state):
    other, token = _tenant_with(engine, "admin")
    before = tenant_state()
    foreign = Api(tree.client, tree.tenant, token)
    assert_problem(foreign.patch("/locations/N-A1", json={"name": "Mine now"}), 403)
    # On its own tenant's path the same code names nothing.
    own = Api(tree.client, other, token)
    assert_problem(own.patch("/locations/N-A1", json={"name": "Mine now"}), 404)
    assert tenant_state() == before
    assert tree.get("/locations/N-A1").json()["name"] == "Bin A1"


def test_a_parent_of_another_tenant_is_unknown(tree, engine, tenant_state):
    other, token = _tenant_with(engine, "admin")
    theirs = Api(tree.client, other, token)
    assert theirs.post("/locations", json={"code": "THEIRS", "name": "x"}).status_code == 201
    before = tenant_state()
    refused = tree.patch("/locations/N-A1", json={"parent": "THEIRS"})
    assert_problem(refused, 422, "unknown-location")
    assert tenant_state() == before


@pytest.mark.parametrize("scope", ["storefront", "public", "sync"])
def test_a_token_without_the_admin_scope_gets_403(tree, engine, tenant_state, scope):
    narrow = Api(tree.client, tree.tenant, make_token(engine, tree.tenant, scope))
    before = tenant_state()
    assert_problem(narrow.patch("/locations/N-A1", json={"name": "Till"}), 403)
    assert tenant_state() == before


def _move(engine, tenant: str, code: str, into: str, start, outcomes: list[str]) -> None:
    start.wait()
    try:
        with db.write(engine) as conn:
            service.update_location(conn, tenant, code, LocationPatch(parent=into))
        outcomes.append("moved")
    except Invalid:
        outcomes.append("refused")


def test_two_crossing_moves_never_make_a_loop(tree, engine):
    """A into B while B goes into A: each check alone passes, both together would close a
    loop. Exactly one of each pair of moves may win, on both databases."""
    for code in ("LEFT", "RIGHT"):
        assert tree.post("/locations", json={"code": code, "name": code}).status_code == 201
    for _ in range(10):
        for code in ("LEFT", "RIGHT"):
            assert tree.patch(f"/locations/{code}", json={"parent": None}).status_code == 200
        start, outcomes = threading.Barrier(2), []
        threads = [
            threading.Thread(target=_move, args=(engine, tree.tenant, a, b, start, outcomes))
            for a, b in (("LEFT", "RIGHT"), ("RIGHT", "LEFT"))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["moved", "refused"]
        parents = {c: tree.get(f"/locations/{c}").json()["parent"] for c in ("LEFT", "RIGHT")}
        assert parents in ({"LEFT": "RIGHT", "RIGHT": None}, {"LEFT": None, "RIGHT": "LEFT"})
