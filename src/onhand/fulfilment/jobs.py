"""The backorder job of `onhand serve`: arrived stock goes to open backorders within seconds.

Each tick allocates, oldest first, for every tenant with open backorders, and refreshes their
ETAs (events for those that moved). Runs under a leader, so one process does it at a time;
the allocation itself locks the rows it decides on, so a second runner would only wait.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.engine import Engine

from .. import db
from . import backorders

log = structlog.get_logger()


def allocate_all(engine: Engine) -> int:
    """One pass over every tenant with open backorders; how many lines were allocated."""
    with db.read(engine) as conn:
        waiting = backorders.tenants_with_open(conn)
    allocated = 0
    for tenant in waiting:
        with db.write(engine) as conn:
            now = db.utcnow()
            allocated += len(backorders.allocate(conn, tenant, now))
            backorders.refresh_etas(conn, tenant, now)
    return allocated


async def allocate_forever(engine: Engine, interval: float = 2.0) -> None:
    while True:
        try:
            await asyncio.to_thread(allocate_all, engine)
        except Exception:  # noqa: BLE001 - a failed pass is retried on the next tick
            log.exception("backorder allocation failed")
        await asyncio.sleep(interval)
