"""Helpers of the live-stock tests: an SSE reader, a local webhook receiver, a TCP proxy
and a stocked tenant (the in-process server is the `server` fixture of conftest)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from conftest import eventually, free_port


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
        # Closed by close(), or the server went away: kept in self.error for the test to assert.
        except Exception as exc:  # noqa: BLE001
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
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener:
            # shutdown wakes the thread blocked in accept(); close() alone leaves it listening
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for s in self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.conns = []


def metric(text: str, sample: str, absent: float | None = None, **labels: str) -> float:
    """The value of one sample (e.g. `onhand_events_published_total`) in a /metrics scrape;
    `absent` for a labelled counter that has not counted anything yet."""
    found = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    if not found and absent is not None:
        return absent
    assert len(found) == 1, f"{sample}{labels}: {len(found)} samples"
    return found[0]
