"""The request edge: NUL characters and JSON bodies are checked before any route sees them.

Python's `json` accepts things a client never means and a database cannot keep: the same key
twice (the last silently wins: a `ship` booked as a `receipt`), `NaN` and `Infinity`, numbers
of thousands of digits, lone UTF-16 surrogates, NUL characters, and nesting deep enough to
exhaust the stack of whatever serialises the value next. Each is refused here as bad JSON, so
the request gets a 422 problem document and nothing is written.

NUL is refused in the path, the query and the headers too: PostgreSQL cannot store or compare
it and SQLite can, so without this check the same request would get a different answer on each.

Every router of the API uses `StrictJSONRoute` (see `onhand.http.api_router`).

A route marked `direct` (the hold route) skips FastAPI's per-request parameter solving when a
request is well formed: see `_direct_call`.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import fastapi.routing
from fastapi import Request, Response, params
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

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


DIRECT_ATTRIBUTE = "onhand_direct"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
DirectCall = Callable[[StrictJSONRequest], Awaitable[Response | None]]


def direct(endpoint: Endpoint) -> Endpoint:
    """Marks a busy route whose well-formed requests may skip FastAPI's parameter solving."""
    setattr(endpoint, DIRECT_ATTRIBUTE, True)
    return endpoint


def _json_media(content_type: str | None) -> bool:
    """Whether FastAPI would read this body as JSON (it also takes `+json` subtypes: those go
    the full way, which reads them alike)."""
    return (
        content_type is not None
        and content_type.split(";", 1)[0].strip().lower() == "application/json"
    )


def _direct_call(route: Any) -> DirectCall | None:
    """The well-formed path of a `direct` route, or None where it cannot be taken.

    Without FastAPI solving its parameters, a hold costs the server 4-6 % less CPU over HTTP
    (bench/http_holds.py, paired rounds; docs/performance.md). For a route with no
    dependencies, a JSON model body, `str` path parameters and optional `str` headers, this
    path validates each with FastAPI's own field (the same constraints, so the same values
    reach the endpoint) and calls the endpoint. Any request it does not accept as it stands
    (no body, another content type, bad JSON, a field that fails validation, a body that
    cannot be read) returns None and goes through FastAPI, which gives it the usual answer;
    the parsed body is cached on the request, so nothing is read twice.

    `route` is what FastAPI builds its handler from: the route itself, or the view of it that
    `include_router` makes (FastAPI's own context variable says which). `app.state.direct_routes`
    (True from `create_app`) turns the path off, for the tests and the bench that compare.
    """
    d = route.dependant
    body_fields = d.body_params
    returns = get_typed_return_annotation(d.call)
    eligible = (
        inspect.iscoroutinefunction(d.call)
        and not d.dependencies
        and not d.query_params
        and not d.cookie_params
        and len(body_fields) == 1
        and not route._embed_body_fields
        and not isinstance(body_fields[0].field_info, params.Form)
        and all(f.field_info.annotation is str for f in d.path_params)
        and all(
            f.field_info.annotation == str | None
            and f.field_info.alias is not None
            and f.field_info.validation_alias in (None, f.field_info.alias)
            and f.field_info.default is None
            for f in d.header_params
        )
        and inspect.isclass(returns)
        and issubclass(returns, Response)
        and not (
            d.response_param_name
            or d.background_tasks_param_name
            or d.security_scopes_param_name
            or d.websocket_param_name
            or d.http_connection_param_name
        )
    )
    if not eligible:
        return None
    endpoint, body_field = d.call, body_fields[0]
    paths, headers, request_name = d.path_params, d.header_params, d.request_param_name

    async def call(request: StrictJSONRequest) -> Response | None:
        if not _json_media(request.headers.get("content-type")):
            return None
        try:
            if not await request.body():
                return None
            document = await request.json()
        except HTTPException:
            raise  # the body limit (preauth.BodyTooLarge)
        except Exception:  # noqa: BLE001 - FastAPI answers it (422 or 400)
            return None
        values: dict[str, Any] = {}
        value, errors = body_field.validate(document, loc=("body",))
        if errors:
            return None
        values[body_field.name] = value
        for field in paths:
            value, errors = field.validate(request.path_params[field.alias])
            if errors:
                return None
            values[field.name] = value
        for field in headers:
            raw = request.headers.get(field.alias)
            if raw is not None:
                raw, errors = field.validate(raw)
                if errors:
                    return None
            values[field.name] = raw
        if request_name:
            values[request_name] = request
        answer: Response = await endpoint(**values)
        return answer

    return call


class StrictJSONRoute(APIRoute):
    """A route whose JSON body goes through `loads` instead of plain `json.loads`, and whose
    path, query and headers may not contain NUL."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs = getattr(self.endpoint, auth.SCOPE_ATTRIBUTE, None)  # see auth.scoped
        fast: DirectCall | None = None
        if getattr(self.endpoint, DIRECT_ATTRIBUTE, False):
            # FastAPI builds a handler per inclusion; the view it builds from is in this
            # variable. Without it (another FastAPI), there is no direct path.
            view = getattr(fastapi.routing, "_effective_route_context_var", None)
            if view is not None:
                context = view.get()
                route = context if context is not None and context.original_route is self else self
                fast = _direct_call(route)

        async def strict(request: Request) -> Response:
            if where := _nul_outside_body(request):
                raise Invalid(f"{where} contains a NUL (\\u0000) character, which is not allowed.")
            if needs is not None:
                caller = await auth.authenticate(request, request.path_params["tenant"], needs)
                request.scope.setdefault("state", {})[auth.AUTHORISED_KEY] = (needs, caller)
            strict_request = StrictJSONRequest(request.scope, request.receive)
            if (
                fast is not None
                and request.app.state.direct_routes
                and (answer := await fast(strict_request)) is not None
            ):
                return answer
            return await handler(strict_request)

        return strict
