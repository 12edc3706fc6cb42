"""Bearer tokens, scopes and tenant isolation (API.md "HTTP", DESIGN.md invariant 5)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from apikit import assert_problem

from conftest import Api, make_token
from onhand import auth, db
from onhand.errors import Invalid
from onhand.tables import tokens


@pytest.fixture
def stocked(api):
    assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
    assert api.post("/items", json={"sku": "BOOK-1", "name": "Dune"}).status_code == 201
    assert (
        api.post(
            "/movements", json={"type": "receipt", "sku": "BOOK-1", "location": "WH1", "qty": 5}
        ).status_code
        == 201
    )
    return api


def as_(api: Api, token: str | None) -> Api:
    return Api(api.client, api.tenant, token)  # type: ignore[arg-type]


def new_tenant(engine) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, name)
    return name


# ---- 401 -----------------------------------------------------------------------------------


def test_missing_token_is_401(stocked):
    r = stocked.client.get(f"/v1/{stocked.tenant}/items/BOOK-1")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer onh_000000000000_nosuchsecret",
        "Bearer onh_",
        "Bearer onh__",
    ],
)
def test_malformed_or_unknown_token_is_401(stocked, header):
    r = stocked.client.get(f"/v1/{stocked.tenant}/items/BOOK-1", headers={"Authorization": header})
    assert_problem(r, 401)


def test_right_token_id_with_a_wrong_secret_is_401(stocked):
    prefix, token_id, _secret = stocked.token.split("_", 2)
    forged = f"{prefix}_{token_id}_{'x' * 43}"
    assert_problem(as_(stocked, forged).get("/items/BOOK-1"), 401)


def test_revoked_token_is_401(stocked, engine):
    token = make_token(engine, stocked.tenant, "admin")
    assert as_(stocked, token).get("/items/BOOK-1").status_code == 200
    with db.write(engine) as conn:
        auth.revoke_token(conn, token.split("_")[1])
    auth._cache.clear()  # a verified token is trusted for 5 s in-process
    assert_problem(as_(stocked, token).get("/items/BOOK-1"), 401)
    assert stocked.get("/items/BOOK-1").status_code == 200, "other tokens keep working"


def test_write_with_a_revoked_token_changes_nothing(stocked, engine, tenant_state):
    token = make_token(engine, stocked.tenant, "admin")
    with db.write(engine) as conn:
        auth.revoke_token(conn, token.split("_")[1])
    auth._cache.clear()
    before = tenant_state()
    assert_problem(
        as_(stocked, token).post(
            "/movements", json={"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 1}
        ),
        401,
    )
    assert tenant_state() == before


# ---- 403 -----------------------------------------------------------------------------------


def test_token_of_another_tenant_is_403(stocked, engine, tenant_state):
    other = new_tenant(engine)
    foreign = make_token(engine, other, "admin")
    before = tenant_state()
    assert_problem(as_(stocked, foreign).get("/items/BOOK-1"), 403)
    assert_problem(as_(stocked, foreign).get("/availability/BOOK-1"), 403)
    assert_problem(
        as_(stocked, foreign).post(
            "/movements", json={"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 5}
        ),
        403,
    )
    assert tenant_state() == before


def test_token_for_a_tenant_that_does_not_exist_is_403(stocked):
    r = stocked.client.get(
        "/v1/no-such-tenant/items/BOOK-1", headers={"Authorization": f"Bearer {stocked.token}"}
    )
    assert_problem(r, 403)


ADMIN_ONLY = [
    ("POST", "/locations", {"code": "WH9", "name": "x"}),
    ("GET", "/locations", None),
    ("GET", "/locations/WH1", None),
    ("GET", "/locations/WH1/balances", None),
    ("POST", "/items", {"sku": "NEW-1", "name": "x"}),
    ("GET", "/items", None),
    ("GET", "/items/BOOK-1", None),
    ("PATCH", "/items/BOOK-1", {"name": "renamed"}),
    ("POST", "/movements", {"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 1}),
    ("GET", "/ledger", None),
]


@pytest.mark.parametrize("scope", ["storefront", "sync"])
@pytest.mark.parametrize(
    "method, path, body", ADMIN_ONLY, ids=[f"{m} {p}" for m, p, _ in ADMIN_ONLY]
)
def test_admin_endpoints_refuse_other_scopes(
    stocked, engine, tenant_state, scope, method, path, body
):
    token = make_token(engine, stocked.tenant, scope)
    before = tenant_state()
    r = as_(stocked, token).request(method, path, **({"json": body} if body else {}))
    assert_problem(r, 403)
    assert tenant_state() == before


def test_storefront_can_read_availability(stocked, engine):
    shop = as_(stocked, make_token(engine, stocked.tenant, "storefront"))
    r = shop.get("/availability/BOOK-1")
    assert r.status_code == 200
    assert r.json()["available"] == 5
    many = shop.get("/availability", params={"skus": "BOOK-1"})
    assert many.status_code == 200
    assert many.json()["availability"][0]["available"] == 5


def test_sync_token_cannot_read_availability(stocked, engine):
    sync = as_(stocked, make_token(engine, stocked.tenant, "sync"))
    assert_problem(sync.get("/availability/BOOK-1"), 403)


def test_token_with_several_scopes_has_each_of_them(stocked, engine):
    both = as_(stocked, make_token(engine, stocked.tenant, "storefront", "sync"))
    assert both.get("/availability/BOOK-1").status_code == 200
    assert_problem(both.get("/items/BOOK-1"), 403)


def test_unknown_scope_cannot_be_granted(engine, tenant):
    with pytest.raises(Invalid):
        make_token(engine, tenant, "root")
    with pytest.raises(Invalid):
        make_token(engine, tenant)


# ---- storage -------------------------------------------------------------------------------


def test_tokens_are_stored_hashed(engine, tenant):
    token = make_token(engine, tenant, "admin")
    _, token_id, secret = token.split("_", 2)
    with db.read(engine) as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).one()
        every_value = [str(v) for r in conn.execute(sa.select(tokens)) for v in r]
    assert row.tenant_id == tenant
    assert row.secret_hash != secret
    assert not any(secret in value for value in every_value), "the secret must never be stored"
    assert not any(token in value for value in every_value)


def test_listing_tokens_never_shows_a_secret(engine, tenant):
    token = make_token(engine, tenant, "storefront")
    with db.read(engine) as conn:
        listed = auth.list_tokens(conn, tenant)
    assert [t["id"] for t in listed] == [token.split("_")[1]]
    assert token.split("_", 2)[2] not in repr(listed)


# ---- tenant isolation ------------------------------------------------------------------------


@pytest.fixture
def neighbour(api, engine) -> Api:
    """A second tenant served by the same app, with the same location code and SKU."""
    other = new_tenant(engine)
    neighbour = Api(api.client, other, make_token(engine, other, "admin"))
    assert neighbour.post("/locations", json={"code": "WH1", "name": "Theirs"}).status_code == 201
    assert neighbour.post("/items", json={"sku": "BOOK-1", "name": "Their book"}).status_code == 201
    assert (
        neighbour.post("/items", json={"sku": "SECRET", "name": "Theirs only"}).status_code == 201
    )
    assert (
        neighbour.post(
            "/movements", json={"type": "receipt", "sku": "BOOK-1", "location": "WH1", "qty": 100}
        ).status_code
        == 201
    )
    return neighbour


def test_a_tenant_never_sees_another_tenants_rows(stocked, neighbour):
    assert stocked.get("/items/BOOK-1").json()["name"] == "Dune"
    assert [i["sku"] for i in stocked.get("/items").json()["items"]] == ["BOOK-1"]
    assert stocked.get("/items", params={"q": "SECRET"}).json()["items"] == []
    assert stocked.get("/items/SECRET").status_code == 404
    assert [loc["name"] for loc in stocked.get("/locations").json()["locations"]] == ["Main"]
    doc = stocked.get("/availability/BOOK-1").json()
    assert (doc["on_hand"], doc["available"]) == (5, 5)
    assert [e["delta"] for e in stocked.get("/ledger").json()["entries"]] == [5]
    assert [b["on_hand"] for b in stocked.get("/locations/WH1/balances").json()["balances"]] == [5]
    assert stocked.get("/availability/SECRET").status_code == 404
    assert stocked.get("/ledger", params={"sku": "SECRET"}).status_code == 404


def test_a_tenant_cannot_touch_another_tenants_rows(stocked, neighbour, engine):
    from conftest import snapshot

    theirs = snapshot(engine, neighbour.tenant)
    assert (
        stocked.post(
            "/movements", json={"type": "ship", "sku": "SECRET", "location": "WH1", "qty": 1}
        ).status_code
        == 404
    )
    assert (
        stocked.post(
            "/items",
            json={
                "sku": "PACK:S",
                "name": "kit",
                "kind": "bundle",
                "components": [{"sku": "SECRET", "qty": 1}],
            },
        ).status_code
        == 404
    )
    assert (
        stocked.post(
            "/movements", json={"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 6}
        ).status_code
        == 409
    )
    assert (
        stocked.post(
            "/movements", json={"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 5}
        ).status_code
        == 201
    )
    assert snapshot(engine, neighbour.tenant) == theirs
    assert neighbour.get("/availability/BOOK-1").json()["on_hand"] == 100


def test_idempotency_keys_belong_to_one_tenant(stocked, neighbour):
    body = {"type": "receipt", "sku": "BOOK-1", "location": "WH1", "qty": 1}
    mine = stocked.post("/movements", json=body, headers={"Idempotency-Key": "same"})
    theirs = neighbour.post("/movements", json=body, headers={"Idempotency-Key": "same"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert stocked.get("/availability/BOOK-1").json()["on_hand"] == 6
    assert neighbour.get("/availability/BOOK-1").json()["on_hand"] == 101
