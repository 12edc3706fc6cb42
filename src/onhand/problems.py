"""RFC 9457 problem+json: every error the API returns has this shape.

Raise `Problem` (or a subclass) anywhere below the routes; the handlers installed by
`install` turn it, validation errors and unknown routes into problem documents.
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

MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger()


class Problem(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.extra = extra

    def document(self) -> dict[str, Any]:
        return {
            "type": type_uri(self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


def type_uri(slug: str) -> str:
    return f"/problems/{slug}"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class Invalid(Problem):
    status, slug, title = 422, "validation", "The request is not valid"


class InsufficientStock(Problem):
    status, slug, title = 409, "insufficient-stock", "Not enough stock"

    def __init__(
        self, sku: str, requested: int, available: int | None, location: str | None = None
    ) -> None:
        where = f" at {location}" if location else ""
        super().__init__(
            f"{sku}: {requested} requested{where}, but only {available} available.",
            sku=sku,
            requested=requested,
            available=available,
            location=location,
        )


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.document(), status_code=problem.status, media_type=MEDIA_TYPE, headers=headers
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
    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return problem_response(exc, {**headers, **getattr(exc, "headers", {})})

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
        return problem_response(
            Problem(detail, status=exc.status_code, slug=slug, title=str(exc.detail)[:80]),
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
            Problem(
                "The database is unavailable or overloaded; retry shortly (writes are safe to "
                "retry with the same Idempotency-Key).",
                status=503,
                slug="database-unavailable",
                title="Service unavailable",
            ),
            {"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return problem_response(
            Problem(
                "An unexpected error occurred; it has been logged.",
                status=500,
                slug="internal",
                title="Internal error",
            )
        )
