"""Two `onhand serve` processes on one database never run the same channel's sync twice."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import threading

import httpx
import sqlalchemy as sa
from channelkit import (
    SECRET_KEY,
    SHOP_LOC,
    fake,  # noqa: F401  (fixture)
    unique,
)

from conftest import LiveServer, make_token
from onhand import auth, db, schema
from onhand.channels.tables import sync_runs


def test_two_server_processes_start_one_run(engine, tenant, fake, tmp_path):
    if engine.dialect.name == "sqlite":
        # Two server processes with their jobs and this process on one SQLite file: a file of
        # its own, so the suite's shared SQLite database never has three writers at once.
        engine = db.make_engine(f"sqlite:///{tmp_path / 'two-servers.db'}")
        schema.upgrade(engine)
        with db.write(engine) as conn:
            auth.ensure_tenant(conn, tenant)
    url = engine.url.render_as_string(hide_password=False)
    env = {"ONHAND_SECRET_KEY": SECRET_KEY, "ONHAND_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8"}
    servers = [LiveServer(url, env), LiveServer(url, env)]
    try:
        headers = {"Authorization": f"Bearer {make_token(engine, tenant, 'admin')}"}
        base = [f"{s.url}/v1/{tenant}" for s in servers]
        store = fake.add_store(unique("occ"))
        skus = [f"B-{n}" for n in range(40)]
        with httpx.Client(headers=headers, timeout=30) as c:
            c.post(f"{base[0]}/locations", json={"code": "WH1", "name": "Main"}).raise_for_status()
            for sku in skus:
                c.post(f"{base[0]}/items", json={"sku": sku, "name": sku, "kind": "physical"})
                store.add_variant(sku, {SHOP_LOC: 1})
            c.post(
                f"{base[0]}/channels",
                json={
                    "code": "occ",
                    "role": "store",
                    "shop": f"{store.name}.myshopify.com",
                    "access_token": store.token,
                    "api_url": fake.url(store.name),
                    "locations": [{"location": "WH1", "channel_location": SHOP_LOC}],
                },
            ).raise_for_status()
            c.post(f"{base[0]}/channels/occ/mappings/match").raise_for_status()
            answers: list[dict] = []
            barrier = threading.Barrier(4)

            def ask(b: str) -> None:
                barrier.wait()
                r = httpx.post(f"{b}/channels/occ/sync", headers=headers, timeout=30)
                assert r.status_code == 202, r.text
                answers.append(r.json())

            threads = [threading.Thread(target=ask, args=(b,)) for b in base * 2]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len({a["id"] for a in answers}) == 1, answers  # one run, four answers
            run_id = answers[0]["id"]
            for _ in range(600):
                run = c.get(f"{base[1]}/sync-runs/{run_id}").json()
                if run["status"] != "running":
                    break
                threading.Event().wait(0.05)
            assert run["status"] == "succeeded" and run["items_ok"] == 40, run
            metrics = "".join(httpx.get(f"{s.url}/metrics").text for s in servers)
            assert (
                f'onhand_channel_sync_runs_total{{channel="occ",status="succeeded",'
                f'tenant="{tenant}"}} 1.0' in metrics
            )
            for s in servers:  # both report the sync's age, though one process ran it
                ages = [
                    float(line.rsplit(" ", 1)[1])
                    for line in httpx.get(f"{s.url}/metrics").text.splitlines()
                    if line.startswith("onhand_channel_seconds_since_good_sync{")
                    and f'tenant="{tenant}"' in line
                ]
                assert len(ages) == 1 and 0 <= ages[0] < 60, ages
        assert len(store.writes) == 1  # the 40 quantities were written once, by one process
        with db.read(engine) as conn:
            count = conn.execute(
                sa.select(sa.func.count()).where(sync_runs.c.tenant_id == tenant)
            ).scalar()
        assert count == 1
    finally:
        for s in servers:
            s.stop()
