"""The API documentation: `/docs` and `/redoc` work offline, and the OpenAPI document says
what a client needs (how to authenticate, the scope, every error as problem+json)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

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


# The operations whose request examples are posted, in an order in which each one makes sense
# (the item exists before it is received, the order exists before it is approved).
EXAMPLE_RUN = [
    ("POST", "/v1/{tenant}/locations"),
    ("POST", "/v1/{tenant}/items"),
    ("PATCH", "/v1/{tenant}/items/{sku}"),
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
    ("POST", "/v1/{tenant}/purchase-orders/{po_id}/receipts"),
]


def _example(spec: dict, method: str, path: str) -> dict:
    body = spec["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]
    ref = body["schema"].get("$ref") or next(
        s["$ref"] for s in body["schema"].get("anyOf", []) if "$ref" in s
    )
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema.get("examples"), f"{method} {path} has no request example"
    return schema["examples"][0]


def test_every_request_example_is_accepted(api):
    spec = api.client.get("/openapi.json").json()
    ids = {"tenant": api.tenant, "sku": "BOOK-1", "code": "ACME"}
    for method, template in EXAMPLE_RUN:
        if template.endswith("/receipts"):  # a delivery is booked against a sent order
            for step in ("approve", "send"):
                done = api.post(f"/purchase-orders/{ids['po_id']}/{step}")
                assert done.status_code == 200, done.text
        if template.endswith("/plan/purchase-orders"):  # suggestions come from a plan run
            assert api.post("/plan").status_code == 200
        path = template.format(**ids)
        r = api.request(method, path, json=_example(spec, method, template))
        assert 200 <= r.status_code < 300, (method, template, r.status_code, r.text[:500])
        if template.endswith("/reservations"):
            ids["res_id"] = r.json()["id"]
        if template.endswith("/v1/{tenant}/purchase-orders"):
            ids["po_id"] = r.json()["id"]
