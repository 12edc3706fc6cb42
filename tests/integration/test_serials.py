"""Serial numbers: each unit received, moved, shipped, returned or written off by its serial;
a serial is never in two places nor shipped twice, even when movements race for it."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from apikit import assert_problem

from onhand import check, db
from onhand.errors import DomainError
from onhand.stock import movements
from onhand.stock.schemas import MovementIn
from onhand.tables import serial_numbers


def _setup(api, locations=("WH1", "WH2")) -> None:
    for code in locations:
        assert api.post("/locations", json={"code": code, "name": code}).status_code == 201
    r = api.post("/items", json={"sku": "CAM", "name": "Camera", "tracking": "serial"})
    assert r.status_code == 201, r.text


def _move(api, **body) -> object:
    return api.post("/movements", json={"sku": "CAM", "location": "WH1", **body})


def _units(engine, tenant: str) -> dict[str, tuple[str, int | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                serial_numbers.c.serial, serial_numbers.c.status, serial_numbers.c.location_id
            ).where(serial_numbers.c.tenant_id == tenant)
        )
        return {r.serial: (r.status, r.location_id) for r in rows}


def _on_hand(api, location: str) -> int:
    doc = api.get("/availability/CAM").json()
    return next((r["on_hand"] for r in doc["locations"] if r["location"] == location), 0)


def _clean(engine, tenant: str) -> None:
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []


def test_units_are_received_moved_shipped_and_returned_by_serial(api, engine, tenant):
    _setup(api)
    r = _move(api, type="receipt", serials=["SN-1", "SN-2", "SN-3"])
    assert r.status_code == 201, r.text
    assert r.json()["qty"] == 3 and r.json()["serials"] == ["SN-1", "SN-2", "SN-3"]
    assert _move(api, type="transfer", to="WH2", serials=["SN-3"]).status_code == 201
    assert (_on_hand(api, "WH1"), _on_hand(api, "WH2")) == (2, 1)
    assert _move(api, type="ship", serials=["SN-1"]).status_code == 201
    assert _move(api, type="damage", serials=["SN-2"]).status_code == 201  # still here
    assert _move(api, type="return", serials=["SN-1"]).status_code == 201
    units = _units(engine, tenant)
    assert {k: v[0] for k, v in units.items()} == {
        "SN-1": "in_stock",
        "SN-2": "in_stock",
        "SN-3": "in_stock",
    }
    assert _move(api, type="write_off", from_state="damaged", serials=["SN-2"]).status_code == 201
    assert _units(engine, tenant)["SN-2"] == ("written_off", None)
    assert (_on_hand(api, "WH1"), _on_hand(api, "WH2")) == (1, 1)
    _clean(engine, tenant)


def test_a_serial_is_never_in_two_places_nor_shipped_twice(api, engine, tenant, tenant_state):
    _setup(api)
    assert _move(api, type="receipt", serials=["SN-1", "SN-2"]).status_code == 201
    assert _move(api, type="ship", serials=["SN-1"]).status_code == 201
    before = tenant_state()
    for body, status, slug in (
        ({"type": "receipt", "serials": ["SN-2"]}, 409, "serial-exists"),  # in stock already
        ({"type": "receipt", "location": "WH2", "serials": ["SN-1"]}, 409, "serial-exists"),
        ({"type": "ship", "serials": ["SN-1"]}, 409, "serial-not-here"),  # shipped already
        ({"type": "ship", "location": "WH2", "serials": ["SN-2"]}, 409, "serial-not-here"),
        ({"type": "ship", "serials": ["SN-9"]}, 409, "unknown-serial"),
        ({"type": "return", "serials": ["SN-2"]}, 409, "serial-not-here"),  # never left
        ({"type": "ship", "qty": 1}, 422, None),  # which unit?
        ({"type": "ship", "qty": 2, "serials": ["SN-2"]}, 422, None),
        ({"type": "adjustment", "qty": 1}, 422, None),
        ({"type": "count", "counted": 5}, 422, None),
        ({"type": "receipt", "serials": ["SN-7", "SN-7"]}, 422, None),
        ({"type": "receipt", "serials": ["has space"]}, 422, None),
    ):
        assert_problem(
            api.post("/movements", json={"sku": "CAM", "location": "WH1", **body}), status, slug
        )
    assert tenant_state() == before
    r = api.post("/items", json={"sku": "MUG", "name": "Mug"})
    assert r.status_code == 201
    plain = api.post(
        "/movements", json={"type": "receipt", "sku": "MUG", "location": "WH1", "serials": ["X"]}
    )
    assert_problem(plain, 422)
    bad = api.post(
        "/items", json={"sku": "E", "name": "E", "kind": "digital", "tracking": "serial"}
    )
    assert_problem(bad, 422)
    _clean(engine, tenant)


@pytest.mark.parametrize("kind", ["ship", "receipt"])
def test_racing_movements_cannot_take_one_serial_twice(api, engine, tenant, kind):
    """Eight threads ship the same unit (with stock enough for two, so only the serial can
    refuse) or receive the same new serial at two locations: exactly one wins."""
    _setup(api)
    assert _move(api, type="receipt", serials=["SN-1", "SN-2"]).status_code == 201
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def mover(n: int) -> None:
        body = (
            {"type": "ship", "sku": "CAM", "location": "WH1", "serials": ["SN-1"]}
            if kind == "ship"
            else {
                "type": "receipt",
                "sku": "CAM",
                "location": f"WH{1 + n % 2}",
                "serials": ["SN-NEW"],
            }
        )
        barrier.wait()
        try:
            with db.write(engine) as conn:
                movements.post(conn, tenant, MovementIn.model_validate(body), f"t{n}", db.utcnow())
            outcomes.append("moved")
        except DomainError:
            outcomes.append("refused")
        except sa.exc.IntegrityError:  # the database's own constraint, if it decided first
            outcomes.append("refused")

    threads = [threading.Thread(target=mover, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["moved"] + ["refused"] * 7, outcomes
    if kind == "ship":
        assert _units(engine, tenant)["SN-1"] == ("shipped", None)
        assert _on_hand(api, "WH1") == 1  # SN-2
    else:
        assert sum(_on_hand(api, c) for c in ("WH1", "WH2")) == 3  # SN-NEW counted once
    _clean(engine, tenant)


def test_no_other_path_moves_serial_units_unnamed(api, engine, tenant, tenant_state):
    _setup(api)
    assert _move(api, type="receipt", serials=["SN-1"]).status_code == 201
    hold = api.post("/reservations", json={"lines": [{"sku": "CAM", "qty": 1}]})
    assert hold.status_code == 201, hold.text  # a hold counts units, it does not move them
    assert api.post(f"/reservations/{hold.json()['id']}/commit").status_code == 200
    before = tenant_state()
    shipped = api.post(f"/reservations/{hold.json()['id']}/ship")
    assert_problem(shipped, 422, "serial-required")
    assert tenant_state() == before
    _clean(engine, tenant)


def test_a_returned_unit_comes_back_by_its_serial(api, engine, tenant):
    _setup(api)
    assert _move(api, type="receipt", serials=["SN-1", "SN-2"]).status_code == 201
    assert _move(api, type="ship", serials=["SN-1"]).status_code == 201
    lines = [{"sku": "CAM", "qty": 2, "reason": "faulty"}]
    assert_problem(api.post("/rma", json={"location": "WH1", "lines": lines}), 422)
    rma = api.post(
        "/rma",
        json={
            "location": "WH1",
            "lines": [{"sku": "CAM", "qty": 1, "serial": "SN-1", "reason": "faulty"}],
        },
    ).json()
    assert api.post(f"/rma/{rma['id']}/approve").status_code == 200
    assert api.post(f"/rma/{rma['id']}/receive", json={}).status_code == 200
    assert _units(engine, tenant)["SN-1"][0] == "in_stock"
    done = api.post(
        f"/rma/{rma['id']}/inspect", json={"lines": [{"line": 1, "disposition": "scrap"}]}
    )
    assert done.status_code == 200, done.text
    assert _units(engine, tenant)["SN-1"] == ("written_off", None)
    _clean(engine, tenant)
