"""Sending webhooks: the sink queues one delivery per matching subscription (in the cursor's
transaction, so exactly once), and the sender works the queue with retries.

A failed attempt is retried after backoff * 2^(attempt-1) seconds (capped at an hour); after
`webhook_max_attempts` failures the delivery becomes a dead letter, visible in the delivery log
and redeliverable through the API. Deliveries of one webhook go out one at a time in event
order; a retry does not hold back later events (receivers dedupe and order by event id).

Requests go through `netguard` (public addresses only, redirects not followed), and whatever
goes wrong with one delivery is recorded on that delivery alone: the sender never stops for it.
A refused address is logged as a generic error, so the delivery log cannot map the network.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db, netguard
from ..settings import Settings
from . import metrics
from .dispatcher import Sink
from .feed import Event, by_ids
from .tables import webhook_deliveries, webhooks
from .tail import wait
from .webhooks import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)
MAX_BACKOFF = 3600.0
REFUSED = "the address is not allowed (webhooks reach public addresses only)"


class WebhookSink(Sink):
    name = "webhooks"

    def __init__(self) -> None:
        self.queued = asyncio.Event()  # wakes the sender in this process
        self._loop = asyncio.get_running_loop()

    def apply(self, conn: Connection, events: list[Event]) -> None:
        tenants = {e.tenant for e in events}
        subs: dict[str, list[Any]] = defaultdict(list)
        for row in conn.execute(
            sa.select(webhooks.c.tenant_id, webhooks.c.id, webhooks.c.types).where(
                webhooks.c.tenant_id.in_(tenants), webhooks.c.active
            )
        ):
            subs[row.tenant_id].append(row)
        now = db.utcnow()
        rows = [
            {
                "tenant_id": e.tenant,
                "webhook_id": w.id,
                "event_id": e.id,
                "event_type": e.type,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for e in events
            for w in subs.get(e.tenant, ())
            if "*" in w.types or e.type in w.types
        ]
        if rows:
            conn.execute(webhook_deliveries.insert(), rows)
            self._loop.call_soon_threadsafe(self.queued.set)


def _printable(text: str) -> str:
    """An error message safe to store on either database (no NUL or control characters)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:500]


class Sender:
    def __init__(self, engine: Engine, settings: Settings, wake: asyncio.Event) -> None:
        self.engine = engine
        self.max_attempts = settings.webhook_max_attempts
        self.backoff = settings.webhook_backoff_seconds
        self.timeout = settings.webhook_timeout_seconds
        self.allowed = netguard.parse_networks(settings.allow_private_networks)
        self.wake = wake

    async def run(self) -> None:
        client = netguard.client(self.allowed, timeout=self.timeout, follow_redirects=False)
        async with client:
            while True:
                try:
                    await self._round(client)
                except SQLAlchemyError as exc:  # the database is away: wait, then carry on
                    log.warning("webhook sender: database unavailable (%s)", exc)
                    await asyncio.sleep(1.0)

    async def _round(self, client: httpx.AsyncClient) -> None:
        due = await asyncio.to_thread(self._due, 100)
        if not due:
            await wait(self.wake, 0.25)
            return
        by_hook: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in due:
            by_hook[d["webhook_id"]].append(d)
        results = await asyncio.gather(
            *(self._send_in_order(client, ds) for ds in by_hook.values())
        )
        await asyncio.to_thread(self._record, [r for rs in results for r in rs])

    def _due(self, limit: int) -> list[dict[str, Any]]:
        d = webhook_deliveries
        with db.read(self.engine) as conn:
            rows = conn.execute(
                sa.select(
                    d.c.id,
                    d.c.tenant_id,
                    d.c.webhook_id,
                    d.c.event_id,
                    d.c.attempts,
                    webhooks.c.url,
                    webhooks.c.secret,
                )
                .join(
                    webhooks,
                    sa.and_(webhooks.c.tenant_id == d.c.tenant_id, webhooks.c.id == d.c.webhook_id),
                )
                .where(d.c.status == "pending", d.c.next_attempt_at <= db.utcnow())
                .order_by(d.c.event_id, d.c.id)
                .limit(limit)
            ).all()
            # The body is the outbox row itself, read at send time.
            events = by_ids(conn, {r.event_id for r in rows})
        return [{**r._mapping, "event": events.get(r.event_id)} for r in rows]

    async def _send_in_order(
        self, client: httpx.AsyncClient, due: list[dict[str, Any]]
    ) -> list[tuple[dict[str, Any], int | None, str | None]]:
        return [await self._attempt(client, d) for d in due]

    async def _attempt(
        self, client: httpx.AsyncClient, d: dict[str, Any]
    ) -> tuple[dict[str, Any], int | None, str | None]:
        ev: Event | None = d["event"]
        if ev is None:
            return d, None, "the event is no longer in the outbox"
        body = ev.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "onhand-webhooks",
            "Onhand-Event-Id": str(ev.id),
            "Onhand-Event-Type": ev.type,
            "Onhand-Delivery-Id": str(d["id"]),
            SIGNATURE_HEADER: sign(d["secret"], int(time.time()), body),
        }
        try:
            response = await client.post(d["url"], content=body, headers=headers)
        except netguard.BlockedUrl:
            return d, None, REFUSED
        except httpx.HTTPError as exc:
            return d, None, _printable(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 (a URL stored before validation, a library bug)
            log.warning("webhook delivery %s failed: %r", d["id"], exc)
            return d, None, _printable(f"the request could not be made ({type(exc).__name__})")
        if 200 <= response.status_code < 300:
            return d, response.status_code, None
        return d, response.status_code, f"HTTP {response.status_code}"

    def _record(self, results: list[tuple[dict[str, Any], int | None, str | None]]) -> None:
        now = db.utcnow()
        t = webhook_deliveries
        with db.write(self.engine) as conn:
            for d, code, error in results:
                attempts = d["attempts"] + 1
                values: dict[str, Any] = {
                    "attempts": attempts,
                    "last_status_code": code,
                    "last_error": error,
                    "updated_at": now,
                }
                if error is None:
                    values.update(status="delivered", delivered_at=now)
                elif attempts >= self.max_attempts:
                    values.update(status="dead")
                    metrics.WEBHOOK_FAILURES.inc()
                    metrics.WEBHOOK_DEAD.inc()
                else:
                    delay = min(self.backoff * 2 ** (attempts - 1), MAX_BACKOFF)
                    values.update(next_attempt_at=now + timedelta(seconds=delay))
                    metrics.WEBHOOK_FAILURES.inc()
                # Only if nobody redelivered or cancelled it meanwhile.
                conn.execute(
                    t.update()
                    .where(
                        t.c.id == d["id"], t.c.status == "pending", t.c.attempts == d["attempts"]
                    )
                    .values(**values)
                )
