"""The read hook of the availability route: the cached document, when there is a fresh one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..settings import Settings
from .redis_cache import AvailabilityCache


def cache_for(settings: Settings) -> AvailabilityCache | None:
    """The availability cache when Redis is configured, else None (reads go to the database)."""
    return AvailabilityCache(settings.redis_url) if settings.redis_url else None


def cached_availability(
    cache: AvailabilityCache | None, tenant: str, sku: str, now: datetime
) -> dict[str, Any] | None:
    """The cached document when Redis is configured, up and holds a fresh one; else None."""
    return cache.lookup(tenant, sku, now) if cache else None
