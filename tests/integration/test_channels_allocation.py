"""Channel allocation: what a store is offered under a buffer or share is held for it in onhand,
so that the stores and onhand's own checkout together never sell more than there is."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import random
import threading
import time

import httpx
import pytest
from channelkit import (  # noqa: F401  (fixtures)
    SECRET_KEY,
    SHOP_LOC,
    add_channel,
    fake,
    inbox,
    shop,
    signed,
    stocked,
    sync_one,
    unique,
)
from eventkit import stock_tenant

from conftest import eventually, make_token
from onhand import check


def _figures(api, sku: str = "BEANS-1") -> dict:
    doc = api.get(f"/availability/{sku}").json()
    return {k: doc[k] for k in ("available", "on_hand", "reserved")}


def _clean(engine, tenant: str) -> None:
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []


def _map(api, code: str, variant: str, **allocation) -> None:
    r = api.post(
        f"/channels/{code}/mappings",
        json={"mappings": [{"sku": "BEANS-1", "variant": variant, **allocation}]},
    )
    assert r.status_code == 201, r.text


def _webhook(api, store, order: dict, code: str):
    raw, headers = signed(store, store.webhook_body(order), f"hook-{order['id']}")
    r = api.post_raw(f"/channels/{code}/webhooks", raw, headers)
    assert r.status_code == 200, r.text
    return r


class _Shop:
    """The `shop` fixture's client with a raw POST (a webhook body must be sent as signed)."""

    def __init__(self, api) -> None:
        self.api = api

    def __getattr__(self, name):
        return getattr(self.api, name)

    def post_raw(self, path: str, raw: bytes, headers: dict):
        return self.api.client.post(f"/v1/{self.api.tenant}{path}", content=raw, headers=headers)


def _two_stores(api, fake, shares: tuple[int, int]):
    api = _Shop(api)
    one, two = fake.add_store(unique("one")), fake.add_store(unique("two"))
    stocked(api, ["WH1"], {"BEANS-1": {"WH1": 10}})
    variants = []
    for store, code, share in ((one, "one", shares[0]), (two, "two", shares[1])):
        v = store.add_variant("BEANS-1", {SHOP_LOC: 0})
        add_channel(api, fake, store, code, "store", [("WH1", SHOP_LOC)])
        _map(api, code, v["variant"], share=share)
        variants.append(v)
    return api, (one, two), variants


def test_what_a_store_is_offered_is_held_and_its_sales_come_out_of_the_hold(
    shop, fake, engine, tenant
):
    api, (one, two), (a, b) = _two_stores(shop, fake, (60, 40))
    assert sync_one(api, "one")["status"] == "succeeded"
    assert sync_one(api, "two")["status"] == "succeeded"
    assert one.available(a["inventory_item"], SHOP_LOC) == 6
    assert two.available(b["inventory_item"], SHOP_LOC) == 4
    # Every unit is promised to a store: onhand's own checkout cannot take one.
    assert _figures(api) == {"available": 0, "on_hand": 10, "reserved": 10}
    r = api.post("/reservations", json={"lines": [{"sku": "BEANS-1", "qty": 1}]})
    assert r.status_code == 409, r.text
    _clean(engine, tenant)

    # Store one sells 2: Shopify's figure falls, the order's webhook takes them from its hold.
    order = one.sell(a["variant"], 2, SHOP_LOC)
    assert order is not None and one.available(a["inventory_item"], SHOP_LOC) == 4
    _webhook(api, one, order, "one")
    assert _figures(api) == {"available": 0, "on_hand": 8, "reserved": 8}
    sale = api.get("/ledger", params={"sku": "BEANS-1", "reason": "channel_sale"}).json()
    assert sorted((e["state"], e["delta"]) for e in sale["entries"]) == [
        ("on_hand", -2),
        ("reserved", -2),
    ]
    _clean(engine, tenant)

    # 8 left: one's 60 % is 4, which it shows already (no write); two's 40 % is 3, one less.
    writes = len(one.writes)
    run = sync_one(api, "one")
    assert len(one.writes) == writes and run["items_unchanged"] == 1
    sync_one(api, "two")
    assert two.available(b["inventory_item"], SHOP_LOC) == 3
    assert _figures(api) == {"available": 1, "on_hand": 8, "reserved": 7}
    item = api.get(f"/sync-runs/{run['id']}").json()["items"][0]
    assert item["offer"] == {"available": 8, "share": 60}
    r = api.post("/reservations", json={"lines": [{"sku": "BEANS-1", "qty": 1}]})
    assert r.status_code == 201, r.text
    _clean(engine, tenant)


