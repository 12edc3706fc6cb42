"""The dashboard and the storefront badge are served as static files, with nothing from outside."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from onhand import db, schema
from onhand.app import create_app
from onhand.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "src" / "onhand" / "web" / "static"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
    engine = db.make_engine(url)
    schema.upgrade(engine)
    with TestClient(create_app(Settings(database_url=url, run_jobs=False), engine)) as c:
        yield c
    engine.dispose()


def test_the_dashboard_page_is_served(client):
    r = client.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert 'src="dashboard/dashboard.js"' in r.text and 'href="dashboard/dashboard.css"' in r.text


@pytest.mark.parametrize(
    ("name", "media_type"), [("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")]
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
    r = client.get("/dashboard/../settings.py")
    assert r.status_code == 404
    r = client.get("/dashboard/secrets.txt")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_nothing_is_loaded_from_the_internet():
    html = (STATIC / "dashboard.html").read_text()
    css = (STATIC / "dashboard.css").read_text()
    js = (STATIC / "dashboard.js").read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert not re.search(r"""["'`](https?:)?//""", js)
