"""The console's aggregates: returns and cover tiles, history balances, holds, alert seeding."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from onhand import db
from onhand.events import alerts
from onhand.events.alerts import Level, crossings
from onhand.events.tables import item_alert_state
from onhand.tables import items, ledger, outbox
from onhand.web.reports import tiles


def _setup(api, skus=("A", "B"), cost="2.50"):
    assert api.post("/locations", json={"code": "WH", "name": "Warehouse"}).status_code == 201
    for code in ("BIN1", "BIN2"):
        r = api.post("/locations", json={"code": code, "name": code, "parent": "WH"})
        assert r.status_code == 201, r.text
    for sku in skus:
        r = api.post(
            "/items",
            json={"sku": sku, "name": sku, "unit_cost": cost, "low_stock_threshold": 10},
        )
        assert r.status_code == 201, r.text


def _move(api, **body):
    r = api.post("/movements", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _backdate(engine, tenant, movement_id, days):
    # Test setup only: age a movement's ledger rows so that they fall in an earlier window.
    with db.write(engine) as conn:
        conn.execute(
            ledger.update()
            .where(ledger.c.tenant_id == tenant, ledger.c.movement_id == movement_id)
            .values(created_at=db.utcnow() - timedelta(days=days))
        )


def _expected_returns(engine, tenant):
    """The tile's figures from the ledger, computed a second, plainer way."""
    now = db.utcnow()
    out = {
        p: {r: [0, Decimal(0)] for r in ("resaleable", "damaged", "quality_control")}
        for p in ("current", "previous")
    }
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(ledger, items.c.unit_cost.label("item_cost"))
            .join(items, items.c.id == ledger.c.item_id)
            .where(ledger.c.tenant_id == tenant, ledger.c.reason == "return")
        ).all()
    for r in rows:
        if r.state != "on_hand":
            continue
        age = now - r.created_at
        if age > timedelta(days=60):
            continue
        period = "current" if age <= timedelta(days=30) else "previous"
        twins = {x.state for x in rows if x.movement_id == r.movement_id} - {"on_hand"}
        reason = twins.pop() if twins else "resaleable"
        cost = r.unit_cost if r.unit_cost is not None else r.item_cost or 0
        out[period][reason][0] += r.delta
        out[period][reason][1] += Decimal(r.delta) * Decimal(cost)
    return out


def test_the_returns_tile_matches_the_ledger(api, engine, tenant):
    _setup(api)
    _move(api, type="receipt", sku="A", location="BIN1", qty=50, unit_cost="3.00")
    _move(api, type="receipt", sku="B", location="BIN2", qty=50)
    _move(api, type="return", sku="A", location="BIN1", qty=2)
    _move(api, type="return", sku="B", location="BIN2", qty=3, to_state="damaged")
    old = _move(api, type="return", sku="A", location="BIN1", qty=4)
    older = _move(api, type="return", sku="B", location="BIN2", qty=5, to_state="quality_control")
    ancient = _move(api, type="return", sku="B", location="BIN2", qty=7)
    _backdate(engine, tenant, old["id"], 40)
    _backdate(engine, tenant, older["id"], 55)
    _backdate(engine, tenant, ancient["id"], 90)  # outside both windows

    r = api.get("/console/tiles/returns")
    assert r.status_code == 200, r.text
    tile = r.json()
    expected = _expected_returns(engine, tenant)
    for period in ("current", "previous"):
        for reason, (units, value) in expected[period].items():
            got = tile[period]["by_reason"][reason]
            assert got["units"] == units, (period, reason)
            assert Decimal(got["value"]) == value.quantize(Decimal("0.01")), (period, reason)
        assert tile[period]["units"] == sum(u for u, _ in expected[period].values())
    # And the figures themselves, so a shared mistake in both computations shows too.
    assert tile["current"]["units"] == 5 and tile["previous"]["units"] == 9
    assert tile["current"]["by_reason"]["damaged"] == {"units": 3, "value": "7.50"}
    assert tile["previous"]["by_reason"]["quality_control"]["units"] == 5


def test_tiles_are_materialised_on_postgres_and_refreshed(api, engine, tenant):
    _setup(api)
    _move(api, type="receipt", sku="A", location="BIN1", qty=50)
    _move(api, type="return", sku="A", location="BIN1", qty=2)
    assert api.get("/console/tiles/returns").json()["current"]["units"] == 2
    _move(api, type="return", sku="A", location="BIN1", qty=3)
    stale = api.get("/console/tiles/returns").json()["current"]["units"]
    if db.is_sqlite(engine):
        assert stale == 5  # computed on the fly
        return
    assert stale == 2  # the stored tile until the job refreshes it
    assert tiles.refresh(engine) >= 2
    assert api.get("/console/tiles/returns").json()["current"]["units"] == 5


