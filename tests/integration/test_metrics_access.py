"""`/metrics` lists every tenant: a token when one is set, else loopback only (issue 14, item 9;
API.md "HTTP")."""

from __future__ import annotations

import httpx
import pytest
from apikit import assert_problem
from fastapi.testclient import TestClient

from onhand.app import create_app
from onhand.settings import Settings

TOKEN = "scrape-secret-0123456789"


def _app(engine, **settings):
    return create_app(Settings(database_url=str(engine.url), run_jobs=False, **settings), engine)


@pytest.mark.parametrize("address", ["203.0.113.7", "10.0.0.5", "testclient"])
def test_without_a_token_other_clients_are_refused(engine, address):
    with TestClient(_app(engine), client=(address, 40000)) as c:
        r = c.get("/metrics")
    assert_problem(r, 403)
    assert "ONHAND_METRICS_TOKEN" in r.json()["detail"] and "onhand_" not in r.text


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1"])
def test_without_a_token_loopback_clients_are_served(engine, address):
    with TestClient(_app(engine), client=(address, 40000)) as c:
        r = c.get("/metrics")
    assert r.status_code == 200 and "onhand_http_requests_total" in r.text


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"]
)
def test_with_a_token_set_a_missing_or_wrong_one_is_401_even_from_loopback(engine, header):
    headers = {"Authorization": header} if header else {}
    with TestClient(_app(engine, metrics_token=TOKEN), client=("127.0.0.1", 40000)) as c:
        r = c.get("/metrics", headers=headers)
    assert_problem(r, 401)
    assert "onhand_" not in r.text


def test_with_a_token_set_the_token_is_served_from_anywhere(engine):
    with TestClient(_app(engine, metrics_token=TOKEN), client=("203.0.113.7", 40000)) as c:
        r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and "# TYPE onhand_http_requests_total counter" in r.text


def test_a_real_server_answers_its_loopback_clients(live_server):
    # A real socket: the peer address is the one uvicorn reports, not a test client's label.
    r = httpx.get(f"{live_server.url}/metrics")
    assert r.status_code == 200 and "onhand_http_requests_total" in r.text


def test_with_several_workers_every_scrape_sums_all_of_them(engine, backend):
    """`onhand serve --workers 2`: requests land on either process, and a scrape, whichever
    process answers it, counts every request once and the database's figures once."""
    if backend == "sqlite":
        pytest.skip("several workers serve PostgreSQL (auto gives SQLite one)")
    from conftest import LiveServer

    server = LiveServer(engine.url.render_as_string(hide_password=False), workers="2")
    try:
        for _ in range(60):  # a new connection each, so the kernel hands them to both workers
            assert httpx.get(f"{server.url}/no-such-page").status_code == 404
        line = 'onhand_http_requests_total{method="GET",route="unmatched",status="404"}'
        for _ in range(8):
            scraped = httpx.get(f"{server.url}/metrics").text
            counted = [row.split()[-1] for row in scraped.splitlines() if row.startswith(line)]
            assert counted == ["60.0"]
            assert scraped.count("# TYPE onhand_outbox_lag_rows gauge") == 1
    finally:
        server.stop()
