"""Sync runs: partners into onhand, onhand into stores, and the live push of changed items.

The business rules live here; Shopify's protocol lives in shopify.py. A partner sync sends the
adjustments queued for the partner, reads the partner's `available` of every mapped item and
sets the partner location's on_hand to it (the partner wins). A store sync first records the
orders it may have missed, then writes to each Shopify location what onhand offers and only
where it differs from what Shopify has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import MultiFernet
from sqlalchemy.engine import Engine

from .. import db, netguard, tenancy
from ..catalog import service as catalog
from ..events import catalogue, outbox
from ..settings import Settings
from . import alerts, allocations, forwards, metrics, runs, sales, secrets, service, stock_writes
from .offers import Mapped, items_with_parts, offers, skip_reason
from .service import Channel
from .shopify import Client, Quantity, ShopifyError, StoreRefused
from .tables import channel_mappings, channel_push_queue, channels

log = logging.getLogger(__name__)
ITEMS_FAILED = "items-failed"
QUIET = ("unchanged", "skipped")  # a live push with only these wrote nothing worth a record
STALE_ROUNDS = 5  # times a held item is worked out again after its Shopify figure moved


@dataclass
class Context:
    engine: Engine
    settings: Settings
    ring: MultiFernet
    allowed: tuple[netguard.Network, ...]

    @classmethod
    def of(cls, engine: Engine, settings: Settings) -> Context:
        return cls(
            engine,
            settings,
            secrets.keyring(settings.secret_key, settings.database_url),
            netguard.parse_networks(settings.allow_private_networks),
        )

    def client(self, ch: Channel) -> Client:
        return Client(
            ch.api_url, ch.access_token, self.allowed, backoff=self.settings.channel_retry_seconds
        )


def load(
    ctx: Context, tenant: str, channel_id: int, skus: set[str] | None = None
) -> tuple[Channel, list[Mapped]]:
    with db.read(ctx.engine) as conn:
        row = conn.execute(
            sa.select(channels).where(tenancy.of(tenant, channels), channels.c.id == channel_id)
        ).one()
        ch = service.channel(row, ctx.ring)
        m = channel_mappings
        rows = list(
            conn.execute(sa.select(m).where(tenancy.of(tenant, m), m.c.channel_id == channel_id))
        )
        by_id = items_with_parts(conn, tenant, {r.item_id for r in rows}) if rows else {}
    mapped = [
        Mapped(by_id[r.item_id], r.variant, r.inventory_item, r.tracked, r.buffer, r.share)
        for r in rows
        if r.item_id in by_id and (skus is None or by_id[r.item_id].sku in skus)
    ]
    mapped.sort(key=lambda x: x.item.sku)
    return ch, mapped


# ---- one run -----------------------------------------------------------------------------


async def execute(
    ctx: Context, tenant: str, channel_id: int, run_id: str, skus: set[str] | None = None
) -> str:
    """Run a started sync to its end and record it; returns the run's status.

    With `skus` it is a live push of those items to a store: no orders are read, and a push
    that wrote nothing and failed nothing leaves no run behind.
    """
    items: list[dict[str, Any]] = []
    error: str | None = None
    failure: str | None = None
    calls = 0
    renewer = asyncio.create_task(_renew(ctx.engine, tenant, run_id))
    ch: Channel | None = None
    try:
        loaded, mapped = await asyncio.to_thread(load, ctx, tenant, channel_id, skus)
        ch = loaded
        async with ctx.client(loaded) as client:
            try:
                if loaded.role == "partner":
                    items = await partner_sync(ctx, loaded, mapped, client)
                else:
                    items = await store_sync(ctx, loaded, mapped, client, read_orders=skus is None)
            finally:
                calls = client.stats.calls
                metrics.CALLS.labels(tenant, loaded.code).inc(client.stats.calls)
                metrics.THROTTLED.labels(tenant, loaded.code).inc(client.stats.throttled)
    except StoreRefused as exc:
        error = failure = str(exc)
    except ShopifyError as exc:
        error = failure = f"Shopify refused a request: {exc}"
    except Exception as exc:  # noqa: BLE001  (the run must end recorded, whatever happened)
        log.exception("channel sync %s failed", run_id)
        error = f"The sync stopped on an unexpected error ({type(exc).__name__}); see the logs."
        failure = "internal"
    finally:
        renewer.cancel()
    failed = sum(1 for i in items if i["status"] == "failed")
    counted = sum(1 for i in items if i["status"] != "skipped")
    if error is None and counted and failed * 2 > counted:
        error = (
            f"{failed} of {counted} items failed (first: {_first_error(items)}). Fix the "
            "mappings or locations listed in the run, then sync again."
        )
        failure = ITEMS_FAILED
    status = "failed" if error else ("partial" if failed else "succeeded")
    if ch is not None:  # alert and count first: once the run shows as finished, all is done
        try:
            await asyncio.to_thread(_after, ctx, ch, run_id, status, error, failure)
        except Exception:  # noqa: BLE001  (the run must still be closed)
            log.exception("alerting for sync run %s failed", run_id)
        metrics.RUNS.labels(tenant, ch.code, status).inc()
        for i in items:
            metrics.ITEMS.labels(tenant, ch.code, i["status"]).inc()
    if skus is not None and error is None and all(i["status"] in QUIET for i in items):
        await asyncio.to_thread(runs.discard, ctx.engine, tenant, run_id)
        return status
    await asyncio.to_thread(runs.finish, ctx.engine, tenant, run_id, items, status, error, calls)
    return status


def _first_error(items: list[dict[str, Any]]) -> str:
    return next((str(i.get("error")) for i in items if i["status"] == "failed"), "")


async def _renew(engine: Engine, tenant: str, run_id: str) -> None:
    while True:
        await asyncio.sleep(runs.LEASE.total_seconds() / 3)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(runs.renew, engine, tenant, run_id)


def _after(
    ctx: Context, ch: Channel, run_id: str, status: str, error: str | None, failure: str | None
) -> None:
    """Alert once per failure (kind), clear it on recovery, announce `channel.sync_failed`."""
    with db.write(ctx.engine) as conn:
        alerted = conn.execute(
            sa.select(channels.c.alerted_error).where(
                tenancy.of(ch.tenant, channels), channels.c.id == ch.id
            )
        ).scalar()
        if status != "failed":
            if alerted is not None:
                conn.execute(
                    channels.update()
                    .where(tenancy.of(ch.tenant, channels), channels.c.id == ch.id)
                    .values(alerted_error=None)
                )
            return
        event = catalogue.ChannelSyncFailed(channel=ch.code, shop=ch.shop, run=run_id, error=error)
        outbox.record_many(conn, [event.row(ch.tenant, db.utcnow())])
        if alerted == failure:
            return
        conn.execute(
            channels.update()
            .where(tenancy.of(ch.tenant, channels), channels.c.id == ch.id)
            .values(alerted_error=failure)
        )
    alerts.send(ctx.settings, ch, run_id, error or "")


# ---- partner -----------------------------------------------------------------------------


async def partner_sync(
    ctx: Context, ch: Channel, mapped: list[Mapped], client: Client
) -> list[dict[str, Any]]:
    await forwards.send_pending(ctx.engine, ch, client)
    sources: dict[str, list[str]] = {}
    for code, gid in ch.locations:
        sources.setdefault(code, []).append(gid)
    gids = sorted({gid for _, gid in ch.locations})
    wanted = [m.inventory_item for m in mapped]
    read = await asyncio.gather(*(client.levels(wanted, gid) for gid in gids))
    levels = dict(zip(gids, read, strict=True))
    items: list[dict[str, Any]] = []
    writes: list[tuple[Mapped, str, int, dict[str, Any]]] = []
    for m in mapped:
        for code, locs in sources.items():
            line = {
                "sku": m.item.sku,
                "channel_item": m.inventory_item,
                "channel_location": locs[0],
            }
            seen = [levels[g].get(m.inventory_item) for g in locs]
            if not m.item.stocked:
                items.append(line | {"status": "skipped", "error": f"{m.item.kind} item: no stock"})
            elif any(s is not None and not s["tracked"] for s in seen):
                items.append(
                    line
                    | {
                        "status": "skipped",
                        "error": "The partner does not track inventory "
                        "for this variant in Shopify.",
                    }
                )
            elif all(s is None or s["available"] is None for s in seen):
                items.append(
                    line
                    | {
                        "status": "failed",
                        "error": "The partner's store does not stock this "
                        "item at the mapped location (or the variant is gone).",
                    }
                )
            else:
                qty = sum(int(s["available"]) for s in seen if s and s["available"] is not None)
                writes.append((m, code, qty, line))
    items += await asyncio.to_thread(_apply_partner, ctx.engine, ch, writes)
    return items


def _apply_partner(
    engine: Engine, ch: Channel, writes: list[tuple[Mapped, str, int, dict[str, Any]]]
) -> list[dict[str, Any]]:
    out = []
    now = db.utcnow()
    with db.write(engine) as conn:
        locs = catalog.locations_by_code(conn, ch.tenant)
        for m, code, qty, line in writes:
            before, after = stock_writes.set_on_hand(
                conn, ch.tenant, m.item, locs[code], qty, f"{ch.code} {m.inventory_item}", now
            )
            status = "unchanged" if before == after else "ok"
            out.append(line | {"before": before, "after": after, "status": status})
    return out


# ---- store -------------------------------------------------------------------------------


async def read_missed_orders(ctx: Context, ch: Channel, client: Client) -> None:
    with db.read(ctx.engine) as conn:
        since = conn.execute(
            sa.select(channels.c.orders_read_at).where(
                tenancy.of(ch.tenant, channels), channels.c.id == ch.id
            )
        ).scalar()
    started = db.utcnow()
    # A little overlap: an order written just before the last read may show up late.
    since_text = db.iso(since - timedelta(minutes=5)) if since else None
    nodes = await client.orders(since_text)
    touched: set[int] = set()

    def write() -> None:
        now = db.utcnow()
        with db.write(ctx.engine) as conn:
            for node in nodes:
                touched.update(sales.record(conn, ch, sales.from_graphql(node), now))
            conn.execute(
                channels.update()
                .where(tenancy.of(ch.tenant, channels), channels.c.id == ch.id)
                .values(orders_read_at=started)
            )

    await asyncio.to_thread(write)
    if touched:
        spawn(send_forwards(ctx, ch.tenant, touched))


async def store_sync(
    ctx: Context,
    ch: Channel,
    mapped: list[Mapped],
    client: Client,
    *,
    read_orders: bool,
) -> list[dict[str, Any]]:
    if read_orders:
        await read_missed_orders(ctx, ch, client)
    items: list[dict[str, Any]] = []
    pushable = []
    for m in mapped:
        reason = skip_reason(m)
        if reason:
            items.append(
                {
                    "sku": m.item.sku,
                    "channel_item": m.inventory_item,
                    "status": "skipped",
                    "error": reason,
                }
            )
        else:
            pushable.append(m)
    if not pushable or not ch.locations:
        return items
    plain = [m for m in pushable if not allocations.applies(m)]

    def figures() -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        with db.read(ctx.engine) as conn:
            return offers(conn, ch.tenant, plain, ch.locations, db.utcnow(), ch.min_shelf_life_days)

    offered = await asyncio.to_thread(figures) if plain else {}
    gids = sorted({gid for _, gid in ch.locations})
    wanted = [m.inventory_item for m in pushable]
    read = await asyncio.gather(*(client.levels(wanted, gid) for gid in gids))
    levels = dict(zip(gids, read, strict=True))
    ready: list[tuple[Mapped, str, int]] = []
    for m in pushable:
        for gid in gids:
            line = {"sku": m.item.sku, "channel_item": m.inventory_item, "channel_location": gid}
            level = levels[gid].get(m.inventory_item)
            if level is None or level["available"] is None:
                items.append(
                    line
                    | {
                        "status": "failed",
                        "error": "ITEM_NOT_STOCKED_AT_LOCATION: the variant is not stocked "
                        "at this Shopify location; activate it there.",
                    }
                )
            elif not level["tracked"]:
                items.append(
                    line
                    | {
                        "status": "skipped",
                        "error": "Shopify does not track inventory for this variant.",
                    }
                )
            else:
                ready.append((m, gid, int(level["available"])))
    reference = f"onhand://{ch.tenant}/{ch.code}"
    held = [r for r in ready if allocations.applies(r[0])]
    items += await _push_offers(
        ch, [r for r in ready if not allocations.applies(r[0])], offered, client, reference
    )
    items += await _push_held(ctx, ch, held, client, reference)
    if read_orders:  # a full push: what is no longer allocated from is given back
        await asyncio.to_thread(_release_orphans, ctx.engine, ch, pushable)
    return items


def _release_orphans(engine: Engine, ch: Channel, pushable: list[Mapped]) -> None:
    with db.write(engine) as conn:
        locs = catalog.locations_by_code(conn, ch.tenant)
        places = {locs[code].id for code, _ in ch.locations if code in locs}
        kept = {(m.item.id, p) for m in pushable if allocations.applies(m) for p in places}
        allocations.release_orphans(conn, ch, kept, db.utcnow())


def _reader(client: Client) -> Any:
    """Shopify's current figures of a batch, for a write whose `changeFromQuantity` was stale."""

    async def reread(batch: list[Quantity]) -> dict[tuple[str, str], int | None]:
        out: dict[tuple[str, str], int | None] = {}
        for gid in sorted({q.location for q in batch}):
            got = await client.levels([q.inventory_item for q in batch if q.location == gid], gid)
            out.update({(k, gid): v["available"] for k, v in got.items()})
        return out

    return reread


