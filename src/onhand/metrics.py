"""Prometheus metrics: HTTP requests here; each feature registers its own beside its code."""

from __future__ import annotations

import hmac
import ipaddress
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
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


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
