"""Webhooks cannot reach the server's own network, and one bad webhook cannot stop the others
(issue 14, items 2 and 3)."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
import sqlalchemy as sa
from apikit import assert_problem
from eventkit import Receiver, eventually, move, stock_tenant

from conftest import make_token
from onhand import db
from onhand.events.tables import webhooks
from onhand.events.webhook_delivery import REFUSED

PRIVATE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://localhost:6379/",
    "http://app.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://10.0.0.8/hook",
    "http://192.168.1.1/hook",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
]
MALFORMED_URLS = [
    "http://x\u0001y/",
    "http://x y/",
    "http://user:pass@example.com/",
    "ftp://example.com/",
    "http:///nohost",
    "javascript:alert(1)",
]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_loopback_link_local_and_multicast_urls_are_refused(api, tenant_state, url):
    before = tenant_state()
    r = api.post("/webhooks", json={"url": url})
    assert_problem(r, 422)
    assert "public" in r.json()["detail"] or "number" in r.json()["detail"]
    assert tenant_state() == before


@pytest.mark.parametrize("url", MALFORMED_URLS)
def test_malformed_urls_are_refused_at_registration(api, tenant_state, url):
    before = tenant_state()
    assert_problem(api.post("/webhooks", json={"url": url}), 422)
    assert tenant_state() == before


def test_a_public_url_is_accepted(api):
    assert api.post("/webhooks", json={"url": "https://erp.example.com/onhand"}).status_code == 201


def _plant(engine, tenant: str, url: str) -> str:
    """A webhook row as an older version stored it, without today's URL checks."""
    hook_id = str(uuid.uuid4())
    with db.write(engine) as conn:
        conn.execute(
            webhooks.insert().values(
                tenant_id=tenant,
                id=hook_id,
                url=url,
                types=["*"],
                secret="whsec_planted_secret_0123",
                active=True,
                created_at=db.utcnow(),
            )
        )
    return hook_id


def _deliveries(engine, hook_id: str) -> list[sa.Row]:
    from onhand.events.tables import webhook_deliveries as d

    with db.read(engine) as conn:
        return conn.execute(sa.select(d).where(d.c.webhook_id == hook_id)).all()


def _new_tenant(engine) -> tuple[str, str]:
    name = f"t{uuid.uuid4().hex[:12]}"
    return name, make_token(engine, name, "admin")


def test_delivery_to_a_private_address_is_refused_with_a_generic_error(server, engine, receiver):
    srv = server(webhook_backoff_seconds=60)  # no private network allowed
    tenant, token = _new_tenant(engine)
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    hook = _plant(engine, tenant, receiver.url)  # http://127.0.0.1:<port>/hook
    move(shop, "receipt", "A", 1)
    done = eventually(lambda: [d for d in _deliveries(engine, hook) if d.attempts >= 1])
    time.sleep(1.0)
    assert receiver.requests == [], "the receiver on 127.0.0.1 must not be reached"
    assert done[0].last_error == REFUSED and done[0].last_status_code is None
    assert str(receiver.server.server_address[1]) not in done[0].last_error


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery(server, engine, receiver):
    host = socket.gethostname()
    resolved = {info[4][0] for info in socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM)}
    if not any(a.startswith(("127.", "10.", "192.168.", "172.")) or a == "::1" for a in resolved):
        pytest.skip(f"{host} resolves to a public address here")
    srv = server(webhook_backoff_seconds=60)
    tenant, token = _new_tenant(engine)
    shop = stock_tenant(srv.url, tenant, token, {"A": 0})
    url = receiver.url.replace("127.0.0.1", host)
    r = shop.post("/webhooks", json={"url": url})
    assert r.status_code == 201, "a host name passes registration: DNS is asked at delivery"
    move(shop, "receipt", "A", 1)
    log = eventually(
        lambda: (
            (d := shop.get(f"/webhooks/{r.json()['id']}/deliveries").json()["deliveries"])
            and d[0]["attempts"] >= 1
            and d
        )
    )
    assert receiver.requests == []
    assert log[0]["last_error"] == REFUSED


def test_a_broken_webhook_of_one_tenant_does_not_stop_anyone_elses(server, engine, receiver):
    srv = server(allow_private_networks="127.0.0.0/8", webhook_backoff_seconds=60)
    bad_tenant, bad_token = _new_tenant(engine)
    bad = stock_tenant(srv.url, bad_tenant, bad_token, {"A": 0})
    poisoned = _plant(engine, bad_tenant, "http://x\u0001y/")
    good_tenant, good_token = _new_tenant(engine)
    good = stock_tenant(srv.url, good_tenant, good_token, {"A": 0})
    hook = good.post("/webhooks", json={"url": receiver.url}).json()
    move(bad, "receipt", "A", 1)
    move(good, "receipt", "A", 1)
    eventually(lambda: receiver.requests)
    failed = eventually(lambda: [d for d in _deliveries(engine, poisoned) if d.attempts >= 1])
    time.sleep(2.5)  # a crashing sender would restart and re-send every second
    assert len(receiver.requests) == 1, "the good tenant's event arrives exactly once"
    assert [d.attempts for d in _deliveries(engine, poisoned)] == [1]
    assert failed[0].status == "pending" and "could not be made" in failed[0].last_error
    delivered = good.get(f"/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert [d["status"] for d in delivered] == ["delivered"]
    move(good, "receipt", "A", 1)  # the sender still runs
    eventually(lambda: len(receiver.requests) == 2)
