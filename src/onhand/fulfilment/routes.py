"""HTTP: consumption, dispatch availability and preferences, backorders, waves and picking,
payouts. Every route needs the admin scope except the availability list kept from stock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse, Response

from .. import db
from ..answers import (
    AvailabilityAnswer,
    BackorderAllocation,
    Backorders,
    Consumption,
    DispatchPreferences,
    PayoutBrackets,
    Payouts,
    PickTask,
    PickTasks,
    Putaway,
    Wave,
    Waves,
    answer,
)
from ..errors import DomainError, Forbidden, NotFound
from ..http import Admin, EngineDep, Public, api_router
from ..problems import problem_response
from ..stock import routes as stock_routes
from . import backorders, consumption, dispatch, payouts, picking
from .schemas import BracketsIn, ConfirmIn, ConsumptionIn, WaveIn

router = api_router(prefix="/v1/{tenant}", tags=["fulfilment"])
Qty = Annotated[int, Query(ge=1, le=10**12)]


@router.post(
    "/consumption",
    summary="Sales from a till or delivery app, applied once per id",
    openapi_extra=answer(Consumption, example="ConsumptionIn"),
)
def post_consumption(body: ConsumptionIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return consumption.apply_batch(conn, caller.tenant, body, caller.actor, db.utcnow())


@router.get(
    "/availability",
    summary="Dispatch: in-stock locations nearest first (sku=); or several SKUs (skus=)",
    openapi_extra=answer(AvailabilityAnswer),
)
def get_availability(
    caller: Public,
    engine: EngineDep,
    skus: Annotated[str | None, Query(description="Comma-separated SKUs")] = None,
    sku: Annotated[str | None, Query(max_length=128)] = None,
    zone: Annotated[str | None, Query(max_length=64)] = None,
    branch: Annotated[str | None, Query(max_length=64)] = None,
    qty: Qty = 1,
) -> dict[str, Any]:
    if sku is None:
        # The multi-SKU availability of stock/ shares this path.
        return stock_routes.list_availability(caller, engine, skus or "")
    if "admin" not in caller.scopes:
        raise Forbidden("Dispatch availability needs the 'admin' scope.")
    with db.read(engine) as conn:
        return dispatch.nearest(conn, caller.tenant, sku, zone, branch, qty, db.utcnow())


@router.get(
    "/policies/dispatch-preferences",
    summary="Zone priorities, distances, substitutes",
    openapi_extra=answer(DispatchPreferences),
)
def get_preferences(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return dispatch.load(conn, caller.tenant).model_dump(mode="json")


@router.put(
    "/policies/dispatch-preferences",
    summary="Replace the dispatch preferences",
    openapi_extra=answer(DispatchPreferences, example="Preferences"),
)
def put_preferences(body: dispatch.Preferences, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return dispatch.save(conn, caller.tenant, body).model_dump(mode="json")


@router.get(
    "/backorders",
    summary="Backorders oldest first, with ETAs and substitutes",
    openapi_extra=answer(Backorders),
)
def get_backorders(
    caller: Admin,
    engine: EngineDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    sku: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"backorders": backorders.listing(conn, caller.tenant, status, sku, db.utcnow())}


@router.post(
    "/backorders/allocate",
    summary="Give arrived stock to backorders, oldest first",
    openapi_extra=answer(BackorderAllocation),
)
def allocate_backorders(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        now = db.utcnow()
        allocated = backorders.allocate(conn, caller.tenant, now)
        changed = backorders.refresh_etas(conn, caller.tenant, now)
    return {"allocated": allocated, "eta_changed": changed}


@router.get(
    "/pick-tasks",
    summary="Open pick tasks not yet in a wave, in walking order",
    openapi_extra=answer(PickTasks),
)
def get_pick_tasks(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return {"tasks": picking.open_tasks(conn, caller.tenant)}


@router.post(
    "/waves",
    status_code=201,
    summary="Group open pick tasks into waves",
    openapi_extra=answer(Waves, example="WaveIn"),
)
def post_waves(body: WaveIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        made = picking.create_waves(
            conn, caller.tenant, body.group_by, body.zone, body.cutoff, body.max_lines, db.utcnow()
        )
    return {"waves": made}


@router.get(
    "/waves", summary="Waves, newest first, with progress per picker", openapi_extra=answer(Waves)
)
def get_waves(
    caller: Admin, engine: EngineDep, status: Annotated[str | None, Query(max_length=16)] = None
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"waves": picking.list_waves(conn, caller.tenant, status)}


@router.get(
    "/waves/{wave_id}",
    summary="A wave and its pick list in walking order",
    openapi_extra=answer(Wave),
)
def get_wave(wave_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return picking.wave(conn, caller.tenant, wave_id)


@router.post(
    "/waves/{wave_id}/ship",
    summary="Pack and ship the wave's picked lines",
    openapi_extra=answer(Wave),
)
def ship_wave(wave_id: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return picking.ship_wave(conn, caller.tenant, wave_id, caller.actor, db.utcnow())


@router.post(
    "/pick-tasks/{task_id}/confirm",
    summary="Confirm a line by scan and count",
    openapi_extra=answer(PickTask, example="ConfirmIn"),
)
def confirm_task(task_id: str, body: ConfirmIn, caller: Admin, engine: EngineDep) -> Any:
    with db.write(engine) as conn:
        done = picking.confirm(
            conn, caller.tenant, task_id, body.picker, body.scan, body.qty, db.utcnow()
        )
    # A wrong scan is refused, but kept on the picker's record: committed, then answered.
    return problem_response(done) if isinstance(done, DomainError) else done


@router.get("/putaway", summary="Where to put a received item away", openapi_extra=answer(Putaway))
def get_putaway(
    caller: Admin,
    engine: EngineDep,
    sku: Annotated[str, Query(max_length=128)],
    zone: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return picking.putaway(conn, caller.tenant, sku, zone)


@router.put(
    "/payouts/brackets",
    summary="Set the picker payout brackets and accuracy rule",
    openapi_extra=answer(PayoutBrackets, example="BracketsIn"),
)
def put_brackets(body: BracketsIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return payouts.save(conn, caller.tenant, body)


@router.get(
    "/payouts/brackets", summary="The picker payout brackets", openapi_extra=answer(PayoutBrackets)
)
def get_brackets(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    """`configured: false` with no brackets until they are set (a state, not an error)."""
    with db.read(engine) as conn:
        try:
            return {"configured": True, **payouts.load(conn, caller.tenant)}
        except NotFound:
            return {"configured": False, "currency": None, "brackets": [], "max_error_rate": None}


@router.get(
    "/payouts",
    summary="Per picker: lines, accuracy, bracket and amount; CSV too",
    openapi_extra=answer(Payouts),
)
def get_payouts(
    caller: Admin,
    engine: EngineDep,
    period: Annotated[str, Query(max_length=40, examples=["2026-12", "2026-12-01"])],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    with db.read(engine) as conn:
        doc = payouts.report(conn, caller.tenant, period)
    if format == "csv":
        return Response(
            payouts.to_csv(doc),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="payouts-{period}.csv"'},
        )
    return JSONResponse(doc)
