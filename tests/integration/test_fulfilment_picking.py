"""Pick tasks, waves, walking order, scan confirmation, racing pickers, pack and ship."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from apikit import assert_problem
from fulfilmentkit import figures, item, location, receive, sell

from onhand import db
from onhand.errors import DomainError
from onhand.fulfilment import picking
from onhand.fulfilment.tables import pick_confirmations


def _warehouse(api) -> None:
    location(api, "WH", zone="north")
    # Bins: priority is the aisle order; codes sort within an aisle.
    for code, prio in [("B-03", 2), ("A-02", 1), ("A-01", 1), ("C-01", 3)]:
        location(api, code, zone="north", priority=prio, parent="WH")
    location(api, "S-01", zone="south", priority=1)
    for sku, bin_code in [("PEN", "C-01"), ("INK", "A-02"), ("PAD", "A-01"), ("CLIP", "B-03")]:
        item(api, sku, barcode=f"40{len(sku)}{sku}")
        receive(api, sku, bin_code, 20)
    item(api, "SUN")
    receive(api, "SUN", "S-01", 5)


def _ship_orders(api) -> None:
    events = [
        {"id": f"o{i}", "sku": sku, "qty": 2, "location": loc, "ship": True}
        for i, (sku, loc) in enumerate(
            [("PEN", "C-01"), ("INK", "A-02"), ("CLIP", "B-03"), ("PAD", "A-01"), ("SUN", "S-01")]
        )
    ]
    assert sell(api, "app", *events)["counts"] == {"applied": 5}


def test_a_wave_lists_its_lines_in_walking_order(api):
    _warehouse(api)
    _ship_orders(api)
    assert figures(api, "PEN", "C-01")["committed"] == 2
    r = api.post("/waves", json={"group_by": "zone"})
    assert r.status_code == 201, r.text
    made = {w["zone"]: w for w in r.json()["waves"]}
    assert set(made) == {"north", "south"}
    north = made["north"]["lines"]
    assert [(ln["location"], ln["sku"]) for ln in north] == [
        ("A-01", "PAD"),
        ("A-02", "INK"),
        ("B-03", "CLIP"),
        ("C-01", "PEN"),
    ]
    # A second wave finds nothing left to group.
    assert api.post("/waves", json={"group_by": "zone"}).json()["waves"] == []


def test_size_waves_take_the_oldest_lines(api):
    _warehouse(api)
    _ship_orders(api)
    wave = api.post("/waves", json={"group_by": "size", "max_lines": 2}).json()["waves"]
    assert len(wave) == 1 and len(wave[0]["lines"]) == 2
    assert {ln["sku"] for ln in wave[0]["lines"]} == {"PEN", "INK"}


def test_cutoff_waves_take_the_lines_due_by_the_collection(api):
    _warehouse(api)
    events = [
        {
            "id": "early",
            "sku": "PEN",
            "qty": 1,
            "location": "C-01",
            "ship": True,
            "ship_by": "2026-12-01T15:00:00Z",
        },
        {
            "id": "late",
            "sku": "INK",
            "qty": 1,
            "location": "A-02",
            "ship": True,
            "ship_by": "2026-12-02T15:00:00Z",
        },
    ]
    sell(api, "app", *events)
    body = {"group_by": "cutoff", "cutoff": "2026-12-01T16:00:00Z"}
    (wave,) = api.post("/waves", json=body).json()["waves"]
    assert [ln["sku"] for ln in wave["lines"]] == ["PEN"]


def test_confirm_by_scan_records_short_and_wrong_picks_then_ship(api):
    _warehouse(api)
    _ship_orders(api)
    wave = api.post("/waves", json={"group_by": "zone", "zone": "north"}).json()["waves"][0]
    lines = {ln["sku"]: ln for ln in wave["lines"]}
    wrong = api.post(
        f"/pick-tasks/{lines['PAD']['id']}/confirm", json={"picker": "ann", "scan": "INK", "qty": 2}
    )
    assert_problem(wrong, 409, "wrong-item")
    ok = api.post(
        f"/pick-tasks/{lines['PAD']['id']}/confirm",
        json={"picker": "ann", "scan": lines["PAD"]["barcode"], "qty": 2},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "picked"
    short = api.post(
        f"/pick-tasks/{lines['INK']['id']}/confirm", json={"picker": "ann", "scan": "INK", "qty": 1}
    )
    assert short.json()["short"] == 1
    assert_problem(api.post(f"/waves/{wave['id']}/ship"), 409, "wave-not-picked")
    for sku in ("CLIP", "PEN"):
        api.post(
            f"/pick-tasks/{lines[sku]['id']}/confirm", json={"picker": "bob", "scan": sku, "qty": 2}
        )
    progress = api.get(f"/waves/{wave['id']}").json()
    assert progress["progress"] == {"lines": 4, "picked": 4}
    assert progress["pickers"] == [
        {"picker": "ann", "lines": 2, "short": 1},
        {"picker": "bob", "lines": 2, "short": 0},
    ]
    shipped = api.post(f"/waves/{wave['id']}/ship")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    pad = figures(api, "PAD", "A-01")
    assert (pad["on_hand"], pad["committed"]) == (18, 0)
    ink = figures(api, "INK", "A-02")
    assert (ink["on_hand"], ink["committed"]) == (19, 1)  # the short unit is still owed
    entries = api.get("/ledger", params={"sku": "PAD"}).json()["entries"]
    assert {(e["state"], e["delta"]) for e in entries if e["reason"] == "ship"} == {
        ("on_hand", -2),
        ("committed", -2),
    }
    rest = [t for t in api.get("/pick-tasks").json()["tasks"] if t["sku"] == "INK"]
    assert [t["qty"] for t in rest] == [1]


def test_committed_reservations_become_tasks_and_ship_through_the_reservation(api):
    _warehouse(api)
    r = api.post("/reservations", json={"lines": [{"sku": "PEN", "qty": 3, "location": "C-01"}]})
    res = r.json()["id"]
    assert api.post(f"/reservations/{res}/commit").status_code == 200
    wave = api.post("/waves", json={"group_by": "zone"}).json()["waves"][0]
    (line,) = wave["lines"]
    assert (line["source"], line["source_id"], line["qty"]) == ("reservation", res, 3)
    api.post(f"/pick-tasks/{line['id']}/confirm", json={"picker": "ann", "scan": "PEN", "qty": 3})
    assert api.post(f"/waves/{wave['id']}/ship").status_code == 200
    pen = figures(api, "PEN", "C-01")
    assert (pen["on_hand"], pen["committed"]) == (17, 0)
    assert api.get("/pick-tasks").json()["tasks"] == []


def test_racing_pickers_cannot_confirm_the_same_task_twice(api, engine, tenant):
    _warehouse(api)
    _ship_orders(api)
    wave = api.post("/waves", json={"group_by": "zone", "zone": "north"}).json()["waves"][0]
    task = wave["lines"][0]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def pick(n: int) -> None:
        barrier.wait()
        try:
            with db.write(engine) as conn:
                picking.confirm(
                    conn, tenant, task["id"], f"picker-{n}", task["sku"], task["qty"], db.utcnow()
                )
            outcomes.append("won")
        except DomainError as problem:
            outcomes.append(problem.slug if hasattr(problem, "slug") else "refused")

    threads = [threading.Thread(target=pick, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1 and len(outcomes) == 8
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(pick_confirmations.c.picker).where(
                pick_confirmations.c.tenant_id == tenant,
                pick_confirmations.c.task_id == task["id"],
            )
        ).all()
    assert len(rows) == 1
    after = api.get(f"/waves/{wave['id']}").json()
    assert [p["lines"] for p in after["pickers"]] == [1]


def test_putaway_suggests_the_bin_holding_the_item_else_the_emptiest(api):
    _warehouse(api)
    assert api.get("/putaway", params={"sku": "INK"}).json()["location"] == "A-02"
    item(api, "NEW")
    receive(api, "INK", "A-01", 30)  # A-01 holds 50 units, A-02 25, B-03 and C-01 20 each
    receive(api, "INK", "A-02", 5)
    doc = api.get("/putaway", params={"sku": "NEW", "zone": "north"}).json()
    assert doc["location"] == "B-03" and doc["reason"].startswith("emptiest")


def test_bad_wave_and_confirm_requests_change_nothing(api, tenant_state):
    _warehouse(api)
    _ship_orders(api)
    before = tenant_state()
    assert_problem(api.post("/waves", json={"group_by": "colour"}), 422)
    assert_problem(api.post("/waves", json={"group_by": "size"}), 422)
    assert_problem(
        api.post("/pick-tasks/nope/confirm", json={"picker": "a", "scan": "x", "qty": 1}), 404
    )
    assert tenant_state() == before
