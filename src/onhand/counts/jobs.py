"""The daily job: every tenant's count tasks for its today (idempotent: a task is made once)."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import db, tenants
from ..tables import tenants as tenant_rows
from . import service

log = logging.getLogger(__name__)


def generate_all(engine: Engine) -> int:
    """Tasks made for every tenant's today; one transaction per tenant."""
    with db.read(engine) as conn:
        ids = conn.execute(sa.select(tenant_rows.c.id)).scalars().all()
    made = 0
    for tenant in ids:
        now = db.utcnow()
        with db.write(engine) as conn:
            day = tenants.load(conn, tenant).day(now)
            made += service.generate(conn, tenant, day, now)["created"]
    return made


async def generate_forever(engine: Engine, every: float = 3600.0) -> None:
    while True:
        try:
            await asyncio.to_thread(generate_all, engine)
        except Exception:  # noqa: BLE001  (try again next round; the job must not die)
            log.exception("count tasks could not be made")
        await asyncio.sleep(every)
