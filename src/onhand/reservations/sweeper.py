"""The expiry sweeper: returns lapsed holds' stock and announces it.

Availability never waits for it (lapsed holds already count as free); it exists to write the
ledger entries and events, and to keep `reserved` equal to the active holds.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.engine import Engine

from .lifecycle import expire_due

log = structlog.get_logger()


async def sweep_forever(engine: Engine, interval: float = 0.25) -> None:
    while True:
        try:
            while await asyncio.to_thread(expire_due, engine) > 0:
                pass
        except Exception:  # a failed sweep is retried on the next tick; never kill the job
            log.exception("expiry sweep failed")
        await asyncio.sleep(interval)
