"""SSE, WebSocket and the storefront availability feed, all served from the process's hub."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.requests import HTTPConnection

from .. import auth
from ..errors import DomainError, Invalid, Unavailable
from ..http import api_router
from ..inputs import MAX_ID, Digits
from ..problems import status_for
from . import storefront
from .feed import Event, dumps
from .hub import CLOSED, DROPPED, HEARTBEAT, Hub, ShuttingDown, Subscriber

router = api_router(prefix="/v1/{tenant}", tags=["events"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def install(app: FastAPI) -> None:
    """Give the app its hub, event routes and cache hook; the lifespan calls `shutdown`."""
    from ..cache import lookup
    from . import webhook_routes
    from .metrics import COLLECTOR

    app.state.hub = Hub(
        app.state.engine, heartbeat_seconds=app.state.settings.sse_heartbeat_seconds
    )
    app.include_router(router)
    app.include_router(webhook_routes.router)
    lookup.install(app)
    COLLECTOR.engine = app.state.engine


async def shutdown(app: FastAPI) -> None:
    hub: Hub | None = getattr(app.state, "hub", None)
    if hub:
        await hub.stop()
    cache = getattr(app.state, "availability_cache", None)
    if cache:
        cache.close()


async def stream_caller(conn: HTTPConnection, tenant: str, scope: str) -> auth.Caller:
    """The header or `?access_token=`: a browser's EventSource cannot send headers."""
    return await auth.authenticate(conn, tenant, scope, allow_query=True)


def _resume_point(header: str | None, query: int | None) -> int | None:
    raw = header if header not in (None, "") else query
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("Last-Event-ID must be an event id (an integer).") from None
    if value < 0:
        raise Invalid("Last-Event-ID must not be negative.")
    return value


def _filter(types: str | None, skus: str | None) -> Callable[[Event], bool]:
    wanted_types = {t for t in (types or "").split(",") if t}
    wanted_skus = {s for s in (skus or "").split(",") if s}

    def accept(ev: Event) -> bool:
        return (not wanted_types or ev.type in wanted_types) and (
            not wanted_skus or ev.sku in wanted_skus
        )

    return accept


Render = Callable[[list[Event]], Awaitable[bytes]]


async def _admin_frames(events: list[Event]) -> bytes:
    return b"".join(e.frame for e in events)


async def _frames(
    hub: Hub, sub: Subscriber, after: int | None, render: Render, first: list[bytes] | None = None
) -> AsyncIterator[bytes]:
    """Backlog from the outbox, then live events; whatever is queued goes out in one write."""
    try:
        yield b"retry: 1000\n\n" + b"".join(first or [])
        if after is not None:
            for page in await hub.backlog(sub, after):
                if page:
                    yield await render(page)
        while True:
            batch = [await sub.queue.get()]
            while not sub.queue.empty() and batch[-1] not in (DROPPED, CLOSED):
                batch.append(sub.queue.get_nowait())
            # A resume point from another process may be ahead of this one's hub.
            events = [e for e in batch if isinstance(e, Event) and (after is None or e.id > after)]
            if events:
                yield await render(events)
            elif batch[-1] is HEARTBEAT:
                yield b": ping\n\n"
            if batch[-1] is DROPPED:
                last = events[-1].id if events else None
                data = dumps({"reason": "too slow: queue full", "last_event_id": last})
                yield f"event: dropped\ndata: {data}\n\n".encode()
                return
            if batch[-1] is CLOSED:
                yield b": the server is stopping; reconnect with Last-Event-ID\n\n"
                return
    finally:
        hub.unsubscribe(sub)


