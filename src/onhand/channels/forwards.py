"""Sales of partner-held stock passed on to the partner's store, exactly once per order line.

Each adjustment is its own `inventoryAdjustQuantities` request. Its idempotency key and
`changeFromQuantity` are stored before it is sent, so a request retried after a lost answer
or a crash is the same request with the same key, and Shopify applies it once. Only a stale
figure (Shopify says the request was not applied) leads to a new request with a new key, and
a new request is stored only over the one it replaces (compare and set), so two processes
sending the same adjustment never make two requests of it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import db, tenancy
from .service import Channel
from .shopify import ADJUST, Client, ShopifyError, StoreRefused
from .tables import channel_forwards

log = logging.getLogger(__name__)
_locks: dict[tuple[int, str, int], asyncio.Lock] = {}


def _pending(engine: Engine, tenant: str, partner_id: int) -> list[Any]:
    with db.read(engine) as conn:
        return list(
            conn.execute(
                sa.select(channel_forwards)
                .where(
                    tenancy.of(tenant, channel_forwards),
                    channel_forwards.c.partner_id == partner_id,
                    channel_forwards.c.status.in_(("pending", "sending")),
                )
                .order_by(channel_forwards.c.created_at, channel_forwards.c.key)
            )
        )


def _update(engine: Engine, tenant: str, key: str, **values: Any) -> None:
    with db.write(engine) as conn:
        conn.execute(
            channel_forwards.update()
            .where(tenancy.of(tenant, channel_forwards), channel_forwards.c.key == key)
            .values(**values)
        )


async def send_pending(engine: Engine, partner: Channel, client: Client) -> int:
    """Send every queued adjustment of one partner; returns how many were applied."""
    # In one process, one sender per partner at a time; across processes `_claim` decides.
    lock_key = (id(asyncio.get_running_loop()), partner.tenant, partner.id)
    lock = _locks.setdefault(lock_key, asyncio.Lock())
    applied = 0
    async with lock:
        for row in await asyncio.to_thread(_pending, engine, partner.tenant, partner.id):
            if await _send(engine, partner, client, row):
                applied += 1
    return applied


def _claim(
    engine: Engine,
    tenant: str,
    key: str,
    known: str | None,
    request_key: str,
    change_from: int | None,
    attempts: int,
) -> bool:
    """Store a new request for the adjustment, if its request is still the one we know: of
    two processes sending the same adjustment, one makes the new request, the other leaves it."""
    f = channel_forwards
    with db.write(engine) as conn:
        done = conn.execute(
            f.update()
            .where(
                tenancy.of(tenant, f),
                f.c.key == key,
                f.c.status.in_(("pending", "sending")),
                f.c.request_key.is_(None) if known is None else f.c.request_key == known,
            )
            .values(
                status="sending",
                request_key=request_key,
                change_from=change_from,
                attempts=attempts,
            )
        )
        return done.rowcount == 1


async def _send(engine: Engine, partner: Channel, client: Client, row: Any) -> bool:
    key, change_from, attempts = row.request_key, row.change_from, row.attempts
    known = key
    for _ in range(6):
        if key is None:
            level = await client.levels([row.inventory_item], row.channel_location)
            change_from = level.get(row.inventory_item, {}).get("available")
            key = str(uuid.uuid4())
            attempts += 1
            claimed = await asyncio.to_thread(
                _claim, engine, partner.tenant, row.key, known, key, change_from, attempts
            )
            if not claimed:
                return False  # another process sends this one
            known = key
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"onhand://{partner.tenant}/forward/{row.key}",
                "changes": [
                    {
                        "inventoryItemId": row.inventory_item,
                        "locationId": row.channel_location,
                        "delta": int(row.delta),
                        "changeFromQuantity": change_from,
                    }
                ],
            },
            "key": key,
        }
        try:
            data = await client.call("AdjustAvailable", ADJUST, variables)
        except StoreRefused:
            raise
        except ShopifyError as exc:
            await asyncio.to_thread(_update, engine, partner.tenant, row.key, error=str(exc))
            return False
        errors = (data.get("inventoryAdjustQuantities") or {}).get("userErrors") or []
        if not errors:
            await asyncio.to_thread(
                _update,
                engine,
                partner.tenant,
                row.key,
                status="done",
                error=None,
                done_at=db.utcnow(),
            )
            return True
        codes = {e.get("code") for e in errors}
        if "CHANGE_FROM_QUANTITY_STALE" in codes:
            key = None  # not applied: read again, new request
            continue
        message = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        await asyncio.to_thread(
            _update, engine, partner.tenant, row.key, status="failed", error=message
        )
        log.warning("forward %s to partner %s failed: %s", row.key, partner.code, message)
        return False
    return False
