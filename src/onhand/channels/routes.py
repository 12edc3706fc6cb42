"""HTTP: channels, mappings, sync runs and the Shopify webhooks (API.md, "Channels")."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Query, Request
from fastapi.responses import JSONResponse

from .. import db, tenancy
from ..answers import (
    Channel,
    Channels,
    Mappings,
    MatchResult,
    SyncRun,
    SyncRunDetail,
    SyncRuns,
    WebhookReceipt,
    answer,
)
from ..errors import Invalid, Unauthorized, UpstreamFailed
from ..http import Admin, EngineDep, Sync, api_router
from . import mappings, runs, sales, service, sync
from .schemas import ChannelIn, ChannelPatch, MappingsIn
from .shopify import ShopifyError
from .tables import channel_webhooks, channels

router = api_router(prefix="/v1/{tenant}", tags=["channels"])
log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1_000_000


class StoreError(UpstreamFailed):
    slug, title = "store-error", "The store refused the request"


def context(request: Request) -> sync.Context:
    ctx = getattr(request.app.state, "channels", None)
    if ctx is None:
        ctx = sync.Context.of(request.app.state.engine, request.app.state.settings)
        request.app.state.channels = ctx
    return ctx


@router.post(
    "/channels",
    status_code=201,
    summary="Connect a Shopify store or partner store",
    openapi_extra=answer(Channel, example="ChannelIn"),
)
def create_channel(body: ChannelIn, caller: Admin, engine: EngineDep, request: Request) -> Any:
    ctx = context(request)
    with db.write(engine) as conn:
        out = service.create(conn, caller.tenant, body, ctx.ring, ctx.allowed)
        conn.execute(
            channels.update()
            .where(tenancy.of(caller.tenant, channels), channels.c.code == body.code)
            .values(orders_read_at=db.utcnow())
        )
    return JSONResponse(jsonable(out), status_code=201)


@router.get(
    "/channels", summary="Channels with their status and last sync", openapi_extra=answer(Channels)
)
def list_channels(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"channels": service.list_all(conn, caller.tenant)}


@router.get("/channels/{code}", summary="One channel", openapi_extra=answer(Channel))
def get_channel(code: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.get(conn, caller.tenant, code)


@router.patch(
    "/channels/{code}",
    summary="Change a channel (token, locations, schedule, …)",
    openapi_extra=answer(Channel, example="ChannelPatch"),
)
def patch_channel(
    code: str, body: ChannelPatch, caller: Admin, engine: EngineDep, request: Request
) -> dict[str, Any]:
    ctx = context(request)
    with db.write(engine) as conn:
        return service.update(conn, caller.tenant, code, body, ctx.ring, ctx.allowed)


@router.post(
    "/channels/{code}/mappings",
    status_code=201,
    summary="Map SKUs to variants",
    openapi_extra=answer(Mappings, example="MappingsIn", upstream=True),
)
async def add_mappings(
    code: str, body: MappingsIn, caller: Admin, engine: EngineDep, request: Request
) -> JSONResponse:
    ctx = context(request)

    def prepare() -> tuple[Any, dict[str, int]]:
        with db.read(engine) as conn:
            row = service.row_of(conn, caller.tenant, code)
            ids = mappings.item_ids(conn, caller.tenant, {m.sku for m in body.mappings})
            return service.channel(row, ctx.ring), ids

    ch, ids = await asyncio.to_thread(prepare)
    lookup = [m.variant for m in body.mappings if not m.inventory_item]
    found: dict[str, dict[str, Any]] = {}
    if lookup:
        try:
            async with ctx.client(ch) as client:
                found = await client.variants_by_id(lookup)
        except ShopifyError as exc:
            raise StoreError(f"Could not look the variants up in {ch.shop}: {exc}") from None
    missing = [v for v in lookup if v not in found]
    if missing:
        raise Invalid(f"The store has no variant {', '.join(missing[:10])}.", variants=missing)
    rows = [
        {
            "item_id": ids[m.sku],
            "variant": m.variant,
            "inventory_item": m.inventory_item or found[m.variant]["inventoryItem"]["id"],
            "tracked": bool(found.get(m.variant, {}).get("inventoryItem", {}).get("tracked", True)),
            "by": "explicit",
            "buffer": m.buffer,
            "share": m.share,
        }
        for m in body.mappings
    ]

    def save() -> list[dict[str, Any]]:
        with db.write(engine) as conn:
            mappings.save(conn, caller.tenant, ch.id, rows)
            listed = {m["sku"]: m for m in mappings.list_mappings(conn, caller.tenant, ch.id)}
        return [listed[m.sku] for m in body.mappings]

    return JSONResponse({"mappings": await asyncio.to_thread(save)}, status_code=201)


@router.post(
    "/channels/{code}/mappings/match",
    summary="Map variants by SKU, then barcode",
    openapi_extra=answer(MatchResult, upstream=True),
)
async def match_mappings(
    code: str, caller: Admin, engine: EngineDep, request: Request
) -> dict[str, Any]:
    ctx = context(request)

    def load() -> Any:
        with db.read(engine) as conn:
            return service.channel(service.row_of(conn, caller.tenant, code), ctx.ring)

    ch = await asyncio.to_thread(load)
    try:
        async with ctx.client(ch) as client:
            variants = await client.variants()
    except ShopifyError as exc:
        raise StoreError(f"Could not read the variants of {ch.shop}: {exc}") from None

    def save() -> dict[str, Any]:
        with db.write(engine) as conn:
            return mappings.match(conn, caller.tenant, ch.id, variants)

    return await asyncio.to_thread(save)


@router.get(
    "/channels/{code}/mappings", summary="The channel's mappings", openapi_extra=answer(Mappings)
)
def get_mappings(code: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        row = service.row_of(conn, caller.tenant, code)
        return {"mappings": mappings.list_mappings(conn, caller.tenant, row.id)}


@router.post(
    "/channels/{code}/sync",
    status_code=202,
    summary="Sync Now (one channel)",
    openapi_extra=answer(SyncRun),
)
async def sync_channel(code: str, caller: Sync, engine: EngineDep, request: Request) -> Any:
    def rows() -> list[Any]:
        with db.read(engine) as conn:
            return [service.row_of(conn, caller.tenant, code)]

    started = await _start(request, caller.tenant, await asyncio.to_thread(rows), "manual")
    return JSONResponse(started[0], status_code=202)


@router.post(
    "/sync",
    status_code=202,
    summary="Sync Now (every enabled channel)",
    openapi_extra=answer(SyncRuns),
)
async def sync_tenant(caller: Sync, engine: EngineDep, request: Request) -> Any:
    def rows() -> list[Any]:
        with db.read(engine) as conn:
            return list(
                conn.execute(
                    sa.select(channels)
                    .where(tenancy.of(caller.tenant, channels), channels.c.enabled)
                    .order_by(
                        sa.case({"partner": 0}, value=channels.c.role, else_=1), channels.c.code
                    )
                )
            )

    found = await asyncio.to_thread(rows)
    started = await _start(request, caller.tenant, found, "manual")
    return JSONResponse({"runs": started}, status_code=202)


async def _start(request: Request, tenant: str, rows: list[Any], trigger: str) -> list[Any]:
    ctx = context(request)
    started = await asyncio.to_thread(
        sync.start_runs, ctx.engine, tenant, [r.id for r in rows], trigger
    )
    roles = {r.id: (r.role, r.code) for r in rows}
    new = [(run.channel_id, roles[run.channel_id][0], run.id) for run, fresh in started if fresh]
    if new:
        sync.spawn(sync.run_in_order(ctx, tenant, new))
    return [jsonable(runs.run_out(run, roles[run.channel_id][1])) for run, _ in started]


@router.get("/sync-runs", summary="Sync history, newest first", openapi_extra=answer(SyncRuns))
def list_sync_runs(
    caller: Sync,
    engine: EngineDep,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        if channel:
            service.row_of(conn, caller.tenant, channel)
        return {"runs": runs.list_runs(conn, caller.tenant, channel, limit)}


@router.get(
    "/sync-runs/{run_id}",
    summary="One run with its items, failed first",
    openapi_extra=answer(SyncRunDetail),
)
def get_sync_run(run_id: str, caller: Sync, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return runs.get_run(conn, caller.tenant, run_id)


@router.post(
    "/channels/{code}/webhooks",
    summary="Shopify webhooks (orders/create, cancelled)",
    openapi_extra=answer(WebhookReceipt),
)
async def receive_webhook(tenant: str, code: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise Invalid("The webhook body is larger than 1 MB.")
    signature = request.headers.get("x-shopify-hmac-sha256", "")
    webhook_id = request.headers.get("x-shopify-webhook-id", "")
    topic = request.headers.get("x-shopify-topic", "")
    engine = request.app.state.engine

    def load() -> Any:
        with db.read(engine) as conn:
            return conn.execute(
                sa.select(channels).where(tenancy.of(tenant, channels), channels.c.code == code)
            ).first()

    row = await asyncio.to_thread(load)
    # An unknown channel answers like a bad signature: nothing to learn by probing. It is
    # decided before the secret key is needed, so probing an installation without one is a 401.
    if row is None or not signature:
        raise Unauthorized("The webhook signature is missing or not valid.")
    ctx = context(request)
    ch = service.channel(row, ctx.ring)
    if not ch.webhook_secret:
        raise Unauthorized("The webhook signature is missing or not valid.")
    if not sales.verify(ch.webhook_secret, body, signature):
        raise Unauthorized("The webhook signature is missing or not valid.")
    # Signed with this channel's secret but sent for another shop: a store sharing a secret
    # (or a misrouted app) must not record its orders here.
    domain = request.headers.get("x-shopify-shop-domain", "").strip().lower()
    if domain != ch.shop.lower():
        raise Unauthorized(
            f"The webhook is for shop '{domain or '(none)'}', not this channel's shop '{ch.shop}'.",
        )
    if not webhook_id or len(webhook_id) > 200:
        raise Invalid("X-Shopify-Webhook-Id is missing.")
    try:
        doc = json.loads(body)
    except ValueError:
        raise Invalid("The webhook body is not JSON.") from None
    if not isinstance(doc, dict):
        raise Invalid("The webhook body is not a JSON object.")

    def record() -> tuple[bool, set[int]]:
        now = db.utcnow()
        with db.write(ctx.engine) as conn:
            fresh = conn.execute(
                db.insert(conn, channel_webhooks)
                .values(
                    tenant_id=tenant,
                    channel_id=ch.id,
                    webhook_id=webhook_id,
                    topic=topic[:64],
                    received_at=now,
                )
                .on_conflict_do_nothing()
                .returning(channel_webhooks.c.webhook_id)
            ).first()
            if fresh is None:
                return False, set()
            if topic in ("orders/create", "orders/cancelled", "orders/updated"):
                return True, sales.record(conn, ch, sales.from_webhook(doc), now)
            return True, set()

    fresh, partners = await asyncio.to_thread(record)
    if partners:
        sync.spawn(sync.send_forwards(ctx, tenant, partners))
    return {"status": "recorded" if fresh else "duplicate", "webhook_id": webhook_id}


def jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(doc)
