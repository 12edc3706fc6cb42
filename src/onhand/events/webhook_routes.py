"""HTTP: webhook subscriptions and their delivery log (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response

from .. import db, netguard
from ..answers import Deliveries, Delivery, Webhook, Webhooks, answer
from ..http import Admin, EngineDep, Limit, api_router
from ..inputs import MAX_ID, Digits
from . import webhooks as service

router = api_router(prefix="/v1/{tenant}/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    summary="Subscribe a URL to event types (the secret is shown once)",
    openapi_extra=answer(Webhook, example="WebhookIn"),
)
def create_webhook(
    body: service.WebhookIn, caller: Admin, engine: EngineDep, request: Request
) -> dict[str, Any]:
    allowed = netguard.parse_networks(request.app.state.settings.allow_private_networks)
    with db.write(engine) as conn:
        return service.create(conn, caller.tenant, body, allowed)


@router.get("", summary="The tenant's webhooks", openapi_extra=answer(Webhooks))
def list_webhooks(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"webhooks": service.listing(conn, caller.tenant)}


@router.delete(
    "/{webhook_id}", status_code=204, summary="Unsubscribe; pending deliveries are cancelled"
)
def delete_webhook(webhook_id: str, caller: Admin, engine: EngineDep) -> Response:
    with db.write(engine) as conn:
        service.delete(conn, caller.tenant, webhook_id)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    summary="Delivery log, newest first",
    openapi_extra=answer(Deliveries),
)
def list_deliveries(
    webhook_id: str,
    caller: Admin,
    engine: EngineDep,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead|cancelled)$")] = None,
    before: Annotated[int | None, Digits, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        page, cursor = service.deliveries(
            conn, caller.tenant, webhook_id, status=status, before=before, limit=limit
        )
    return {"deliveries": page, "next_before": cursor}


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again (dead letters included)",
    openapi_extra=answer(Delivery),
)
def redeliver(
    webhook_id: str,
    delivery_id: Annotated[int, Digits, Path(ge=1, le=MAX_ID)],
    caller: Admin,
    engine: EngineDep,
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.redeliver(conn, caller.tenant, webhook_id, delivery_id)
