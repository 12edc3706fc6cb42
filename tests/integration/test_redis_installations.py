"""Two installations on one Redis database never read each other's figures (issue 14, item 10)."""

from __future__ import annotations

import logging
import uuid

import pytest
import redis as redis_lib
from fastapi.testclient import TestClient

from onhand import db
from onhand.app import create_app
from onhand.cache.figures import encode
from onhand.cache.redis_cache import AvailabilityCache
from onhand.installation import installation_id
from onhand.settings import Settings

pytestmark = pytest.mark.redis


@pytest.fixture
def redis(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


def test_the_installation_id_follows_the_database_not_its_password():
    a = Settings(database_url="postgresql+psycopg://app:secret@db1:5432/shop")
    same = Settings(database_url="postgresql+psycopg://app:other@db1:5432/shop")
    b = Settings(database_url="postgresql+psycopg://app:secret@db1:5432/outlet")
    assert installation_id(a) == installation_id(same) != installation_id(b)
    assert installation_id(Settings(database_url="sqlite:///./x.db")) != installation_id(
        Settings(database_url="sqlite:////srv/y.db")
    )
    assert installation_id(Settings(installation_id="eu-1")) == "eu-1"


def test_two_installations_on_one_redis_keep_their_own_figures(redis_url, redis):
    tenant, sku = "shared-name", f"SKU-{uuid.uuid4().hex[:6]}"
    one = AvailabilityCache.from_settings(
        Settings(database_url="postgresql+psycopg://db1/shop", redis_url=redis_url)
    )
    two = AvailabilityCache.from_settings(
        Settings(database_url="postgresql+psycopg://db2/shop", redis_url=redis_url)
    )
    try:
        assert one.key(tenant, sku) != two.key(tenant, sku)
        for cache, figure in ((one, 5), (two, 900)):
            cache.set_ready(True)
            cache.write(tenant, {sku: encode({"available": figure}, None)})
        now = db.utcnow()
        assert one.lookup(tenant, sku, now) == {"available": 5}
        assert two.lookup(tenant, sku, now) == {"available": 900}
    finally:
        redis.delete(one.key(tenant, sku), two.key(tenant, sku))
        one.close()
        two.close()


def test_start_up_warns_when_another_installation_uses_the_same_redis(
    engine, redis_url, redis, caplog
):
    # The warning names at most ten other installations: start from a test database without
    # the keys that earlier tests and runs left behind, so the stranger is among them.
    for name in redis.scan_iter(match="onhand:*", count=1000):
        redis.delete(name)
    stranger = f"onhand:{uuid.uuid4().hex[:12]}:installation"
    redis.set(stranger, "postgresql://elsewhere/shop")
    try:
        with caplog.at_level(logging.WARNING, logger="onhand.cache.lookup"):
            app = create_app(
                Settings(database_url=str(engine.url), redis_url=redis_url, run_jobs=False),
                engine,
            )
            with TestClient(app):
                pass
        warned = [
            r.getMessage() for r in caplog.records if "other onhand installations" in r.getMessage()
        ]
        assert warned and stranger.rsplit(":", 1)[0] + ":" in warned[0]
        own = app.state.availability_cache.prefix
        assert redis.exists(f"{own}installation")
    finally:
        redis.delete(stranger)
