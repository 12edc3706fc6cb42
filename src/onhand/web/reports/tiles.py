"""Home tiles served from one aggregate each.

On PostgreSQL the tiles are materialised per tenant in `console_tiles` and refreshed by a
background job every `REFRESH_SECONDS` (a tile asked for before its first refresh is computed
and stored then); on SQLite — one process, small data — they are computed on the fly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ... import db, tenancy
from ...tables import tenants
from .cover import cover_tile
from .returns import returns_tile
from .tables import console_tiles

log = logging.getLogger(__name__)
REFRESH_SECONDS = 300
TILES: dict[str, Callable[[Connection, str, datetime], dict[str, Any]]] = {
    "returns": returns_tile,
    "cover": cover_tile,
}


def _store(conn: Connection, tenant: str, name: str, now: datetime) -> dict[str, Any]:
    payload = {**TILES[name](conn, tenant, now), "computed_at": db.iso(now)}
    stmt = db.insert(conn, console_tiles).values(
        tenant_id=tenant, tile=name, payload=payload, computed_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "tile"],
            set_={"payload": stmt.excluded.payload, "computed_at": stmt.excluded.computed_at},
        )
    )
    return payload


def tile(engine: Engine, tenant: str, name: str) -> dict[str, Any]:
    now = db.utcnow()
    if db.is_sqlite(engine):
        with db.read(engine) as conn:
            return {**TILES[name](conn, tenant, now), "computed_at": db.iso(now)}
    with db.read(engine) as conn:
        stored = conn.execute(
            sa.select(console_tiles.c.payload).where(
                tenancy.of(tenant, console_tiles), console_tiles.c.tile == name
            )
        ).scalar()
    if stored is not None:
        return dict(stored)
    with db.write(engine) as conn:
        return _store(conn, tenant, name, now)


def refresh(engine: Engine, older_than: timedelta = timedelta(0)) -> int:
    """Recompute every tenant's tiles (those older than `older_than`); how many were stored."""
    now = db.utcnow()
    with db.read(engine) as conn:
        ids = conn.execute(sa.select(tenants.c.id)).scalars().all()
        fresh = {
            (r.tenant_id, r.tile)
            for r in conn.execute(
                sa.select(console_tiles.c.tenant_id, console_tiles.c.tile).where(
                    console_tiles.c.computed_at > now - older_than
                )
            )
        }
    done = 0
    for tenant in ids:
        for name in TILES:
            if (tenant, name) in fresh:
                continue
            with db.write(engine) as conn:
                _store(conn, tenant, name, now)
            done += 1
    return done


async def refresh_forever(engine: Engine, every: float = REFRESH_SECONDS) -> None:
    """The background job (PostgreSQL only): keep the materialised tiles fresh."""
    if db.is_sqlite(engine):
        return
    while True:
        try:
            await asyncio.to_thread(refresh, engine, timedelta(seconds=every / 2))
        except Exception:  # noqa: BLE001 - a failed refresh must not stop the job; retried
            log.exception("refreshing the console tiles failed")
        await asyncio.sleep(every)
