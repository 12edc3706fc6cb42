"""Cycle counts: a programme per ABC class, tasks spread over each interval, blind counts, a
tolerance within which a count posts itself, approval or a recount beyond it, accuracy."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import sqlalchemy as sa
from apikit import assert_problem
from prometheus_client import generate_latest

from onhand import check, db
from onhand.counts import service
from onhand.errors import Conflict
from onhand.tables import items, locations


def _item(api, sku: str, qty: int, cost: str, location: str = "WH1") -> None:
    r = api.post("/items", json={"sku": sku, "name": sku, "unit_cost": cost})
    assert r.status_code == 201, r.text
    r = api.post(
        "/movements", json={"type": "receipt", "sku": sku, "location": location, "qty": qty}
    )
    assert r.status_code == 201, r.text


def _programme(api, every: dict[str, int], pct: str = "10", units: int = 0) -> None:
    body = {
        c: {"every_days": every[c], "tolerance_pct": pct, "tolerance_units": units} for c in "ABC"
    }
    r = api.put("/counts/programme", json=body)
    assert r.status_code == 200, r.text


def _generate(api, on: date) -> dict:
    r = api.post("/counts/tasks/generate", params={"on": on.isoformat()})
    assert r.status_code == 200, r.text
    return r.json()


def _open(api) -> list[dict]:
    return api.get("/counts/tasks", params={"status": "open"}).json()["tasks"]


def _on_hand(api, sku: str) -> int:
    return api.get(f"/availability/{sku}").json()["on_hand"]


def _clean(engine, tenant: str) -> None:
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []


def test_the_programme_has_defaults_and_bad_ones_are_refused(api, tenant_state):
    doc = api.get("/counts/programme").json()
    assert doc["updated_at"] is None
    assert [doc[c]["every_days"] for c in "ABC"] == [30, 90, 365]
    before = tenant_state()
    good = {"every_days": 30, "tolerance_pct": "1", "tolerance_units": 0}
    for body in (
        {"A": good, "B": good},  # a class missing
        {"A": dict(good, every_days=0), "B": good, "C": good},
        {"A": dict(good, tolerance_pct="101"), "B": good, "C": good},
        {"A": dict(good, bogus=1), "B": good, "C": good},
    ):
        assert_problem(api.put("/counts/programme", json=body), 422)
    assert tenant_state() == before
    _programme(api, {"A": 7, "B": 14, "C": 28})
    assert api.get("/counts/programme").json()["B"]["every_days"] == 14


def test_a_first_round_is_spread_over_the_interval_and_the_next_comes_an_interval_later(api):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    for n in range(40):
        _item(api, f"SKU-{n:02d}", 5, "1.00")
    _programme(api, {"A": 10, "B": 10, "C": 10})
    today = date.today()
    seen: dict[tuple[str, str], list[date]] = {}
    per_day = []
    for k in range(10):
        on = today + timedelta(days=k)
        made = _generate(api, on)["created"]
        per_day.append(made)
        for task in _open(api):
            seen.setdefault((task["sku"], task["location"]), []).append(on)
            r = api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 5})
            assert r.json()["status"] == "posted", r.text
    # Every item and location once in the ten days, and not all on one day.
    assert len(seen) == 40 and all(len(days) == 1 for days in seen.values())
    assert sum(per_day) == 40 and max(per_day) < 20, per_day
    assert _generate(api, today + timedelta(days=9))["created"] == 0  # counted today: not yet
    again = _generate(api, today + timedelta(days=10))
    assert again["created"] == 40  # ten days after their last count (all counted today)
    assert _generate(api, today + timedelta(days=10))["created"] == 0  # one task at a time


def test_classes_are_counted_at_their_own_pace(api, engine, tenant):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    _item(api, "GOLD", 100, "100.00")  # nearly all of the stock value: class A
    _item(api, "SAND", 10, "0.01")  # class C
    _programme(api, {"A": 1, "B": 2, "C": 1000})
    today = date.today()
    for on in (today, today + timedelta(days=1)):
        _generate(api, on)
        tasks = {t["sku"]: t for t in _open(api)}
        assert tasks["GOLD"]["abc_class"] == "A"  # every day
        # SAND, never counted, starts on one day of its 1,000 (spread by the pair's hash).
        assert ("SAND" in tasks) == _first_day(engine, tenant, "SAND", 1000, on)
        for t in tasks.values():
            api.post(
                f"/counts/tasks/{t['id']}/count",
                json={"counted": 100 if t["sku"] == "GOLD" else 10},
            )


def _first_day(engine, tenant: str, sku: str, every: int, on: date) -> bool:
    with engine.connect() as conn:
        item_id = conn.execute(
            sa.select(items.c.id).where(items.c.tenant_id == tenant, items.c.sku == sku)
        ).scalar_one()
        loc_id = conn.execute(
            sa.select(locations.c.id).where(
                locations.c.tenant_id == tenant, locations.c.code == "WH1"
            )
        ).scalar_one()
    return service.first_day(item_id, loc_id, every, on)


def test_a_blind_count_posts_within_tolerance_and_waits_for_a_manager_beyond_it(
    api, engine, tenant
):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    _item(api, "GOLD", 100, "100.00")
    _programme(api, {"A": 1, "B": 1, "C": 1}, pct="10")
    today = date.today()
    _generate(api, today)
    [task] = _open(api)
    assert task["expected"] is None and task["variance"] is None  # blind
    within = api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 95}).json()
    assert (within["status"], within["expected"], within["variance"]) == ("posted", 100, -5)
    assert _on_hand(api, "GOLD") == 95
    count_rows = api.get("/ledger", params={"sku": "GOLD", "reason": "count"}).json()["entries"]
    assert [e["delta"] for e in count_rows] == [-5]

    _generate(api, today + timedelta(days=1))
    [task] = _open(api)
    beyond = api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 80}).json()
    assert (beyond["status"], beyond["expected"], beyond["variance"]) == ("review", 95, -15)
    assert _on_hand(api, "GOLD") == 95  # nothing posted yet
    assert_problem(api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 81}), 409)
    r = api.post(
        "/movements", json={"type": "receipt", "sku": "GOLD", "location": "WH1", "qty": 10}
    )
    assert r.status_code == 201
    approved = api.post(f"/counts/tasks/{task['id']}/approve").json()
    assert approved["status"] == "posted" and approved["decided_by"]
    assert _on_hand(api, "GOLD") == 90  # the variance, and the receipt since the count stays

    _generate(api, today + timedelta(days=2))
    [task] = _open(api)
    assert_problem(api.post(f"/counts/tasks/{task['id']}/approve"), 409, "count-step")
    api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 50})
    back = api.post(f"/counts/tasks/{task['id']}/recount").json()
    assert (back["status"], back["counted"], back["expected"]) == ("open", None, None)
    assert (
        api.post(f"/counts/tasks/{task['id']}/count", json={"counted": 90}).json()["status"]
        == "posted"
    )
    assert _on_hand(api, "GOLD") == 90

    acc = api.get("/counts/accuracy", params={"days": 7}).json()
    assert (acc["counted"], acc["within"], acc["accuracy"]) == (3, 2, 0.6667)
    assert acc["by_class"]["A"]["counted"] == 3
    scraped = generate_latest().decode()
    assert f'onhand_count_accuracy_ratio{{tenant="{tenant}"}} 0.6666' in scraped
    assert_problem(api.get("/counts/tasks/nope"), 404, "unknown-count-task")
    assert_problem(api.post("/counts/tasks/nope/count", json={"counted": -1}), 422)
    _clean(engine, tenant)


def test_two_counters_cannot_both_count_one_task(api, engine, tenant):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    _item(api, "GOLD", 100, "100.00")
    _programme(api, {"A": 1, "B": 1, "C": 1}, pct="50")
    _generate(api, date.today())
    [task] = _open(api)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def counter(qty: int) -> None:
        barrier.wait()
        try:
            with db.write(engine) as conn:
                service.count(conn, tenant, task["id"], qty, f"counter-{qty}", db.utcnow())
            outcomes.append("counted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=counter, args=(q,)) for q in (97, 98, 99, 100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["counted", "refused", "refused", "refused"]
    counts = api.get("/ledger", params={"sku": "GOLD", "reason": "count"}).json()["entries"]
    assert len(counts) == 1
    _clean(engine, tenant)
