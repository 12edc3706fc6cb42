"""RFC 9457 problem+json: every error the API returns has this shape.

Domain code raises `onhand.errors` (no HTTP in them). This module is the one place that maps
them to HTTP: `STATUS` is the only table from error class to status, `document` builds the
problem document and `headers_for` its headers. The handlers installed by `install` answer
domain errors, validation errors, unknown routes and database outages with problem documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import (
    Conflict,
    DomainError,
    Forbidden,
    InsufficientStock,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
    UpstreamFailed,
)

MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger()

# A subclass answers what its nearest listed base answers (see `status_for`).
STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InsufficientStock: 409,
    TooLarge: 413,
    Invalid: 422,
    RateLimited: 429,
    UpstreamFailed: 502,
    Unavailable: 503,
}


def status_for(error: DomainError) -> int:
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


def type_uri(slug: str) -> str:
    return f"/problems/{slug}"


def _document(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_uri(slug), "title": title, "status": status, "detail": detail, **extra}


def document(error: DomainError) -> dict[str, Any]:
    return _document(status_for(error), error.slug, error.title, error.detail, **error.extra)


def headers_for(error: DomainError) -> dict[str, str]:
    headers = {"WWW-Authenticate": "Bearer"} if status_for(error) == 401 else {}
    if (wait := error.extra.get("retry_after")) is not None:
        headers["Retry-After"] = str(wait)
    return headers


def problem_response(error: DomainError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The answer to `error`: its document, its status, its headers (plus `headers`)."""
    return JSONResponse(
        document(error),
        status_code=status_for(error),
        media_type=MEDIA_TYPE,
        headers={**headers_for(error), **(headers or {})},
    )


def _edge_response(
    status: int, slug: str, title: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An HTTP error of the edge itself (unknown route, method, crash): no domain error."""
    return JSONResponse(
        _document(status, slug, title, detail),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            errors.append(
                {
                    "field": "body",
                    "message": "the body is not valid JSON "
                    f"({err.get('ctx', {}).get('error', 'parse error')})",
                }
            )
            continue
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append({"field": ".".join(loc) or "body", "message": message})
    return errors


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(Invalid(detail or "The request is not valid.", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}.get(
            exc.status_code, "http-error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else "HTTP error"
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no such resource."
        return _edge_response(
            exc.status_code,
            slug,
            str(exc.detail)[:80],
            detail,
            dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character in a path or a
        # header, a number out of range). The transaction rolled back; it is bad input.
        log.warning("database refused a value", path=request.url.path, error=str(exc.orig)[:200])
        return problem_response(
            Invalid(
                "A value in the request cannot be stored or looked up "
                "(for example a NUL character, or a number out of range)."
            )
        )

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Refused connections, a full pool, a server restarting: the client may retry.
        log.warning("database unavailable", path=request.url.path, error=str(exc)[:300])
        return problem_response(
            Unavailable(
                "The database is unavailable or overloaded; retry shortly (writes are safe to "
                "retry with the same Idempotency-Key).",
                slug="database-unavailable",
                title="Service unavailable",
            ),
            {"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return _edge_response(
            500, "internal", "Internal error", "An unexpected error occurred; it has been logged."
        )
