"""Live push: a stock change of a mapped item reaches the store within seconds, coalesced
per item; bundles push their kits, digital items are skipped; allocation holds units back."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import time

from channelkit import (  # noqa: F401  (fixtures)
    SECRET_KEY,
    SHOP_LOC,
    add_channel,
    fake,
    inbox,
    shop,
    stocked,
    sync_one,
    unique,
)
from eventkit import eventually, move, stock_tenant

from conftest import make_token


def test_a_stock_change_reaches_the_store_within_seconds_coalesced(server, engine, tenant, fake):
    srv = server(
        allow_private_networks="127.0.0.0/8", secret_key=SECRET_KEY, channel_push_seconds=0.5
    )
    client = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"BEANS-1": 5})
    for body in (
        {
            "sku": "PACK:DUO",
            "name": "Duo",
            "kind": "bundle",
            "components": [{"sku": "BEANS-1", "qty": 2}],
        },
        {"sku": "EBOOK", "name": "Brewing guide", "kind": "digital"},
    ):
        assert client.post("/items", json=body).status_code == 201
    store = fake.add_store(unique("live"))
    gids = {s: store.add_variant(s, {SHOP_LOC: 0}) for s in ("BEANS-1", "PACK:DUO", "EBOOK")}
    r = client.post(
        "/channels",
        json={
            "code": "occ",
            "role": "store",
            "shop": f"{store.name}.myshopify.com",
            "access_token": store.token,
            "api_url": fake.url(store.name),
            "locations": [{"location": "WH1", "channel_location": SHOP_LOC}],
        },
    )
    assert r.status_code == 201, r.text
    assert len(client.post("/channels/occ/mappings/match").json()["matched"]) == 3

    def at(sku: str) -> int | None:
        return store.available(gids[sku]["inventory_item"], SHOP_LOC)

    move(client, "receipt", "BEANS-1", 3)  # 8 on hand: the bundle makes 4 kits
    eventually(lambda: at("BEANS-1") == 8 and at("PACK:DUO") == 4, timeout=10)
    assert at("EBOOK") == 0  # digital: unlimited, never pushed
    writes = len(store.writes)
    for _ in range(60):  # a burst of changes to one item
        move(client, "receipt", "BEANS-1", 1)
    eventually(lambda: at("BEANS-1") == 68 and at("PACK:DUO") == 34, timeout=10)
    burst_writes = len(store.writes) - writes
    assert 1 <= burst_writes <= 20, burst_writes  # coalesced: far fewer writes than changes

    # Each push that wrote is a run (trigger webhook) with its items.
    def live_runs() -> list[dict]:
        doc = client.get("/sync-runs", params={"channel": "occ", "limit": 100}).json()
        return [r for r in doc["runs"] if r["trigger"] == "webhook"]

    eventually(lambda: all(r["status"] != "running" for r in live_runs()), timeout=10)
    pushes = live_runs()
    assert len(pushes) >= 2 and all(r["status"] == "succeeded" for r in pushes), pushes
    assert sum(r["items_ok"] for r in pushes) >= 2
    items = client.get(f"/sync-runs/{pushes[0]['id']}").json()["items"]
    assert {i["sku"] for i in items if i["status"] == "ok"} <= {"BEANS-1", "PACK:DUO"}
    # A push that changes nothing at the store (stock at a location it is not offered from)
    # leaves no run behind.
    assert client.post("/locations", json={"code": "WH9", "name": "Back"}).status_code == 201
    r = client.post(
        "/movements", json={"type": "receipt", "sku": "BEANS-1", "location": "WH9", "qty": 5}
    )
    assert r.status_code == 201, r.text
    time.sleep(2)  # four push rounds
    eventually(lambda: all(r["status"] != "running" for r in live_runs()), timeout=10)
    assert len(live_runs()) == len(pushes)
    assert at("BEANS-1") == 68


def test_allocation_holds_back_a_buffer_or_offers_a_share(shop, fake):
    one, two = fake.add_store(unique("one")), fake.add_store(unique("two"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 10}})
    a = one.add_variant("BEANS-1", {SHOP_LOC: 0})
    b = two.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(shop, fake, one, "one", "store", [("WH1", SHOP_LOC)])
    add_channel(shop, fake, two, "two", "store", [("WH1", SHOP_LOC)])
    r = shop.post(
        "/channels/one/mappings",
        json={"mappings": [{"sku": "BEANS-1", "variant": a["variant"], "share": 60}]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["mappings"][0]["inventory_item"] == a["inventory_item"]  # looked up
    shop.post(
        "/channels/two/mappings",
        json={"mappings": [{"sku": "BEANS-1", "variant": b["variant"], "share": 40}]},
    )
    run_one, run_two = sync_one(shop, "one"), sync_one(shop, "two")
    assert one.available(a["inventory_item"], SHOP_LOC) == 6
    assert two.available(b["inventory_item"], SHOP_LOC) == 4  # never more than onhand has
    item = shop.get(f"/sync-runs/{run_one['id']}").json()["items"][0]
    assert item["offer"] == {"available": 10, "share": 60}
    assert run_two["status"] == "succeeded"
    shop.post(
        "/channels/two/mappings",
        json={"mappings": [{"sku": "BEANS-1", "variant": b["variant"], "buffer": 7}]},
    )
    sync_one(shop, "two")
    assert two.available(b["inventory_item"], SHOP_LOC) == 3
    bad = shop.post(
        "/channels/two/mappings",
        json={"mappings": [{"sku": "BEANS-1", "variant": b["variant"], "buffer": 1, "share": 10}]},
    )
    assert bad.status_code == 422
