"""Returns (RMA): request, approve, receive into quality control, inspect each line; every step
in the ledger and as an event, a refused step a 409 that changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from apikit import assert_problem

from onhand import check
from onhand.tables import outbox


def _stocked(api, qty: int = 10) -> None:
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    assert (
        api.post("/items", json={"sku": "MUG", "name": "Mug", "unit_cost": "3.00"}).status_code
        == 201
    )
    r = api.post(
        "/movements", json={"type": "receipt", "sku": "MUG", "location": "WH1", "qty": qty}
    )
    assert r.status_code == 201, r.text


def _figures(api) -> dict:
    doc = api.get("/availability/MUG").json()
    row = next(r for r in doc["locations"] if r["location"] == "WH1")
    return {k: row.get(k, 0) for k in ("available", "on_hand", "damaged", "quality_control")}


def _rma(api, *lines: tuple[int, str]) -> dict:
    r = api.post(
        "/rma",
        json={
            "location": "WH1",
            "order_reference": "#1001",
            "lines": [{"sku": "MUG", "qty": q, "reason": why} for q, why in lines],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "requested"
    return r.json()


def _clean(engine, tenant: str) -> None:
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []


def _events(engine, tenant: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.type)
            .where(outbox.c.tenant_id == tenant, outbox.c.type.like("rma.%"))
            .order_by(outbox.c.id)
        )
        return [r.type for r in rows]


def test_a_return_is_received_into_quality_control_and_each_line_gets_its_disposition(
    api, engine, tenant
):
    _stocked(api)
    r = api.post("/movements", json={"type": "ship", "sku": "MUG", "location": "WH1", "qty": 4})
    assert r.status_code == 201
    rma = _rma(api, (2, "arrived chipped"), (1, "wrong colour"), (1, "faulty glaze"))
    assert api.post(f"/rma/{rma['id']}/approve").json()["status"] == "approved"
    assert _figures(api) == {"available": 6, "on_hand": 6, "damaged": 0, "quality_control": 0}

    got = api.post(f"/rma/{rma['id']}/receive", json={})
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "received"
    assert [ln["received"] for ln in got.json()["lines"]] == [2, 1, 1]
    # Back on hand, but not for sale until inspected.
    assert _figures(api) == {"available": 6, "on_hand": 10, "damaged": 0, "quality_control": 4}

    one = api.post(
        f"/rma/{rma['id']}/inspect",
        json={
            "lines": [{"line": 1, "disposition": "damage"}, {"line": 2, "disposition": "restock"}]
        },
    )
    assert one.status_code == 200, one.text
    assert one.json()["status"] == "received"  # line 3 still waits
    assert _figures(api) == {"available": 7, "on_hand": 10, "damaged": 2, "quality_control": 1}
    done = api.post(
        f"/rma/{rma['id']}/inspect",
        json={"lines": [{"line": 3, "disposition": "return_to_vendor", "note": "to the potter"}]},
    )
    assert done.json()["status"] == "closed"
    assert [ln["disposition"] for ln in done.json()["lines"]] == [
        "damage",
        "restock",
        "return_to_vendor",
    ]
    assert _figures(api) == {"available": 7, "on_hand": 9, "damaged": 2, "quality_control": 0}

    ledger = api.get("/ledger", params={"sku": "MUG", "limit": 50}).json()["entries"]
    mine = [
        (e["reason"], e["state"], e["delta"]) for e in ledger if "RMA" in (e["reference"] or "")
    ]
    assert sorted(mine) == sorted(
        [
            ("return", "on_hand", 2),
            ("return", "quality_control", 2),
            ("return", "on_hand", 1),
            ("return", "quality_control", 1),
            ("return", "on_hand", 1),
            ("return", "quality_control", 1),
            ("quality_release", "quality_control", -2),
            ("quality_release", "damaged", 2),
            ("quality_release", "quality_control", -1),
            ("write_off", "quality_control", -1),
            ("write_off", "on_hand", -1),
        ]
    )
    assert _events(engine, tenant) == [
        "rma.requested",
        "rma.approved",
        "rma.received",
        "rma.inspected",
        "rma.inspected",
    ]
    # The console's returns tile counts the units received.
    tile = api.get("/console/tiles/returns").json()
    assert tile["current"]["units"] == 4, tile
    _clean(engine, tenant)


def test_scrap_writes_the_units_off(api, engine, tenant):
    _stocked(api)
    rma = _rma(api, (3, "broken in transit"))
    api.post(f"/rma/{rma['id']}/approve")
    api.post(f"/rma/{rma['id']}/receive", json={})
    r = api.post(f"/rma/{rma['id']}/inspect", json={"lines": [{"line": 1, "disposition": "scrap"}]})
    assert r.json()["status"] == "closed"
    assert _figures(api) == {"available": 10, "on_hand": 10, "damaged": 0, "quality_control": 0}
    _clean(engine, tenant)


def test_a_partial_arrival_inspects_what_came(api, engine, tenant):
    _stocked(api)
    rma = _rma(api, (2, "too big"), (1, "too small"))
    api.post(f"/rma/{rma['id']}/approve")
    too_many = api.post(f"/rma/{rma['id']}/receive", json={"lines": [{"line": 1, "qty": 3}]})
    assert_problem(too_many, 422)
    r = api.post(f"/rma/{rma['id']}/receive", json={"lines": [{"line": 1, "qty": 1}]})
    assert [ln["received"] for ln in r.json()["lines"]] == [1, 0]
    assert _figures(api)["quality_control"] == 1
    nothing = api.post(
        f"/rma/{rma['id']}/inspect", json={"lines": [{"line": 2, "disposition": "restock"}]}
    )
    assert "nothing of it arrived" in assert_problem(nothing, 409)["detail"]
    r = api.post(
        f"/rma/{rma['id']}/inspect", json={"lines": [{"line": 1, "disposition": "restock"}]}
    )
    assert r.json()["status"] == "closed"
    assert _figures(api) == {"available": 11, "on_hand": 11, "damaged": 0, "quality_control": 0}
    _clean(engine, tenant)


def test_a_step_out_of_order_is_a_409_that_changes_nothing(api, tenant_state):
    _stocked(api)
    rma = _rma(api, (1, "unwanted gift"))
    path = f"/rma/{rma['id']}"
    before = tenant_state()
    for step, body in (
        ("receive", {}),
        ("inspect", {"lines": [{"line": 1, "disposition": "restock"}]}),
    ):
        doc = assert_problem(api.post(f"{path}/{step}", json=body), 409, "rma-step")
        assert "requested" in doc["detail"], doc
    assert tenant_state() == before
    api.post(f"{path}/approve")
    assert "approved" in assert_problem(api.post(f"{path}/approve"), 409)["detail"]
    api.post(f"{path}/receive", json={})
    refused = api.post(f"{path}/refuse", json={"reason": "too late"})
    assert "received" in assert_problem(refused, 409)["detail"]
    api.post(f"{path}/inspect", json={"lines": [{"line": 1, "disposition": "restock"}]})
    before = tenant_state()
    again = api.post(f"{path}/inspect", json={"lines": [{"line": 1, "disposition": "scrap"}]})
    assert_problem(again, 409)
    assert tenant_state() == before
    other = _rma(api, (1, "changed my mind"))
    r = api.post(f"/rma/{other['id']}/refuse", json={"reason": "outside the 30-day window"})
    assert r.json()["status"] == "refused" and r.json()["refusal"] == "outside the 30-day window"
    assert_problem(api.post(f"/rma/{other['id']}/approve"), 409)
    listed = api.get("/rma", params={"status": "refused"}).json()["rmas"]
    assert [x["id"] for x in listed] == [other["id"]]


def test_bad_returns_are_refused_and_change_nothing(api, tenant_state):
    _stocked(api)
    assert (
        api.post("/items", json={"sku": "EBOOK", "name": "E", "kind": "digital"}).status_code == 201
    )
    before = tenant_state()
    line = {"sku": "MUG", "qty": 1, "reason": "x"}
    for body, status in (
        ({"location": "WH1", "lines": []}, 422),
        ({"location": "WH1", "lines": [dict(line, qty=0)]}, 422),
        ({"location": "WH1", "lines": [dict(line, reason="")]}, 422),
        ({"location": "WH1", "lines": [line], "bogus": 1}, 422),
        ({"location": "NOWHERE", "lines": [line]}, 404),
        ({"location": "WH1", "lines": [dict(line, sku="NOPE")]}, 404),
        ({"location": "WH1", "lines": [dict(line, sku="EBOOK")]}, 422),
    ):
        assert_problem(api.post("/rma", json=body), status)
    assert_problem(api.get("/rma/not-a-return"), 404, "unknown-rma")
    assert_problem(api.post("/rma/not-a-return/approve"), 404)
    assert tenant_state() == before
