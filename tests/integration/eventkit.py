"""Helpers of the live-stock tests: an app served by uvicorn in a thread, an SSE reader,
a local webhook receiver, and a stocked tenant."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from onhand.app import create_app
from onhand.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class SSEReader:
    """Reads an event stream in a thread; `events` fills as they arrive."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url, self.headers = url, headers or {}
        self.events: list[dict[str, Any]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.error: str | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        eventually(lambda: self.status is not None or self.error, timeout=10)

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as r:
                self.status = r.status_code
                if r.status_code != 200:
                    self.error = r.read().decode()
                    return
                current: dict[str, Any] = {}
                for line in r.iter_lines():
                    if self._stop:
                        return
                    if line.startswith(":"):
                        self.comments.append(line)
                    elif line == "":
                        if "data" in current:
                            current["data"] = json.loads(current["data"])
                            self.events.append(current)
                        current = {}
                    else:
                        field, _, value = line.partition(":")
                        current[field] = value.removeprefix(" ")
        except Exception as exc:  # closed by close(), or the server went away
            if not self._stop:
                self.error = repr(exc)

    def wait_for(
        self, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        return eventually(lambda: next((e for e in self.events if check(e)), None), timeout)

    def close(self) -> None:
        self._stop = True
        self._client.close()


class Receiver:
    """A webhook endpoint on 127.0.0.1: records requests, answers with `status` (changeable)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def stock_tenant(
    base: str, tenant: str, token: str, skus: dict[str, int], **item: Any
) -> httpx.Client:
    """Location WH1 and one physical item per SKU with its starting quantity."""
    client = httpx.Client(
        base_url=f"{base}/v1/{tenant}", timeout=10, headers={"Authorization": f"Bearer {token}"}
    )
    client.post("/locations", json={"code": "WH1", "name": "Main"}).raise_for_status()
    for sku, qty in skus.items():
        client.post(
            "/items", json={"sku": sku, "name": sku, "kind": "physical", **item}
        ).raise_for_status()
        if qty:
            move(client, "receipt", sku, qty)
    return client


def move(client: httpx.Client, type_: str, sku: str, qty: int) -> dict[str, Any]:
    r = client.post("/movements", json={"type": type_, "sku": sku, "location": "WH1", "qty": qty})
    assert r.status_code == 201, r.text
    return r.json()


class TcpProxy:
    """127.0.0.1:<port> forwarded to a real server; stop() is an outage, start() the return."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self.listener:
            try:  # wakes the thread blocked in accept(); close() alone leaves it listening
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []


@pytest.fixture
def server(engine):
    """Start in-process `onhand serve` threads on the test database: server(**settings)."""
    started = []

    def start(**settings):
        started.append(ServerThread(engine, **settings))
        return started[-1]

    yield start
    for s in started:
        s.stop()
