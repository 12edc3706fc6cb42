"""The request edge: bodies are capped, and never read before the caller is authenticated.

FastAPI reads and parses a route's JSON body before it runs the route's dependencies, so
without this a request with no token would have its body parsed before its 401, and a body of
any size would be held in memory. This ASGI middleware, in front of every route:

- answers 413 at once when `Content-Length` exceeds `ONHAND_MAX_BODY_BYTES` (1 MiB by default),
  and stops a body without a length (chunked) as soon as it passes the limit;
- checks the bearer token, and that it belongs to the path's tenant, of every `/v1/{tenant}/…`
  request that carries a body before the route is called (the route's scope check then reuses
  the verified caller).

A route that must accept larger bodies (a bulk import that streams) is listed in
`LARGER_BODIES` with its own limit.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from . import auth
from .errors import DomainError, TooLarge
from .problems import problem_response

# Routes that take a body without a bearer token: they authenticate the body itself
# (Shopify signs its webhooks with HMAC and cannot send a token).
NO_BEARER = (re.compile(r"^/v1/[^/]+/channels/[^/]+/webhooks/?$"),)
# (path pattern, limit in bytes) for routes that stream large bodies; none yet.
LARGER_BODIES: tuple[tuple[re.Pattern[str], int], ...] = ()
TENANT_PATH = re.compile(r"^/v1/([^/]+)/")
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BodyTooLarge(HTTPException):
    """Raised from `receive` inside the route; FastAPI passes HTTPExceptions through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit} bytes accepted.")


class RequestEdge:
    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = next((n for p, n in LARGER_BODIES if p.match(path)), self.max_body_bytes)
        conn = HTTPConnection(scope)
        declared = conn.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _answer(BodyTooLarge(limit), scope, receive, send)
            return
        match = TENANT_PATH.match(path)
        if match and scope["method"] in BODY_METHODS and not any(p.match(path) for p in NO_BEARER):
            try:
                caller = await auth.identify(conn, match.group(1))
            except DomainError as exc:
                await _answer(exc, scope, receive, send)
                return
            scope.setdefault("state", {})[auth.STATE_KEY] = caller
        received = 0

        async def counted() -> dict:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _answer(error: DomainError | BodyTooLarge, scope: dict, receive: Any, send: Any) -> None:
    if isinstance(error, BodyTooLarge):
        error = TooLarge(str(error.detail))
    # The unread body is not drained: the server closes the connection after this answer.
    await problem_response(error)(scope, receive, send)
