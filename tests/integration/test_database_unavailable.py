"""A database that cannot be reached is a 503 the client may retry, never a 500."""

from fastapi.testclient import TestClient

from onhand import db
from onhand.app import create_app
from onhand.settings import Settings

DEAD = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"


def test_an_unreachable_database_answers_503_with_retry_after():
    settings = Settings(database_url=DEAD, run_jobs=False)
    with TestClient(create_app(settings, db.make_engine(DEAD))) as client:
        for r in (
            client.get("/health"),
            client.get("/v1/acme/availability/A", headers={"Authorization": "Bearer onh_a_b"}),
        ):
            assert r.status_code == 503, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["retry-after"] == "1"
            assert r.json()["type"].endswith("/database-unavailable")
