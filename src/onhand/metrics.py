"""Prometheus metrics: HTTP requests here; each feature registers its own beside its code.

With several server processes (`onhand serve --workers 2` and up) every process keeps its
counters and histograms in files of one directory (prometheus-client's multiprocess mode,
`PROMETHEUS_MULTIPROC_DIR`, set by server.py), and a scrape, whichever process answers it, sums
them all. Figures read from the database (`database_collector`) are the same in every process
and are reported once.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from .errors import Forbidden, Unauthorized

REQUESTS = Counter(
    "onhand_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "onhand_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetrics:
    """ASGI middleware (not BaseHTTPMiddleware, which would buffer event streams)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], path, str(status["code"])).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - start)


def check_access(request: Request, token: str | None) -> None:
    """`/metrics` names every tenant: with a token set it needs that token, else loopback only.

    Behind a reverse proxy on the same machine, uvicorn takes the client address from
    X-Forwarded-For (proxy headers are trusted from 127.0.0.1 only), so a proxied outside
    scrape is not mistaken for a local one.
    """
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise Unauthorized("Send 'Authorization: Bearer <ONHAND_METRICS_TOKEN>'.")
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise Forbidden(
            "Metrics are served to the loopback interface only; set ONHAND_METRICS_TOKEN "
            "to scrape them from elsewhere."
        )


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_DATABASE: list[Collector] = []


def database_collector(collector: Collector) -> None:
    """Register a collector whose figures come from the database (the same in every process)."""
    REGISTRY.register(collector)
    _DATABASE.append(collector)


def metrics_response() -> Response:
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, directory)
    for collector in _DATABASE:
        registry.register(collector)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
