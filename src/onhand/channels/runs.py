"""Sync runs: the per-channel run lock, the run record with its items, the history.

The lock is the database's own: a unique index on (tenant, channel) over running runs, so
two processes can never run the same channel at once. A running run carries a lease that its
process renews; a run whose lease ran out (its process died) is closed as interrupted before
a new one may start.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from .. import db, tenancy
from ..errors import NotFound
from .tables import channels, sync_run_items, sync_runs

LEASE = timedelta(seconds=60)
COUNTS = ("items_ok", "items_unchanged", "items_failed", "items_skipped")


def run_out(row: Row, channel_code: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": channel_code,
        "trigger": row.trigger,
        "status": row.status,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        **{c: row._mapping[c] for c in COUNTS},
        "calls": row.calls,
        "error": row.error,
    }


def _running(conn: Connection, tenant: str, channel_id: int) -> Row | None:
    return conn.execute(
        sa.select(sync_runs).where(
            tenancy.of(tenant, sync_runs),
            sync_runs.c.channel_id == channel_id,
            sync_runs.c.status == "running",
        )
    ).first()


def start(conn: Connection, tenant: str, channel_id: int, trigger: str) -> tuple[Row, bool]:
    """The channel's running run, or a new one: (run, started)."""
    now = db.utcnow()
    conn.execute(
        sync_runs.update()
        .where(
            tenancy.of(tenant, sync_runs),
            sync_runs.c.channel_id == channel_id,
            sync_runs.c.status == "running",
            sync_runs.c.lease_until < now,
        )
        .values(
            status="failed",
            finished_at=now,
            error="Interrupted: the process running this sync stopped. The next sync starts over.",
        )
    )
    existing = _running(conn, tenant, channel_id)
    if existing is not None:
        return existing, False
    run_id = str(uuid.uuid4())
    try:
        with conn.begin_nested():
            conn.execute(
                sync_runs.insert().values(
                    tenant_id=tenant,
                    id=run_id,
                    channel_id=channel_id,
                    trigger=trigger,
                    status="running",
                    started_at=now,
                    lease_until=now + LEASE,
                )
            )
    except IntegrityError:  # another process started one since the look-up
        existing = _running(conn, tenant, channel_id)
        if existing is None:
            raise
        return existing, False
    row = conn.execute(
        sa.select(sync_runs).where(tenancy.of(tenant, sync_runs), sync_runs.c.id == run_id)
    ).one()
    return row, True


def renew(engine: Engine, tenant: str, run_id: str) -> None:
    with db.write(engine) as conn:
        conn.execute(
            sync_runs.update()
            .where(tenancy.of(tenant, sync_runs), sync_runs.c.id == run_id)
            .values(lease_until=db.utcnow() + LEASE)
        )


def discard(engine: Engine, tenant: str, run_id: str) -> None:
    """Drop a run that did nothing worth recording (a live push that changed nothing)."""
    with db.write(engine) as conn:
        conn.execute(
            sync_runs.delete().where(tenancy.of(tenant, sync_runs), sync_runs.c.id == run_id)
        )


def finish(
    engine: Engine,
    tenant: str,
    run_id: str,
    items: list[dict[str, Any]],
    status: str,
    error: str | None,
    calls: int,
) -> None:
    counts = {c: 0 for c in COUNTS}
    for item in items:
        counts[f"items_{item['status']}"] += 1
    with db.write(engine) as conn:
        if items:
            conn.execute(
                sync_run_items.insert(),
                [
                    {
                        "tenant_id": tenant,
                        "run_id": run_id,
                        "line_no": n,
                        "sku": i.get("sku"),
                        "channel_item": i.get("channel_item"),
                        "channel_location": i.get("channel_location"),
                        "before": i.get("before"),
                        "after": i.get("after"),
                        "status": i["status"],
                        "error": i.get("error"),
                        "offer": i.get("offer"),
                    }
                    for n, i in enumerate(items)
                ],
            )
        conn.execute(
            sync_runs.update()
            .where(tenancy.of(tenant, sync_runs), sync_runs.c.id == run_id)
            .values(
                status=status,
                error=error,
                finished_at=db.utcnow(),
                lease_until=None,
                calls=calls,
                **counts,
            )
        )


def list_runs(
    conn: Connection, tenant: str, channel_code: str | None, limit: int
) -> list[dict[str, Any]]:
    stmt = (
        sa.select(sync_runs, channels.c.code)
        .join(
            channels,
            sa.and_(channels.c.id == sync_runs.c.channel_id, tenancy.of(tenant, channels)),
        )
        .where(tenancy.of(tenant, sync_runs))
        .order_by(sync_runs.c.started_at.desc(), sync_runs.c.id)
        .limit(limit)
    )
    if channel_code:
        stmt = stmt.where(channels.c.code == channel_code)
    return [run_out(r, r.code) for r in conn.execute(stmt)]


ORDER = sa.case(
    {"failed": 0, "skipped": 1, "ok": 2, "unchanged": 3}, value=sync_run_items.c.status, else_=4
)


def get_run(conn: Connection, tenant: str, run_id: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(sync_runs, channels.c.code)
        .join(
            channels,
            sa.and_(channels.c.id == sync_runs.c.channel_id, tenancy.of(tenant, channels)),
        )
        .where(tenancy.of(tenant, sync_runs), sync_runs.c.id == run_id)
    ).first()
    if row is None:
        raise NotFound(f"No sync run '{run_id}'.")
    items = conn.execute(
        sa.select(sync_run_items)
        .where(tenancy.of(tenant, sync_run_items), sync_run_items.c.run_id == run_id)
        .order_by(ORDER, sync_run_items.c.line_no)
    )
    return run_out(row, row.code) | {
        "items": [
            {
                "sku": i.sku,
                "channel_item": i.channel_item,
                "channel_location": i.channel_location,
                "before": i.before,
                "after": i.after,
                "status": i.status,
                "error": i.error,
                "offer": i.offer,
            }
            for i in items
        ]
    }
