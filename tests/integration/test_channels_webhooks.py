"""Store sales through Shopify webhooks: signatures, replays, partner adjustments once."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import asyncio
import json
import threading
import time

import sqlalchemy as sa
from apikit import assert_problem
from channelkit import (  # noqa: F401  (fixtures)
    PARTNER_LOC,
    SHOP_LOC,
    add_channel,
    channel_settings,
    fake,
    inbox,
    on_hand,
    shop,
    signed,
    stocked,
    sync_all,
    unique,
)
from fastapi.testclient import TestClient

from onhand import db
from onhand.app import create_app
from onhand.channels import forwards, sales, sync
from onhand.channels.tables import channels
from onhand.settings import Settings


def _post(
    shop, store, body: dict, webhook_id: str, *, secret: str | None = None, topic="orders/create"
):
    raw, headers = signed(store, body, webhook_id, secret=secret, X_Shopify_Topic=topic)
    return shop.client.post(
        f"/v1/{shop.tenant}/channels/occ/webhooks", content=raw, headers=headers
    )


def _wait(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    raise AssertionError("not within time")


def _setup(shop, fake, own: int = 5, partner_has: int = 4):
    """Our store sells BEANS-1 from WH1 (`own` units) and from ROAST, the partner's stock."""
    partner = fake.add_store(unique("roaster"))
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1", "ROAST"], {"BEANS-1": {"WH1": own}})
    held = partner.add_variant("BEANS-1", {PARTNER_LOC: partner_has})
    sold = store.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(shop, fake, partner, "roaster", "partner", [("ROAST", PARTNER_LOC)])
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC), ("ROAST", SHOP_LOC)])
    for code in ("roaster", "occ"):
        shop.post(f"/channels/{code}/mappings/match")
    assert all(r["status"] == "succeeded" for r in sync_all(shop))
    assert on_hand(shop, "BEANS-1", "ROAST") == partner_has
    return partner, store, held, sold


def test_forged_and_replayed_webhooks_change_nothing(shop, fake, tenant_state):
    _, store, _, sold = _setup(shop, fake)
    order = store.webhook_body(store.add_order([(sold["variant"], 2)]))
    before = tenant_state()
    assert_problem(_post(shop, store, order, "w-1", secret="not-the-secret"), 401)
    unsigned = shop.client.post(
        f"/v1/{shop.tenant}/channels/occ/webhooks",
        content=json.dumps(order),
        headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"},
    )
    assert_problem(unsigned, 401)
    tampered = dict(order, line_items=[dict(order["line_items"][0], quantity=1)])
    raw_ok = _post(shop, store, order, "w-x")  # a valid signature of another body…
    assert raw_ok.status_code == 200
    state_after_one = tenant_state()
    assert state_after_one != before
    forged = shop.client.post(  # …does not carry over to a changed body
        f"/v1/{shop.tenant}/channels/occ/webhooks",
        content=json.dumps(tampered),
        headers={
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": raw_ok.request.headers["X-Shopify-Hmac-Sha256"],
            "X-Shopify-Webhook-Id": "w-y",
        },
    )
    assert_problem(forged, 401)
    assert on_hand(shop, "BEANS-1", "WH1") == 3
    # Shopify delivers the same webhook again (same id): applied once.
    again = _post(shop, store, order, "w-x")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    # Another delivery of the same order (orders/updated) records no line twice.
    assert _post(shop, store, order, "w-z", topic="orders/updated").json()["status"] == "recorded"
    assert on_hand(shop, "BEANS-1", "WH1") == 3
    sales = shop.get("/ledger", params={"sku": "BEANS-1", "reason": "channel_sale"}).json()
    assert [e["delta"] for e in sales["entries"]] == [-2]
    assert "order" in sales["entries"][0]["reference"]


def test_a_signed_webhook_for_another_shop_is_refused(shop, fake, tenant_state):
    _, store, _, sold = _setup(shop, fake)
    order = store.webhook_body(store.add_order([(sold["variant"], 2)]))
    before = tenant_state()
    for domain in ("other-shop.myshopify.com", ""):
        raw, headers = signed(store, order, f"w-{domain}", X_Shopify_Shop_Domain=domain)
        r = shop.client.post(
            f"/v1/{shop.tenant}/channels/occ/webhooks", content=raw, headers=headers
        )
        assert_problem(r, 401)
    assert tenant_state() == before
    raw, headers = signed(
        store, order, "w-ok", X_Shopify_Shop_Domain=f"{store.name.upper()}.myshopify.com"
    )
    ok = shop.client.post(f"/v1/{shop.tenant}/channels/occ/webhooks", content=raw, headers=headers)
    assert ok.status_code == 200, ok.text  # a domain's case does not matter
    assert on_hand(shop, "BEANS-1", "WH1") == 3


