"""Reservations through the HTTP API (issue 3), on SQLite and PostgreSQL.

Create, read, commit, release, extend and list holds; lifetimes and expiry; every item kind;
allocation across locations; Idempotency-Key on every write; bad input. Every test ends with
`onhand check` clean for its tenant.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa
from apikit import PROBLEM, assert_problem

from conftest import make_token
from onhand import check, db
from onhand.reservations import lifecycle
from onhand.tables import pod_bookings, reservations

WH1, WH2 = "WH1", "WH2"


# ---- helpers ---------------------------------------------------------------------------------


def findings_for(engine, tenant: str) -> list[str]:
    """`onhand check` findings that concern this tenant (and any cross-tenant finding)."""
    with db.read(engine) as conn:
        return [
            f.what for f in check.run(conn) if f"tenant {tenant} " in f.what or f.invariant == 5
        ]


def created(r: httpx.Response) -> dict:
    assert r.status_code == 201, r.text
    return r.json()


def ok(r: httpx.Response) -> dict:
    assert r.status_code == 200, r.text
    return r.json()


def receive(api, sku: str, location: str, qty: int) -> None:
    created(
        api.post(
            "/movements", json={"type": "receipt", "sku": sku, "location": location, "qty": qty}
        )
    )


def line(sku: str, qty, location: str | None = None) -> dict:
    return {"sku": sku, "qty": qty, "location": location}


def reserve(api, *lines: dict, headers: dict | None = None, **fields) -> httpx.Response:
    return api.post("/reservations", json={"lines": list(lines), **fields}, headers=headers or {})


def hold(api, *lines: dict, **fields) -> dict:
    return created(reserve(api, *lines, **fields))


def avail(api, sku: str) -> dict:
    return ok(api.get(f"/availability/{sku}"))


def at(api, sku: str, location: str) -> dict:
    for row in avail(api, sku)["locations"]:
        if row["location"] == location:
            return row
    return {"available": 0, "on_hand": 0, "reserved": 0, "committed": 0}


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ledger(api, **params) -> list[dict]:
    return ok(api.get("/ledger", params=params))["entries"]


def raw_status(engine, tenant: str, res_id: str) -> str:
    """The status stored in the database (GET already reads a lapsed hold as expired)."""
    with db.read(engine) as conn:
        return conn.execute(
            sa.select(reservations.c.status).where(
                reservations.c.tenant_id == tenant, reservations.c.id == res_id
            )
        ).scalar_one()


@pytest.fixture
def shop(api, engine, tenant):
    """Two warehouses (WH1 north, first by priority; WH2 south) and one item of every kind."""
    created(
        api.post("/locations", json={"code": WH1, "name": "North", "zone": "north", "priority": 10})
    )
    created(
        api.post("/locations", json={"code": WH2, "name": "South", "zone": "south", "priority": 20})
    )
    for item in (
        {"sku": "BOOK", "name": "A book"},
        {"sku": "A", "name": "Part A"},
        {"sku": "B", "name": "Part B"},
        {"sku": "EBOOK", "name": "An e-book", "kind": "digital"},
        {"sku": "SEAT", "name": "A licence seat", "kind": "licensed"},
        {"sku": "MUG", "name": "Printed mug", "kind": "pod", "capacity_per_day": 3},
        {"sku": "POSTER", "name": "Poster", "allow_backorder": True},
    ):
        created(api.post("/items", json=item))
    created(
        api.post(
            "/items",
            json={
                "sku": "PACK",
                "name": "Kit",
                "kind": "bundle",
                "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
            },
        )
    )
    receive(api, "BOOK", WH1, 5)
    yield api
    assert findings_for(engine, tenant) == [], "the invariants must hold after every test"


# ---- create and read --------------------------------------------------------------------------


def test_a_hold_takes_stock_and_reads_back(shop):
    before = datetime.now(UTC)
    r = created(reserve(shop, line("BOOK", 2), reference="cart-1"))
    after = datetime.now(UTC)
    assert r["status"] == "active"
    assert [{k: ln[k] for k in ("sku", "qty", "location")} for ln in r["lines"]] == [
        {"sku": "BOOK", "qty": 2, "location": WH1}
    ]
    assert r["reference"] == "cart-1"
    expires = stamp(r["expires_at"])
    assert before + timedelta(seconds=900) - timedelta(seconds=1) <= expires
    assert expires <= after + timedelta(seconds=900) + timedelta(seconds=1)
    got = ok(shop.get(f"/reservations/{r['id']}"))
    assert got["id"] == r["id"] and got["status"] == "active"
    assert got["expires_at"] == r["expires_at"] and got["lines"] == r["lines"]
    doc = avail(shop, "BOOK")
    assert (doc["available"], doc["on_hand"], doc["reserved"], doc["committed"]) == (3, 5, 2, 0)
    [entry] = ledger(shop, sku="BOOK", reason="reserve")
    assert (entry["state"], entry["delta"], entry["reservation_id"]) == ("reserved", 2, r["id"])


def test_a_hold_beyond_stock_is_409_insufficient_stock_and_takes_nothing(shop, tenant_state):
    before = tenant_state()
    doc = assert_problem(reserve(shop, line("BOOK", 6)), 409, "insufficient-stock")
    assert (doc["sku"], doc["requested"], doc["available"]) == ("BOOK", 6, 5)
    assert tenant_state() == before


def test_two_buyers_cannot_take_the_last_unit(shop):
    hold(shop, line("BOOK", 4))
    hold(shop, line("BOOK", 1))
    assert_problem(reserve(shop, line("BOOK", 1)), 409, "insufficient-stock")
    assert avail(shop, "BOOK")["available"] == 0


def test_unknown_reservation_is_404(shop):
    assert_problem(shop.get("/reservations/no-such-id"), 404)
    for action in ("commit", "release"):
        assert_problem(shop.post(f"/reservations/no-such-id/{action}"), 404)
    assert_problem(shop.post("/reservations/no-such-id/extend", json={"ttl_seconds": 60}), 404)


def test_another_tenant_cannot_see_or_touch_a_hold(shop, client, engine, tenant):
    from conftest import Api
    from onhand import auth

    r = hold(shop, line("BOOK", 1))
    other = "o" + tenant[1:]
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, other)
    them = Api(client, other, make_token(engine, other, "admin"))
    assert_problem(them.get(f"/reservations/{r['id']}"), 404)
    assert_problem(them.post(f"/reservations/{r['id']}/release"), 404)
    assert ok(them.get("/reservations"))["reservations"] == []
    assert ok(shop.get(f"/reservations/{r['id']}"))["status"] == "active"
    assert avail(shop, "BOOK")["reserved"] == 1


def test_a_storefront_token_may_hold_commit_and_release(shop, engine, tenant, client):
    from conftest import Api

    front = Api(client, tenant, make_token(engine, tenant, "storefront"))
    r = hold(front, line("BOOK", 1))
    assert ok(front.post(f"/reservations/{r['id']}/commit"))["status"] == "committed"
    r2 = hold(front, line("BOOK", 1))
    assert ok(front.post(f"/reservations/{r2['id']}/release"))["status"] == "released"


# ---- lifetimes ---------------------------------------------------------------------------------


def test_ttl_per_request(shop):
    before = datetime.now(UTC)
    r = hold(shop, line("BOOK", 1), ttl_seconds=60)
    expires = stamp(r["expires_at"])
    assert before + timedelta(seconds=59) <= expires <= datetime.now(UTC) + timedelta(seconds=61)


def test_ttl_from_the_tenant_setting_and_the_request_still_wins(shop):
    ok(shop.patch("/settings", json={"reservation_ttl_seconds": 120}))
    before = datetime.now(UTC)
    default = stamp(hold(shop, line("BOOK", 1))["expires_at"])
    assert before + timedelta(seconds=119) <= default <= datetime.now(UTC) + timedelta(seconds=121)
    own = stamp(hold(shop, line("BOOK", 1), ttl_seconds=30)["expires_at"])
    assert before + timedelta(seconds=29) <= own <= datetime.now(UTC) + timedelta(seconds=31)


def test_expired_hold_frees_stock_before_the_sweeper_runs(shop, engine, tenant):
    r = hold(shop, line("BOOK", 5), ttl_seconds=1)
    assert avail(shop, "BOOK")["available"] == 0
    time.sleep(1.3)
    doc = avail(shop, "BOOK")
    assert (doc["available"], doc["reserved"]) == (5, 0)
    assert ok(shop.get(f"/reservations/{r['id']}"))["status"] == "expired"
    assert raw_status(engine, tenant, r["id"]) == "active", "no sweeper ran in this app"
    assert [
        x["id"] for x in ok(shop.get("/reservations", params={"status": "expired"}))["reservations"]
    ] == [r["id"]]
    assert ok(shop.get("/reservations", params={"status": "active"}))["reservations"] == []
    again = hold(shop, line("BOOK", 5))  # the lapsed units can be sold again
    assert again["status"] == "active"
    assert avail(shop, "BOOK")["available"] == 0


def test_expire_due_marks_lapsed_holds_expired_in_one_call_and_writes_the_ledger(
    shop, engine, tenant
):
    receive(shop, "A", WH1, 10)
    lapsing = [hold(shop, line("BOOK", 2), ttl_seconds=1), hold(shop, line("A", 3), ttl_seconds=1)]
    staying = hold(shop, line("BOOK", 1), ttl_seconds=600)
    time.sleep(1.3)
    assert lifecycle.expire_due(engine) >= 2
    for r in lapsing:
        assert raw_status(engine, tenant, r["id"]) == "expired"
        [entry] = ledger(shop, reservation=r["id"], reason="expire")
        assert entry["state"] == "reserved" and entry["delta"] == -r["lines"][0]["qty"]
    assert raw_status(engine, tenant, staying["id"]) == "active"
    assert (avail(shop, "BOOK")["reserved"], avail(shop, "A")["reserved"]) == (1, 0)
    # a second sweep finds nothing more of ours and changes nothing
    lifecycle.expire_due(engine)
    assert len(ledger(shop, sku="BOOK", reason="expire")) == 1


def test_the_built_in_sweeper_returns_stock_soon_after_expiry(engine, tenant, shop, live_server):
    front = httpx.Client(
        base_url=f"{live_server.url}/v1/{tenant}",
        timeout=30,
        headers={"Authorization": f"Bearer {make_token(engine, tenant, 'storefront')}"},
    )
    with front:
        r = front.post("/reservations", json={"lines": [line("BOOK", 3)], "ttl_seconds": 1})
        assert r.status_code == 201, r.text
        res = r.json()
        expires = stamp(res["expires_at"])
        deadline = expires + timedelta(seconds=3)
        while raw_status(engine, tenant, res["id"]) != "expired" and datetime.now(UTC) < deadline:
            time.sleep(0.05)
        swept_at = datetime.now(UTC)
        assert raw_status(engine, tenant, res["id"]) == "expired", (
            "the sweeper (every 0.25 s) did not expire the hold within 3 s"
        )
        assert swept_at - expires < timedelta(seconds=3)
        assert front.get(f"/reservations/{res['id']}").json()["status"] == "expired"
    assert avail(shop, "BOOK")["reserved"] == 0
    [entry] = ledger(shop, reservation=res["id"], reason="expire")
    assert entry["delta"] == -3 and entry["actor"] == "sweeper"


# ---- commit, release, extend ------------------------------------------------------------------


def test_commit_turns_the_hold_into_a_sale(shop):
    r = hold(shop, line("BOOK", 2))
    c = ok(shop.post(f"/reservations/{r['id']}/commit"))
    assert c["status"] == "committed" and c["id"] == r["id"]
    doc = avail(shop, "BOOK")
    assert (doc["available"], doc["reserved"], doc["committed"], doc["on_hand"]) == (3, 0, 2, 5)
    assert ok(shop.get(f"/reservations/{r['id']}"))["status"] == "committed"
    assert {
        (e["state"], e["delta"]) for e in ledger(shop, reservation=r["id"], reason="commit")
    } == {("reserved", -2), ("committed", 2)}
    # committing again is harmless and writes nothing more
    assert ok(shop.post(f"/reservations/{r['id']}/commit"))["status"] == "committed"
    assert len(ledger(shop, reservation=r["id"])) == 3


def test_release_gives_the_stock_back_and_twice_is_harmless(shop):
    r = hold(shop, line("BOOK", 2))
    assert ok(shop.post(f"/reservations/{r['id']}/release"))["status"] == "released"
    assert avail(shop, "BOOK")["available"] == 5
    assert ok(shop.post(f"/reservations/{r['id']}/release"))["status"] == "released"
    assert avail(shop, "BOOK")["available"] == 5
    [entry] = ledger(shop, reservation=r["id"], reason="release")
    assert entry["delta"] == -2
    assert ok(shop.get(f"/reservations/{r['id']}"))["status"] == "released"


def test_commit_of_a_released_hold_is_409_and_changes_nothing(shop, tenant_state):
    r = hold(shop, line("BOOK", 2))
    ok(shop.post(f"/reservations/{r['id']}/release"))
    before = tenant_state()
    assert_problem(shop.post(f"/reservations/{r['id']}/commit"), 409)
    assert tenant_state() == before
    assert ok(shop.get(f"/reservations/{r['id']}"))["status"] == "released"


def test_commit_of_an_expired_hold_is_409_and_changes_nothing(shop, tenant_state):
    r = hold(shop, line("BOOK", 2), ttl_seconds=1)
    time.sleep(1.3)
    before = tenant_state()
    doc = assert_problem(shop.post(f"/reservations/{r['id']}/commit"), 409)
    assert doc.get("reservation_status") == "expired"
    assert tenant_state() == before
    assert avail(shop, "BOOK")["committed"] == 0


def test_release_after_commit_is_409(shop, tenant_state):
    r = hold(shop, line("BOOK", 2))
    ok(shop.post(f"/reservations/{r['id']}/commit"))
    before = tenant_state()
    assert_problem(shop.post(f"/reservations/{r['id']}/release"), 409)
    assert tenant_state() == before
    assert avail(shop, "BOOK")["committed"] == 2


def test_releasing_an_expired_hold_is_harmless(shop):
    r = hold(shop, line("BOOK", 2), ttl_seconds=1)
    time.sleep(1.3)
    first = ok(shop.post(f"/reservations/{r['id']}/release"))
    assert first["status"] == "expired"
    assert ok(shop.post(f"/reservations/{r['id']}/release"))["status"] == "expired"
    assert avail(shop, "BOOK")["available"] == 5
    assert len(ledger(shop, reservation=r["id"], reason="expire")) == 1


def test_extend_pushes_the_expiry_and_keeps_the_stock_held(shop):
    r = hold(shop, line("BOOK", 2), ttl_seconds=1)
    before = datetime.now(UTC)
    e = ok(shop.post(f"/reservations/{r['id']}/extend", json={"ttl_seconds": 120}))
    assert e["status"] == "active"
    expires = stamp(e["expires_at"])
    assert before + timedelta(seconds=119) <= expires <= datetime.now(UTC) + timedelta(seconds=121)
    time.sleep(1.3)  # past the first expiry
    got = ok(shop.get(f"/reservations/{r['id']}"))
    assert got["status"] == "active" and got["expires_at"] == e["expires_at"]
    assert avail(shop, "BOOK")["available"] == 3
    assert ok(shop.post(f"/reservations/{r['id']}/commit"))["status"] == "committed"


def test_extend_of_an_ended_hold_is_409(shop, tenant_state):
    released = hold(shop, line("BOOK", 1))
    ok(shop.post(f"/reservations/{released['id']}/release"))
    lapsed = hold(shop, line("BOOK", 1), ttl_seconds=1)
    sold = hold(shop, line("BOOK", 1))
    ok(shop.post(f"/reservations/{sold['id']}/commit"))
    time.sleep(1.3)
    before = tenant_state()
    for r in (released, lapsed, sold):
        assert_problem(shop.post(f"/reservations/{r['id']}/extend", json={"ttl_seconds": 60}), 409)
    assert tenant_state() == before


# ---- listing ---------------------------------------------------------------------------------


def test_list_with_status_and_reference_filters_newest_first(shop):
    active = hold(shop, line("BOOK", 1), reference="cart-1")
    sold = hold(shop, line("BOOK", 1), reference="cart-2")
    ok(shop.post(f"/reservations/{sold['id']}/commit"))
    gone = hold(shop, line("BOOK", 1), reference="cart-1")
    ok(shop.post(f"/reservations/{gone['id']}/release"))

    def ids(**params) -> list[str]:
        return [r["id"] for r in ok(shop.get("/reservations", params=params))["reservations"]]

    assert ids() == [gone["id"], sold["id"], active["id"]]
    assert ids(status="active") == [active["id"]]
    assert ids(status="committed") == [sold["id"]]
    assert ids(status="released") == [gone["id"]]
    assert ids(status="expired") == []
    assert ids(reference="cart-1") == [gone["id"], active["id"]]
    assert ids(reference="cart-1", status="active") == [active["id"]]
    assert ids(limit=2) == [gone["id"], sold["id"]]
    assert ids(limit=2, offset=2) == [active["id"]]
    assert_problem(shop.get("/reservations", params={"status": "lost"}), 422)
    assert_problem(shop.get("/reservations", params={"limit": 0}), 422)


# ---- item kinds ------------------------------------------------------------------------------


def test_digital_items_are_unlimited(shop):
    r = hold(shop, line("EBOOK", 100_000))
    assert r["lines"][0]["qty"] == 100_000
    hold(shop, line("EBOOK", 5), line("BOOK", 1))
    assert avail(shop, "EBOOK")["available"] is None
    assert ok(shop.post(f"/reservations/{r['id']}/commit"))["status"] == "committed"
    assert avail(shop, "EBOOK")["available"] is None


def test_licensed_items_hold_finite_seats(shop):
    receive(shop, "SEAT", WH1, 3)
    hold(shop, line("SEAT", 2))
    assert avail(shop, "SEAT")["available"] == 1
    assert_problem(reserve(shop, line("SEAT", 2)), 409, "insufficient-stock")
    hold(shop, line("SEAT", 1))
    assert_problem(reserve(shop, line("SEAT", 1)), 409, "insufficient-stock")
    assert avail(shop, "SEAT")["available"] == 0


def test_print_on_demand_books_todays_capacity(shop):
    r = hold(shop, line("MUG", 2))
    assert r["lines"][0]["location"] is None
    assert avail(shop, "MUG")["available"] == 1
    doc = assert_problem(reserve(shop, line("MUG", 2)), 409, "insufficient-stock")
    assert (doc["sku"], doc["requested"], doc["available"]) == ("MUG", 2, 1)
    ok(shop.post(f"/reservations/{r['id']}/commit"))
    assert avail(shop, "MUG")["available"] == 1, "committed units still use today's capacity"
    last = hold(shop, line("MUG", 1))
    assert avail(shop, "MUG")["available"] == 0
    ok(shop.post(f"/reservations/{last['id']}/release"))
    assert avail(shop, "MUG")["available"] == 1


def test_print_on_demand_days_follow_the_tenant_time_zone(shop, engine, tenant):
    # a zone whose calendar day differs from UTC's right now
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Etc/GMT+12"
    ok(shop.patch("/settings", json={"timezone": zone}))
    days = {datetime.now(ZoneInfo(zone)).date()}
    hold(shop, line("MUG", 3))
    days.add(datetime.now(ZoneInfo(zone)).date())
    with db.read(engine) as conn:
        booked = conn.execute(
            sa.select(pod_bookings.c.day, pod_bookings.c.reserved).where(
                pod_bookings.c.tenant_id == tenant
            )
        ).all()
    assert len(booked) == 1
    assert booked[0].day in days and booked[0].day != datetime.now(UTC).date()
    assert booked[0].reserved == 3
    doc = avail(shop, "MUG")
    assert doc["available"] == 0 and doc["capacity"]["day"] == booked[0].day.isoformat()
    assert_problem(reserve(shop, line("MUG", 1)), 409, "insufficient-stock")


def test_a_bundle_holds_its_components_all_or_nothing(shop, tenant_state):
    receive(shop, "A", WH1, 10)
    receive(shop, "B", WH1, 3)
    assert avail(shop, "PACK")["available"] == 3  # min(10 // 2, 3 // 1)
    r = hold(shop, line("PACK", 2))
    assert {(a["sku"], a["qty"]) for a in r["lines"][0]["allocations"]} == {("A", 4), ("B", 2)}
    assert (avail(shop, "A")["reserved"], avail(shop, "B")["reserved"]) == (4, 2)
    assert avail(shop, "PACK")["available"] == 1
    before = tenant_state()
    doc = assert_problem(reserve(shop, line("PACK", 2)), 409, "insufficient-stock")
    assert doc["sku"] == "B" and doc.get("bundle") == "PACK"
    assert tenant_state() == before, "A must not be held when B is short"
    ok(shop.post(f"/reservations/{r['id']}/release"))
    assert (avail(shop, "A")["available"], avail(shop, "B")["available"]) == (10, 3)
    assert avail(shop, "PACK")["available"] == 3


def test_a_bundle_with_a_print_on_demand_part_books_its_capacity(shop):
    created(
        shop.post(
            "/items",
            json={
                "sku": "GIFT",
                "name": "Book and mug",
                "kind": "bundle",
                "components": [{"sku": "BOOK", "qty": 1}, {"sku": "MUG", "qty": 1}],
            },
        )
    )
    assert avail(shop, "GIFT")["available"] == 3  # min(5 books, 3 mugs a day)
    r = hold(shop, line("GIFT", 2))
    assert (avail(shop, "BOOK")["available"], avail(shop, "MUG")["available"]) == (3, 1)
    assert avail(shop, "GIFT")["available"] == 1
    doc = assert_problem(reserve(shop, line("GIFT", 2)), 409, "insufficient-stock")
    assert doc["sku"] == "MUG"
    assert avail(shop, "BOOK")["available"] == 3
    ok(shop.post(f"/reservations/{r['id']}/release"))
    assert avail(shop, "GIFT")["available"] == 3


def test_a_bundle_and_its_component_compete_for_the_same_units(shop):
    receive(shop, "A", WH1, 5)
    receive(shop, "B", WH1, 5)
    hold(shop, line("A", 2))
    assert avail(shop, "PACK")["available"] == 1
    assert_problem(reserve(shop, line("PACK", 1), line("A", 2)), 409, "insufficient-stock")
    hold(shop, line("PACK", 1), line("A", 1))
    assert avail(shop, "A")["available"] == 0
    assert avail(shop, "PACK")["available"] == 0


def test_backorder_items_may_go_below_zero(shop, engine, tenant):
    receive(shop, "POSTER", WH1, 2)
    r = hold(shop, line("POSTER", 5))
    assert r["lines"][0]["location"] == WH1
    doc = avail(shop, "POSTER")
    assert (doc["available"], doc["reserved"]) == (-3, 5)
    hold(shop, line("POSTER", 1, WH2))  # never stocked there: the backorder opens the row
    assert at(shop, "POSTER", WH2)["available"] == -1
    assert findings_for(engine, tenant) == []


# ---- allocation ----------------------------------------------------------------------------------


@pytest.fixture
def two_places(shop):
    receive(shop, "A", WH1, 5)  # WH1: north, priority 10
    receive(shop, "A", WH2, 20)  # WH2: south, priority 20
    return shop


def allocations(r: dict) -> list[tuple[str, int]]:
    return [(a["location"], a["qty"]) for ln in r["lines"] for a in ln["allocations"]]


def test_priority_takes_the_first_location_first(two_places):
    r = hold(two_places, line("A", 3), allocation="priority")
    assert r["lines"][0]["location"] == WH1 and allocations(r) == [(WH1, 3)]


def test_most_stock_takes_the_fullest_location(two_places):
    r = hold(two_places, line("A", 3), allocation="most_stock")
    assert r["lines"][0]["location"] == WH2 and allocations(r) == [(WH2, 3)]


def test_nearest_zone_follows_the_zone_hint(two_places):
    south = hold(two_places, line("A", 3), allocation="nearest_zone", zone="south")
    assert allocations(south) == [(WH2, 3)]
    north = hold(two_places, line("A", 3), allocation="nearest_zone", zone="north")
    assert allocations(north) == [(WH1, 3)]


def test_a_line_splits_across_locations_when_one_is_not_enough(two_places):
    r = hold(two_places, line("A", 8), allocation="priority")
    assert r["lines"][0]["qty"] == 8
    assert sorted(allocations(r)) == [(WH1, 5), (WH2, 3)]
    assert r["lines"][0]["location"] is None
    assert (at(two_places, "A", WH1)["reserved"], at(two_places, "A", WH2)["reserved"]) == (5, 3)
    ok(two_places.post(f"/reservations/{r['id']}/release"))
    assert (at(two_places, "A", WH1)["available"], at(two_places, "A", WH2)["available"]) == (5, 20)


def test_committing_a_split_hold_sells_at_every_location(two_places):
    r = hold(two_places, line("A", 8))
    ok(two_places.post(f"/reservations/{r['id']}/commit"))
    assert [
        (at(two_places, "A", w)["committed"], at(two_places, "A", w)["reserved"])
        for w in (WH1, WH2)
    ] == [(5, 0), (3, 0)]
    assert sorted(
        (e["location"], e["state"], e["delta"])
        for e in ledger(two_places, reservation=r["id"], reason="commit")
    ) == [
        (WH1, "committed", 5),
        (WH1, "reserved", -5),
        (WH2, "committed", 3),
        (WH2, "reserved", -3),
    ]


def test_split_with_nearest_zone_starts_in_the_zone(two_places):
    r = hold(two_places, line("A", 22), allocation="nearest_zone", zone="south")
    assert allocations(r) == [(WH2, 20), (WH1, 2)]
    assert_problem(reserve(two_places, line("A", 4)), 409, "insufficient-stock")


def test_the_tenant_allocation_setting_is_the_default(two_places):
    ok(two_places.patch("/settings", json={"allocation": "most_stock"}))
    assert allocations(hold(two_places, line("A", 3))) == [(WH2, 3)]
    assert allocations(hold(two_places, line("A", 3), allocation="priority")) == [(WH1, 3)]


def test_a_named_location_is_held_there_or_refused(two_places, tenant_state):
    r = hold(two_places, line("A", 4, WH1))
    assert allocations(r) == [(WH1, 4)]
    before = tenant_state()
    doc = assert_problem(reserve(two_places, line("A", 2, WH1)), 409, "insufficient-stock")
    assert doc["available"] == 1 and doc["location"] == WH1
    assert tenant_state() == before


def test_lines_of_the_same_sku_are_summed_before_checking(shop, tenant_state):
    before = tenant_state()
    doc = assert_problem(reserve(shop, line("BOOK", 3), line("BOOK", 3)), 409, "insufficient-stock")
    assert doc["requested"] == 6 and doc["available"] == 5
    assert_problem(
        reserve(shop, line("BOOK", 3, WH1), line("BOOK", 3, WH1)), 409, "insufficient-stock"
    )
    assert_problem(reserve(shop, line("BOOK", 3, WH1), line("BOOK", 3)), 409, "insufficient-stock")
    assert tenant_state() == before
    r = hold(shop, line("BOOK", 2), line("BOOK", 3))
    assert [ln["qty"] for ln in r["lines"]] == [2, 3]
    assert avail(shop, "BOOK")["available"] == 0


def test_a_multi_line_hold_is_all_or_nothing(shop, tenant_state):
    receive(shop, "A", WH1, 10)
    before = tenant_state()
    assert_problem(reserve(shop, line("A", 2), line("BOOK", 9)), 409, "insufficient-stock")
    assert tenant_state() == before
    r = hold(shop, line("A", 2), line("BOOK", 5), line("EBOOK", 1))
    assert [ln["sku"] for ln in r["lines"]] == ["A", "BOOK", "EBOOK"]
    assert (avail(shop, "A")["available"], avail(shop, "BOOK")["available"]) == (8, 0)


# ---- Idempotency-Key ---------------------------------------------------------------------------


def key(name: str) -> dict:
    return {"Idempotency-Key": name}


def test_create_with_the_same_key_applies_once(shop):
    first = reserve(shop, line("BOOK", 2), headers=key("k-1"))
    again = reserve(shop, line("BOOK", 2), headers=key("k-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert avail(shop, "BOOK")["reserved"] == 2
    assert len(ok(shop.get("/reservations"))["reservations"]) == 1


def test_a_refused_hold_retried_with_its_key_gets_the_same_refusal(shop):
    # The first answer is stored, refusal or not: stock arriving later does not change it.
    first = reserve(shop, line("BOOK", 9), headers=key("k-short"))
    doc = assert_problem(first, 409, "insufficient-stock")
    receive(shop, "BOOK", WH1, 10)
    again = reserve(shop, line("BOOK", 9), headers=key("k-short"))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json() == doc
    assert avail(shop, "BOOK")["reserved"] == 0


def test_create_with_the_same_key_and_another_body_is_422(shop, tenant_state):
    created(reserve(shop, line("BOOK", 2), headers=key("k-1")))
    before = tenant_state()
    assert_problem(reserve(shop, line("BOOK", 3), headers=key("k-1")), 422)
    assert tenant_state() == before


def test_commit_release_and_extend_with_a_key_apply_once(shop):
    a = hold(shop, line("BOOK", 1))
    c1 = shop.post(f"/reservations/{a['id']}/commit", headers=key("c-1"))
    c2 = shop.post(f"/reservations/{a['id']}/commit", headers=key("c-1"))
    assert c1.status_code == c2.status_code == 200 and c1.json() == c2.json()
    assert len(ledger(shop, reservation=a["id"], reason="commit")) == 2

    b = hold(shop, line("BOOK", 1))
    r1 = shop.post(f"/reservations/{b['id']}/release", headers=key("r-1"))
    r2 = shop.post(f"/reservations/{b['id']}/release", headers=key("r-1"))
    assert r1.status_code == r2.status_code == 200 and r1.json() == r2.json()
    assert len(ledger(shop, reservation=b["id"], reason="release")) == 1

    c = hold(shop, line("BOOK", 1))
    e1 = shop.post(f"/reservations/{c['id']}/extend", json={"ttl_seconds": 300}, headers=key("e-1"))
    time.sleep(0.05)
    e2 = shop.post(f"/reservations/{c['id']}/extend", json={"ttl_seconds": 300}, headers=key("e-1"))
    assert e1.status_code == e2.status_code == 200
    assert e2.json()["expires_at"] == e1.json()["expires_at"], "the retry returns the first answer"
    assert ok(shop.get(f"/reservations/{c['id']}"))["expires_at"] == e1.json()["expires_at"]
    assert_problem(
        shop.post(f"/reservations/{c['id']}/extend", json={"ttl_seconds": 600}, headers=key("e-1")),
        422,
    )
    assert ok(shop.get(f"/reservations/{c['id']}"))["expires_at"] == e1.json()["expires_at"]
    assert avail(shop, "BOOK")["reserved"] == 1 and avail(shop, "BOOK")["committed"] == 1


def test_a_key_is_scoped_to_the_reservation_it_was_used_on(shop):
    a, b = hold(shop, line("BOOK", 1)), hold(shop, line("BOOK", 1))
    assert ok(shop.post(f"/reservations/{a['id']}/release", headers=key("same")))["id"] == a["id"]
    assert ok(shop.post(f"/reservations/{b['id']}/release", headers=key("same")))["id"] == b["id"]
    assert avail(shop, "BOOK")["reserved"] == 0


# ---- bad input ----------------------------------------------------------------------------------

BAD_CREATES = {
    "zero qty": ({"lines": [line("BOOK", 0)]}, 422, None),
    "negative qty": ({"lines": [line("BOOK", -1)]}, 422, None),
    "fractional qty of a counted item": ({"lines": [line("BOOK", "1.5")]}, 422, None),
    "qty not a number": ({"lines": [line("BOOK", "lots")]}, 422, None),
    "qty true": ({"lines": [line("BOOK", True)]}, 422, None),
    "qty missing": ({"lines": [{"sku": "BOOK"}]}, 422, None),
    "unknown SKU": ({"lines": [line("NOPE", 1)]}, 404, "unknown-sku"),
    "unknown SKU beside a good line": (
        {"lines": [line("BOOK", 1), line("NOPE", 1)]},
        404,
        "unknown-sku",
    ),
    "unknown location": ({"lines": [line("BOOK", 1, "WH9")]}, 404, "unknown-location"),
    "empty lines": ({"lines": []}, 422, None),
    "no lines": ({}, 422, None),
    "ttl 0": ({"lines": [line("BOOK", 1)], "ttl_seconds": 0}, 422, None),
    "negative ttl": ({"lines": [line("BOOK", 1)], "ttl_seconds": -5}, 422, None),
    "huge ttl": ({"lines": [line("BOOK", 1)], "ttl_seconds": 10**12}, 422, None),
    "unknown allocation": ({"lines": [line("BOOK", 1)], "allocation": "cheapest"}, 422, None),
    "lines not a list": ({"lines": "BOOK"}, 422, None),
}


@pytest.mark.parametrize("body,status,slug", BAD_CREATES.values(), ids=BAD_CREATES.keys())
def test_bad_create_is_a_4xx_problem_and_changes_nothing(shop, tenant_state, body, status, slug):
    before = tenant_state()
    assert_problem(shop.post("/reservations", json=body), status, slug)
    assert tenant_state() == before


def test_malformed_json_is_422_and_changes_nothing(shop, tenant_state):
    before = tenant_state()
    r = shop.post(
        "/reservations", content=b'{"lines": [', headers={"Content-Type": "application/json"}
    )
    assert_problem(r, 422)
    assert tenant_state() == before


@pytest.mark.parametrize("sku", ["BOOK", "EBOOK", "POSTER", "MUG"])
def test_an_absurd_quantity_is_refused_without_a_500(shop, tenant_state, sku):
    receive(shop, "POSTER", WH1, 1)
    before = tenant_state()
    r = reserve(shop, line(sku, 10**30))
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert tenant_state() == before


@pytest.mark.parametrize(
    "body", [{"ttl_seconds": 0}, {"ttl_seconds": 10**9}, {}, {"ttl_seconds": "x"}]
)
def test_bad_extend_is_422_and_changes_nothing(shop, tenant_state, body):
    r = hold(shop, line("BOOK", 1))
    before = tenant_state()
    assert_problem(shop.post(f"/reservations/{r['id']}/extend", json=body), 422)
    assert tenant_state() == before
