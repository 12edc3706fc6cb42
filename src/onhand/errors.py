"""Domain errors: what went wrong, in the words of the trade, with no HTTP in them.

Services, the stock kernel and the jobs raise these. Each carries what a reader of the error
needs: a human `detail`, a stable `slug` (the problem type), a `title`, and free `extra`
fields (the SKU and quantities of a shortage, the field errors of a bad request). Which HTTP
status an error answers, and the problem+json document it becomes, is decided in one place,
`problems.py`, so this module imports nothing from the web framework or the rest of onhand.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self, detail: str, *, slug: str | None = None, title: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.extra: dict[str, Any] = extra


class Invalid(DomainError):
    slug, title = "validation", "The request is not valid"


class NotFound(DomainError):
    slug, title = "not-found", "Not found"


class Conflict(DomainError):
    slug, title = "conflict", "Conflict"


# Not a Conflict subclass: `except Conflict` (a hold that lapsed or was released) must not
# swallow a shortage.
class InsufficientStock(DomainError):
    slug, title = "insufficient-stock", "Not enough stock"

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


class Unauthorized(DomainError):
    slug, title = "unauthorized", "Authentication required"


class Forbidden(DomainError):
    slug, title = "forbidden", "Not allowed"


class Unavailable(DomainError):
    """Something this request needs is down or not set up; the same request may work later."""

    slug, title = "temporarily-unavailable", "Service unavailable"


class TooLarge(DomainError):
    slug, title = "body-too-large", "Too large"


class RateLimited(DomainError):
    """Too many requests; `extra["retry_after"]` says how many seconds to wait."""

    slug, title = "rate-limited", "Too many requests"


class UpstreamFailed(DomainError):
    """A store or provider onhand called refused or failed the request."""

    slug, title = "upstream-error", "The upstream service failed"
