"""The API documentation: `/docs` and `/redoc` work offline, and the OpenAPI document says
what a client needs (how to authenticate, the scope, every error as problem+json, a schema for
every success answer, and a request example for every body that the API accepts).
test_openapi_answers.py checks the success schemas against real answers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from channelkit import SECRET_KEY
from fastapi.testclient import TestClient
from shopify_fake import FakeShopify

from conftest import Api, make_token
from onhand.app import create_app
from onhand.settings import Settings

ASSET = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'onhand.db'}"
    with TestClient(create_app(Settings(database_url=url, run_jobs=False))) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_loads_every_asset_from_onhand_itself(docs_client, page):
    r = docs_client.get(page)
    assert r.status_code == 200
    html = r.text
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), (
        "nothing may come from another host"
    )
    assets = [a or b for a, b in ASSET.findall(html)]
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, html
    assert "/openapi.json" in assets
    for asset in assets:
        if asset.startswith("data:"):
            continue
        assert asset.startswith("/"), asset
        got = docs_client.get(asset)
        assert got.status_code == 200, asset
        assert len(got.content) > 1000, asset
    # The vendored bundles themselves fetch nothing at load time (no fonts, no CDN).
    for script in scripts:
        code = docs_client.get(script).text
        assert "fonts.googleapis.com" not in code
        assert "cdn.jsdelivr.net" not in code and "unpkg.com" not in code


def test_every_operation_is_documented_for_a_client(docs_client):
    spec = docs_client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["bearer"]["description"],
    }
    names = list(spec["components"]["schemas"])
    assert not [n for n in names if "__" in n or n.startswith("onhand")], names
    operations = [
        (path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) > 40
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert op.get("description"), where
        if path.startswith("/v1/"):
            assert op["security"] == [{"bearer": []}], where
            assert {"401", "403", "422", "503"} <= set(op["responses"]), where
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                content = response["content"]
                assert list(content) == ["application/problem+json"], (where, status)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_authorize_in_swagger_ui_is_kept_across_reloads(docs_client):
    assert '"persistAuthorization": true' in docs_client.get("/docs").text


def _resolve(spec: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_success_answer_has_a_real_schema(docs_client):
    spec = docs_client.get("/openapi.json").json()
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
            assert len(successes) == 1, (where, list(successes))
            for content_type, media in next(iter(successes.values())).get("content", {}).items():
                if content_type != "application/json":
                    assert content_type in ("text/csv", "text/event-stream"), (where, content_type)
                    continue
                # A route names its answer: response_model=Model, or, to keep sending its own
                # dict, openapi_extra=answers.answer(Model) (see src/onhand/answers.py).
                assert "$ref" in media["schema"], (where, "has no answer model", media["schema"])
                target = _resolve(spec, media["schema"])
                # An object with named properties, or a choice of such objects.
                choices = [_resolve(spec, c) for c in target.get("anyOf", [target])]
                for choice in choices:
                    assert choice.get("properties"), (where, choice)
                    assert choice.get("additionalProperties") is not True, where
                checked += 1
            if path.endswith(".csv"):
                assert list(next(iter(successes.values()))["content"]) == ["text/csv"], where
    assert checked > 80


def _example(spec: dict, method: str, path: str) -> dict:
    """The request example of an operation: the operation's own, else its body model's."""
    body = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    if "example" in body:
        return body["example"]
    ref = body["schema"].get("$ref") or next(
        s["$ref"] for s in body["schema"].get("anyOf", []) if "$ref" in s
    )
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema.get("examples"), f"{method} {path} has no request example"
    return schema["examples"][0]


def test_every_request_body_has_an_example(docs_client):
    spec = docs_client.get("/openapi.json").json()
    bodies = [
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op
    ]
    assert len(bodies) > 20
    for method, path in bodies:
        assert isinstance(_example(spec, method, path), dict), (method, path)


# Every operation with a body, in an order in which each example makes sense (the item exists
# before it is received, the order before it is approved, the channel before its mappings).
EXAMPLE_RUN = [
    ("POST", "/v1/{tenant}/locations"),
    ("PATCH", "/v1/{tenant}/locations/{code}"),
    ("POST", "/v1/{tenant}/items"),
    ("PATCH", "/v1/{tenant}/items/{sku}"),
    ("PATCH", "/v1/{tenant}/settings"),
    ("POST", "/v1/{tenant}/movements"),
    ("POST", "/v1/{tenant}/reservations"),
    ("POST", "/v1/{tenant}/reservations/{res_id}/extend"),
    ("POST", "/v1/{tenant}/suppliers"),
    ("PATCH", "/v1/{tenant}/suppliers/{code}"),
    ("POST", "/v1/{tenant}/items/{sku}/suppliers"),
    ("PATCH", "/v1/{tenant}/items/{sku}/suppliers/{code}"),
    ("PATCH", "/v1/{tenant}/plan/settings"),
    ("POST", "/v1/{tenant}/plan/purchase-orders"),
    ("POST", "/v1/{tenant}/purchase-orders"),
    ("PATCH", "/v1/{tenant}/purchase-orders/{po_id}"),
    ("POST", "/v1/{tenant}/purchase-orders/{po_id}/charges"),
    ("POST", "/v1/{tenant}/purchase-orders/{po_id}/receipts"),
    ("POST", "/v1/{tenant}/movements/{movement_id}/charges"),
    ("POST", "/v1/{tenant}/rma"),
    ("POST", "/v1/{tenant}/rma/{rma_id}/receive"),
    ("POST", "/v1/{tenant}/rma/{rma_id}/inspect"),
    ("POST", "/v1/{tenant}/rma/{rma_id}/refuse"),
    ("PUT", "/v1/{tenant}/counts/programme"),
    ("POST", "/v1/{tenant}/counts/tasks/{task_id}/count"),
    ("PUT", "/v1/{tenant}/policies/dispatch-preferences"),
    ("POST", "/v1/{tenant}/consumption"),
    ("POST", "/v1/{tenant}/waves"),
    ("POST", "/v1/{tenant}/pick-tasks/{task_id}/confirm"),
    ("PUT", "/v1/{tenant}/payouts/brackets"),
    ("POST", "/v1/{tenant}/webhooks"),
    ("POST", "/v1/{tenant}/channels"),
    ("PATCH", "/v1/{tenant}/channels/{code}"),
    ("POST", "/v1/{tenant}/channels/{code}/mappings"),
    ("POST", "/v1/{tenant}/lots/{sku}/{lot}/recall"),
]


@pytest.fixture(scope="module")
def fake():
    server = FakeShopify()
    yield server
    server.stop()


@pytest.fixture
def example_api(engine, tenant, fake):
    """An admin of a fresh tenant on an app that stores channel credentials and may call the
    fake Shopify on 127.0.0.1 (nothing leaves this machine)."""
    settings = Settings(
        database_url=str(engine.url),
        run_jobs=False,
        secret_key=SECRET_KEY,
        allow_private_networks="127.0.0.0/8",
    )
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, tenant, make_token(engine, tenant, "admin"))


def test_every_request_example_is_accepted(example_api, fake):
    api = example_api
    spec = api.client.get("/openapi.json").json()
    with_bodies = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "requestBody" in op and path.startswith("/v1/")
    }
    # Shopify's signed webhooks take Shopify's own body (test_channels_webhooks.py).
    assert with_bodies - set(EXAMPLE_RUN) == set()
    ids = {"tenant": api.tenant, "sku": "BOOK-1", "code": "ACME"}
    for method, template in EXAMPLE_RUN:
        body = _example(spec, method, template)
        if template.endswith("/locations/{code}"):
            ids["code"] = body.get("code", "WH1")
        if template.endswith("/receipts"):  # a delivery is booked against a sent order
            for step in ("approve", "send"):
                done = api.post(f"/purchase-orders/{ids['po_id']}/{step}")
                assert done.status_code == 200, done.text
        if template.endswith("/plan/purchase-orders"):  # suggestions come from a plan run
            assert api.post("/plan").status_code == 200
        if template.endswith("/dispatch-preferences"):  # the substitute is an item too
            made = api.post("/items", json={"sku": "BOOK-2", "name": "Second book"})
            assert made.status_code == 201, made.text
        if template.endswith("/channels"):  # the example's shop, answered by the fake
            store = fake.add_store(body["shop"].split(".")[0], token=body["access_token"])
            body = {**body, "api_url": fake.url(store.name)}
        if template.endswith("/mappings"):  # the example's variant exists in the store
            for line in body["mappings"]:
                made = store.add_variant(line["sku"], {})
                store.variants[line["variant"]] = {
                    **store.variants.pop(made["variant"]),
                    "id": line["variant"],
                }
        if template.endswith("/rma/{rma_id}/receive"):  # goods come back once approved
            done = api.post(f"/rma/{ids['rma_id']}/approve")
            assert done.status_code == 200, done.text
        if template.endswith("/refuse"):  # another request, the one that is refused
            again = api.post("/rma", json=_example(spec, "POST", "/v1/{tenant}/rma"))
            assert again.status_code == 201, again.text
            ids["rma_id"] = again.json()["id"]
        if template.endswith("/counts/tasks/{task_id}/count"):
            # First counts are spread over the class's interval: the first day one is due.
            today = datetime.now(UTC).date()
            for ahead in range(366):
                on = (today + timedelta(days=ahead)).isoformat()
                made = api.post("/counts/tasks/generate", params={"on": on})
                assert made.status_code in (200, 201), made.text
                tasks = api.get("/counts/tasks").json()["tasks"]
                if tasks:
                    break
            ids["task_id"] = tasks[0]["id"]
        if template.endswith("/recall"):  # a lot of a lot-tracked item, received
            made = api.post("/items", json={"sku": "MILK", "name": "Milk", "tracking": "lot"})
            assert made.status_code == 201, made.text
            receipt = {"type": "receipt", "sku": "MILK", "location": "WH1", "qty": 3, "lot": "L1"}
            assert api.post("/movements", json=receipt).status_code == 201
            ids |= {"sku": "MILK", "lot": "L1"}
        if template.startswith("/v1/{tenant}/suppliers/") or template.endswith("/suppliers"):
            ids["code"] = "ACME"
        if template.startswith("/v1/{tenant}/channels/"):
            ids["code"] = "occ"
        path = template.format(**ids)
        r = api.request(method, path, json=body)
        assert 200 <= r.status_code < 300, (method, template, r.status_code, r.text[:500])
        if template.endswith("/reservations"):
            ids["res_id"] = r.json()["id"]
        if template.endswith("/v1/{tenant}/movements"):
            ids["movement_id"] = r.json()["id"]
        if template.endswith("/v1/{tenant}/rma"):
            ids["rma_id"] = r.json()["id"]
        if template.endswith("/v1/{tenant}/purchase-orders"):
            ids["po_id"] = r.json()["id"]
        if template.endswith("/waves"):
            ids["task_id"] = r.json()["waves"][0]["lines"][0]["id"]
