"""The public token a page embeds reads availability only and is rate limited; the storefront
token holds stock by id but cannot list holds, within the tenant's lifetime and extension limits
(issue 14, item 5; API.md "HTTP")."""

from __future__ import annotations

import uuid

import pytest
from apikit import assert_problem
from fastapi.testclient import TestClient

from conftest import Api, make_token
from onhand.app import create_app
from onhand.settings import Settings


@pytest.fixture
def shop(api):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    assert api.post("/items", json={"sku": "BOOK", "name": "Dune"}).status_code == 201
    r = api.post(
        "/movements", json={"type": "receipt", "sku": "BOOK", "location": "WH1", "qty": 750}
    )
    assert r.status_code == 201
    return api


def as_(api: Api, engine, *scopes: str) -> Api:
    return Api(api.client, api.tenant, make_token(engine, api.tenant, *scopes))


def _app(engine, **settings):
    # Windows of an hour: a test's burst never straddles the start of a new window.
    values = {"rate_limit_window_seconds": 3600, **settings}
    return create_app(Settings(database_url=str(engine.url), run_jobs=False, **values), engine)


def hold(api: Api, qty: int = 1, **body) -> dict:
    r = api.post("/reservations", json={"lines": [{"sku": "BOOK", "qty": qty}], **body})
    assert r.status_code == 201, r.text
    return r.json()


# ---- public ---------------------------------------------------------------------------------


def test_a_public_token_reads_availability(shop, engine):
    page = as_(shop, engine, "public")
    assert page.get("/availability/BOOK").json()["available"] == 750
    assert page.get("/availability", params={"skus": "BOOK"}).status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/reservations", {"lines": [{"sku": "BOOK", "qty": 1}]}),
        ("GET", "/reservations", None),
        ("GET", "/items/BOOK", None),
        ("GET", "/ledger", None),
        ("POST", "/movements", {"type": "receipt", "sku": "BOOK", "location": "WH1", "qty": 1}),
        ("GET", "/events", None),
        ("GET", "/webhooks", None),
        ("PATCH", "/settings", {"max_reservation_extensions": 99}),
    ],
)
def test_a_public_token_can_do_nothing_else(shop, engine, tenant_state, method, path, body):
    page = as_(shop, engine, "public")
    before = tenant_state()
    r = page.request(method, path, **({"json": body} if body else {}))
    assert_problem(r, 403)
    assert tenant_state() == before


def test_a_public_token_cannot_touch_a_hold_even_by_its_id(shop, engine, tenant_state):
    held = hold(as_(shop, engine, "storefront"))
    page = as_(shop, engine, "public")
    before = tenant_state()
    for path in ("", "/commit", "/release", "/extend"):
        method = "GET" if not path else "POST"
        body = {"json": {"ttl_seconds": 60}} if path == "/extend" else {}
        assert_problem(page.request(method, f"/reservations/{held['id']}{path}", **body), 403)
    assert tenant_state() == before


# ---- storefront ------------------------------------------------------------------------------


def test_a_storefront_token_holds_by_id_but_cannot_list(shop, engine):
    front = as_(shop, engine, "storefront")
    mine = hold(front, 2, reference="alice@example.com")
    other = hold(front, 1, reference="bob@example.com")
    assert_problem(front.get("/reservations"), 403)
    assert_problem(front.get("/reservations", params={"reference": "bob@example.com"}), 403)
    assert front.get(f"/reservations/{mine['id']}").json()["status"] == "active"
    assert (
        front.post(f"/reservations/{mine['id']}/extend", json={"ttl_seconds": 600}).status_code
        == 200
    )
    assert front.post(f"/reservations/{mine['id']}/commit").json()["status"] == "committed"
    assert front.post(f"/reservations/{other['id']}/release").json()["status"] == "released"
    listed = shop.get("/reservations").json()["reservations"]  # admin lists
    assert {r["id"] for r in listed} == {mine["id"], other["id"]}


def test_holds_live_at_most_a_day_by_default(shop, engine, tenant_state):
    front = as_(shop, engine, "storefront")
    before = tenant_state()
    r = front.post(
        "/reservations", json={"lines": [{"sku": "BOOK", "qty": 750}], "ttl_seconds": 7 * 86400}
    )
    assert_problem(r, 422, "ttl-too-long")
    assert tenant_state() == before
    held = hold(front, 1, ttl_seconds=86400)
    r = front.post(f"/reservations/{held['id']}/extend", json={"ttl_seconds": 86401})
    assert_problem(r, 422, "ttl-too-long")
    assert front.get(f"/reservations/{held['id']}").json()["expires_at"] == held["expires_at"]


