"""HTTP: lots of lot-tracked items: the recall, the trace, and lots expiring soon."""

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from .. import db, idempotency
from ..answers import ExpiringLots, LotRecall, LotTrace, answer
from ..catalog.schemas import Body
from ..http import Admin, EngineDep, IdempotencyKey, api_router
from ..inputs import Digits
from . import recall

router = api_router(prefix="/v1/{tenant}/lots", tags=["lots"])


class RecallIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "supplier recall 14"}]})

    reason: str | None = Field(default=None, max_length=200, examples=["supplier recall R-2026-14"])


@router.post(
    "/{sku}/{lot}/recall",
    summary="Recall a lot: off sale everywhere, free units quality-held, holds moved or released",
    openapi_extra=answer(LotRecall),
)
def post_recall(
    sku: str,
    lot: str,
    caller: Admin,
    engine: EngineDep,
    body: RecallIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else None

    def write(conn: Any) -> idempotency.Answer:
        return 200, recall.recall(conn, caller.tenant, sku, lot, caller.actor, db.utcnow(), reason)

    status, answer = idempotency.run(
        engine,
        caller.tenant,
        "lots.recall",
        idempotency_key,
        {"sku": sku, "lot": lot, "reason": reason},
        write,
    )
    return JSONResponse(answer, status_code=status)


@router.get(
    "/{sku}/{lot}/trace",
    summary="Where a lot came from, where it is, who took it",
    openapi_extra=answer(LotTrace),
)
def get_trace(sku: str, lot: str, caller: Admin, engine: EngineDep) -> JSONResponse:
    # Plain JSON values throughout: answered as they are (a busy lot's trace is large, and
    # FastAPI's encoder would walk every entry again).
    with db.read(engine) as conn:
        return JSONResponse(recall.trace(conn, caller.tenant, sku, lot))


@router.get(
    "/expiring",
    summary="Lots with stock that expire within `days` (or have expired)",
    openapi_extra=answer(ExpiringLots),
)
def get_expiring(
    caller: Admin,
    engine: EngineDep,
    days: Annotated[int, Digits, Query(ge=0, le=3650, description="Days ahead")] = 7,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"lots": recall.expiring(conn, caller.tenant, days, db.utcnow())}
