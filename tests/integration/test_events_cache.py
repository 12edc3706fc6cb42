"""The Redis availability cache: write-through, reconciliation, outages (real Redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis as redis_lib
import sqlalchemy as sa
from eventkit import TcpProxy, eventually, free_port, metric, move, stock_tenant

from conftest import make_token
from onhand import db
from onhand.cache.figures import decode, encode
from onhand.cache.tables import cache_repairs

pytestmark = pytest.mark.redis
# Every Redis key of an installation starts with onhand:<installation id>: (installation.py).
INSTALLATION = "cachetest"
READY = f"onhand:{INSTALLATION}:avail:ready"


def key(tenant: str, sku: str) -> str:
    return f"onhand:{INSTALLATION}:avail:{tenant}:{sku}"


@pytest.fixture
def redis(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


def cached(redis, tenant: str, sku: str) -> dict | None:
    raw = redis.get(key(tenant, sku))
    return None if raw is None else json.loads(raw)["doc"]


def repairs(engine, tenant: str) -> list:
    with db.read(engine) as conn:
        return conn.execute(
            sa.select(cache_repairs)
            .where(cache_repairs.c.tenant_id == tenant)
            .order_by(cache_repairs.c.id)
        ).all()


def test_reads_come_from_redis_and_drift_is_repaired_within_one_interval(
    server, engine, tenant, redis, redis_url
):
    srv = server(redis_url=redis_url, installation_id=INSTALLATION, reconcile_interval_seconds=1.0)
    shop = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"A": 10, "B": 4})
    move(shop, "ship", "A", 3)
    eventually(lambda: (c := cached(redis, tenant, "A")) and c["available"] == 7)
    assert shop.get("/availability/A").json()["available"] == 7
    eventually(lambda: redis.exists(READY))

    def scrape(kind: str) -> float:
        text = shop.get(f"{srv.url}/metrics").text
        return metric(text, "onhand_cache_repairs_total", absent=0.0, kind=kind)

    before = {k: scrape(k) for k in ("changed", "missing")}
    entry = json.loads(redis.get(key(tenant, "A")))
    entry["doc"]["available"] = 999  # drift
    redis.set(key(tenant, "A"), json.dumps(entry))
    redis.delete(key(tenant, "B"))  # a lost key
    assert shop.get("/availability/A").json()["available"] == 999  # proof that Redis answers

    eventually(lambda: (cached(redis, tenant, "A") or {}).get("available") == 7, timeout=3)
    eventually(lambda: (cached(redis, tenant, "B") or {}).get("available") == 4, timeout=3)
    assert shop.get("/availability/A").json()["available"] == 7
    found = {
        (r.sku, r.kind): r
        for r in eventually(lambda: len(repairs(engine, tenant)) >= 2 and repairs(engine, tenant))
    }
    assert found[("A", "changed")].was["available"] == 999
    assert found[("A", "changed")].now["available"] == 7
    assert found[("B", "missing")].was is None and found[("B", "missing")].now["available"] == 4
    after = {k: scrape(k) for k in ("changed", "missing")}
    assert after == {"changed": before["changed"] + 1, "missing": before["missing"] + 1}


def test_with_redis_unreachable_holds_movements_and_reads_still_work(server, engine, tenant):
    # Nothing listens there.
    srv = server(redis_url=f"redis://127.0.0.1:{free_port()}/0", installation_id=INSTALLATION)
    shop = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"A": 5})
    hold = shop.post("/reservations", json={"lines": [{"sku": "A", "qty": 2}]})
    assert hold.status_code == 201, hold.text
    move(shop, "ship", "A", 1)
    doc = shop.get("/availability/A").json()
    assert doc["available"] == 2 and doc["reserved"] == 2 and doc["on_hand"] == 4
    assert shop.post(f"/reservations/{hold.json()['id']}/release").status_code == 200
    assert shop.get("/availability/A").json()["available"] == 4


def test_after_an_outage_the_cache_is_rebuilt_and_never_serves_old_figures(
    server, engine, tenant, redis, redis_url
):
    proxy = TcpProxy(redis_lib.Redis.from_url(redis_url).connection_pool.connection_kwargs["port"])
    proxy.start()
    db_index = redis_lib.Redis.from_url(redis_url).connection_pool.connection_kwargs.get("db", 0)
    srv = server(
        redis_url=f"redis://127.0.0.1:{proxy.port}/{db_index}",
        reconcile_interval_seconds=60.0,
        installation_id=INSTALLATION,
    )
    try:
        shop = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"A": 10})
        eventually(lambda: (cached(redis, tenant, "A") or {}).get("available") == 10)
        proxy.stop()  # outage: the app can no longer reach Redis
        move(shop, "ship", "A", 4)
        assert shop.get("/availability/A").json()["available"] == 6  # from the database
        assert cached(redis, tenant, "A")["available"] == 10  # what Redis still holds
        proxy.start()  # Redis is back with stale figures
        for _ in range(20):  # never the stale 10, before, during or after the rebuild
            assert shop.get("/availability/A").json()["available"] == 6
        eventually(lambda: (cached(redis, tenant, "A") or {}).get("available") == 6, timeout=10)
        eventually(lambda: redis.exists(READY), timeout=10)
    finally:
        proxy.stop()


def test_a_lapsed_hold_makes_the_cached_entry_a_miss():
    now = db.utcnow()
    raw = encode({"available": 3}, now + timedelta(seconds=1))
    assert decode(raw, now) == {"available": 3}
    assert decode(raw, now + timedelta(seconds=1)) is None
    assert decode(encode({"available": 3}, None), now + timedelta(days=9)) == {"available": 3}


def reconcile_cli(engine, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ONHAND_REDIS_URL": redis_url,
        "ONHAND_INSTALLATION_ID": INSTALLATION,
    }
    done = subprocess.run(
        [sys.executable, "-m", "onhand.cli", "reconcile", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_reconcile_command_finds_and_repairs_planted_drift(api, engine, tenant, redis, redis_url):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    for sku, qty in {"A": 10, "B": 4, "C": 6}.items():
        assert api.post("/items", json={"sku": sku, "name": sku, "kind": "physical"}).status_code
        receipt = {"type": "receipt", "sku": sku, "location": "WH1", "qty": qty}
        assert api.post("/movements", json=receipt).status_code == 201
    truth = {sku: api.get(f"/availability/{sku}").json() for sku in "ABC"}  # no Redis in `api`
    redis.set(key(tenant, "A"), encode({**truth["A"], "available": 999}, None))  # drifted
    redis.delete(key(tenant, "B"))  # lost
    redis.set(key(tenant, "C"), encode(truth["C"], None))  # right

    report = json.loads(reconcile_cli(engine, redis_url, "--json").stdout.strip().splitlines()[-1])
    assert report["tenants"] >= 1 and report["checked"] >= 3 and report["repaired"] >= 2
    assert cached(redis, tenant, "A") == truth["A"]
    assert cached(redis, tenant, "B") == truth["B"]
    assert cached(redis, tenant, "C") == truth["C"]
    mine = [r for r in repairs(engine, tenant) if r.run_id == report["run_id"]]
    assert sorted((r.sku, r.kind) for r in mine) == [("A", "changed"), ("B", "missing")]
    found = {r.sku: r for r in mine}
    assert found["A"].was["available"] == 999 and found["A"].now == truth["A"]
    assert found["B"].was is None and found["B"].now == truth["B"]

    # Repaired means repaired: the next pass finds nothing more for this tenant.
    again = json.loads(reconcile_cli(engine, redis_url, "--json").stdout.strip().splitlines()[-1])
    assert [r for r in repairs(engine, tenant) if r.run_id == again["run_id"]] == []
    table = reconcile_cli(engine, redis_url).stdout
    assert "items checked" in table


def test_bulk_figures_equal_what_the_route_computes(api, engine, tenant):
    """The reconciler's set-based figures must be exactly the availability route's."""
    from onhand.cache.bulk import bulk_entries
    from onhand.cache.figures import entry_for
    from onhand.catalog import service as catalog
    from onhand.tables import items

    for code, priority in (("WH1", 1), ("WH2", 2)):
        assert (
            api.post(
                "/locations", json={"code": code, "name": code, "zone": "z", "priority": priority}
            ).status_code
            == 201
        )
    for body in (
        {"sku": "P", "name": "P"},
        {"sku": "L", "name": "L", "kind": "licensed"},
        {"sku": "D", "name": "D", "kind": "digital"},
        {"sku": "E", "name": "E"},
        {
            "sku": "K",
            "name": "K",
            "kind": "bundle",
            "components": [{"sku": "P", "qty": 2}, {"sku": "L", "qty": 1}],
        },
    ):
        assert api.post("/items", json=body).status_code == 201, body
    for type_, sku, loc, qty in (
        ("receipt", "P", "WH1", 10),
        ("receipt", "P", "WH2", 6),
        ("damage", "P", "WH2", 1),
        ("receipt", "L", "WH1", 3),
    ):
        assert (
            api.post(
                "/movements", json={"type": type_, "sku": sku, "location": loc, "qty": qty}
            ).status_code
            == 201
        )
    lapsing = api.post("/reservations", json={"lines": [{"sku": "P", "qty": 2}], "ttl_seconds": 1})
    held = api.post("/reservations", json={"lines": [{"sku": "P", "qty": 3}], "ttl_seconds": 600})
    assert lapsing.status_code == 201 and held.status_code == 201
    eventually(
        lambda: db.utcnow().isoformat() > lapsing.json()["expires_at"].replace("Z", "+00:00"),
        timeout=3,
    )
    now = db.utcnow()
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(items.c.id, items.c.sku, items.c.kind)
            .where(items.c.tenant_id == tenant)
            .order_by(items.c.id)
        ).all()
        bulk = bulk_entries(conn, tenant, rows, now)
        one_by_one = {
            r.sku: entry_for(conn, tenant, catalog.item(conn, tenant, r.sku), now) for r in rows
        }
    assert bulk == one_by_one  # the same strings, not just the same values
    parsed = {sku: json.loads(v) for sku, v in bulk.items()}
    assert parsed["P"]["doc"]["available"] == 10 + 6 - 1 - 3  # the lapsed hold counts as free
    assert parsed["P"]["valid_until"] is not None and parsed["E"]["doc"]["locations"] == []
    assert (
        parsed["D"]["doc"]["available"] is None and parsed["K"]["doc"]["available"] == 3
    )  # min(12 // 2, 3 // 1)


def test_a_location_patch_shows_in_the_cached_figures_at_once(
    server, engine, tenant, redis, redis_url
):
    # Reconciliation is an hour away: only the location's own event can refresh the entries.
    srv = server(
        redis_url=redis_url, installation_id=INSTALLATION, reconcile_interval_seconds=3600.0
    )
    shop = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"A": 10, "B": 4})
    r = shop.post("/locations", json={"code": "WH2", "name": "Second", "priority": 20})
    assert r.status_code == 201, r.text
    r = shop.post("/movements", json={"type": "receipt", "sku": "A", "location": "WH2", "qty": 3})
    assert r.status_code == 201, r.text

    def where(sku: str) -> list[tuple[str, str | None, int]]:
        doc = cached(redis, tenant, sku) or {}
        return [(x["location"], x["zone"], x["priority"]) for x in doc.get("locations", [])]

    eventually(lambda: redis.exists(READY))
    eventually(lambda: where("A") == [("WH2", None, 20), ("WH1", None, 100)])
    eventually(lambda: where("B") == [("WH1", None, 100)])

    changed = shop.patch("/locations/WH1", json={"zone": "east", "priority": 5})
    assert changed.status_code == 200, changed.text
    started = time.monotonic()
    eventually(lambda: where("A") == [("WH1", "east", 5), ("WH2", None, 20)], timeout=2)
    eventually(lambda: where("B") == [("WH1", "east", 5)], timeout=2)
    took = time.monotonic() - started
    # The route answers from Redis, and it answers with the new zone and order.
    doc = shop.get("/availability/A").json()
    assert [(x["location"], x["zone"]) for x in doc["locations"]] == [
        ("WH1", "east"),
        ("WH2", None),
    ]
    print(f"the cache showed the location change {took:.3f} s after the PATCH answered")
