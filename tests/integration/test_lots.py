"""Lot-tracked items (issue 11): lots on receipt, per-lot balances beside the item's, FEFO for
holds, shipments and transfers, expiry decided by date, on SQLite and PostgreSQL.

Every test ends with `onhand check` for its tenant: per-lot rows add up to the item's balance
rows and to the ledger, and no lot was sold after it expired.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from onhand import check, db
from onhand.tables import items, lot_balances, lots

WH1, WH2 = "WH1", "WH2"


def today() -> date:
    """The tenant's day (its time zone is UTC), read when asked: a run that crosses midnight
    must not date its lots from the day the module was imported."""
    return datetime.now(UTC).date()


def day(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


@pytest.fixture
def kitchen(api, engine, tenant):
    """Two stores, lot-tracked milk (use-by dates), and an untracked book."""
    for code in (WH1, WH2):
        assert api.post("/locations", json={"code": code, "name": code}).status_code == 201
    for item in (
        {"sku": "MILK", "name": "Milk 1 l", "tracking": "lot"},
        {"sku": "BOOK", "name": "A book"},
    ):
        assert api.post("/items", json=item).status_code == 201, item
    yield api
    with db.read(engine) as conn:
        findings = [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]
    assert findings == [], "the invariants must hold after every test"


def move(api, type_: str, sku: str = "MILK", location: str = WH1, **fields):
    return api.post("/movements", json={"type": type_, "sku": sku, "location": location, **fields})


def ok(api, type_: str, sku: str = "MILK", location: str = WH1, **fields) -> dict:
    r = move(api, type_, sku, location, **fields)
    assert r.status_code == 201, r.text
    return r.json()


def receive(api, code: str, qty: int, expires_in: int | None, location: str = WH1, **lot):
    spec = {"code": code, **lot}
    if expires_in is not None:
        spec["expires_on"] = day(expires_in)
    return ok(api, "receipt", location=location, qty=qty, lot=spec)


def lot_figures(api, sku: str = "MILK") -> dict[str, dict]:
    return {row["lot"]: row for row in api.get(f"/availability/{sku}").json()["lots"]}


def lot_rows(engine, tenant: str) -> dict[tuple[str, str], int]:
    """(lot code, state) → units, straight from lot_balances."""
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(lots.c.code, lot_balances)
            .join(lots, lots.c.id == lot_balances.c.lot_id)
            .where(lot_balances.c.tenant_id == tenant)
        ).all()
    out: dict[tuple[str, str], int] = {}
    for r in rows:
        for s in ("on_hand", "reserved", "committed", "quality_control", "in_transit"):
            out[(r.code, s)] = out.get((r.code, s), 0) + getattr(r, s)
    return out


# ---- items and lots ---------------------------------------------------------------------------


def test_an_item_is_untracked_unless_asked(kitchen):
    assert kitchen.get("/items/BOOK").json()["tracking"] == "none"
    assert kitchen.get("/items/MILK").json()["tracking"] == "lot"
    r = kitchen.post("/items", json={"sku": "PHONE", "name": "Phone", "tracking": "serial"})
    assert r.status_code == 201 and r.json()["tracking"] == "serial"  # see test_serials.py
    r = kitchen.post(
        "/items", json={"sku": "X", "name": "X", "tracking": "lot", "allow_backorder": True}
    )
    assert r.status_code == 422
    r = kitchen.post("/items", json={"sku": "Y", "name": "Y", "min_shelf_life_days": 3})
    assert r.status_code == 422, "shelf life needs lot tracking"
    assert kitchen.get("/items/X").status_code == 404


def test_a_receipt_creates_the_lot_with_its_dates_supplier_and_receipt(kitchen, engine, tenant):
    doc = receive(
        kitchen, "L-0001", 24, 5, best_before=day(4), manufactured_on=day(-1), supplier="DAIRY"
    )
    assert [e["lot"] for e in doc["entries"]] == ["L-0001"]
    lot = lot_figures(kitchen)["L-0001"]
    assert (lot["expires_on"], lot["best_before"], lot["manufactured_on"]) == (
        day(5),
        day(4),
        day(-1),
    )
    assert (lot["supplier"], lot["on_hand"], lot["available"], lot["sellable"]) == (
        "DAIRY",
        24,
        24,
        True,
    )
    with db.read(engine) as conn:
        row = conn.execute(
            sa.select(lots).where(lots.c.tenant_id == tenant, lots.c.code == "L-0001")
        ).one()
    assert row.movement_id == doc["id"]
    # A second receipt into the lot adds to it; one that contradicts its dates is refused.
    receive(kitchen, "L-0001", 6, 5)
    assert lot_figures(kitchen)["L-0001"]["on_hand"] == 30
    r = move(kitchen, "receipt", qty=1, lot={"code": "L-0001", "expires_on": day(9)})
    assert r.status_code == 409 and r.json()["type"].endswith("/lot-mismatch")
    assert lot_figures(kitchen)["L-0001"]["on_hand"] == 30


def test_a_receipt_without_a_lot_gets_a_generated_one(kitchen):
    doc = ok(kitchen, "receipt", qty=5)
    code = doc["entries"][0]["lot"]
    assert code and lot_figures(kitchen)[code]["on_hand"] == 5
    assert lot_figures(kitchen)[code]["expires_on"] is None


def test_untracked_items_refuse_a_lot_and_keep_their_answers(kitchen):
    r = move(kitchen, "receipt", sku="BOOK", qty=3, lot="L1")
    assert r.status_code == 422 and r.json()["type"].endswith("/not-lot-tracked")
    doc = ok(kitchen, "receipt", sku="BOOK", qty=3)
    assert "lot" not in doc["entries"][0]
    assert "lots" not in kitchen.get("/availability/BOOK").json()


def test_movements_other_than_receipt_ship_and_transfer_name_their_lot(kitchen):
    receive(kitchen, "A", 10, 5)
    for type_, extra in (
        ("damage", {"qty": 1}),
        ("quality_hold", {"qty": 1}),
        ("adjustment", {"qty": -1}),
        ("count", {"counted": 3}),
    ):
        r = move(kitchen, type_, **extra)
        assert r.status_code == 422 and r.json()["type"].endswith("/lot-required"), type_
        r = move(kitchen, type_, lot="NOPE", **extra)
        assert r.status_code == 404 and r.json()["type"].endswith("/unknown-lot"), type_
    assert lot_figures(kitchen)["A"]["on_hand"] == 10
    ok(kitchen, "damage", qty=2, lot="A")
    ok(kitchen, "write_off", qty=2, lot="A")
    ok(kitchen, "quality_hold", qty=3, lot="A")
    ok(kitchen, "quality_release", qty=1, lot="A")
    lot = lot_figures(kitchen)["A"]
    assert (lot["on_hand"], lot["quality_control"], lot["damaged"], lot["available"]) == (
        8,
        2,
        0,
        6,
    )
    # A count sets the lot's level; the item's balance moves with it.
    receive(kitchen, "B", 4, 9)
    ok(kitchen, "count", counted=5, lot="A")
    assert lot_figures(kitchen)["A"]["on_hand"] == 5
    doc = kitchen.get("/availability/MILK").json()
    assert doc["on_hand"] == 9
    # Safety stock belongs to the item at a location, never to a lot.
    r = move(kitchen, "safety_stock", qty=1, lot="A")
    assert r.status_code == 422
    ok(kitchen, "safety_stock", qty=1)


def test_a_lot_never_gives_more_than_it_holds(kitchen, engine, tenant):
    receive(kitchen, "A", 3, 5)
    receive(kitchen, "B", 10, 9)
    r = move(kitchen, "ship", qty=4, lot="A")
    assert r.status_code == 409, "the item holds 13, the lot only 3"
    problem = r.json()
    assert problem["type"].endswith("/insufficient-stock") and problem["lot"] == "A"
    assert problem["available"] == 3
    r = move(kitchen, "damage", qty=4, lot="A")
    assert r.status_code == 409 and r.json()["lot"] == "A"
    assert lot_rows(engine, tenant)[("A", "on_hand")] == 3


# ---- FEFO and expiry --------------------------------------------------------------------------


def test_a_shipment_takes_the_lot_that_expires_first(kitchen):
    receive(kitchen, "LATE", 10, 9)
    receive(kitchen, "NEVER", 10, None)
    receive(kitchen, "SOON", 4, 2)
    doc = ok(kitchen, "ship", qty=6)
    taken = {(e["lot"], e["delta"]) for e in doc["entries"]}
    assert taken == {("SOON", -4), ("LATE", -2)}
    figures = lot_figures(kitchen)
    assert "SOON" not in figures, "an empty lot leaves the breakdown"
    assert (figures["LATE"]["on_hand"], figures["NEVER"]["on_hand"]) == (8, 10)
    assert list(figures) == ["LATE", "NEVER"], "FEFO order; lots that never expire last"
    # Asked for by name, a later lot is taken instead.
    doc = ok(kitchen, "ship", qty=1, lot="NEVER")
    assert [e["lot"] for e in doc["entries"]] == ["NEVER"]


def test_an_expired_lot_is_never_sold_even_before_the_job_ran(kitchen):
    receive(kitchen, "OLD", 5, -1)
    receive(kitchen, "TODAY", 2, 0)
    doc = kitchen.get("/availability/MILK").json()
    assert doc["available"] == 2, "the expired lot counts as available nowhere"
    assert doc["locations"][0]["available"] == 2
    lots_doc = lot_figures(kitchen)
    assert (lots_doc["OLD"]["sellable"], lots_doc["OLD"]["available"]) == (False, 0)
    assert lots_doc["TODAY"]["sellable"] is True, "a lot may be sold on its use-by day"
    r = move(kitchen, "ship", qty=3)
    assert r.status_code == 409 and r.json()["available"] == 2
    r = move(kitchen, "ship", qty=1, lot="OLD")
    assert r.status_code == 409 and r.json()["lot"] == "OLD"
    assert "expires on" in r.json()["detail"]
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 3}]})
    assert r.status_code == 409 and r.json()["available"] == 2
    # It can still be moved aside, counted or written off: only selling it is refused.
    ok(kitchen, "quality_hold", qty=5, lot="OLD")
    ok(kitchen, "write_off", qty=5, lot="OLD", from_state="quality_control")
    assert lot_figures(kitchen)["TODAY"]["available"] == 2


def test_min_shelf_life_keeps_lots_too_close_to_expiry_off_sale(kitchen):
    r = kitchen.post(
        "/items",
        json={"sku": "YOGURT", "name": "Yogurt", "tracking": "lot", "min_shelf_life_days": 3},
    )
    assert r.status_code == 201, r.text
    ok(kitchen, "receipt", sku="YOGURT", qty=5, lot={"code": "Y2", "expires_on": day(2)})
    ok(kitchen, "receipt", sku="YOGURT", qty=5, lot={"code": "Y3", "expires_on": day(3)})
    doc = ok(kitchen, "ship", sku="YOGURT", qty=2)
    assert [e["lot"] for e in doc["entries"]] == ["Y3"], "Y2 has 2 days left, 3 are needed"
    assert kitchen.get("/availability/YOGURT").json()["available"] == 3


def test_a_transfer_moves_the_lot_that_expires_first_and_arrives_as_that_lot(kitchen):
    receive(kitchen, "LATE", 10, 9)
    receive(kitchen, "SOON", 3, 2)
    receive(kitchen, "OLD", 3, -2)
    ok(kitchen, "transfer", qty=5, to=WH2, in_transit=True)
    rows = {
        (r["lot"], loc["location"]): loc
        for r in lot_figures(kitchen).values()
        for loc in r["locations"]
    }
    assert rows[("SOON", WH2)]["on_hand"] == 0
    r = move(kitchen, "transfer_receive", location=WH2, qty=5, lot="NOPE")
    assert r.status_code == 404
    ok(kitchen, "transfer_receive", location=WH2, qty=5)
    figures = lot_figures(kitchen)
    at = {loc["location"]: loc["on_hand"] for loc in figures["SOON"]["locations"]}
    assert at == {WH2: 3}, "a lot row with nothing left leaves the breakdown"
    at = {loc["location"]: loc["on_hand"] for loc in figures["LATE"]["locations"]}
    assert at == {WH1: 8, WH2: 2}
    # An expired lot may be moved when it is named (to a quarantine shelf, say).
    ok(kitchen, "transfer", qty=3, to=WH2, lot="OLD")


def test_holds_take_lots_fefo_and_carry_them_through_commit_and_ship(kitchen, engine, tenant):
    receive(kitchen, "LATE", 10, 9)
    receive(kitchen, "SOON", 3, 2)
    receive(kitchen, "OLD", 3, -1)
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 5}]})
    assert r.status_code == 201, r.text
    res = r.json()
    allocations = res["lines"][0]["allocations"]
    assert {(a["lot"], a["qty"]) for a in allocations} == {("SOON", 3), ("LATE", 2)}
    rows = lot_rows(engine, tenant)
    assert (rows[("SOON", "reserved")], rows[("LATE", "reserved")], rows[("OLD", "reserved")]) == (
        3,
        2,
        0,
    )
    assert kitchen.post(f"/reservations/{res['id']}/commit").status_code == 200
    rows = lot_rows(engine, tenant)
    assert (rows[("SOON", "committed")], rows[("LATE", "committed")]) == (3, 2)
    assert kitchen.post(f"/reservations/{res['id']}/ship").status_code == 200
    rows = lot_rows(engine, tenant)
    assert (rows[("SOON", "on_hand")], rows[("LATE", "on_hand")]) == (0, 8)
    # A hold may ask for a lot; a release gives that lot back.
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 2, "lot": "LATE"}]})
    assert r.status_code == 201, r.text
    assert kitchen.post(f"/reservations/{r.json()['id']}/release").status_code == 200
    r = kitchen.post("/reservations", json={"lines": [{"sku": "MILK", "qty": 1, "lot": "OLD"}]})
    assert r.status_code == 409, "an expired lot cannot be held, even by name"
    r = kitchen.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": 1, "lot": "OLD"}]})
    assert r.status_code == 422
    assert lot_rows(engine, tenant)[("LATE", "reserved")] == 0


def test_check_finds_a_lot_row_that_disagrees_with_its_balance(kitchen, engine, tenant):
    receive(kitchen, "A", 5, 5)
    with db.write(engine) as conn:
        item_id = conn.execute(
            sa.select(items.c.id).where(items.c.tenant_id == tenant, items.c.sku == "MILK")
        ).scalar()
        conn.execute(
            lot_balances.update()
            .where(lot_balances.c.tenant_id == tenant, lot_balances.c.item_id == item_id)
            .values(on_hand=4)
        )
    with db.read(engine) as conn:
        found = [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]
    assert any("its lots add up to 4" in f for f in found), found
    assert any("ledger sums to 5" in f for f in found), found
    with db.write(engine) as conn:
        conn.execute(
            lot_balances.update()
            .where(lot_balances.c.tenant_id == tenant, lot_balances.c.item_id == item_id)
            .values(on_hand=5)
        )


def test_check_finds_an_expired_lot_counted_as_available(kitchen, engine, tenant, monkeypatch):
    receive(kitchen, "OLD", 5, -1)
    receive(kitchen, "NEW", 2, 4)
    with db.read(engine) as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []
    # An availability read that forgot expiry would count OLD; the check notices.
    from onhand.stock import lots as lot_module

    monkeypatch.setattr(lot_module, "unsellable", lambda rows, sell_by: {})
    with db.read(engine) as conn:
        found = [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]
    assert any("available is 7, its sellable lots hold 2" in f for f in found), found
    monkeypatch.undo()


def test_stock_changed_leaves_out_lots_that_may_not_be_sold(kitchen, engine, tenant):
    from onhand.tables import outbox

    receive(kitchen, "OLD", 5, -1)
    receive(kitchen, "NEW", 2, 4)
    with db.read(engine) as conn:
        last = conn.execute(
            sa.select(outbox.c.payload)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "stock.changed")
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar_one()
    assert (last["available"], last["location_available"], last["on_hand"]) == (2, 2, 7)
    assert kitchen.get("/availability/MILK").json()["available"] == 2
