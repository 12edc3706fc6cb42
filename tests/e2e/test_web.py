"""The dashboard and the storefront badge are served as static files, with nothing from outside."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import ServerThread
from onhand import db, schema
from onhand.app import create_app
from onhand.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "src" / "onhand" / "web" / "static"


@pytest.fixture(scope="module")
def web_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def client(web_engine: sa.Engine) -> Iterator[TestClient]:
    settings = Settings(database_url=str(web_engine.url), run_jobs=False)
    with TestClient(create_app(settings, web_engine)) as c:
        yield c


def test_the_dashboard_page_is_served(client):
    r = client.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert '<script type="module" src="/dashboard/dashboard.js">' in r.text
    assert 'href="/dashboard/dashboard.css"' in r.text


@pytest.mark.parametrize("view", ["stock", "planning", "purchase-orders"])
def test_a_deep_link_to_a_view_answers_the_page(client, view):
    r = client.get(f"/dashboard/{view}?sku=BOOK-DUNE")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("dashboard.css", "text/css"),
        ("dashboard.js", "text/javascript"),
        ("views/index.js", "text/javascript"),
        ("lib/api.js", "text/javascript"),
        ("vendor/uPlot.iife.min.js", "text/javascript"),
        ("vendor/uPlot.min.css", "text/css"),
    ],
)
def test_the_dashboard_assets_are_served(client, name, media_type):
    r = client.get(f"/dashboard/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media_type)
    assert r.content == (STATIC / name).read_bytes()


def test_the_badge_script_is_served(client):
    r = client.get("/badge.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "/availability/" in r.text
    assert "max-age" in r.headers["cache-control"]


def test_an_unknown_dashboard_file_is_a_problem(client):
    r = client.get("/dashboard/secrets.txt")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/dashboard/views/nothing.js").status_code == 404
    assert client.get("/dashboard/vendor/README.md").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/../settings.py",
        "/dashboard/views/../../routes.py",
        "/dashboard/views/..%2F..%2Froutes.py",
        "/dashboard/%2e%2e/%2e%2e/settings.py",
        "/dashboard/lib/..%5C..%5Croutes.py",
        "/dashboard//etc/passwd",
        "/dashboard/.hidden.js",
    ],
)
def test_a_path_out_of_the_static_folder_is_refused(client, path):
    # Sent raw: httpx would normalise `..` away before the request reached the guard.
    transport = client._transport
    request = client.build_request("GET", "http://testserver/")
    request.url = request.url.copy_with(raw_path=path.encode())
    r = transport.handle_request(request)
    r.read()
    assert r.status_code == 404, path
    assert b"BaseSettings" not in r.content and b"APIRouter" not in r.content


def test_the_guard_refuses_what_resolves_outside(tmp_path):
    from onhand.web.routes import asset_path

    assert asset_path("views/index.js") is not None
    for bad in ["../routes.py", "views/../../routes.py", "lib/../../__init__.py", "", "a//b.js"]:
        assert asset_path(bad) is None, bad


# Files next to static/ that a path escaping it would reach: web/routes.py, onhand/settings.py.
ESCAPES = {"../routes.py": "APIRouter", "../../settings.py": "BaseSettings"}


def test_an_encoded_path_out_of_the_static_folder_is_refused(client):
    # httpx drops literal "../" segments before sending; encoded slashes reach the server as
    # they are and are decoded into the path the route sees.
    for path, source in ESCAPES.items():
        r = client.get("/dashboard/" + path.replace("/", "%2F"))
        assert r.status_code == 404, (path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
        assert source not in r.text


def raw_get(port: int, target: str) -> tuple[int, str]:
    """One HTTP/1.1 request with the request target exactly as given (no normalisation)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_a_raw_dot_dot_path_is_refused(web_engine):
    live = ServerThread(web_engine, run_jobs=False)
    try:
        for path, source in ESCAPES.items():
            status, body = raw_get(live.port, "/dashboard/" + path)
            assert status == 404, (path, status)
            assert source not in body
        status, body = raw_get(live.port, "/dashboard/dashboard.css")
        assert status == 200 and body  # the same server does serve its own files
    finally:
        live.stop()


def test_nothing_is_loaded_from_the_internet():
    html = (STATIC / "dashboard.html").read_text()
    css = (STATIC / "dashboard.css").read_text()
    js = "\n".join(
        p.read_text()
        for p in STATIC.rglob("*.js")
        if p.parent.name != "vendor" and p.name != "badge.js"
    )
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert not re.search(r"""["'`](https?:)?//""", js)
