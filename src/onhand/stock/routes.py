"""HTTP: movements, availability and the ledger."""

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from .. import db, idempotency, tenants
from ..answers import Availability, AvailabilityAnswer, Ledger, Movement, answer
from ..cache.lookup import cached_availability
from ..catalog import service as catalog
from ..catalog.schemas import MAX_ID
from ..errors import Invalid
from ..http import Admin, EngineDep, IdempotencyKey, Limit, Public, api_router
from ..inputs import Digits
from . import history, movements
from .availability import availability
from .schemas import MovementIn

router = api_router(prefix="/v1/{tenant}", tags=["stock"])


@router.post(
    "/movements",
    status_code=201,
    summary="Receive, adjust, damage, ship, transfer, count …",
    openapi_extra=answer(Movement),
)
def post_movement(
    body: MovementIn, caller: Admin, engine: EngineDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    def write(conn: Any) -> idempotency.Answer:
        return 201, movements.post(conn, caller.tenant, body, caller.actor, db.utcnow())

    status, answer = idempotency.run(
        engine, caller.tenant, "movements", idempotency_key, body.model_dump(mode="json"), write
    )
    return JSONResponse(answer, status_code=status)


def _availability(conn: Any, tenant: str, sku: str) -> dict[str, Any]:
    item = catalog.item(conn, tenant, sku)
    now = db.utcnow()
    needs_day = item.kind == "pod" or any(p.kind == "pod" for p, _ in item.components)
    day = tenants.load(conn, tenant).day(now) if needs_day else None
    return availability(conn, tenant, item, now, day)


@router.get(
    "/availability/{sku}",
    summary="What can be sold now, in total and per location",
    openapi_extra=answer(Availability),
)
def get_availability(
    sku: str, caller: Public, engine: EngineDep, request: Request
) -> dict[str, Any]:
    # Redis, when configured and healthy, answers first; the database is the fallback.
    cache = request.app.state.availability_cache
    if (hit := cached_availability(cache, caller.tenant, sku, db.utcnow())) is not None:
        return hit
    with db.read(engine) as conn:
        return _availability(conn, caller.tenant, sku)


@router.get(
    "/availability",
    summary="Availability of several SKUs at once",
    openapi_extra=answer(AvailabilityAnswer),
)
def list_availability(
    caller: Public,
    engine: EngineDep,
    skus: Annotated[str, Query(description="Comma-separated SKUs")],
) -> dict[str, Any]:
    wanted = [s for s in dict.fromkeys(skus.split(",")) if s]
    if not wanted or len(wanted) > 200:
        raise Invalid("Ask for 1 to 200 comma-separated SKUs.")
    with db.read(engine) as conn:
        return {"availability": [_availability(conn, caller.tenant, s) for s in wanted]}


@router.get("/ledger", summary="Ledger entries, newest first", openapi_extra=answer(Ledger))
def get_ledger(
    caller: Admin,
    engine: EngineDep,
    sku: str | None = None,
    location: str | None = None,
    reason: str | None = None,
    reservation: str | None = None,
    movement: str | None = None,
    before: Annotated[
        int | None, Digits, Query(ge=1, le=MAX_ID, description="Cursor from next_before")
    ] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        item_id = catalog.item(conn, caller.tenant, sku).id if sku else None
        location_id = catalog.location(conn, caller.tenant, location).id if location else None
        page, cursor = history.entries(
            conn,
            caller.tenant,
            item_id=item_id,
            location_id=location_id,
            reason=reason,
            reservation_id=reservation,
            movement_id=movement,
            before=before,
            limit=limit,
        )
    return {"entries": page, "next_before": cursor}