def test_a_sale_whose_webhook_is_late_keeps_its_cover(shop, fake, engine, tenant):
    api, (one, _), (a, _) = _two_stores(shop, fake, (50, 0))
    sync_one(api, "one")
    assert one.available(a["inventory_item"], SHOP_LOC) == 5
    # Three sell at Shopify, and neither their webhook nor the order list shows them yet.
    one.items[a["inventory_item"]].levels[SHOP_LOC].available -= 3
    r = api.post(
        "/movements", json={"type": "receipt", "sku": "BEANS-1", "location": "WH1", "qty": 10}
    )
    assert r.status_code == 201
    # 20 on hand, 5 held for one (3 of them sold there): its 50 % of 20 is 10 on the shelf,
    # and the 3 sold stay held until their order is recorded.
    sync_one(api, "one")
    assert one.available(a["inventory_item"], SHOP_LOC) == 10
    assert _figures(api) == {"available": 7, "on_hand": 20, "reserved": 13}
    _webhook(api, one, one.add_order([(a["variant"], 3)]), "one")
    assert _figures(api) == {"available": 7, "on_hand": 17, "reserved": 10}
    _clean(engine, tenant)


def test_a_sale_during_a_lowering_write_is_not_released(shop, fake, engine, tenant):
    api, (one, _), (a, _) = _two_stores(shop, fake, (50, 0))
    sync_one(api, "one")
    assert _figures(api)["reserved"] == 5
    _map(api, "one", a["variant"], share=20)  # the store is to show 2 of 10
    # Two units sell at Shopify just before our write (−3 from 5) reaches it: the write is
    # stale and is not resent (−3 from 3 would show 0). It is worked out again from 3: −1,
    # and only that 1 is released; the 2 sold stay held for their order.
    one.bump_before_write[(a["inventory_item"], SHOP_LOC)] = -2
    run = sync_one(api, "one")
    assert run["status"] == "succeeded", run
    assert one.available(a["inventory_item"], SHOP_LOC) == 2
    assert _figures(api) == {"available": 6, "on_hand": 10, "reserved": 4}
    _webhook(api, one, one.add_order([(a["variant"], 2)]), "one")
    assert _figures(api) == {"available": 6, "on_hand": 8, "reserved": 2}
    _clean(engine, tenant)


@pytest.mark.parametrize("received", [0, 2], ids=["write", "no-write"])
def test_sales_recorded_while_the_figure_is_read_leave_no_unit_held_behind(
    shop, fake, engine, tenant, received
):
    """Two units sell at the store after onhand read Shopify's figure, and their webhooks are
    recorded before onhand works the hold out: the figure is older than the hold. Counted as
    it was read, the 2 sales looked recorded and not made, and 2 units stayed held for good
    (with a write resent from the new figure, or with no write when the figure read was
    already the offer)."""
    api, (one, _), (a, _) = _two_stores(shop, fake, (50, 0))
    sync_one(api, "one")
    assert one.available(a["inventory_item"], SHOP_LOC) == 5
    if received:
        r = api.post(
            "/movements",
            json={"type": "receipt", "sku": "BEANS-1", "location": "WH1", "qty": received},
        )
        assert r.status_code == 201, r.text

    def two_buyers() -> None:
        for _ in range(2):
            order = one.sell(a["variant"], 1, SHOP_LOC)
            assert order is not None
            _webhook(api, one, order, "one")

    one.after_levels_read.append(two_buyers)
    run = sync_one(api, "one")
    assert run["status"] == "succeeded", run
    assert not one.after_levels_read  # the buyers came
    on_hand = 10 + received - 2
    shown = one.available(a["inventory_item"], SHOP_LOC)
    assert shown == on_hand // 2  # the store's 50 %
    # Every sale is recorded: what is held is exactly what the store shows.
    assert _figures(api) == {"available": on_hand - shown, "on_hand": on_hand, "reserved": shown}
    _clean(engine, tenant)