@router.get(
    "/events",
    summary="Live events (Server-Sent Events); resume with Last-Event-ID",
    response_class=StreamingResponse,
)
async def events(
    request: Request,
    tenant: str,
    last_event_id: Annotated[int | None, Digits, Query(ge=0, le=MAX_ID)] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    types: Annotated[str | None, Query(description="Comma-separated event types")] = None,
    skus: Annotated[str | None, Query(description="Comma-separated SKUs")] = None,
    access_token: Annotated[
        str | None, Query(description="Alternative to the Authorization header")
    ] = None,
) -> StreamingResponse:
    caller = await stream_caller(request, tenant, "admin")
    after = _resume_point(last_event_id_header, last_event_id)
    hub: Hub = request.app.state.hub
    sub = await _subscribe(hub, caller.tenant, _filter(types, skus))
    return StreamingResponse(
        _frames(hub, sub, after, _admin_frames), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _subscribe(hub: Hub, tenant: str, accept: Callable[[Event], bool]) -> Subscriber:
    try:
        return await hub.subscribe(tenant, accept)
    except ShuttingDown:
        raise Unavailable(
            "The server is shutting down; reconnect in a moment.",
            slug="shutting-down",
            title="Service unavailable",
        ) from None


def _snapshot(engine: Any, tenant: str, skus: list[str]) -> list[bytes]:
    """The current availability of each SKU asked, so a badge has a figure at once."""
    return [
        f"event: availability\ndata: {dumps(doc)}\n\n".encode()
        for doc in storefront.figures(engine, tenant, skus)
    ]


@router.get(
    "/public/availability/stream",
    response_class=StreamingResponse,
    summary="Storefront feed: the available figure of the SKUs asked, as it changes",
)
async def availability_stream(
    request: Request,
    tenant: str,
    skus: Annotated[str, Query(description="Comma-separated SKUs (1-200)")],
    access_token: Annotated[
        str | None, Query(description="Alternative to the Authorization header")
    ] = None,
) -> StreamingResponse:
    caller = await stream_caller(request, tenant, "public")
    wanted = [s for s in dict.fromkeys(skus.split(",")) if s]
    if not wanted or len(wanted) > 200:
        raise Invalid("Ask for 1 to 200 comma-separated SKUs.")
    engine = request.app.state.engine
    first = await asyncio.to_thread(_snapshot, engine, caller.tenant, wanted)
    direct = set(wanted)
    kits = await asyncio.to_thread(storefront.kits_by_component, engine, caller.tenant, wanted)

    async def render(events: list[Event]) -> bytes:
        """Asked SKUs straight from their events; an asked bundle is recomputed when one of
        its components changed (its own SKU never has stock events)."""
        out = b"".join(e.public_frame for e in events if e.sku in direct)
        touched = sorted({kit for e in events for kit in kits.get(e.sku or "", ())})
        if touched:
            out += b"".join(await asyncio.to_thread(_snapshot, engine, caller.tenant, touched))
        return out

    hub: Hub = request.app.state.hub
    sub = await _subscribe(
        hub,
        caller.tenant,
        lambda e: e.type == "stock.changed" and (e.sku in direct or e.sku in kits),
    )
    return StreamingResponse(
        _frames(hub, sub, None, render, first), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.websocket("/ws")
async def websocket(ws: WebSocket, tenant: str) -> None:
    """The same events as /events, one JSON message each; `?last_event_id=` resumes."""
    try:
        caller = await stream_caller(ws, tenant, "admin")
        after = _resume_point(
            None,
            int(ws.query_params["last_event_id"])
            if ws.query_params.get("last_event_id", "").isdigit()
            else None,
        )
    except DomainError as exc:
        await ws.close(code=4000 + status_for(exc), reason=exc.detail[:120])
        return
    hub: Hub = ws.app.state.hub
    try:
        sub = await hub.subscribe(
            caller.tenant, _filter(ws.query_params.get("types"), ws.query_params.get("skus"))
        )
    except ShuttingDown:
        await ws.close(code=1001, reason="the server is stopping")
        return
    await ws.accept()
    tasks = {
        asyncio.create_task(_send_all(ws, sub, hub, after)),
        asyncio.create_task(_until_disconnect(ws)),
    }
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        hub.unsubscribe(sub)


async def _until_disconnect(ws: WebSocket) -> None:
    """Client messages are ignored; reading them is how a closed socket is noticed."""
    try:
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass
    except WebSocketDisconnect:
        pass


async def _send_all(ws: WebSocket, sub: Subscriber, hub: Hub, after: int | None) -> None:
    if after is not None:
        for page in await hub.backlog(sub, after):
            for ev in page:
                await ws.send_text(ev.body)
    while True:
        item = await sub.queue.get()
        if item is HEARTBEAT:
            continue  # WebSocket keeps itself alive with protocol pings
        if item is CLOSED:
            await ws.close(code=1001, reason="the server is stopping")  # 1001: going away
            return
        if item is DROPPED:
            await ws.send_text(dumps({"type": "dropped", "reason": "too slow: queue full"}))
            await ws.close(code=1013)
            return
        if isinstance(item, Event) and (after is None or item.id > after):
            await ws.send_text(item.body)
