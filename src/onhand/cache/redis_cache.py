"""The Redis side of the availability cache: keys, reads with a breaker, writes, CAS repairs.

Keys are `onhand:<installation id>:avail:<tenant>:<sku>` (installation.py), so two
installations that share one Redis database never read each other's figures; each also leaves
an `onhand:<id>:installation` marker naming its database, and warns at start-up when it sees
another installation's keys in the same Redis database.

Redis is only ever a copy. Reads that fail, time out or find no `ready` marker return None and
the caller asks the database; the marker is removed while the cache is rebuilt after an
outage, so figures from before the outage are never served.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, cast

import redis

from ..installation import database_identity, redis_prefix
from ..settings import Settings
from .figures import decode

log = logging.getLogger(__name__)

# Set the key only if it still holds what the reconciler read (or is still missing, for ''),
# so a repair computed from older figures never overwrites a newer write-through.
CAS = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class AvailabilityCache:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "onhand:default:",
        timeout: float = 0.25,
        retry_after: float = 1.0,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.ready_key = f"{prefix}avail:ready"
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=0
        )
        self.retry_after = retry_after
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._cas = self.client.register_script(CAS)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> AvailabilityCache:
        assert settings.redis_url
        return cls(settings.redis_url, prefix=redis_prefix(settings), **kwargs)

    def key(self, tenant: str, sku: str) -> str:
        return f"{self.prefix}avail:{tenant}:{sku}"

    def claim(self, database_url: str) -> list[str]:
        """Mark this installation's keys; the prefixes of other installations seen here."""
        self.client.set(f"{self.prefix}installation", database_identity(database_url))
        others = set()
        for name in self.client.scan_iter(match="onhand:*", count=1000):
            text = name.decode(errors="replace")
            if not text.startswith(self.prefix):
                parts = text.split(":")
                # Keys of versions before installation ids: onhand:avail:…
                others.add("onhand:avail:" if parts[1] == "avail" else f"onhand:{parts[1]}:")
            if len(others) >= 10:
                break
        return sorted(others)

    # ---- reads (API processes) ----------------------------------------------------------

    def lookup(self, tenant: str, sku: str, now: datetime) -> dict[str, Any] | None:
        """The cached document, or None for any reason to ask the database instead."""
        if time.monotonic() < self._down_until:
            return None
        try:
            ready, raw = self.client.mget([self.ready_key, self.key(tenant, sku)])
        except redis.RedisError as exc:
            self._trip(exc)
            return None
        if ready is None or raw is None:
            return None
        return decode(raw, now)

    def _trip(self, exc: Exception) -> None:
        with self._lock:
            if time.monotonic() >= self._down_until:
                log.warning("availability cache unreachable (%s); reading the database", exc)
            self._down_until = time.monotonic() + self.retry_after

    # ---- writes (the leader's write-through and reconciliation) -------------------------

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def is_ready(self) -> bool:
        return bool(self.client.exists(self.ready_key))

    def set_ready(self, ready: bool) -> None:
        if ready:
            self.client.set(self.ready_key, "1")
        else:
            self.client.delete(self.ready_key)

    def write(self, tenant: str, entries: dict[str, str | None]) -> None:
        """Write-through: set fresh entries, delete those no longer cached. Raises when down."""
        pipe = self.client.pipeline(transaction=False)
        for sku, entry in entries.items():
            if entry is None:
                pipe.delete(self.key(tenant, sku))
            else:
                pipe.set(self.key(tenant, sku), entry)
        pipe.execute()

    def read_many(self, keys: list[str]) -> list[bytes | None]:
        # The client is built without decode_responses, so values come back as bytes.
        return cast(list[bytes | None], self.client.mget(keys)) if keys else []

    def repair_many(self, repairs: list[tuple[str, bytes | None, str]]) -> list[bool]:
        """(key, value read before, new value): compare-and-set each in one pipeline."""
        pipe = self.client.pipeline(transaction=False)
        for k, was, new in repairs:
            self._cas(keys=[k], args=[was if was is not None else "", new], client=pipe)
        return [bool(r) for r in pipe.execute()]

    def close(self) -> None:
        self.client.close()
