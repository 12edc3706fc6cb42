"""The request edge: NUL characters and JSON bodies are checked before any route sees them.

Python's `json` accepts things a client never means and a database cannot keep: the same key
twice (the last silently wins: a `ship` booked as a `receipt`), `NaN` and `Infinity`, numbers
of thousands of digits, lone UTF-16 surrogates, NUL characters, and nesting deep enough to
exhaust the stack of whatever serialises the value next. Each is refused here as bad JSON, so
the request gets a 422 problem document and nothing is written.

NUL is refused in the path, the query and the headers too: PostgreSQL cannot store or compare
it and SQLite can, so without this check the same request would get a different answer on each.

Every router of the API uses `StrictJSONRoute` (see `onhand.http.api_router`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from . import auth
from .errors import Invalid

# Deep enough for any real document (an item with nested attributes is 4-6 levels), shallow
# enough that every later step (validation, SQL JSON, response encoding) stays well inside
# Python's recursion limit.
MAX_DEPTH = 32
# Integer literals longer than this are refused before Python converts them (the conversion
# is quadratic, and nothing onhand stores has more than 20 digits).
MAX_INT_DIGITS = 40
# A float literal that long carries no more precision; it is only work.
MAX_FLOAT_CHARS = 64


class BadJSON(ValueError):
    """The body is JSON that onhand refuses; the message says why, for a person."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BadJSON(f"the key '{key[:40]}' appears twice in one object")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJSON(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_FLOAT_CHARS:
        raise BadJSON(f"a number is longer than {MAX_FLOAT_CHARS} characters")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BadJSON(f"the number {text[:40]} is too large")
    return value


def _constant(name: str) -> Any:
    raise BadJSON(f"{name} is not a JSON value")


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise BadJSON("text may not contain NUL (\\u0000) characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJSON("text contains a lone UTF-16 surrogate (\\ud800-\\udfff)") from None


def _check_tree(value: Any) -> None:
    """Depth and text of every node, without recursion (the value may be hostile)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise BadJSON(f"objects and arrays are nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, dict):
            for key, child in node.items():
                _check_text(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in node)


def loads(body: bytes | str) -> Any:
    """Parse a request body, raising `json.JSONDecodeError` for anything refused above."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        value = json.loads(
            text,
            object_pairs_hook=_pairs,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except BadJSON as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    except RecursionError:
        raise json.JSONDecodeError(
            f"objects and arrays are nested more than {MAX_DEPTH} levels deep", text, 0
        ) from None
    try:
        _check_tree(value)
    except BadJSON as exc:
        raise json.JSONDecodeError(str(exc), text, 0) from None
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads(body)
            except UnicodeDecodeError:
                raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
        return self._json


def _nul_outside_body(request: Request) -> str | None:
    """Where the request carries a NUL character outside its body, if anywhere.

    Read from the raw scope: building `request.url` (a full URL string) for every request
    cost about 5 % of a hold's time over HTTP. A query decodes to a NUL only from a raw NUL or
    `%00`, so it is parsed only when one of them is there.
    """
    scope = request.scope
    if "\x00" in scope["path"]:
        return "the path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or b"%00" in query:
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                return f"the query parameter '{name.replace(chr(0), '')[:40]}'"
    for name, value in scope["headers"]:
        if b"\x00" in value:
            return f"the header '{name.decode('latin-1')[:40]}'"
    return None


class StrictJSONRoute(APIRoute):
    """A route whose JSON body goes through `loads` instead of plain `json.loads`, and whose
    path, query and headers may not contain NUL."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs = getattr(self.endpoint, auth.SCOPE_ATTRIBUTE, None)  # see auth.scoped

        async def strict(request: Request) -> Response:
            if where := _nul_outside_body(request):
                raise Invalid(f"{where} contains a NUL (\\u0000) character, which is not allowed.")
            if needs is not None:
                caller = await auth.authenticate(request, request.path_params["tenant"], needs)
                request.scope.setdefault("state", {})[auth.AUTHORISED_KEY] = (needs, caller)
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
