"""One configuration path: the Settings given to create_app are the ones the service uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import Api, make_token
from onhand.app import create_app
from onhand.settings import Settings


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("group_commit", [True, False])
def test_hold_lifetime_comes_from_the_settings_passed_in(engine, tenant, group_commit):
    settings = Settings(
        database_url=str(engine.url),
        run_jobs=False,
        reservation_ttl_seconds=5,
        group_commit=group_commit,
    )
    with TestClient(create_app(settings, engine)) as client:
        api = Api(client, tenant, make_token(engine, tenant, "admin"))
        assert api.post("/locations", json={"code": "WH1", "name": "Main"}).status_code == 201
        item = {"sku": "MUG", "name": "Mug", "kind": "physical"}
        assert api.post("/items", json=item).status_code == 201
        receipt = {"type": "receipt", "sku": "MUG", "location": "WH1", "qty": 10}
        assert api.post("/movements", json=receipt).status_code == 201

        def lifetime(**fields: object) -> tuple[timedelta, timedelta]:
            """Bounds of the hold's lifetime: expires_at less the times around the request."""
            before = datetime.now(UTC)
            r = api.post("/reservations", json={"lines": [{"sku": "MUG", "qty": 1}], **fields})
            after = datetime.now(UTC)
            assert r.status_code == 201, r.text
            expires = stamp(r.json()["expires_at"])
            return expires - after, expires - before

        def lasts(seconds: int, **fields: object) -> bool:
            low, high = lifetime(**fields)
            slack = timedelta(milliseconds=5)  # clocks read by the test and by the server
            return low - slack <= timedelta(seconds=seconds) <= high + slack

        assert lasts(5)
        # The request's own lifetime and then the tenant's setting still come first.
        assert lasts(60, ttl_seconds=60)
        patch = api.patch("/settings", json={"reservation_ttl_seconds": 120})
        assert patch.status_code == 200, patch.text
        assert lasts(120)
