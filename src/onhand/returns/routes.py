"""HTTP: returns (RMA). Every route needs the admin scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from .. import db
from ..http import Admin, EngineDep, Limit, api_router
from . import service
from .schemas import InspectIn, ReceiveIn, RefuseIn, Rma, RmaIn, Rmas, Status

router = api_router(prefix="/v1/{tenant}", tags=["returns"])


@router.post(
    "/rma",
    status_code=201,
    summary="Request a return (RMA)",
    description="Lines name the SKU, the quantity, why it comes back and, where known, the lot "
    "or serial and the original order. Nothing moves until the return is approved and "
    "received.",
    response_model=Rma,
)
def create_rma(body: RmaIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.create(conn, caller.tenant, body, caller.actor, db.utcnow())


@router.get("/rma", summary="Returns, newest first", response_model=Rmas)
def list_rmas(
    caller: Admin,
    engine: EngineDep,
    status: Annotated[Status | None, Query()] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"rmas": service.listing(conn, caller.tenant, status, limit)}


@router.get("/rma/{rma_id}", summary="One return with its lines", response_model=Rma)
def get_rma(rma_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.get(conn, caller.tenant, rma_id)


@router.post(
    "/rma/{rma_id}/approve",
    summary="Approve a requested return",
    description="409 unless the return is requested.",
    response_model=Rma,
)
def approve_rma(rma_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.approve(conn, caller.tenant, rma_id, db.utcnow())


@router.post(
    "/rma/{rma_id}/refuse",
    summary="Refuse a return before its goods arrive",
    description="409 once the goods were received.",
    response_model=Rma,
)
def refuse_rma(rma_id: str, body: RefuseIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.refuse(conn, caller.tenant, rma_id, body.reason, db.utcnow())


@router.post(
    "/rma/{rma_id}/receive",
    summary="Book the returned goods into quality control",
    description="Each line's units (all asked for unless `lines` says fewer arrived) are "
    "received at the return's location into `quality_control` (ledger reason `return`). "
    "409 unless the return is approved.",
    response_model=Rma,
)
def receive_rma(rma_id: str, body: ReceiveIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.receive(conn, caller.tenant, rma_id, body, caller.actor, db.utcnow())


@router.post(
    "/rma/{rma_id}/inspect",
    summary="Inspect received lines: restock, damage, scrap or return to vendor",
    description="`restock` releases the units to available, `damage` moves them to damaged, "
    "`scrap` and `return_to_vendor` write them off. The return closes when every received "
    "line has its disposition. 409 for a line inspected already or a return not received.",
    response_model=Rma,
)
def inspect_rma(rma_id: str, body: InspectIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.inspect(conn, caller.tenant, rma_id, body, caller.actor, db.utcnow())
