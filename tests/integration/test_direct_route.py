"""The hold route's direct path (edge.direct): well-formed holds skip FastAPI's parameter
solving, and every other request gets exactly the answer FastAPI gives it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from conftest import make_token
from onhand.app import create_app
from onhand.reservations.routes import create as hold_endpoint
from onhand.settings import Settings

HOLD = b'{"lines": [{"sku": "HOT", "qty": 1}]}'
JSON = {"content-type": "application/json"}

# (what it is, body, extra headers): each must be refused alike with and without the direct path.
REFUSED: list[tuple[str, bytes, dict[str, str]]] = [
    ("no content type", HOLD, {}),
    ("text/plain", HOLD, {"content-type": "text/plain"}),
    ("form", b"lines=1", {"content-type": "application/x-www-form-urlencoded"}),
    ("empty body", b"", JSON),
    ("null", b"null", JSON),
    ("an array", b"[]", JSON),
    ("no lines", b"{}", JSON),
    ("zero lines", b'{"lines": []}', JSON),
    ("zero units", b'{"lines": [{"sku": "HOT", "qty": 0}]}', JSON),
    ("text for a number", b'{"lines": [{"sku": "HOT", "qty": "one"}]}', JSON),
    ("cut short", b'{"lines": [', JSON),
    ("a key twice", b'{"lines": [], "lines": [{"sku": "HOT", "qty": 1}]}', JSON),
    ("NaN", b'{"lines": [{"sku": "HOT", "qty": NaN}]}', JSON),
    ("not UTF-8", b'{"reference": "\xff", "lines": [{"sku": "HOT", "qty": 1}]}', JSON),
    (
        "NUL in a reference",
        b'{"reference": "a\\u0000b", "lines": [{"sku": "HOT", "qty": 1}]}',
        JSON,
    ),
    ("a long idempotency key", HOLD, {**JSON, "Idempotency-Key": "k" * 201}),
    (
        "two faults at once",
        b'{"lines": [{"sku": "HOT", "qty": 0}]}',
        {**JSON, "Idempotency-Key": "k" * 201},
    ),
    ("an unknown SKU", b'{"lines": [{"sku": "NOPE", "qty": 1}]}', JSON),
    ("more than there is", b'{"lines": [{"sku": "HOT", "qty": 1000}]}', JSON),
]


@pytest.fixture
def solved(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The endpoints FastAPI solved parameters for, in order."""
    calls: list[Any] = []
    real = fastapi.routing.solve_dependencies

    async def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["dependant"].call)
        return await real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counting)
    return calls


@pytest.fixture
def both(engine) -> Iterator[tuple[TestClient, TestClient]]:
    """A client of the app as it serves, and one of the same app without the direct path."""
    apps = [
        create_app(Settings(database_url=str(engine.url), run_jobs=False), engine) for _ in "ab"
    ]
    apps[1].state.direct_routes = False
    with TestClient(apps[0]) as fast, TestClient(apps[1]) as full:
        yield fast, full


def _stock(api) -> None:
    api.post("/locations", json={"code": "WH1", "name": "Main"})
    api.post("/items", json={"sku": "HOT", "name": "Hot"})
    api.post("/movements", json={"type": "receipt", "sku": "HOT", "location": "WH1", "qty": 5})


def test_a_well_formed_hold_skips_parameter_solving(api, solved):
    _stock(api)
    ids = []
    for content_type in ("application/json", "Application/JSON; charset=utf-8"):
        r = api.post(
            "/reservations",
            content=HOLD,
            headers={"content-type": content_type, "Idempotency-Key": content_type},
        )
        assert r.status_code == 201, r.text
        assert r.json()["lines"][0]["qty"] == 1
        ids.append(r.json()["id"])
    # The idempotency key reached the endpoint: the same key and body replay the first hold.
    again = api.post(
        "/reservations",
        content=HOLD,
        headers={"content-type": "application/json", "Idempotency-Key": "application/json"},
    )
    assert again.status_code == 201 and again.json()["id"] == ids[0], again.text
    assert hold_endpoint not in solved
    assert api.get("/availability/HOT").json()["available"] == 3
    refused = api.post("/reservations", content=b"{}", headers=JSON)
    assert refused.status_code == 422
    assert solved.count(hold_endpoint) == 1, "a refused hold goes through FastAPI"


def test_refused_holds_get_the_answer_fastapi_gives(both, engine, tenant, api):
    _stock(api)
    fast, full = both
    token = make_token(engine, tenant, "storefront")
    for what, body, headers in REFUSED:
        answers = [
            client.post(
                f"/v1/{tenant}/reservations",
                content=body,
                headers={"Authorization": f"Bearer {token}", **headers},
            )
            for client in (fast, full)
        ]
        a, b = answers
        assert a.status_code >= 400, (what, a.text)
        assert (a.status_code, a.headers["content-type"], a.json()) == (
            b.status_code,
            b.headers["content-type"],
            b.json(),
        ), what
    assert api.get("/reservations").json()["reservations"] == []
    assert api.get("/availability/HOT").json()["available"] == 5


def test_the_openapi_document_is_the_same_with_and_without_the_direct_path(both):
    fast, full = both
    assert fast.get("/openapi.json").json() == full.get("/openapi.json").json()
