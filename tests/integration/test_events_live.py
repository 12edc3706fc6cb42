"""Live stock over SSE and WebSocket (API.md: GET /v1/{t}/events), on both databases."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from eventkit import SSEReader, eventually, move, stock_tenant

from conftest import LiveServer, make_token
from onhand import auth, db
from onhand.events.feed import Event
from onhand.events.hub import DROPPED, Hub

CONTRACT = {"id", "type", "sku", "location", "available", "at"}


def test_a_movement_reaches_an_sse_client_with_the_contract_fields(server, engine, tenant):
    srv = server(run_jobs=False)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"BOOK-1": 0})
    sse = SSEReader(f"{srv.url}/v1/{tenant}/events", {"Authorization": f"Bearer {token}"})
    try:
        move(shop, "receipt", "BOOK-1", 7)
        ev = sse.wait_for(lambda e: e["event"] == "stock.changed")
        assert set(ev["data"]) >= CONTRACT
        assert ev["data"]["sku"] == "BOOK-1" and ev["data"]["location"] == "WH1"
        assert ev["data"]["available"] == 7
        assert ev["id"] == str(ev["data"]["id"])
    finally:
        sse.close()


def test_access_token_in_the_query_and_resume_with_last_event_id(server, engine, tenant):
    srv = server(run_jobs=False)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    for qty in (1, 2, 3):
        move(shop, "receipt", "A", qty)
    first = SSEReader(f"{srv.url}/v1/{tenant}/events?last_event_id=0&access_token={token}")
    try:
        history = eventually(lambda: len(first.events) >= 3 and first.events)
        ids = [int(e["id"]) for e in history]
        assert [e["data"]["available"] for e in history] == [1, 3, 6]
    finally:
        first.close()
    resumed = SSEReader(
        f"{srv.url}/v1/{tenant}/events?access_token={token}", {"Last-Event-ID": str(ids[0])}
    )
    try:
        move(shop, "receipt", "A", 4)
        eventually(lambda: len(resumed.events) >= 3)
        got = [int(e["id"]) for e in resumed.events]
        assert got[:2] == ids[1:]  # nothing before the resume point, nothing skipped
        assert resumed.events[2]["data"]["available"] == 10
        assert got == sorted(got)
    finally:
        resumed.close()


def test_streams_refuse_missing_wrong_tenant_and_storefront_tokens(server, engine, tenant):
    srv = server(run_jobs=False)
    shop_token = make_token(engine, tenant, "storefront")
    other = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        other_token = auth.create_token(conn, other, ["admin"]).token
    for headers, url, status in (
        ({}, f"/v1/{tenant}/events", 401),
        ({"Authorization": f"Bearer {shop_token}"}, f"/v1/{tenant}/events", 403),
        ({}, f"/v1/{tenant}/events?access_token={other_token}", 403),
        ({}, f"/v1/{tenant}/public/availability/stream?skus=A&access_token={other_token}", 403),
    ):
        sse = SSEReader(srv.url + url, headers)
        assert sse.status == status, (url, sse.status, sse.error)
        sse.close()


def test_storefront_feed_reveals_only_the_asked_skus_figures(server, engine, tenant):
    srv = server(run_jobs=False)
    admin = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, admin, {"A": 5, "B": 5})
    token = make_token(engine, tenant, "storefront")
    feed = SSEReader(
        f"{srv.url}/v1/{tenant}/public/availability/stream?skus=A&access_token={token}"
    )
    try:
        snapshot = feed.wait_for(lambda e: True)
        assert snapshot["data"]["sku"] == "A" and snapshot["data"]["available"] == 5
        move(shop, "ship", "B", 1)
        move(shop, "ship", "A", 2)
        update = feed.wait_for(lambda e: e["data"]["available"] == 3)
        assert set(update["data"]) == {"sku", "available", "at"}
        assert all(e["data"]["sku"] == "A" for e in feed.events)
    finally:
        feed.close()


def test_storefront_feed_follows_a_bundle_through_its_components(server, engine, tenant):
    srv = server(run_jobs=False)
    admin = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, admin, {"A": 10, "B": 3})
    r = shop.post(
        "/items",
        json={
            "sku": "KIT",
            "name": "Kit",
            "kind": "bundle",
            "components": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
            "low_stock_threshold": 2,
        },
    )
    assert r.status_code == 201, r.text
    token = make_token(engine, tenant, "storefront")
    feed = SSEReader(
        f"{srv.url}/v1/{tenant}/public/availability/stream?skus=KIT&access_token={token}"
    )
    try:
        # The first frame also carries the item's own threshold (the badge shows "Only 2 left").
        assert feed.wait_for(lambda e: True)["data"] == {
            "sku": "KIT",
            "available": 3,
            "low_stock_threshold": 2,
            "at": feed.events[0]["data"]["at"],
        }
        move(shop, "ship", "A", 6)  # 4 of A left: 2 kits
        update = feed.wait_for(lambda e: e["data"]["available"] == 2)
        # A kit's figure is recomputed as a snapshot, so it carries the threshold too.
        assert update["data"]["sku"] == "KIT"
        assert set(update["data"]) == {"sku", "available", "low_stock_threshold", "at"}
    finally:
        feed.close()


def test_websocket_gets_the_same_events(server, engine, tenant):
    srv = server(run_jobs=False)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})

    async def listen() -> dict:
        url = f"ws://127.0.0.1:{srv.port}/v1/{tenant}/ws?access_token={token}"
        async with websockets.connect(url) as ws:
            await asyncio.sleep(0.2)
            await asyncio.to_thread(move, shop, "receipt", "A", 4)
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    message = asyncio.run(listen())
    assert set(message) >= CONTRACT and message["available"] == 4


def test_websocket_resumes_from_last_event_id(server, engine, tenant):
    srv = server(run_jobs=False)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    for qty in (1, 2, 3):
        move(shop, "receipt", "A", qty)

    async def replay() -> list[dict]:
        url = f"ws://127.0.0.1:{srv.port}/v1/{tenant}/ws?access_token={token}&last_event_id=0"
        async with websockets.connect(url) as ws:
            return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]

    got = asyncio.run(replay())
    assert [m["available"] for m in got] == [1, 3, 6]
    assert [m["id"] for m in got] == sorted(m["id"] for m in got)


def test_websocket_without_a_token_is_refused(server, engine, tenant):
    srv = server(run_jobs=False)

    async def connect() -> None:
        async with websockets.connect(f"ws://127.0.0.1:{srv.port}/v1/{tenant}/ws"):
            pass

    with pytest.raises(websockets.InvalidStatus):
        asyncio.run(connect())


def test_heartbeat_comments_keep_the_stream_open(server, engine, tenant):
    srv = server(run_jobs=False, sse_heartbeat_seconds=0.2)  # 15 s in production
    token = make_token(engine, tenant, "admin")
    sse = SSEReader(f"{srv.url}/v1/{tenant}/events?access_token={token}")
    try:
        eventually(lambda: len(sse.comments) >= 2, timeout=5)
    finally:
        sse.close()


def test_a_slow_subscriber_is_dropped_without_holding_back_the_others(engine, tenant):
    async def scenario() -> None:
        hub = Hub(engine, queue_size=3)
        try:
            slow = await hub.subscribe(tenant)
            fast = await hub.subscribe(tenant)
            for i in range(1, 6):
                hub.publish(
                    [
                        Event(
                            hub.position + 1,
                            tenant,
                            "stock.changed",
                            "A",
                            "WH1",
                            db.utcnow(),
                            {"available": i},
                        )
                    ]
                )
                if not fast.queue.empty():
                    fast.queue.get_nowait()
            assert slow.dropped and slow.queue.get_nowait() is DROPPED
            assert not fast.dropped
            assert slow not in hub.subscribers.get(tenant, set())
        finally:
            await hub.stop()

    asyncio.run(scenario())


@pytest.mark.postgres
@pytest.mark.slow
def test_two_serve_processes_share_changes(postgres_url, migrated_engine_for):
    engine = migrated_engine_for(postgres_url)
    tenant = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        token = auth.create_token(conn, tenant, ["admin"]).token
    env = {"ONHAND_SSE_HEARTBEAT_SECONDS": "0.3"}
    a, b = LiveServer(postgres_url, env), LiveServer(postgres_url, env)
    try:
        sse = SSEReader(f"{a.url}/v1/{tenant}/events?access_token={token}")
        shop = stock_tenant(b.url, tenant, token, {"A": 0})
        move(shop, "receipt", "A", 11)
        ev = sse.wait_for(lambda e: e["event"] == "stock.changed", timeout=10)
        assert ev["data"]["available"] == 11
        sse.close()
    finally:
        a.stop()
        b.stop()
