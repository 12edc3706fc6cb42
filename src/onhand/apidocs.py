"""The OpenAPI document (`/openapi.json`) and the pages that show it (`/docs`, `/redoc`).

Both pages work offline: Swagger UI and ReDoc are vendored under `web/static/vendor/` (see the
README there) and served by onhand itself, like the console. The document is FastAPI's, with
what FastAPI cannot know added from the routes themselves:

- a bearer security scheme, so "Authorize" in Swagger UI works, on every `/v1/…` operation;
- the scope each operation needs, in its description;
- the problem+json error answers an operation gives, each as a `Problem` document;
- the schema of each success answer, from the model a route names with `answers.answer()`
  (the route's own dict is sent unchanged; the models only describe it), or CSV text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from . import answers, auth
from .problems import MEDIA_TYPE

VENDOR = "/dashboard/vendor"
SCOPES = ("admin", "storefront", "public", "sync")
WRITES = {"post", "put", "patch", "delete"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457). `errors` lists each invalid field of a 422.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/validation"]},
        "title": {"type": "string", "examples": ["The request is not valid"]},
        "status": {"type": "integer", "examples": [422]},
        "detail": {"type": "string", "examples": ["qty: must be greater than 0"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
# Why each status is given, as the response description.
STATUSES = {
    "401": "No token, or an unknown, revoked or expired one",
    "403": "A token of another tenant, or without the scope this needs",
    "404": "What the request names (in the path, a filter or the body) does not exist",
    "409": "The request conflicts with the current state (e.g. not enough stock)",
    "413": "The body is larger than the server accepts",
    "422": "The request is not valid; `errors` names each field",
    "429": "Too many requests from this client; see Retry-After",
    "502": "The store this calls refused the request or could not be reached",
    "503": "The database is unavailable; retry (writes with the same Idempotency-Key)",
}


def _routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, through included routers."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def _scope(dependant: Dependant) -> str | None:
    if (marked := getattr(dependant.call, auth.SCOPE_ATTRIBUTE, None)) is not None:
        return str(marked)  # an endpoint checked by its route (auth.scoped)
    for dep in dependant.dependencies:
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_") and name.removeprefix("require_") in SCOPES:
            return name.removeprefix("require_")
        if (found := _scope(dep)) is not None:
            return found
    return None


def _errors(path: str, method: str, operation: dict[str, Any], scope: str | None) -> list[str]:
    codes = []
    if path.startswith("/v1/"):
        codes += ["401", "403"]
    has_body = "requestBody" in operation
    if path.startswith("/v1/"):
        codes.append("404")
    if method in WRITES:
        codes.append("409")
    if has_body:
        codes.append("413")
    codes.append("422")
    if scope in ("public", "storefront"):
        codes.append("429")
    if operation.pop(answers.UPSTREAM_KEY, False):
        codes.append("502")
    codes.append("503")
    return codes


def build(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = spec.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for unused in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(unused, None)
    components["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An onhand token of the tenant in the path "
            "(`onhand tokens create --tenant T --scope admin`).",
        }
    }
    scopes = {
        (path, method.lower()): _scope(route.dependant)
        for path, route in _routes(app.routes)
        for method in route.methods or ()
    }
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            scope = scopes.get((path, method))
            if path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
            needs = f"Needs a token with the `{scope}` scope (or `admin`)." if scope else ""
            if scope == "admin":
                needs = "Needs a token with the `admin` scope."
            text = operation.get("description") or operation.get("summary", "")
            operation["description"] = f"{text}\n\n{needs}".strip()
            responses = operation.setdefault("responses", {})
            for code in _errors(path, method, operation, scope):
                responses[code] = {
                    "description": STATUSES[code],
                    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
    _answers(spec)
    return spec


def _answers(spec: dict[str, Any]) -> None:
    """Each success answer's schema: a `$ref` to its model (added to the components), or
    CSV text; and the request example `answers.answer()` names. Its markers are removed."""
    used: dict[str, type] = {}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            example = operation.pop(answers.EXAMPLE_KEY, None)
            if example is not None:
                body = operation["requestBody"]["content"]["application/json"]
                body["example"] = answers.BODY_EXAMPLES[example]
            name = operation.pop(answers.KEY, None)
            if name is None:
                continue
            status = next(c for c in operation["responses"] if c.startswith("2"))
            response = operation["responses"][status]
            if name == "csv":
                response["content"] = {"text/csv": {"schema": {"type": "string"}}}
                continue
            model = answers.REGISTRY[name]
            used[name] = model
            response["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
            }
    if not used:
        return
    _, schemas = models_json_schema(
        [(m, "serialization") for m in used.values()],
        ref_template="#/components/schemas/{model}",
    )
    components = spec["components"]["schemas"]
    for name, schema in schemas.get("$defs", {}).items():
        if name in components and components[name] != schema:
            raise RuntimeError(f"two schemas are called {name}: rename the answer model")
        components[name] = schema


def install(app: FastAPI) -> None:
    """`/openapi.json`, `/docs` and `/redoc` (create the app with docs_url=redoc_url=None)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url="data:,",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{VENDOR}/redoc.standalone.js",
            redoc_favicon_url="data:,",
            with_google_fonts=False,
        )
