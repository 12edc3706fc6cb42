"""Racing holds on lots through a real `onhand serve`, on SQLite and PostgreSQL: a lot never
gives more than it holds, however many buyers race for it, and an expired lot gives nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date, timedelta

import httpx
import sqlalchemy as sa

from conftest import make_token
from onhand import check, db
from onhand.tables import lot_balances, lots

RACE_SECONDS = 180


def race(url: str, tenant: str, token: str, bodies: list[dict], workers: int = 48) -> Counter:
    """POST every hold at once from `workers` threads; count granted, refused and anything else."""
    local = threading.local()
    start = threading.Event()
    clients: list[httpx.Client] = []
    guard = threading.Lock()

    def one(body: dict) -> str:
        start.wait(30)
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
            with guard:
                clients.append(local.client)
        try:
            r = local.client.post(f"{url}/v1/{tenant}/reservations", json=body)
        except httpx.HTTPError as exc:
            return repr(exc)
        if r.status_code == 201:
            return "granted"
        if r.status_code == 409 and r.json()["type"].endswith("/insufficient-stock"):
            return "refused"
        return f"{r.status_code}: {r.text[:200]}"

    pool = ThreadPoolExecutor(workers)
    try:
        futures = [pool.submit(one, b) for b in bodies]
        start.set()
        _, pending = wait(futures, timeout=RACE_SECONDS)
        assert not pending, "every request finishes"
        return Counter(f.result() for f in futures)
    finally:
        start.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for c in clients:
            c.close()


def held_per_lot(engine, tenant: str) -> dict[str, int]:
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(lots.c.code, sa.func.sum(lot_balances.c.reserved))
            .join(lots, lots.c.id == lot_balances.c.lot_id)
            .where(lot_balances.c.tenant_id == tenant)
            .group_by(lots.c.code)
        )
        return {code: int(n) for code, n in rows}


def findings(engine, tenant: str) -> list[str]:
    with db.read(engine) as conn:
        return [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]


def stock_milk(api) -> None:
    assert api.post("/locations", json={"code": "WH1", "name": "Shop"}).status_code == 201
    r = api.post("/items", json={"sku": "MILK", "name": "Milk", "tracking": "lot"})
    assert r.status_code == 201
    today = date.today()
    for code, qty, days in (("SHORT", 10, 1), ("LONG", 20, 8), ("GONE", 50, -1)):
        r = api.post(
            "/movements",
            json={
                "type": "receipt",
                "sku": "MILK",
                "location": "WH1",
                "qty": qty,
                "lot": {"code": code, "expires_on": (today + timedelta(days=days)).isoformat()},
            },
        )
        assert r.status_code == 201, r.text


def test_racing_holds_on_a_named_short_lot_get_exactly_what_it_holds(
    api, engine, tenant, live_server
):
    stock_milk(api)
    token = make_token(engine, tenant, "storefront")
    bodies = [{"lines": [{"sku": "MILK", "qty": 1, "lot": "SHORT"}]} for _ in range(120)]
    counts = race(live_server.url, tenant, token, bodies)
    assert counts == Counter(granted=10, refused=110), counts
    assert held_per_lot(engine, tenant) == {"SHORT": 10, "LONG": 0, "GONE": 0}
    assert findings(engine, tenant) == []


def test_racing_fefo_holds_drain_the_short_lot_first_and_never_touch_the_expired_one(
    api, engine, tenant, live_server
):
    stock_milk(api)
    token = make_token(engine, tenant, "storefront")
    bodies = [{"lines": [{"sku": "MILK", "qty": q}]} for q in (1, 2) * 40]
    counts = race(live_server.url, tenant, token, bodies)
    held = held_per_lot(engine, tenant)
    assert held["GONE"] == 0, "an expired lot is never held"
    assert held["SHORT"] == 10 and held["LONG"] <= 20, held
    assert set(counts) <= {"granted", "refused"}, counts
    assert held["SHORT"] + held["LONG"] >= 29, "refused only once fewer than 2 were left"
    assert findings(engine, tenant) == []
