"""The read hook of the availability route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from .. import db
from .redis_cache import AvailabilityCache


def install(app: FastAPI) -> None:
    url = app.state.settings.redis_url
    app.state.availability_cache = AvailabilityCache(url) if url else None


def cached_availability(request: Request, tenant: str, sku: str) -> dict[str, Any] | None:
    """The cached document when Redis is configured, up and holds a fresh one; else None."""
    cache: AvailabilityCache | None = getattr(request.app.state, "availability_cache", None)
    return cache.lookup(tenant, sku, db.utcnow()) if cache else None
