"""Schemathesis against `/openapi.json`: no request the document allows gets a 5xx, and every
status an operation answers is one the document declares (with a fixed seed, bounded).

The coverage phase sends each operation the boundary and just-outside values of every
parameter and body field; the stateful phase chains operations (create, then read or change
what was created). Both run on SQLite and on PostgreSQL, as an admin of a fresh tenant.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
import schemathesis
from channelkit import SECRET_KEY
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from conftest import make_token
from onhand import netguard
from onhand.app import create_app
from onhand.settings import Settings

SEED = 20261201
# Streams never end by themselves; the live tests cover them.
STREAMS = r"/events$|/stream$|/ws$"


def _config(tenant: str, token: str, *, stateful: bool) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "parameters": {"tenant": tenant},
            "generation": {"max-examples": 8, "deterministic": True, "database": "none"},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
            },
            "phases": {
                "examples": {"enabled": False},
                "fuzzing": {"enabled": False},
                # Methods a path does not have are answered by the router (405), not by us.
                "coverage": {"enabled": not stateful, "unexpected-methods": []},
                "stateful": {"enabled": stateful, "max-steps": 40},
            },
        }
    )


# What an empty Shopify store answers to any of the GraphQL reads a request makes.
EMPTY_STORE = {
    "data": {
        "productVariants": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "orders": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
        "nodes": [],
    },
    # A cheap query and a full bucket: the client's rate limiter never waits.
    "extensions": {
        "cost": {
            "requestedQueryCost": 1,
            "actualQueryCost": 1,
            "throttleStatus": {
                "maximumAvailable": 2000,
                "currentlyAvailable": 2000,
                "restoreRate": 100,
            },
        }
    },
}


@pytest.fixture(autouse=True)
def empty_store(monkeypatch):
    """Every outbound HTTP request (a store's API) is answered here, by an empty store:
    nothing leaves this machine, and an operation that calls a store (e.g. mapping the
    variants of a channel the run created from the documented example) answers at once."""
    store = httpx.MockTransport(lambda request: httpx.Response(200, json=EMPTY_STORE))
    monkeypatch.setattr(
        netguard, "client", lambda allowed=(), **kw: httpx.AsyncClient(transport=store, **kw)
    )


def run_phase(engine, tenant: str, *, stateful: bool) -> tuple[Counter[int], list[str]]:
    """Run one phase through Schemathesis's engine: the statuses seen, and every failure."""
    # Configured as a production installation is: channel credentials need a secret key (on
    # SQLite one is made beside the database; on PostgreSQL it must be set).
    settings = Settings(database_url=str(engine.url), run_jobs=False, secret_key=SECRET_KEY)
    app = create_app(settings, engine)
    token = make_token(engine, tenant, "admin")
    loaded = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=_config(tenant, token, stateful=stateful)
    ).exclude(path_regex=STREAMS)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for event in from_schema(loaded).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        failures.append(_describe(event.recorder, case_id, check))
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
        elif isinstance(event, events.NonFatalError | events.FatalError):
            error = getattr(event, "value", getattr(event, "exception", ""))
            failures.append(f"error in {getattr(event, 'label', '?')}: {error!r}")
    return statuses, failures


def _describe(recorder, case_id: str, check) -> str:
    interaction = recorder.interactions.get(case_id)
    request = interaction.request if interaction else None
    response = interaction.response if interaction else None
    where = f"{request.method} {request.uri}" if request else recorder.label
    got = f" -> {response.status_code}: {response.content[:300]!r}" if response else ""
    return f"{check.name}: {where}{got}"


def test_coverage_phase_answers_only_documented_statuses_and_never_5xx(engine, tenant):
    statuses, failures = run_phase(engine, tenant, stateful=False)
    assert sum(statuses.values()) > 500, statuses
    assert not failures, "\n".join(failures[:30])
    assert not [s for s in statuses if s >= 500], statuses


@pytest.mark.slow
def test_stateful_phase_chains_operations_without_a_5xx(engine, tenant):
    statuses, failures = run_phase(engine, tenant, stateful=True)
    assert any(200 <= s < 300 for s in statuses), statuses
    assert not failures, "\n".join(failures[:30])
