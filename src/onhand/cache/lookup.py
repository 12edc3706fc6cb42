"""The read hook of the availability route."""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import FastAPI, Request

from .. import db
from .redis_cache import AvailabilityCache

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    settings = app.state.settings
    cache = AvailabilityCache.from_settings(settings) if settings.redis_url else None
    app.state.availability_cache = cache
    if cache is None:
        return
    try:
        others = cache.claim(settings.database_url)
    except redis.RedisError as exc:
        log.warning("availability cache: Redis unreachable at start-up (%s)", exc)
        return
    if others:
        log.warning(
            "Redis database %s also holds keys of other onhand installations (%s); this one "
            "uses %s. Give each installation its own Redis database or ONHAND_INSTALLATION_ID.",
            cache.url.rsplit("@", 1)[-1],
            ", ".join(others),
            cache.prefix,
        )


def cached_availability(request: Request, tenant: str, sku: str) -> dict[str, Any] | None:
    """The cached document when Redis is configured, up and holds a fresh one; else None."""
    cache: AvailabilityCache | None = getattr(request.app.state, "availability_cache", None)
    return cache.lookup(tenant, sku, db.utcnow()) if cache else None
