"""Authenticate a request before its body is read.

FastAPI reads and parses a route's JSON body before it runs the route's dependencies, so
without this a request with no token would still have its body parsed before its 401. This
ASGI middleware checks the bearer token (and its tenant) of every `/v1/{tenant}/…` request
that carries a body before the route is called; the route's scope check then reuses the
verified caller. Bodies are capped separately (FastAPI's `max_body_size`, set from
`ONHAND_MAX_BODY_BYTES`).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import HTTPConnection

from . import auth
from .problems import Problem, problem_response

# Routes that take a body without a bearer token: they authenticate the body itself
# (Shopify signs its webhooks with HMAC and cannot send a token).
NO_BEARER = (re.compile(r"^/v1/[^/]+/channels/[^/]+/webhooks/?$"),)
TENANT_PATH = re.compile(r"^/v1/([^/]+)/")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AuthenticateFirst:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            path = scope["path"]
            match = TENANT_PATH.match(path)
            if match and not any(p.match(path) for p in NO_BEARER):
                conn = HTTPConnection(scope)
                try:
                    caller = await auth.identify(conn, match.group(1))
                except Problem as exc:
                    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
                    await problem_response(exc, headers)(scope, receive, send)
                    return
                scope.setdefault("state", {})[auth.STATE_KEY] = caller
        await self.app(scope, receive, send)
