"""`onhand serve` tunes its process's garbage collector once the app has started; an app built
by `create_app` (tests, embedding) leaves the collector as it was."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient
from uvicorn.importer import import_from_string

from onhand import gcpolicy, server
from onhand.app import create_app, create_served_app
from onhand.settings import Settings


@pytest.fixture
def collector():
    """The collector's settings restored after the test (frozen objects thawed)."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_served_app_freezes_start_up_objects_and_raises_the_young_threshold(engine, collector):
    assert import_from_string(server.APP) is create_served_app
    app = create_app(Settings(database_url=str(engine.url), run_jobs=False), engine, tune_gc=True)
    before = gc.get_threshold()
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == (gcpolicy.YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 10_000, "the app's start-up objects are frozen"


def test_an_app_built_with_create_app_leaves_the_collector_alone(engine, collector):
    before = gc.get_threshold()
    app = create_app(Settings(database_url=str(engine.url), run_jobs=False), engine)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
