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
