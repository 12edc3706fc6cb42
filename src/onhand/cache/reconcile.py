"""Reconciliation: compare every cached availability figure with the database, repair drift.

Work goes page by page (2,000 items), a few pages at once: one MGET for the page's keys first,
then the page's entries from the database (built by PostgreSQL itself, see bulk.py), then one
pipeline of compare-and-set repairs. Reading Redis *before* the database and repairing with CAS
on what was read means a write-through that lands in between always wins over the (older)
repair.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.engine import Engine

from .. import db, tenancy
from ..tables import items, tenants
from .bulk import bulk_entries
from .redis_cache import AvailabilityCache
from .tables import cache_repairs

REPAIRS = Counter("onhand_cache_repairs_total", "Cached availability figures repaired", ["kind"])
PAGE = 2000


@dataclass(frozen=True)
class Repair:
    tenant: str
    sku: str
    kind: str  # "changed" | "missing"
    was: dict[str, Any] | None
    now: dict[str, Any]


@dataclass
class Report:
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenants: int = 0
    checked: int = 0
    repairs: list[Repair] = field(default_factory=list)
    repaired: int = 0
    seconds: float = 0.0


def _loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # garbage in the key: drift like any other
        return None


def _figures(raw: bytes | str | None) -> dict[str, Any] | None:
    value = None if raw is None else _loads(raw)
    return value.get("doc") if isinstance(value, dict) else None


def _doc(entry: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(entry)["doc"]
    return doc


def _pages(engine: Engine, tenant: str) -> Iterator[Sequence[Any]]:
    after = 0
    while True:
        with db.read(engine) as conn:
            rows = conn.execute(
                tenancy.select(tenant, items, items.c.id, items.c.sku, items.c.kind)
                .where(items.c.id > after)
                .order_by(items.c.id)
                .limit(PAGE)
            ).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def item_count(engine: Engine) -> int:
    with db.read(engine) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(items)).scalar() or 0)


def _check(
    engine: Engine, cache: AvailabilityCache, tenant: str, rows: Sequence[Any]
) -> list[tuple[str, str, bytes | None, str]]:
    """One page: Redis first, then the database; the (sku, key, was, entry) that differ."""
    keys = [cache.key(tenant, r.sku) for r in rows]
    cached = dict(zip(keys, cache.read_many(keys), strict=True))
    with db.read(engine) as conn:
        fresh = bulk_entries(conn, tenant, rows, db.utcnow())
    drift = []
    for sku, entry in fresh.items():
        k = cache.key(tenant, sku)
        was = cached[k]
        if was is None or was != entry.encode():
            drift.append((sku, k, was, entry))
    return drift


def reconcile(
    engine: Engine,
    cache: AvailabilityCache,
    *,
    record: bool = True,
    progress: Callable[[int], None] | None = None,
    keep: int = 1000,
    workers: int | None = None,
) -> Report:
    """One full pass over every tenant; `record=False` for a rebuild (every key is new).

    Pages are checked by a few threads at once: on PostgreSQL the figures are built by the
    database, so several backends work in parallel while Python only compares strings.
    """
    workers = workers or (1 if db.is_sqlite(engine) else 3)
    report = Report()
    started = time.perf_counter()
    with db.read(engine) as conn:
        tenant_ids = [r.id for r in conn.execute(sa.select(tenants.c.id).order_by(tenants.c.id))]
    with ThreadPoolExecutor(workers, thread_name_prefix="reconcile") as pool:
        for tenant in tenant_ids:
            report.tenants += 1
            pending: deque[tuple[int, Future]] = deque()
            for rows in _pages(engine, tenant):
                pending.append((len(rows), pool.submit(_check, engine, cache, tenant, rows)))
                if len(pending) > workers * 2:
                    _repair(
                        engine, cache, report, tenant, *pending.popleft(), record, keep, progress
                    )
            while pending:
                _repair(engine, cache, report, tenant, *pending.popleft(), record, keep, progress)
    report.seconds = time.perf_counter() - started
    return report


def _repair(
    engine: Engine,
    cache: AvailabilityCache,
    report: Report,
    tenant: str,
    size: int,
    checked: Future,
    record: bool,
    keep: int,
    progress: Callable[[int], None] | None,
) -> None:
    drift = checked.result()
    done = cache.repair_many([(k, was, entry) for _, k, was, entry in drift])
    found = [
        # `entry` is the database's own encoding (figures.encode): its document is always there.
        Repair(tenant, sku, "missing" if was is None else "changed", _figures(was), _doc(entry))
        for (sku, _, was, entry), ok in zip(drift, done, strict=True)
        if ok
    ]
    _account(engine, report, found, record, keep)
    report.checked += size
    if progress:
        progress(size)


def _account(engine: Engine, report: Report, found: list[Repair], record: bool, keep: int) -> None:
    if not found:
        return
    report.repaired += len(found)
    if len(report.repairs) < keep:
        report.repairs.extend(found[: keep - len(report.repairs)])
    for r in found:
        REPAIRS.labels(r.kind).inc()
    if record:
        now = db.utcnow()
        with db.write(engine) as conn:
            conn.execute(
                cache_repairs.insert(),
                [
                    {
                        "tenant_id": r.tenant,
                        "sku": r.sku,
                        "kind": r.kind,
                        "was": r.was,
                        "now": r.now,
                        "run_id": report.run_id,
                        "created_at": now,
                    }
                    for r in found
                ],
            )