def test_cover_is_red_when_stock_runs_out_inside_the_lead_time(api, engine, tenant):
    _setup(api)
    _move(api, type="receipt", sku="A", location="BIN1", qty=100)
    _move(api, type="receipt", sku="B", location="BIN2", qty=100)
    _move(api, type="ship", sku="A", location="BIN1", qty=95)  # 95 sold in 28 days, 5 left
    _move(api, type="ship", sku="B", location="BIN2", qty=14)  # 0.5 a day, 86 left
    cover = api.get("/console/tiles/cover").json()
    cells = {row["sku"]: row["cells"] for row in cover["items"]}
    a, b = cells["A"]["BIN1"], cells["B"]["BIN2"]
    assert a["available"] == 5 and a["daily_demand"] == round(95 / 28, 2)
    assert a["days"] == round(5 / (95 / 28), 1) and a["level"] == "bad"  # default lead time 14 d
    assert b["days"] == round(86 / 0.5, 1) and b["level"] == "ok"
    assert cover["locations"] == ["BIN1", "BIN2"]


def test_history_pages_carry_the_running_balance(api, engine, tenant):
    _setup(api)
    qtys = [10, -3, 7, -4, 6, -2, 5]
    for q in qtys:
        kind = "receipt" if q > 0 else "ship"
        _move(api, type=kind, sku="A", location="BIN1", qty=abs(q))
        _move(api, type="receipt", sku="B", location="BIN1", qty=1)  # another item between
    seen = []
    before = None
    while True:
        page = api.get(
            "/console/history",
            params={"sku": "A", "limit": 3, **({"before": before} if before else {})},
        ).json()
        seen.extend(page["entries"])
        before = page["next_before"]
        if before is None:
            break
    assert [e["delta"] for e in reversed(seen)] == qtys
    running = 0
    for e, q in zip(reversed(seen), qtys, strict=True):
        running += q
        assert e["balance"] == running
    # A filter that hides rows does not change the balance the shown rows carry.
    ships = api.get("/console/history", params={"sku": "A", "reason": "ship"}).json()["entries"]
    assert [e["balance"] for e in ships] == [14, 10, 7]  # after -2, after -4, after -3
    csv = api.get("/console/history.csv", params={"sku": "A"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 1 + len(qtys)
    bad = api.get("/console/history", params={"since": "2026-02-01", "until": "2026-01-01"})
    assert bad.status_code == 422 or bad.status_code == 400


def test_active_holds_show_time_left_and_filter_by_sku(api, engine, tenant):
    _setup(api)
    _move(api, type="receipt", sku="A", location="BIN1", qty=10)
    _move(api, type="receipt", sku="B", location="BIN1", qty=10)
    a = api.post("/reservations", json={"lines": [{"sku": "A", "qty": 2}], "ttl_seconds": 600})
    b = api.post("/reservations", json={"lines": [{"sku": "B", "qty": 1}], "ttl_seconds": 300})
    assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
    holds = api.get("/console/holds").json()["holds"]
    assert [h["id"] for h in holds] == [b.json()["id"], a.json()["id"]]  # soonest first
    assert 0 < holds[0]["seconds_left"] <= 300 and holds[1]["units"] == 2
    only_a = api.get("/console/holds", params={"sku": "A"}).json()["holds"]
    assert [h["id"] for h in only_a] == [a.json()["id"]]
    api.post(f"/reservations/{a.json()['id']}/release")
    assert api.get("/console/holds", params={"sku": "A"}).json()["holds"] == []


def test_a_receipt_never_makes_an_item_low():
    assert crossings(Level(), Level(low=True), rose=True) == []
    assert crossings(Level(), Level(low=True)) == [
        ("stock.low", {"crossed": ["low_stock_threshold"]})
    ]


def test_alert_levels_are_seeded_for_every_item_and_a_receipt_stays_quiet(api, engine, tenant):
    _setup(api)
    _move(api, type="receipt", sku="A", location="BIN1", qty=4)  # low (threshold 10)
    with db.write(engine) as conn:
        assert alerts.seed(conn, db.utcnow(), tenant) == 2
        assert alerts.seed(conn, db.utcnow(), tenant) == 0  # once
        state = {
            r.sku: (r.available, r.out, r.low)
            for r in conn.execute(
                sa.select(item_alert_state).where(item_alert_state.c.tenant_id == tenant)
            )
        }
    assert state == {"A": (4, False, True), "B": (0, True, False)}
    with db.write(engine) as conn:
        # B gets 6 (still under its threshold): back in stock, never "low"; A gets 2 more.
        alerts.evaluate(conn, [(tenant, "B", 6, 10**9), (tenant, "A", 6, 10**9 + 1)], db.utcnow())
        kinds = [
            (r.type, r.sku)
            for r in conn.execute(
                sa.select(outbox.c.type, outbox.c.sku).where(
                    outbox.c.tenant_id == tenant,
                    outbox.c.type.like("stock.%"),
                    outbox.c.type != "stock.changed",
                )
            )
        ]
    assert kinds == [("stock.back_in", "B")]
    # A sale that takes an item under its threshold is announced.
    with db.write(engine) as conn:
        alerts.evaluate(conn, [(tenant, "B", 20, 10**9 + 2)], db.utcnow())
        alerts.evaluate(conn, [(tenant, "B", 8, 10**9 + 3)], db.utcnow())
        low = conn.execute(
            sa.select(sa.func.count())
            .select_from(outbox)
            .where(outbox.c.tenant_id == tenant, outbox.c.type == "stock.low")
        ).scalar()
    assert low == 1
