"""One leader per job across processes: a PostgreSQL advisory lock, or a lease row on SQLite.

The advisory lock lives as long as its session, so a killed process frees it at once. SQLite
has no such lock; a row in job_leases is renewed every third of its lifetime and may be taken
over once it has expired (a crashed leader is replaced after at most one lease).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db
from .tables import job_leases

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(
        hashlib.sha256(f"onhand:{name}".encode()).digest()[:8], "big", signed=True
    )


class Leader:
    def __init__(self, engine: Engine, name: str, lease_seconds: float = 10.0) -> None:
        self.engine = engine
        self.name = name
        self.lease = lease_seconds
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        self._conn: Connection | None = None

    async def run(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Forever: wait for leadership, run `work` while it lasts, start over when it ends."""
        while True:
            try:
                acquired = await asyncio.to_thread(self._try_acquire)
            except SQLAlchemyError as exc:
                log.warning("leader %s: cannot reach the database (%s)", self.name, exc)
                acquired = False
            if not acquired:
                await asyncio.sleep(self.lease / 3)
                continue
            self.is_leader = True
            task = asyncio.create_task(work(), name=f"lead:{self.name}")
            try:
                while not task.done():
                    await asyncio.wait({task}, timeout=self.lease / 3)
                    if not task.done() and not await asyncio.to_thread(self._renew):
                        log.warning("leader %s: lost leadership", self.name)
                        break
            finally:
                self.is_leader = False
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await asyncio.to_thread(self._release)
            if task.done() and not task.cancelled() and task.exception():
                log.error("leader %s: job failed: %r; retrying", self.name, task.exception())
                await asyncio.sleep(1.0)

    # ---- PostgreSQL: a session advisory lock on a connection kept for the reign ----------

    def _try_acquire(self) -> bool:
        if db.is_sqlite(self.engine):
            return self._lease_take()
        conn = self.engine.connect()
        try:
            got = conn.execute(
                sa.select(sa.func.pg_try_advisory_lock(lock_key(self.name)))
            ).scalar()
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _renew(self) -> bool:
        if db.is_sqlite(self.engine):
            try:
                return self._lease_take()
            except SQLAlchemyError:
                return False
        try:
            assert self._conn is not None
            self._conn.execute(sa.text("SELECT 1"))
            self._conn.commit()
            return True
        except SQLAlchemyError:
            return False

    def _release(self) -> None:
        try:
            if db.is_sqlite(self.engine):
                with db.write(self.engine) as conn:
                    conn.execute(
                        job_leases.delete().where(
                            job_leases.c.name == self.name, job_leases.c.holder == self.holder
                        )
                    )
            elif self._conn is not None:
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(lock_key(self.name))))
                self._conn.commit()
        except SQLAlchemyError as exc:  # the lock or lease goes with the session or expires anyway
            log.info("leader %s: release failed (%s)", self.name, exc)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ---- SQLite: a lease row ------------------------------------------------------------

    def _lease_take(self) -> bool:
        now = db.utcnow()
        until = now + timedelta(seconds=self.lease)
        with db.write(self.engine) as conn:
            taken = conn.execute(
                job_leases.update()
                .where(
                    job_leases.c.name == self.name,
                    sa.or_(job_leases.c.holder == self.holder, job_leases.c.expires_at < now),
                )
                .values(holder=self.holder, expires_at=until)
            ).rowcount
            if taken:
                return True
            stmt = (
                db.insert(conn, job_leases)
                .values(name=self.name, holder=self.holder, expires_at=until)
                .on_conflict_do_nothing()
            )
            return conn.execute(stmt).rowcount == 1
