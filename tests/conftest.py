"""Shared fixtures: both databases, a fresh tenant per test, an API client, a live server.

Each test module gets its own migrated databases (a SQLite file and a PostgreSQL database), so
one module's servers and background jobs never touch the next module's rows or counters; each
test gets its own tenant, so tests of a module never see each other's rows (tenant isolation
is itself an invariant under test).

PostgreSQL, Redis and NATS tests are skipped on a machine without them; with CI set they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from onhand import auth, db, schema, tenancy
from onhand.app import create_app
from onhand.settings import Settings
from ports import free_port
from tenantscan import Recorder, Scanner

IN_CI = bool(os.environ.get("CI"))
PG_ADMIN_URL = os.environ.get(
    "ONHAND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _worker_redis(url: str) -> str:
    """Each pytest-xdist worker its own Redis database (gw0 the one named, gw1 the one below):
    a test that clears the test database must not clear another worker's keys."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    base, _, index = url.rpartition("/")
    if not index.isdigit():
        return url
    return f"{base}/{(int(index) - int(worker.removeprefix('gw') or 0)) % 16}"


REDIS_URL = _worker_redis(os.environ.get("ONHAND_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
NATS_URL = os.environ.get("ONHAND_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _tenant_tables() -> set[str]:
    from onhand.cache import tables as _cache  # noqa: F401 (registers its tables)
    from onhand.events import tables as _events  # noqa: F401
    from onhand.planning import tables as _planning  # noqa: F401
    from onhand.tables import metadata

    return {t.name for t in metadata.sorted_tables if tenancy.is_tenant_table(t)}


# Every statement of the session, checked for its tenant (tests/tenantscan.py).
SQL = Recorder(Scanner(_tenant_tables()))
sa.event.listen(sa.Engine, "before_cursor_execute", SQL.record)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core, at most 4 (each starts servers with pools of their own;
    PostgreSQL's default 100 connections are the limit)."""
    return max(1, min(os.cpu_count() or 1, 4))


# Under pytest-xdist each worker scans its own statements and hands the counts to the
# controller, which sums them, fails the run on an offender and prints the summary.
WORKERS_SCAN = {"statements": 0, "checked": 0, "offenders": []}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["tenantscan"] = {
            "statements": SQL.statements,
            "checked": SQL.checked,
            "offenders": SQL.offenders(),
        }
    if _offenders() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    scan = getattr(node, "workeroutput", {}).get("tenantscan")
    if scan:
        WORKERS_SCAN["statements"] += scan["statements"]
        WORKERS_SCAN["checked"] += scan["checked"]
        WORKERS_SCAN["offenders"] += scan["offenders"]


def _offenders() -> list[str]:
    return sorted(set(SQL.offenders() + WORKERS_SCAN["offenders"]))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    offenders = _offenders()
    statements = SQL.statements + WORKERS_SCAN["statements"]
    checked = SQL.checked + WORKERS_SCAN["checked"]
    terminalreporter.write_line(
        f"tenant scan: {statements} SQL statements, {checked} from onhand checked, "
        f"{len(offenders)} without their tenant or writing outside db.write"
    )
    for line in offenders:
        terminalreporter.write_line(f"  OFFENDER {line}", red=True)


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def need(service: str, url: str, port: int) -> str:
    """The service's URL, or skip (fail under CI) when it does not answer."""
    if not reachable(url, port):
        message = f"{service} is not reachable at {url}"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)
    return url


# Every test module gets databases of its own: servers started by one module run background
# jobs (expiry, alerts, channel pushes) over every tenant of their database, and must not touch
# the rows, counters or SQLite locks of the next module's tests.
@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test module, dropped afterwards."""
    with db.scratch_database(need("PostgreSQL", PG_ADMIN_URL, 5432), "onhand_test") as url:
        yield url


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'onhand.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every test that uses a database runs once on SQLite and once on PostgreSQL."""
    return str(request.param)


@pytest.fixture(scope="module")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture(scope="module")
def migrated_engine_for():
    """engine = migrated_engine_for(url): one migrated engine per URL, disposed with the module."""
    engines: dict[str, sa.Engine] = {}

    def get(url: str) -> sa.Engine:
        if url not in engines:
            engines[url] = db.make_engine(url)
            schema.upgrade(engines[url])
        return engines[url]

    yield get
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(scope="module")
def engine(database_url: str, migrated_engine_for) -> sa.Engine:
    return migrated_engine_for(database_url)


@pytest.fixture
def tenant(engine: sa.Engine) -> str:
    name = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, name)
    return name


def make_token(engine: sa.Engine, tenant: str, *scopes: str) -> str:
    with db.write(engine) as conn:
        return auth.create_token(conn, tenant, list(scopes), name="test").token


class Api:
    """A TestClient bound to one tenant and token: api.post('/items', json=…)."""

    def __init__(self, client: TestClient, tenant: str, token: str) -> None:
        self.client, self.tenant, self.token = client, tenant, token

    def _url(self, path: str) -> str:
        return (
            path if path.startswith(("/health", "/metrics", "/v1/")) else f"/v1/{self.tenant}{path}"
        )

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.client.request(method, self._url(path), headers=headers, **kw)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw) -> httpx.Response:
        return self.request("PATCH", path, **kw)

    def put(self, path: str, **kw) -> httpx.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw) -> httpx.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def app(engine: sa.Engine):
    return create_app(Settings(database_url=str(engine.url), run_jobs=False), engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def api(client: TestClient, engine: sa.Engine, tenant: str) -> Api:
    """An admin API client for a fresh tenant."""
    return Api(client, tenant, make_token(engine, tenant, "admin"))


def eventually(check: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    """Poll until `check` returns something truthy; fail with its last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not true within {timeout} s (last value: {value!r})")


class ServerThread:
    """create_app on a real socket (streams need one: TestClient buffers whole responses)."""

    def __init__(self, engine: sa.Engine, **settings: Any) -> None:
        # A short heartbeat lets a stream notice its closed client quickly, so stop() is fast.
        defaults = {"run_jobs": True, "leader_lease_seconds": 1.0, "sse_heartbeat_seconds": 0.3}
        self.settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            **{**defaults, **settings},
        )
        self.app = create_app(self.settings, engine)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                timeout_graceful_shutdown=3,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        eventually(lambda: self.server.started, timeout=15)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


class LiveServer:
    """`onhand serve` as a real process on a free port: one worker unless `workers` says."""

    def __init__(
        self, database_url: str, env: dict[str, str] | None = None, workers: str = "1"
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"onhand-serve-{self.port}.log"
        environment = {**os.environ, "ONHAND_DATABASE_URL": database_url, **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "onhand.cli", "serve", "--port", str(self.port)]
            + ["--workers", workers],
            env=environment,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"onhand serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"onhand serve did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def live_server(engine: sa.Engine) -> Iterator[LiveServer]:
    server = LiveServer(engine.url.render_as_string(hide_password=False))
    yield server
    server.stop()


@pytest.fixture
def redis_url() -> str:
    return need("Redis", REDIS_URL, 6379)


@pytest.fixture
def nats_url() -> str:
    return need("NATS", NATS_URL, 4222)


def snapshot(engine: sa.Engine, tenant: str) -> dict[str, list[str]]:
    """Every row the tenant owns, table by table, to prove that a request changed nothing."""
    from onhand.tables import metadata

    out = {}
    with db.read(engine) as conn:
        for table in metadata.sorted_tables:
            column = table.c.get("tenant_id", table.c.id if table.name == "tenants" else None)
            # A token's last use is bookkeeping of authentication, not a change by the request.
            shown = [
                c for c in table.c if not (table.name == "tokens" and c.name == "last_used_at")
            ]
            if column is not None:
                out[table.name] = sorted(
                    repr(tuple(r)) for r in conn.execute(sa.select(*shown).where(column == tenant))
                )
    return out


@pytest.fixture
def tenant_state(engine: sa.Engine, tenant: str):
    """`tenant_state()` returns the tenant's rows in every table (see `snapshot`)."""
    return lambda: snapshot(engine, tenant)


@pytest.fixture
def server(engine: sa.Engine) -> Iterator[Callable[..., ServerThread]]:
    """Start in-process `onhand serve` threads on the test database: server(**settings)."""
    started: list[ServerThread] = []

    def start(**settings: Any) -> ServerThread:
        started.append(ServerThread(engine, **settings))
        return started[-1]

    yield start
    for s in started:
        s.stop()