def test_a_sale_of_partner_stock_is_passed_on_once_even_when_the_answer_is_lost(shop, fake):
    partner, store, held, sold = _setup(shop, fake)
    order = store.add_order([(sold["variant"], 7)])  # 5 from WH1, then 2 held by the partner
    partner.lose_next = 1  # the partner's store applies the adjustment; the answer is lost
    r = _post(shop, store, store.webhook_body(order), "w-1")
    assert r.status_code == 200, r.text
    assert on_hand(shop, "BEANS-1", "WH1") == 0 and on_hand(shop, "BEANS-1", "ROAST") == 2
    _wait(lambda: partner.available(held["inventory_item"], PARTNER_LOC) == 2)
    # The same webhook again, and the order list read by the next sync: nothing more.
    assert _post(shop, store, store.webhook_body(order), "w-1").json()["status"] == "duplicate"
    runs = sync_all(shop)
    assert all(r["status"] == "succeeded" for r in runs), runs
    time.sleep(0.5)
    assert partner.available(held["inventory_item"], PARTNER_LOC) == 2
    adjustments = [w for w in partner.writes if w["kind"] == "adjust"]
    assert len(adjustments) == 1 and adjustments[0]["rows"][0]["delta"] == -2
    assert on_hand(shop, "BEANS-1", "ROAST") == 2  # the partner's figure agrees
    assert store.available(sold["inventory_item"], SHOP_LOC) == 2


def test_a_cancelled_order_puts_the_units_back(shop, fake):
    partner, store, held, sold = _setup(shop, fake)
    order = store.add_order([(sold["variant"], 6)])
    _post(shop, store, store.webhook_body(order), "w-1")
    _wait(lambda: partner.available(held["inventory_item"], PARTNER_LOC) == 3)
    order["cancelledAt"] = "2026-12-01T11:00:00Z"
    r = _post(shop, store, store.webhook_body(order), "w-2", topic="orders/cancelled")
    assert r.status_code == 200
    assert on_hand(shop, "BEANS-1", "WH1") == 5 and on_hand(shop, "BEANS-1", "ROAST") == 4
    _wait(lambda: partner.available(held["inventory_item"], PARTNER_LOC) == 4)


def test_a_webhook_for_an_unknown_channel_is_a_401_even_without_a_secret_key(engine, tenant):
    # An installation without ONHAND_SECRET_KEY (PostgreSQL) cannot read channel credentials;
    # probing a channel that does not exist must still look like a bad signature, not a 503.
    settings = Settings(database_url=str(engine.url), run_jobs=False, secret_key=None)
    with TestClient(create_app(settings, engine)) as client:
        r = client.post(
            f"/v1/{tenant}/channels/nope/webhooks",
            content=b"{}",
            headers={"X-Shopify-Hmac-Sha256": "c2lnbmF0dXJl", "X-Shopify-Webhook-Id": "w-1"},
        )
    assert_problem(r, 401)


def test_two_processes_sending_the_same_adjustments_apply_each_once(shop, fake, engine, tenant):
    """Two senders (as two server processes would be: separate event loops, so no in-process
    lock between them) pass on the same 30 queued partner adjustments at once."""
    partner, store, held, sold = _setup(shop, fake, own=0, partner_has=30)
    ctx = sync.Context.of(engine, channel_settings(engine))
    with engine.connect() as conn:
        ids = dict(
            conn.execute(
                sa.select(channels.c.code, channels.c.id).where(channels.c.tenant_id == tenant)
            ).all()
        )
    occ, _ = sync.load(ctx, tenant, ids["occ"])
    roaster, _ = sync.load(ctx, tenant, ids["roaster"])
    with db.write(engine) as conn:  # 30 sales recorded, their adjustments queued, none sent
        for _ in range(30):
            order = sales.from_webhook(store.webhook_body(store.add_order([(sold["variant"], 1)])))
            sales.record(conn, occ, order, db.utcnow())

    async def send() -> int:
        async with ctx.client(roaster) as client:
            return await forwards.send_pending(engine, roaster, client)

    threads = [threading.Thread(target=lambda: asyncio.run(send())) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Two senders on one partner item make each other's figures stale; an adjustment that
    # stays stale for six rounds waits for the next send (here, a third one). What must hold:
    # none is ever applied twice, and in the end each unit left the partner exactly once.
    asyncio.run(send())
    assert partner.available(held["inventory_item"], PARTNER_LOC) == 0
    deltas = [row["delta"] for w in partner.writes if w["kind"] == "adjust" for row in w["rows"]]
    assert deltas == [-1] * 30
