"""Lot and serial items on channels: a store's sale of a lot item takes its sellable lots
first expired, first out, and a cancellation puts the units back into those lots; a serial
item is not mapped to a store (an order does not say which unit it sold)."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

from apikit import assert_problem
from channelkit import (  # noqa: F401  (fixtures)
    SHOP_LOC,
    add_channel,
    fake,
    inbox,
    shop,
    signed,
    sync_one,
    unique,
)
from fulfilmentkit import lots_on_hand, receive_lot

from onhand import check


def _webhook(api, store, order: dict, topic: str = "orders/create") -> None:
    raw, headers = signed(
        store, store.webhook_body(order), f"{topic}-{order['id']}", X_Shopify_Topic=topic
    )
    r = api.client.post(f"/v1/{api.tenant}/channels/occ/webhooks", content=raw, headers=headers)
    assert r.status_code == 200, r.text


def test_a_store_sale_of_a_lot_item_takes_the_sellable_lots_first_expired_first_out(
    shop, fake, engine, tenant
):
    assert shop.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    r = shop.post(
        "/items",
        json={"sku": "MILK", "name": "Milk", "tracking": "lot", "min_shelf_life_days": 2},
    )
    assert r.status_code == 201, r.text
    receive_lot(
        shop, "MILK", "WH1", "L-SOON", 3, 1
    )  # one day left: too close to sell (two days asked)
    receive_lot(shop, "MILK", "WH1", "L-NEXT", 3, 5)
    receive_lot(shop, "MILK", "WH1", "L-LATE", 3, 10)
    store = fake.add_store(unique("occ"))
    v = store.add_variant("MILK", {SHOP_LOC: 0})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    r = shop.post(
        "/channels/occ/mappings",
        json={"mappings": [{"sku": "MILK", "variant": v["variant"], "share": 100}]},
    )
    assert r.status_code == 201, r.text
    run = sync_one(shop, "occ")
    assert run["status"] == "succeeded", run
    assert store.available(v["inventory_item"], SHOP_LOC) == 6  # the sellable lots only

    order = store.sell(v["variant"], 4, SHOP_LOC)
    assert order is not None
    _webhook(shop, store, order)
    assert lots_on_hand(shop, "MILK") == {"L-SOON": 3, "L-LATE": 2}  # L-NEXT sold out, L-SOON kept
    order["cancelledAt"] = "2026-12-01T12:00:00Z"
    _webhook(shop, store, order, "orders/cancelled")
    assert lots_on_hand(shop, "MILK") == {"L-SOON": 3, "L-NEXT": 3, "L-LATE": 3}
    with engine.connect() as conn:
        assert [f for f in check.run(conn) if f"tenant {tenant} " in f.what] == []


def test_a_store_with_its_own_shelf_life_is_offered_and_sold_only_lots_that_keep_it(shop, fake):
    assert shop.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    assert (
        shop.post("/items", json={"sku": "MILK", "name": "Milk", "tracking": "lot"}).status_code
        == 201
    )
    receive_lot(shop, "MILK", "WH1", "L-NEXT", 3, 5)
    receive_lot(shop, "MILK", "WH1", "L-LATE", 3, 10)
    store = fake.add_store(unique("occ"))
    v = store.add_variant("MILK", {SHOP_LOC: 0})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)], min_shelf_life_days=7)
    assert shop.get("/channels/occ").json()["min_shelf_life_days"] == 7
    shop.post(
        "/channels/occ/mappings", json={"mappings": [{"sku": "MILK", "variant": v["variant"]}]}
    )
    sync_one(shop, "occ")
    assert store.available(v["inventory_item"], SHOP_LOC) == 3  # L-NEXT has only 5 days left
    assert shop.get("/availability/MILK").json()["available"] == 6  # onhand's own checkout: both
    order = store.sell(v["variant"], 2, SHOP_LOC)
    _webhook(shop, store, order)
    assert lots_on_hand(shop, "MILK") == {"L-NEXT": 3, "L-LATE": 1}
    r = shop.patch("/channels/occ", json={"min_shelf_life_days": None})
    assert r.status_code == 200 and r.json()["min_shelf_life_days"] is None
    sync_one(shop, "occ")
    assert store.available(v["inventory_item"], SHOP_LOC) == 4


def test_a_serial_item_is_not_mapped_to_a_store(shop, fake):
    assert shop.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    r = shop.post("/items", json={"sku": "CAM", "name": "Camera", "tracking": "serial"})
    assert r.status_code == 201, r.text
    store = fake.add_store(unique("occ"))
    v = store.add_variant("CAM", {SHOP_LOC: 0})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    r = shop.post(
        "/channels/occ/mappings", json={"mappings": [{"sku": "CAM", "variant": v["variant"]}]}
    )
    assert "serial-tracked" in assert_problem(r, 422)["detail"]
    matched = shop.post("/channels/occ/mappings/match").json()
    assert matched["matched"] == [] and v["variant"] in matched["unmatched_variants"]