def _line(m: Mapped, gid: str, offer: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {
        "sku": m.item.sku,
        "channel_item": m.inventory_item,
        "channel_location": gid,
        "offer": offer,
        **rest,
    }


async def _push_offers(
    ch: Channel,
    ready: list[tuple[Mapped, str, int]],
    offered: dict[tuple[str, str], tuple[int, dict[str, Any]]],
    client: Client,
    reference: str,
) -> list[dict[str, Any]]:
    """Items without a held allocation: set Shopify's figure to the offer where it differs."""
    items: list[dict[str, Any]] = []
    pending: list[Quantity] = []
    of: dict[int, tuple[Mapped, dict[str, Any]]] = {}
    for m, gid, level in ready:
        target, offer = offered[(m.inventory_item, gid)]
        if level == target:
            items.append(_line(m, gid, offer, status="unchanged", before=level, after=level))
        else:
            q = Quantity(m.inventory_item, gid, target, level)
            of[id(q)] = (m, offer)
            pending.append(q)
    if pending:
        for o in await client.set_available(pending, _reader(client), reference):
            m, offer = of[id(o.quantity)]
            after = o.quantity.value if o.status in ("ok", "unchanged") else o.before
            items.append(
                _line(
                    m,
                    o.quantity.location,
                    offer,
                    status=o.status,
                    before=o.before,
                    after=after,
                    error=o.error,
                )
            )
    return items


async def _push_held(
    ctx: Context,
    ch: Channel,
    ready: list[tuple[Mapped, str, int]],
    client: Client,
    reference: str,
) -> list[dict[str, Any]]:
    """Items under a buffer or share: hold, adjust Shopify, then settle (allocations.py). A
    step whose Shopify figure moved before it stood is given back and worked out again from
    the new figure, at most STALE_ROUNDS times; one still moving then waits for the next push."""
    codes: dict[str, list[str]] = {}
    for code, gid in ch.locations:
        codes.setdefault(gid, []).append(code)

    def hold(wanted: list[tuple[Mapped, str, int]]) -> list[allocations.Step]:
        with db.write(ctx.engine) as conn:
            locs = catalog.locations_by_code(conn, ch.tenant)
            places = {
                gid: [locs[c] for c in dict.fromkeys(cs) if c in locs] for gid, cs in codes.items()
            }
            steps = [(m, gid, places[gid], level) for m, gid, level in wanted]
            return allocations.prepare(conn, ch, steps, db.utcnow())

    def settle(done: list[tuple[allocations.Step, bool]]) -> None:
        with db.write(ctx.engine) as conn:
            allocations.settle(conn, ch, done, db.utcnow())

    items: list[dict[str, Any]] = []
    for _ in range(STALE_ROUNDS):
        if not ready:
            break
        steps = await asyncio.to_thread(hold, ready)
        moving = [s for s in steps if s.delta]
        quantities = [_quantity(s) for s in moving]
        of = {id(q): s for q, s in zip(quantities, moving, strict=True)}
        unsure = [s for s in steps if not s.delta and s.unsure and s.raised]
        items += [
            _held_line(s, "unchanged", s.level)
            for s in steps
            if not s.delta and not (s.unsure and s.raised)
        ]
        done: list[tuple[allocations.Step, bool]] = []
        moved: list[tuple[allocations.Step, int | None]] = []
        if quantities:
            # Should this raise, Shopify may or may not have the change: units raised stay held
            # (the store is offered less than it could be until the next push, never more).
            for o in await client.adjust_available(quantities, _reader(client), reference):
                s = of[id(o.quantity)]
                if o.status == "stale":
                    moved.append((s, o.before))
                else:
                    done.append((s, o.status == "ok"))
                    after = s.target if o.status == "ok" else s.level
                    items.append(_held_line(s, o.status, after, o.error))
        if unsure:  # nothing to write: the figure the raise rests on must still be Shopify's
            now = await _reader(client)([_quantity(s) for s in unsure])
            for s in unsure:
                level = now.get((s.mapped.inventory_item, s.gid))
                if level == s.level:
                    items.append(_held_line(s, "unchanged", s.level))
                else:
                    moved.append((s, level))
        done += [(s, False) for s, _ in moved]
        if done:
            await asyncio.to_thread(settle, done)
        gone = [s for s, level in moved if level is None]
        items += [
            _held_line(s, "failed", s.level, "Shopify no longer stocks it here.") for s in gone
        ]
        left = [(s, level) for s, level in moved if level is not None]
        ready = [(s.mapped, s.gid, level) for s, level in left]
    if ready:
        items += [
            _held_line(
                s,
                "unchanged",
                level,
                "Shopify's figure kept moving (sales at the store): the item is pushed again next.",
                before=level,
            )
            for s, level in left
        ]
        await asyncio.to_thread(requeue, ctx.engine, ch.tenant, {m.item.sku for m, _, _ in ready})
    return items


def _quantity(s: allocations.Step) -> Quantity:
    return Quantity(s.mapped.inventory_item, s.gid, s.delta, s.level)


def _held_line(
    s: allocations.Step,
    status: str,
    after: int,
    error: str | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    before = s.level if before is None else before
    return _line(s.mapped, s.gid, s.offer, status=status, before=before, after=after, error=error)


# ---- starting runs -------------------------------------------------------------------------

_tasks: set[asyncio.Task] = set()


def spawn(coro: Awaitable[Any]) -> asyncio.Task:
    """Run in the background of this process, kept alive until done."""
    task = asyncio.ensure_future(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return task


def start_runs(
    engine: Engine, tenant: str, channel_ids: list[int], trigger: str
) -> list[tuple[Any, bool]]:
    out = []
    with db.write(engine) as conn:
        for cid in channel_ids:
            out.append(runs.start(conn, tenant, cid, trigger))
    return out


async def run_in_order(ctx: Context, tenant: str, started: list[tuple[int, str, str]]) -> None:
    """(channel id, role, run id) runs: all partners in parallel first, then the stores."""
    for role in ("partner", "store"):
        await asyncio.gather(
            *(execute(ctx, tenant, cid, rid) for cid, r, rid in started if r == role)
        )


async def send_forwards(ctx: Context, tenant: str, partner_ids: set[int]) -> None:
    for pid in sorted(partner_ids):
        try:
            partner, _ = await asyncio.to_thread(load, ctx, tenant, pid, set())
            async with ctx.client(partner) as client:
                await forwards.send_pending(ctx.engine, partner, client)
        except ShopifyError as exc:
            log.warning("adjustments for partner %s wait for its next sync: %s", pid, exc)


# ---- live push -----------------------------------------------------------------------------


async def push(ctx: Context, tenant: str, skus: set[str]) -> list[str]:
    """Push the changed items (and bundles made of them) to every enabled store, each push a
    run (trigger `webhook`) under the channel's run lock; returns the statuses. A store with
    a run going gets the items queued again for the next push."""
    with db.read(ctx.engine) as conn:
        stores = [
            r.id
            for r in conn.execute(
                sa.select(channels.c.id).where(
                    tenancy.of(tenant, channels),
                    channels.c.role == "store",
                    channels.c.enabled,
                )
            )
        ]
        wanted = set(skus) | _bundles_of(conn, tenant, skus)

    async def one(cid: int) -> str | None:
        _, mapped = await asyncio.to_thread(load, ctx, tenant, cid, wanted)
        if not mapped:
            return None
        [(run, fresh)] = await asyncio.to_thread(start_runs, ctx.engine, tenant, [cid], "webhook")
        if not fresh:
            await asyncio.to_thread(requeue, ctx.engine, tenant, {m.item.sku for m in mapped})
            return None
        return await execute(ctx, tenant, cid, run.id, wanted)

    return [s for s in await asyncio.gather(*(one(c) for c in stores)) if s is not None]


def requeue(engine: Engine, tenant: str, skus: set[str]) -> None:
    """Queue items for the next live push (a run of the channel was going)."""
    now = db.utcnow()
    with db.write(engine) as conn:
        conn.execute(
            db.insert(conn, channel_push_queue).on_conflict_do_nothing(),
            [{"tenant_id": tenant, "sku": sku, "queued_at": now} for sku in sorted(skus)],
        )


def _bundles_of(conn: Any, tenant: str, skus: set[str]) -> set[str]:
    from ..tables import bundle_components, items

    part = items.alias("part")
    kit = items.alias("kit")
    rows = conn.execute(
        sa.select(kit.c.sku)
        .select_from(bundle_components)
        .join(part, tenancy.on(tenant, part, part.c.id == bundle_components.c.component_id))
        .join(kit, tenancy.on(tenant, kit, kit.c.id == bundle_components.c.bundle_id))
        .where(tenancy.of(tenant, bundle_components), part.c.sku.in_(skus))
    )
    return {r.sku for r in rows}
