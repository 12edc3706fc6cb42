"""Group commit: concurrent hold requests in one process share one transaction.

Requests queue up while a batch is being written; the next batch takes all of them (up to
`max_batch`), grants them in arrival order, and commits once. Under load that turns
hundreds of commits a second into a few dozen, which is what lifts a hot SKU past the
one-commit-per-request ceiling. Correctness does not depend on it: every grant is still a
guarded UPDATE inside stock.apply.

Every request is validated before it joins a batch, and a request's own error (bad input,
not enough stock) is its answer alone: an answer is the reservation document or the
`DomainError` of that request, and the route turns it into HTTP. If a batch fails as a whole
(a deadlock with another process, a racing Idempotency-Key, a guard that refused a decision),
it is decided again in a new transaction, and then, if it still fails, one request per
transaction, so one request cannot sink its neighbours.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from .. import db
from ..errors import DomainError, Unavailable
from ..stock import GrantRefused
from .granting import Answer, Job, create_batch

log = structlog.get_logger()


def create_now(engine: Engine, tenant: str, jobs: list[Job]) -> list[Answer]:
    """Grant `jobs` in one transaction; on a whole-batch failure, one transaction each."""
    try:
        return _batch(engine, tenant, jobs)
    except GrantRefused as exc:
        # The figures moved between the decision and the guard: decide again on a fresh view.
        log.warning("group commit batch refused; deciding it again", size=len(jobs), error=str(exc))
        try:
            return _batch(engine, tenant, jobs)
        except (IntegrityError, DBAPIError, GrantRefused) as again:
            failure: Exception = again
    except (IntegrityError, DBAPIError) as exc:
        failure = exc
    if len(jobs) == 1:
        if isinstance(failure, IntegrityError) and jobs[0].key:
            return _batch(engine, tenant, jobs)  # a racing duplicate key stored its answer
        raise failure
    log.warning(
        "group commit batch failed; retrying one by one",
        size=len(jobs),
        error=str(getattr(failure, "orig", failure)),
    )
    return [_alone(engine, tenant, job) for job in jobs]


def _batch(engine: Engine, tenant: str, jobs: list[Job]) -> list[Answer]:
    with db.write(engine) as conn:
        return create_batch(conn, tenant, jobs, db.utcnow())


def _alone(engine: Engine, tenant: str, job: Job) -> Answer:
    """One job in its own transaction; a database failure answers this job alone."""
    try:
        return create_now(engine, tenant, [job])[0]
    except (DBAPIError, GrantRefused) as exc:
        log.error("hold failed in the database", error=str(getattr(exc, "orig", exc)))
        return Unavailable(
            "The database could not record this hold just now; retry with the same "
            "Idempotency-Key.",
            title="Temporarily unavailable",
        )


def create_one(engine: Engine, tenant: str, job: Job) -> Answer:
    try:
        return create_now(engine, tenant, [job])[0]
    except DomainError as error:
        return error


class GroupCommit:
    """Coalesces `submit` calls from one event loop into batched transactions."""

    def __init__(self, engine: Engine, *, enabled: bool = True, max_batch: int = 256) -> None:
        self.engine = engine
        self.enabled = enabled
        self.max_batch = max_batch
        # Own threads, so that other work on the loop's default executor never delays a batch.
        self._threads = ThreadPoolExecutor(
            max_workers=1 if enabled else 32, thread_name_prefix="reservations"
        )
        self._pending: list[tuple[str, Job, asyncio.Future]] = []
        self._runner: asyncio.Task | None = None
        self.batches = 0
        self.batched_requests = 0

    async def submit(self, tenant: str, job: Job) -> Answer:
        loop = asyncio.get_running_loop()
        if not self.enabled:
            return await loop.run_in_executor(self._threads, create_one, self.engine, tenant, job)
        future = loop.create_future()
        self._pending.append((tenant, job, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            by_tenant: dict[str, list[tuple[Job, asyncio.Future]]] = defaultdict(list)
            for tenant, job, future in batch:
                by_tenant[tenant].append((job, future))
            for tenant, entries in by_tenant.items():
                jobs = [job for job, _ in entries]
                try:
                    answers = await asyncio.get_running_loop().run_in_executor(
                        self._threads, create_now, self.engine, tenant, jobs
                    )
                except Exception as exc:  # noqa: BLE001 -- resolve every waiter with the error
                    for _, future in entries:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                self.batches += 1
                self.batched_requests += len(jobs)
                for (_, future), answer in zip(entries, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
