"""The core HTTP contract of /work/shared/API.md, row by row, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from apikit import PROBLEM, assert_problem
from fastapi.testclient import TestClient

from conftest import make_token


def created(r: httpx.Response) -> dict:
    assert r.status_code == 201, r.text
    return r.json()


def receive(api, sku: str, location: str, qty: int) -> None:
    created(
        api.post(
            "/movements", json={"type": "receipt", "sku": sku, "location": location, "qty": qty}
        )
    )


# ---- ops -----------------------------------------------------------------------------------


def test_health_is_ok(api):
    r = api.client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_metrics_are_prometheus_text(api, app):
    api.client.get("/health")
    with TestClient(app, client=("127.0.0.1", 50000)) as local:  # no token: loopback only
        r = local.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "# TYPE onhand_http_requests_total counter" in r.text
    assert 'route="/health"' in r.text


def test_openapi_describes_the_core_paths(api):
    r = api.client.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/v1/{tenant}/locations",
        "/v1/{tenant}/items",
        "/v1/{tenant}/items/{sku}",
        "/v1/{tenant}/movements",
        "/v1/{tenant}/availability/{sku}",
        "/v1/{tenant}/ledger",
        "/health",
    ):
        assert path in paths, path


def test_docs_are_served(api):
    r = api.client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "openapi.json" in r.text


def test_unknown_route_is_a_problem_document(api):
    assert_problem(api.get("/no-such-thing"), 404)


# ---- locations -----------------------------------------------------------------------------


def test_create_a_location_tree(api):
    wh = created(
        api.post(
            "/locations", json={"code": "WH1", "name": "Main", "parent": None, "zone": "north"}
        )
    )
    assert {k: wh[k] for k in ("code", "name", "parent", "zone")} == {
        "code": "WH1",
        "name": "Main",
        "parent": None,
        "zone": "north",
    }
    bin_ = created(
        api.post(
            "/locations",
            json={"code": "WH1-A1", "name": "Bin A1", "parent": "WH1", "zone": "north"},
        )
    )
    assert bin_["parent"] == "WH1"
    got = api.get("/locations/WH1-A1")
    assert got.status_code == 200 and got.json()["parent"] == "WH1"


def test_duplicate_location_code_is_a_conflict(api):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    assert_problem(api.post("/locations", json={"code": "WH1", "name": "Again"}), 409)


def test_unknown_location_is_404(api):
    assert_problem(api.get("/locations/NOPE"), 404)


def test_list_locations_by_priority(api):
    created(api.post("/locations", json={"code": "B", "name": "B", "priority": 5}))
    created(api.post("/locations", json={"code": "A", "name": "A", "priority": 10}))
    created(api.post("/locations", json={"code": "C", "name": "C", "priority": 10}))
    r = api.get("/locations")
    assert r.status_code == 200
    assert [loc["code"] for loc in r.json()["locations"]] == ["B", "A", "C"]


def test_balances_by_location(api):
    for code in ("WH1", "WH2"):
        created(api.post("/locations", json={"code": code, "name": code}))
    for sku in ("A", "B", "C"):
        created(api.post("/items", json={"sku": sku, "name": sku}))
    receive(api, "A", "WH1", 5)
    receive(api, "B", "WH1", 7)
    receive(api, "C", "WH2", 9)
    r = api.get("/locations/WH1/balances")
    assert r.status_code == 200
    rows = {b["sku"]: b for b in r.json()["balances"]}
    assert set(rows) == {"A", "B"}
    assert rows["B"]["on_hand"] == 7 and rows["B"]["available"] == 7
    assert_problem(api.get("/locations/NOPE/balances"), 404)


def test_balances_by_location_page_with_a_cursor(api):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    skus = [f"S{i}" for i in range(5)]
    for sku in skus:
        created(api.post("/items", json={"sku": sku, "name": sku}))
        receive(api, sku, "WH1", 1)
    seen, cursor = [], 0
    for _ in range(10):
        page = api.get("/locations/WH1/balances", params={"limit": 2, "after": cursor}).json()
        seen += [b["sku"] for b in page["balances"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == skus


# ---- items ---------------------------------------------------------------------------------

ITEMS = [
    {"sku": "BOOK-1", "name": "Dune", "kind": "physical"},
    {"sku": "EBOOK-1", "name": "Dune (epub)", "kind": "digital"},
    {"sku": "FONT-1", "name": "A font, 5 seats", "kind": "licensed"},
    {"sku": "TEE-1", "name": "Printed tee", "kind": "pod", "capacity_per_day": 200},
]


@pytest.mark.parametrize("body", ITEMS, ids=[b["kind"] for b in ITEMS])
def test_create_and_read_an_item_of_each_kind(api, body):
    item = created(api.post("/items", json=body))
    for key, value in body.items():
        assert item[key] == value
    assert item["allow_backorder"] is False
    got = api.get(f"/items/{body['sku']}")
    assert got.status_code == 200
    assert got.json() == item


def test_create_a_bundle_with_components(api):
    created(api.post("/items", json={"sku": "A", "name": "A"}))
    created(api.post("/items", json={"sku": "B", "name": "B"}))
    pack = created(
        api.post(
            "/items",
            json={
                "sku": "PACK:AB",
                "name": "A and B",
                "kind": "bundle",
                "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
            },
        )
    )
    assert pack["kind"] == "bundle"
    assert sorted((c["sku"], c["qty"]) for c in pack["components"]) == [("A", 2), ("B", 1)]
    assert api.get("/items/PACK:AB").json()["components"] == pack["components"]


def test_item_may_allow_backorders(api):
    item = created(
        api.post("/items", json={"sku": "PRE-1", "name": "Preorder", "allow_backorder": True})
    )
    assert item["allow_backorder"] is True


def test_duplicate_sku_is_a_conflict(api):
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    assert_problem(
        api.post("/items", json={"sku": "BOOK-1", "name": "Other", "kind": "digital"}), 409
    )
    assert api.get("/items/BOOK-1").json()["kind"] == "physical"


@pytest.mark.parametrize("path, field", [("/items", "sku"), ("/locations", "code")])
def test_creating_the_same_sku_at_once_gives_one_201_and_409s(api, path, field):
    """Two clients racing to create one SKU (or location code): one wins, never a 500."""

    def race(key: str) -> list[int]:
        barrier = threading.Barrier(6)

        def create(_: int) -> int:
            barrier.wait()
            return api.post(path, json={field: key, "name": key}).status_code

        with ThreadPoolExecutor(6) as pool:
            return sorted(pool.map(create, range(6)))

    for key in ("RACE-1", "RACE-2", "RACE-3"):
        assert race(key) == [201, 409, 409, 409, 409, 409]


def test_unknown_sku_is_404(api):
    doc = assert_problem(api.get("/items/NOPE"), 404, "unknown-sku")
    assert "NOPE" in doc["detail"]


def test_list_items_filters_by_kind_text_and_barcode(api):
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune", "barcode": "978044"}))
    created(api.post("/items", json={"sku": "BOOK-2", "name": "Emma"}))
    created(api.post("/items", json={"sku": "EBOOK-1", "name": "Dune epub", "kind": "digital"}))

    def skus(**params) -> list[str]:
        r = api.get("/items", params=params)
        assert r.status_code == 200
        return [i["sku"] for i in r.json()["items"]]

    assert skus() == ["BOOK-1", "BOOK-2", "EBOOK-1"]
    assert skus(kind="digital") == ["EBOOK-1"]
    assert skus(q="dune") == ["BOOK-1", "EBOOK-1"]
    assert skus(q="book-2") == ["BOOK-2"]
    assert skus(barcode="978044") == ["BOOK-1"]
    assert skus(kind="physical", q="dune") == ["BOOK-1"]


def test_item_text_search_takes_wildcards_literally(api):
    created(api.post("/items", json={"sku": "A", "name": "plain"}))
    created(api.post("/items", json={"sku": "B_1", "name": "100% wool"}))
    assert [i["sku"] for i in api.get("/items", params={"q": "_"}).json()["items"]] == ["B_1"]
    assert [i["sku"] for i in api.get("/items", params={"q": "%"}).json()["items"]] == ["B_1"]


def test_list_items_pages_with_a_cursor(api):
    skus = [f"SKU-{i}" for i in range(7)]
    for sku in skus:
        created(api.post("/items", json={"sku": sku, "name": sku}))
    seen, after, pages = [], 0, 0
    while True:
        r = api.get("/items", params={"limit": 3, "after": after})
        assert r.status_code == 200
        page = r.json()
        pages += 1
        seen += [i["sku"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        after = page["next_cursor"]
    assert seen == skus
    assert pages == 3


# ---- movements -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, qty, state, delta",
    [
        ("receipt", 100, "on_hand", 100),
        ("adjustment", -5, "on_hand", -5),
        ("damage", 2, "damaged", 2),
        ("ship", 3, "on_hand", -3),
    ],
)
def test_movement_answers_201_with_its_ledger_entries(api, type_, qty, state, delta):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    if type_ != "receipt":
        receive(api, "BOOK-1", "WH1", 10)
    m = created(
        api.post("/movements", json={"type": type_, "sku": "BOOK-1", "location": "WH1", "qty": qty})
    )
    assert m["id"] and m["type"] == type_ and m["sku"] == "BOOK-1" and m["location"] == "WH1"
    [entry] = m["entries"]
    assert {k: entry[k] for k in ("sku", "location", "state", "delta", "reason")} == {
        "sku": "BOOK-1",
        "location": "WH1",
        "state": state,
        "delta": delta,
        "reason": type_,
    }
    assert entry["created_at"]


def test_movement_beyond_stock_is_409_insufficient_stock(api):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    receive(api, "BOOK-1", "WH1", 2)
    doc = assert_problem(
        api.post("/movements", json={"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 3}),
        409,
        "insufficient-stock",
    )
    assert (doc["sku"], doc["requested"], doc["available"]) == ("BOOK-1", 3, 2)


# ---- availability -------------------------------------------------------------------------

LOCATION_FIELDS = {"location", "available", "on_hand", "reserved", "committed"}


def test_availability_of_a_physical_item_in_total_and_per_location(api):
    for code in ("WH1", "WH2"):
        created(api.post("/locations", json={"code": code, "name": code}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    receive(api, "BOOK-1", "WH1", 10)
    receive(api, "BOOK-1", "WH2", 4)
    created(
        api.post(
            "/movements", json={"type": "damage", "sku": "BOOK-1", "location": "WH1", "qty": 3}
        )
    )
    r = api.get("/availability/BOOK-1")
    assert r.status_code == 200
    doc = r.json()
    assert {k: doc[k] for k in ("sku", "available", "on_hand", "reserved", "committed")} == {
        "sku": "BOOK-1",
        "available": 11,
        "on_hand": 14,
        "reserved": 0,
        "committed": 0,
    }
    rows = {row["location"]: row for row in doc["locations"]}
    assert set(rows) == {"WH1", "WH2"}
    for row in rows.values():
        assert row.keys() >= LOCATION_FIELDS
    assert (rows["WH1"]["available"], rows["WH1"]["on_hand"]) == (7, 10)
    assert (rows["WH2"]["available"], rows["WH2"]["on_hand"]) == (4, 4)


def test_availability_of_an_item_never_stocked_is_zero(api):
    created(api.post("/items", json={"sku": "NEW", "name": "New"}))
    doc = api.get("/availability/NEW").json()
    assert (doc["available"], doc["on_hand"], doc["locations"]) == (0, 0, [])


def test_digital_items_are_unlimited(api):
    created(api.post("/items", json={"sku": "EBOOK-1", "name": "epub", "kind": "digital"}))
    r = api.get("/availability/EBOOK-1")
    assert r.status_code == 200
    assert r.json()["sku"] == "EBOOK-1"
    assert r.json()["available"] is None


def test_licensed_items_count_their_seats(api):
    created(api.post("/locations", json={"code": "LIC", "name": "Licence pool"}))
    created(api.post("/items", json={"sku": "FONT-1", "name": "font", "kind": "licensed"}))
    receive(api, "FONT-1", "LIC", 5)
    assert api.get("/availability/FONT-1").json()["available"] == 5


def test_print_on_demand_offers_its_daily_capacity(api):
    created(
        api.post(
            "/items", json={"sku": "TEE-1", "name": "tee", "kind": "pod", "capacity_per_day": 200}
        )
    )
    assert api.get("/availability/TEE-1").json()["available"] == 200


def test_bundle_is_available_as_often_as_its_scarcest_component_allows(api):
    for code in ("WH1", "WH2"):
        created(api.post("/locations", json={"code": code, "name": code}))
    created(api.post("/items", json={"sku": "A", "name": "A"}))
    created(api.post("/items", json={"sku": "B", "name": "B"}))
    created(api.post("/items", json={"sku": "E", "name": "E", "kind": "digital"}))
    created(
        api.post(
            "/items",
            json={
                "sku": "PACK:ABE",
                "name": "kit",
                "kind": "bundle",
                "components": [
                    {"sku": "A", "qty": 2},
                    {"sku": "B", "qty": 3},
                    {"sku": "E", "qty": 1},
                ],
            },
        )
    )
    receive(api, "A", "WH1", 9)  # 4 kits' worth
    receive(api, "B", "WH1", 10)  # 3 kits' worth
    receive(api, "B", "WH2", 2)  # 10 + 2 = 12 → 4 kits' worth in total
    doc = api.get("/availability/PACK:ABE").json()
    # min(floor(9 / 2), floor(12 / 3)); the digital component is unlimited
    assert doc["sku"] == "PACK:ABE"
    assert doc["available"] == 4
    created(api.post("/movements", json={"type": "ship", "sku": "B", "location": "WH2", "qty": 2}))
    assert api.get("/availability/PACK:ABE").json()["available"] == 3


def test_bundle_of_only_digital_components_is_unlimited(api):
    created(api.post("/items", json={"sku": "E1", "name": "E1", "kind": "digital"}))
    created(api.post("/items", json={"sku": "E2", "name": "E2", "kind": "digital"}))
    created(
        api.post(
            "/items",
            json={
                "sku": "PACK:E",
                "name": "kit",
                "kind": "bundle",
                "components": [{"sku": "E1", "qty": 1}, {"sku": "E2", "qty": 1}],
            },
        )
    )
    assert api.get("/availability/PACK:E").json()["available"] is None


def test_availability_of_several_skus(api):
    created(api.post("/items", json={"sku": "A", "name": "A"}))
    created(api.post("/items", json={"sku": "E", "name": "E", "kind": "digital"}))
    r = api.get("/availability", params={"skus": "A,E"})
    assert r.status_code == 200
    assert [(d["sku"], d["available"]) for d in r.json()["availability"]] == [("A", 0), ("E", None)]


def test_availability_of_unknown_sku_is_404(api):
    assert_problem(api.get("/availability/NOPE"), 404, "unknown-sku")


# ---- ledger --------------------------------------------------------------------------------


def test_ledger_is_newest_first(api):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    created(api.post("/items", json={"sku": "OTHER", "name": "Other"}))
    for qty in (1, 2, 3):
        receive(api, "BOOK-1", "WH1", qty)
    receive(api, "OTHER", "WH1", 50)
    r = api.get("/ledger", params={"sku": "BOOK-1"})
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert [e["delta"] for e in entries] == [3, 2, 1]
    for e in entries:
        assert {"sku", "location", "state", "delta", "reason", "created_at"} <= e.keys()
        assert (e["sku"], e["location"], e["state"], e["reason"]) == (
            "BOOK-1",
            "WH1",
            "on_hand",
            "receipt",
        )
    assert [e["delta"] for e in api.get("/ledger").json()["entries"]] == [50, 3, 2, 1]


def test_ledger_pages_with_next_before(api):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    for qty in range(1, 8):
        receive(api, "BOOK-1", "WH1", qty)
    deltas, before = [], None
    for _ in range(10):
        params = {"sku": "BOOK-1", "limit": 3} | ({"before": before} if before else {})
        page = api.get("/ledger", params=params).json()
        assert len(page["entries"]) <= 3
        deltas += [e["delta"] for e in page["entries"]]
        before = page["next_before"]
        if before is None:
            break
    assert deltas == [7, 6, 5, 4, 3, 2, 1]


def test_ledger_of_unknown_sku_is_404(api):
    assert_problem(api.get("/ledger", params={"sku": "NOPE"}), 404, "unknown-sku")


# ---- a real process ------------------------------------------------------------------------


def test_onhand_serve_answers_health_and_availability_with_a_real_token(
    engine, tenant, api, live_server
):
    created(api.post("/locations", json={"code": "WH1", "name": "Main"}))
    created(api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}))
    receive(api, "BOOK-1", "WH1", 12)
    shop = make_token(engine, tenant, "storefront")
    health = httpx.get(f"{live_server.url}/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    r = httpx.get(
        f"{live_server.url}/v1/{tenant}/availability/BOOK-1",
        headers={"Authorization": f"Bearer {shop}"},
        timeout=10,
    )
    assert r.status_code == 200
    assert (r.json()["sku"], r.json()["available"]) == ("BOOK-1", 12)
    denied = httpx.get(f"{live_server.url}/v1/{tenant}/availability/BOOK-1", timeout=10)
    assert denied.status_code == 401
    assert denied.headers["content-type"].startswith(PROBLEM)
