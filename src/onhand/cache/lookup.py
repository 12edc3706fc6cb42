"""The read hook of the availability route: the cached document, when there is a fresh one."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import redis
from fastapi import FastAPI

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


def cached_availability(
    cache: AvailabilityCache | None, tenant: str, sku: str, now: datetime
) -> dict[str, Any] | None:
    """The cached document when Redis is configured, up and holds a fresh one; else None."""
    return cache.lookup(tenant, sku, now) if cache else None