def test_the_tenant_sets_the_maximum_lifetime_and_extensions(shop, engine, tenant_state):
    r = shop.patch(
        "/settings", json={"max_reservation_ttl_seconds": 3600, "max_reservation_extensions": 2}
    )
    assert r.status_code == 200, r.text
    assert r.json()["max_reservation_ttl_seconds"] == 3600
    front = as_(shop, engine, "storefront")
    assert_problem(
        front.post(
            "/reservations", json={"lines": [{"sku": "BOOK", "qty": 1}], "ttl_seconds": 3601}
        ),
        422,
    )
    held = hold(front, 1, ttl_seconds=3600)
    for _ in range(2):
        assert (
            front.post(f"/reservations/{held['id']}/extend", json={"ttl_seconds": 900}).status_code
            == 200
        )
    before = tenant_state()
    assert_problem(
        front.post(f"/reservations/{held['id']}/extend", json={"ttl_seconds": 900}),
        409,
        "too-many-extensions",
    )
    assert tenant_state() == before
    assert_problem(shop.patch("/settings", json={"reservation_ttl_seconds": 7200}), 422)


# ---- rate limits -----------------------------------------------------------------------------


def test_a_public_token_is_rate_limited_per_client_address(engine, tenant):
    app = _app(engine, public_rate_limit=5)
    token = make_token(engine, tenant, "public")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        TestClient(app, client=("198.51.100.7", 1)) as one,
        TestClient(app, client=("198.51.100.8", 1)) as two,
    ):
        url = f"/v1/{tenant}/availability/NOPE"
        assert [one.get(url, headers=headers).status_code for _ in range(5)] == [404] * 5
        r = one.get(url, headers=headers)
        doc = assert_problem(r, 429, "rate-limited")
        assert 1 <= int(r.headers["Retry-After"]) <= 3600 and doc["retry_after"] == int(
            r.headers["Retry-After"]
        )
        assert two.get(url, headers=headers).status_code == 404, "another address has its own count"
        stream = one.get(
            f"/v1/{tenant}/public/availability/stream", params={"skus": "X"}, headers=headers
        )
        assert_problem(stream, 429)


def test_a_storefront_checkout_is_not_throttled_by_default(shop, engine):
    app = _app(engine, public_rate_limit=5)
    token = make_token(engine, shop.tenant, "storefront")
    with TestClient(app, client=("198.51.100.9", 1)) as c:
        front = Api(c, shop.tenant, token)
        answers = [
            front.post(
                "/reservations", json={"lines": [{"sku": "BOOK", "qty": 1}], "ttl_seconds": 60}
            ).status_code
            for _ in range(60)
        ]
    assert answers == [201] * 60


def test_a_storefront_limit_can_be_set(shop, engine):
    app = _app(engine, storefront_rate_limit=3)
    token = make_token(engine, shop.tenant, "storefront")
    with TestClient(app, client=("198.51.100.10", 1)) as c:
        front = Api(c, shop.tenant, token)
        codes = [front.get("/availability/BOOK").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        admin = Api(c, shop.tenant, make_token(engine, shop.tenant, "admin"))
        assert [admin.get("/availability/BOOK").status_code for _ in range(10)] == [200] * 10


@pytest.mark.redis
def test_processes_share_their_counts_through_redis(engine, tenant, redis_url):
    token = make_token(engine, tenant, "public")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/v1/{tenant}/availability/NOPE"
    address = (f"203.0.113.{uuid.uuid4().int % 250 + 1}", 1)
    first = _app(engine, public_rate_limit=6, redis_url=redis_url, installation_id=uuid.uuid4().hex)
    second = _app(
        engine,
        public_rate_limit=6,
        redis_url=redis_url,
        installation_id=first.state.settings.installation_id,
    )
    with TestClient(first, client=address) as a, TestClient(second, client=address) as b:
        codes = [c.get(url, headers=headers).status_code for c in (a, b, a, b, a, b)]
        assert codes == [404] * 6
        assert_problem(a.get(url, headers=headers), 429)
        assert_problem(b.get(url, headers=headers), 429)


def test_without_redis_each_process_counts_alone(engine, tenant):
    token = make_token(engine, tenant, "public")
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/v1/{tenant}/availability/NOPE"
    first, second = _app(engine, public_rate_limit=6), _app(engine, public_rate_limit=6)
    with (
        TestClient(first, client=("203.0.113.1", 1)) as a,
        TestClient(second, client=("203.0.113.1", 1)) as b,
    ):
        assert [c.get(url, headers=headers).status_code for c in (a, b) * 6] == [404] * 12
        assert_problem(a.get(url, headers=headers), 429)
