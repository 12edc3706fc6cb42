"""Webhooks: the API, signed deliveries to a real local receiver, retries and dead letters."""

from __future__ import annotations

import json

import pytest
from eventkit import Receiver, eventually, move, stock_tenant

from conftest import make_token
from onhand.events.webhooks import sign, verify

LOCAL = "127.0.0.0/8"  # the test receiver listens on 127.0.0.1


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_signature_is_hmac_of_timestamp_and_body():
    body = b'{"id":1}'
    header = sign("whsec_test_secret_123", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify("whsec_test_secret_123", header, body, now=1_700_000_010)
    assert not verify("whsec_test_secret_123", header, body + b" ", now=1_700_000_010)
    assert not verify("another_secret_456789", header, body, now=1_700_000_010)
    assert not verify("whsec_test_secret_123", header, body, now=1_700_001_000)  # replayed late


def test_webhook_api_creates_lists_and_deletes(api):
    r = api.post("/webhooks", json={"url": "https://erp.example.com/hook", "types": ["stock.low"]})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert hook["secret"].startswith("whsec_") and hook["types"] == ["stock.low"]
    listed = api.get("/webhooks").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert api.post("/webhooks", json={"url": "ftp://x"}).status_code == 422
    assert api.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"] == []
    assert api.delete(f"/webhooks/{hook['id']}").status_code == 204
    assert api.delete(f"/webhooks/{hook['id']}").status_code == 404
    assert api.get(f"/webhooks/{hook['id']}/deliveries").status_code == 404


def test_deliveries_are_signed_and_verifiable(server, engine, tenant, receiver):
    srv = server(allow_private_networks=LOCAL)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    hook = shop.post("/webhooks", json={"url": receiver.url, "types": ["stock.changed"]}).json()
    move(shop, "receipt", "A", 3)
    headers, body = eventually(lambda: receiver.requests and receiver.requests[0])
    assert verify(hook["secret"], headers["onhand-signature"], body)
    event = json.loads(body)
    assert headers["onhand-event-id"] == str(event["id"]) and event["type"] == "stock.changed"
    assert event["available"] == 3
    log = eventually(
        lambda: (
            (d := shop.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"])
            and d[0]["status"] == "delivered"
            and d
        )
    )
    assert log[0]["event_id"] == event["id"] and log[0]["attempts"] == 1


def test_failures_are_retried_then_dead_lettered_then_redelivered(server, engine, tenant, receiver):
    receiver.status = 500
    srv = server(allow_private_networks=LOCAL, webhook_max_attempts=3, webhook_backoff_seconds=0.05)
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    hook = shop.post("/webhooks", json={"url": receiver.url}).json()
    move(shop, "receipt", "A", 1)
    deliveries = lambda: shop.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"]  # noqa: E731
    dead = eventually(lambda: (d := deliveries()) and d[0]["status"] == "dead" and d[0], timeout=15)
    assert dead["attempts"] == 3 and dead["last_status_code"] == 500
    assert len(receiver.requests) == 3
    ids = {h["onhand-event-id"] for h, _ in receiver.requests}
    assert ids == {str(dead["event_id"])}  # every retry is the same event
    metrics = shop.get(f"{srv.url}/metrics").text
    assert f'onhand_webhook_dead_letters{{tenant="{tenant}"}} 1.0' in metrics
    receiver.status = 200
    r = shop.post(f"/webhooks/{hook['id']}/deliveries/{dead['id']}/redeliver")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    eventually(lambda: deliveries()[0]["status"] == "delivered", timeout=10)
    assert len(receiver.requests) == 4


def test_a_receiver_that_is_down_gets_the_event_once_it_answers(server, engine, tenant, receiver):
    receiver.status = 503
    srv = server(
        allow_private_networks=LOCAL, webhook_max_attempts=10, webhook_backoff_seconds=0.05
    )
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    hook = shop.post("/webhooks", json={"url": receiver.url}).json()
    move(shop, "receipt", "A", 2)
    eventually(lambda: len(receiver.requests) >= 2)
    receiver.status = 200
    done = eventually(
        lambda: (
            (d := shop.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"])
            and d[0]["status"] == "delivered"
            and d[0]
        )
    )
    assert done["attempts"] >= 3
