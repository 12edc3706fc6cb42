"""Channel syncs against the fake Shopify: partner → onhand → store, throttling, stale
figures, items Shopify refuses, missed orders, and the per-channel run lock."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from channelkit import (  # noqa: F401  (fixtures)
    PARTNER_LOC,
    SHOP_LOC,
    add_channel,
    fake,
    inbox,
    on_hand,
    shop,
    stocked,
    sync_all,
    sync_one,
    unique,
)

from onhand import db
from onhand.channels import runs
from onhand.channels.tables import channels


def _partner_and_store(shop, fake, partner_stock: dict[str, int]):
    partner = fake.add_store(unique("roaster"))
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1", "ROAST"], {"BEANS-1": {"WH1": 5}, "BEANS-2": {}})
    gids = {}
    for sku, qty in partner_stock.items():
        partner.add_variant(sku, {PARTNER_LOC: qty})
        gids[sku] = store.add_variant(sku, {SHOP_LOC: 0})
    add_channel(shop, fake, partner, "roaster", "partner", [("ROAST", PARTNER_LOC)])
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC), ("ROAST", SHOP_LOC)])
    for code in ("roaster", "occ"):
        r = shop.post(f"/channels/{code}/mappings/match")
        assert r.status_code == 200, r.text
        assert sorted(m["sku"] for m in r.json()["matched"]) == ["BEANS-1", "BEANS-2"]
    return partner, store, gids


def test_partner_stock_reaches_onhand_and_the_store(shop, fake):
    partner, store, gids = _partner_and_store(shop, fake, {"BEANS-1": 7, "BEANS-2": 3})
    first = sync_all(shop)
    assert [r["channel"] for r in first] == ["roaster", "occ"]  # partners first
    assert all(r["status"] == "succeeded" for r in first), first
    # The partner wins: its figure is the partner location's on_hand, through the ledger.
    assert on_hand(shop, "BEANS-1", "ROAST") == 7 and on_hand(shop, "BEANS-2", "ROAST") == 3
    entries = shop.get("/ledger", params={"sku": "BEANS-1", "location": "ROAST"}).json()
    assert [(e["reason"], e["delta"]) for e in entries["entries"]] == [("channel_sync", 7)]
    # The store gets the sum over the onhand locations mapped to its location.
    assert store.available(gids["BEANS-1"]["inventory_item"], SHOP_LOC) == 12
    assert store.available(gids["BEANS-2"]["inventory_item"], SHOP_LOC) == 3
    pushed = shop.get(f"/sync-runs/{first[1]['id']}").json()
    assert {(i["sku"], i["before"], i["after"], i["status"]) for i in pushed["items"]} == {
        ("BEANS-1", 0, 12, "ok"),
        ("BEANS-2", 0, 3, "ok"),
    }
    listed = shop.get("/channels").json()["channels"]
    assert {c["code"]: c["status"] for c in listed} == {"occ": "healthy", "roaster": "healthy"}
    assert listed[0]["last_sync"]["id"] == first[1]["id"]

    writes = len(store.writes) + len(partner.writes)
    again = sync_all(shop)
    assert all(r["status"] == "succeeded" and r["items_unchanged"] == 2 for r in again), again
    assert len(store.writes) + len(partner.writes) == writes  # nothing changed: no writes

    # The partner sells 2 in its own shop: the next sync brings ROAST and the store down.
    partner.items[next(iter(partner.items))].levels[PARTNER_LOC].available = 5
    sync_all(shop)
    assert on_hand(shop, "BEANS-1", "ROAST") == 5
    assert store.available(gids["BEANS-1"]["inventory_item"], SHOP_LOC) == 10


def test_a_throttled_store_is_paced_and_the_run_ends_ok(shop, fake):
    store = fake.add_store(unique("slow"), maximum=1000.0, restore=250.0)
    skus = {f"TEA-{n}": {"WH1": n % 7 + 1} for n in range(60)}
    stocked(shop, ["WH1"], skus)
    gids = {sku: store.add_variant(sku, {SHOP_LOC: 0}) for sku in skus}
    add_channel(shop, fake, store, "slow", "store", [("WH1", SHOP_LOC)])
    assert len(shop.post("/channels/slow/mappings/match").json()["matched"]) == 60
    store.bucket = 0.0  # another app of the shop has just used the whole budget
    store.throttled = 0
    run = sync_one(shop, "slow")
    assert run["status"] == "succeeded" and run["items_ok"] == 60, run["error"]
    assert all(
        store.available(gids[s]["inventory_item"], SHOP_LOC) == w["WH1"] for s, w in skus.items()
    )
    # The first answer shows the empty bucket; from then on requests wait for the restore
    # rate instead of hammering: THROTTLED answers stay a handful.
    assert 1 <= store.throttled <= 3, store.throttled


def test_a_stale_figure_is_read_again_and_the_run_ends_ok(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 9}})
    gid = store.add_variant("BEANS-1", {SHOP_LOC: 4})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    # Between our read and our write, Shopify's figure moves (a sale there).
    store.bump_before_write[(gid["inventory_item"], SHOP_LOC)] = -1
    run = sync_one(shop, "occ")
    assert run["status"] == "succeeded" and run["items_ok"] == 1, run
    assert store.available(gid["inventory_item"], SHOP_LOC) == 9
    assert len(store.writes) == 1  # the stale request was not applied; the second was
    item = shop.get(f"/sync-runs/{run['id']}").json()["items"][0]
    assert (item["before"], item["after"]) == (3, 9)


def test_an_item_shopify_refuses_is_dropped_and_the_rest_is_written(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {s: {"WH1": 4} for s in ("A-1", "A-2", "A-3", "KIT-9")})
    ok = [store.add_variant(s, {SHOP_LOC: 0}) for s in ("A-1", "A-2", "A-3")]
    native_bundle = store.add_variant("KIT-9", {SHOP_LOC: 0}, mutable=False)
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    run = sync_one(shop, "occ")
    assert run["status"] == "succeeded", run
    assert (run["items_ok"], run["items_skipped"]) == (3, 1)
    assert all(store.available(g["inventory_item"], SHOP_LOC) == 4 for g in ok)
    assert store.available(native_bundle["inventory_item"], SHOP_LOC) == 0
    items = shop.get(f"/sync-runs/{run['id']}").json()["items"]
    skipped = [i for i in items if i["status"] == "skipped"]
    assert skipped[0]["sku"] == "KIT-9" and "NON_MUTABLE_INVENTORY_ITEM" in skipped[0]["error"]


def test_more_than_half_failing_ends_the_run_failed(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {s: {"WH1": 2} for s in ("B-1", "B-2", "B-3")})
    store.add_variant("B-1", {SHOP_LOC: 0})
    for s in ("B-2", "B-3"):
        store.add_variant(s, {"gid://shopify/Location/999": 0})  # not stocked where we write
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    run = sync_one(shop, "occ")
    assert run["status"] == "failed" and run["items_failed"] == 2 and run["items_ok"] == 1
    assert "2 of 3 items failed" in run["error"]
    items = shop.get(f"/sync-runs/{run['id']}").json()["items"]
    assert [i["status"] for i in items] == ["failed", "failed", "ok"]  # failed first
    assert shop.get("/channels/occ").json()["status"] == "failed"


def test_a_missed_order_is_recorded_before_the_push(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 10}})
    gid = store.add_variant("BEANS-1", {SHOP_LOC: 10})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    # Shopify sold 3 (its own figure fell to 7); the webhook never arrived.
    store.add_order([(gid["variant"], 3)])
    store.items[gid["inventory_item"]].levels[SHOP_LOC].available = 7
    run = sync_one(shop, "occ")
    assert run["status"] == "succeeded"
    assert on_hand(shop, "BEANS-1", "WH1") == 7
    assert store.available(gid["inventory_item"], SHOP_LOC) == 7  # sold units stay sold
    sync_one(shop, "occ")
    assert on_hand(shop, "BEANS-1", "WH1") == 7  # the same order is not recorded twice
    reasons = [
        e["reason"] for e in shop.get("/ledger", params={"sku": "BEANS-1"}).json()["entries"]
    ]
    assert reasons.count("channel_sale") == 1


def test_retrying_after_a_lost_answer_applies_once(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 6}})
    gid = store.add_variant("BEANS-1", {SHOP_LOC: 1})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    store.lose_next = 1  # Shopify applies the write, the answer is lost on the way back
    store.fail_next = [503]  # and the first try of the levels read fails as well
    run = sync_one(shop, "occ")
    assert run["status"] == "succeeded", run
    assert store.available(gid["inventory_item"], SHOP_LOC) == 6
    assert len(store.writes) == 1  # the retry carried the same key: replayed, not re-applied


def test_the_run_lock_admits_one_run_per_channel(shop, fake, engine, tenant, database_url):
    store = fake.add_store(unique("occ"))
    add_channel(shop, fake, store, "occ", "store", [])
    with db.read(engine) as conn:
        channel_id = conn.execute(
            sa.select(channels.c.id).where(channels.c.tenant_id == tenant)
        ).scalar_one()
    engines = [db.make_engine(database_url, pool_size=2) for _ in range(6)]
    started: list[bool] = []
    barrier = threading.Barrier(len(engines))

    def race(e: sa.Engine) -> None:
        barrier.wait()
        with db.write(e) as conn:
            started.append(runs.start(conn, tenant, channel_id, "manual")[1])

    threads = [threading.Thread(target=race, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert sorted(started) == [False] * 5 + [True]
    # While it runs, "Sync Now" answers the running run instead of a second one.
    r = shop.post("/channels/occ/sync")
    assert r.status_code == 202 and r.json()["status"] == "running"
    with db.read(engine) as conn:
        running = conn.execute(
            sa.select(sa.func.count()).where(
                runs.sync_runs.c.tenant_id == tenant, runs.sync_runs.c.status == "running"
            )
        ).scalar()
    assert running == 1


def test_requests_that_fail_before_running_cost_the_bucket_nothing(shop, fake):
    """A 5xx, a refusal or a dropped connection means Shopify never ran the query: retrying
    it must not drain onhand's estimate of the bucket, or every later request of the run (and
    the next runs) would wait for points that were never spent."""
    store = fake.add_store(unique("down"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 1}})
    store.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(shop, fake, store, "down", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/down/mappings/match")
    started = time.monotonic()
    for failures in ([503] * 5, [402], [423], [503] * 5):
        store.fail_next = list(failures)
        assert sync_one(shop, "down")["status"] == "failed"
    # 12 failed requests of about 450 points each, 5,400 in all from a bucket of 2,000
    # that refills 100 a second: charged, the runs would have waited over 30 s.
    assert time.monotonic() - started < 8
    store.fail_next = []
    assert sync_one(shop, "down")["status"] == "succeeded"