def test_a_refused_write_gives_the_raised_units_back(shop, fake, engine, tenant):
    api, (one, _), (a, _) = _two_stores(shop, fake, (50, 0))
    one.items[a["inventory_item"]].mutable = False  # Shopify refuses to change this item
    run = sync_one(api, "one")
    assert run["items_skipped"] + run["items_failed"] == 1
    assert _figures(api) == {"available": 10, "on_hand": 10, "reserved": 0}
    _clean(engine, tenant)


def test_two_stores_and_the_checkout_racing_never_sell_more_than_there_is(
    server, engine, tenant, fake
):
    """Buyers at two Shopify stores (each sale's webhook sent as Shopify would) and at onhand's
    own checkout race for 30 units while live pushes keep the stores' figures current. The
    stores are offered 40 % each, which leaves onhand's checkout about a fifth (with 45 %
    each its tenth was once all taken by the stores' pushes before its buyers got a turn);
    without the allocation held, onhand's checkout sells units the stores still show until
    the next push, and the sum passes 30 (seen: 36 and 40 sold)."""
    stock = 30
    srv = server(
        allow_private_networks="127.0.0.0/8", secret_key=SECRET_KEY, channel_push_seconds=0.2
    )
    client = stock_tenant(srv.url, tenant, make_token(engine, tenant, "admin"), {"BEANS-1": stock})
    stores, variants = [], []
    for code, share in (("one", 40), ("two", 40)):
        store = fake.add_store(unique(code))
        v = store.add_variant("BEANS-1", {SHOP_LOC: 0})
        r = client.post(
            "/channels",
            json={
                "code": code,
                "role": "store",
                "shop": f"{store.name}.myshopify.com",
                "access_token": store.token,
                "webhook_secret": f"whsec-{store.name}",
                "api_url": fake.url(store.name),
                "locations": [{"location": "WH1", "channel_location": SHOP_LOC}],
            },
        )
        assert r.status_code == 201, r.text
        r = client.post(
            f"/channels/{code}/mappings",
            json={"mappings": [{"sku": "BEANS-1", "variant": v["variant"], "share": share}]},
        )
        assert r.status_code == 201, r.text
        stores.append(store)
        variants.append(v)
    for code in ("one", "two"):
        run = client.post(f"/channels/{code}/sync").json()
        eventually(
            lambda run=run: client.get(f"/sync-runs/{run['id']}").json()["status"] != "running"
        )
    assert [
        s.available(v["inventory_item"], SHOP_LOC) for s, v in zip(stores, variants, strict=True)
    ] == [12, 12]

    sold = {"one": 0, "two": 0, "onhand": 0}
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def store_buyer(n: int) -> None:
        store, v, code = stores[n % 2], variants[n % 2], ("one", "two")[n % 2]
        with httpx.Client(base_url=f"{srv.url}/v1/{tenant}", timeout=30) as http:
            while not stop.is_set():
                time.sleep(random.uniform(0.05, 0.1))  # a buyer at the store's checkout
                order = store.sell(v["variant"], 1, SHOP_LOC)
                if order is None:
                    continue
                raw, headers = signed(store, store.webhook_body(order), f"hook-{order['id']}")
                r = http.post(f"/channels/{code}/webhooks", content=raw, headers=headers)
                if r.status_code != 200:
                    errors.append(f"webhook {r.status_code}: {r.text}")
                with lock:
                    sold[code] += 1

    def checkout_buyer() -> None:
        token = make_token(engine, tenant, "admin")
        with httpx.Client(
            base_url=f"{srv.url}/v1/{tenant}",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            while not stop.is_set():
                r = http.post("/reservations", json={"lines": [{"sku": "BEANS-1", "qty": 1}]})
                if r.status_code == 201:
                    assert http.post(f"/reservations/{r.json()['id']}/commit").status_code == 200
                    with lock:
                        sold["onhand"] += 1
                elif r.status_code == 409:
                    time.sleep(random.uniform(0.01, 0.05))
                else:
                    errors.append(f"hold {r.status_code}: {r.text}")

    threads = [threading.Thread(target=store_buyer, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=checkout_buyer) for _ in range(4)]
    for t in threads:
        t.start()

    def sold_out() -> bool:
        doc = client.get("/availability/BEANS-1").json()
        shelves = [
            s.available(v["inventory_item"], SHOP_LOC)
            for s, v in zip(stores, variants, strict=True)
        ]
        return doc["on_hand"] == doc["committed"] and shelves == [0, 0]

    deadline = time.monotonic() + 25
    while time.monotonic() < deadline and not sold_out():
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(sold.values()) <= stock, sold  # never more than there is
    assert sum(sold.values()) == stock, sold  # and every unit sold, none left behind a hold
    assert sold["one"] > 0 and sold["two"] > 0 and sold["onhand"] > 0, sold
    doc = client.get("/availability/BEANS-1").json()
    assert doc["reserved"] == 0 and doc["committed"] == sold["onhand"], doc
    _clean(engine, tenant)


def test_holds_no_longer_allocated_from_are_given_back_at_the_next_sync(shop, fake, engine, tenant):
    """A mapping that loses its share, or a location that leaves the channel, kept its units
    held for the store for good: onhand's checkout could never sell them again."""
    api = _Shop(shop)
    store = fake.add_store(unique("one"))
    stocked(api, ["WH1", "WH2"], {"BEANS-1": {"WH1": 10, "WH2": 4}})
    v = store.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(api, fake, store, "one", "store", [("WH1", SHOP_LOC), ("WH2", SHOP_LOC)])
    _map(api, "one", v["variant"], share=50)
    assert sync_one(api, "one")["status"] == "succeeded"
    assert store.available(v["inventory_item"], SHOP_LOC) == 7
    assert _figures(api)["reserved"] == 7

    # WH1 leaves the channel: the store is offered half of WH2's 4, held there, and the
    # units held at WH1 are given back once Shopify shows the lower figure.
    r = api.patch(
        "/channels/one", json={"locations": [{"location": "WH2", "channel_location": SHOP_LOC}]}
    )
    assert r.status_code == 200, r.text
    assert sync_one(api, "one")["status"] == "succeeded"
    assert store.available(v["inventory_item"], SHOP_LOC) == 2
    doc = api.get("/availability/BEANS-1").json()
    held = {row["location"]: row["reserved"] for row in doc["locations"]}
    assert held == {"WH1": 0, "WH2": 2}, doc
    _clean(engine, tenant)

    # The share goes: nothing is held for the store any more, and it is offered all of WH2.
    _map(api, "one", v["variant"])
    assert sync_one(api, "one")["status"] == "succeeded"
    assert _figures(api) == {"available": 14, "on_hand": 14, "reserved": 0}
    sync_one(api, "one")
    assert store.available(v["inventory_item"], SHOP_LOC) == 4
    released = api.get("/ledger", params={"sku": "BEANS-1", "reason": "channel_allocation"}).json()[
        "entries"
    ]
    assert sum(e["delta"] for e in released if e["state"] == "reserved") == 0
    _clean(engine, tenant)
