"""HTTP: suppliers, the replenishment plan, purchase orders, supplier performance, valuation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Connection

from .. import db, idempotency
from ..answers import (
    Abc,
    ItemForecast,
    PlannedOrders,
    PlanRun,
    PlanSettings,
    PurchaseOrder,
    PurchaseOrders,
    SuggestionPage,
    Supplier,
    SupplierLink,
    SupplierLinks,
    SupplierPerformance,
    Suppliers,
    Valuation,
    answer,
)
from ..catalog import service as catalog
from ..errors import Invalid
from ..http import Admin, EngineDep, IdempotencyKey, Limit, api_router
from ..inputs import MAX_ID, Day, Digits
from . import orders, outlook, performance, plan, valuation
from . import settings as plan_settings
from . import suppliers as supplier_service
from .schemas import (
    ItemSupplierIn,
    ItemSupplierPatch,
    PlanOrdersIn,
    PlanSettingsPatch,
    PurchaseOrderIn,
    PurchaseOrderPatch,
    ReceiptIn,
    SupplierIn,
    SupplierPatch,
)

router = api_router(prefix="/v1/{tenant}", tags=["planning"])
CSV = "text/csv; charset=utf-8"
Cursor = Annotated[int, Digits, Query(ge=0, le=MAX_ID, description="Cursor from next_after")]
OrderId = Annotated[int, Digits, Path(ge=1, le=MAX_ID, description="The order's id")]
Status = Literal["draft", "approved", "sent", "partially_received", "received", "cancelled", "open"]


def _once(
    engine: Any,
    tenant: str,
    scope: str,
    key: str | None,
    payload: Any,
    status: int,
    action: Callable[[Connection], Any],
) -> JSONResponse:
    """A purchase-order write, applied at most once per Idempotency-Key."""
    code, body = idempotency.run(
        engine, tenant, scope, key, payload, lambda conn: (status, action(conn))
    )
    return JSONResponse(body, status_code=code)


# ---- suppliers -------------------------------------------------------------------------


@router.post(
    "/suppliers", status_code=201, summary="Create a supplier", openapi_extra=answer(Supplier)
)
def create_supplier(body: SupplierIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return supplier_service.create(conn, caller.tenant, body)


@router.get("/suppliers", summary="All suppliers, by code", openapi_extra=answer(Suppliers))
def list_suppliers(caller: Admin, engine: EngineDep, active: bool | None = None) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"suppliers": supplier_service.listing(conn, caller.tenant, active)}


@router.get("/suppliers/{code}", summary="One supplier", openapi_extra=answer(Supplier))
def get_supplier(code: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return supplier_service.get(conn, caller.tenant, code)


@router.patch(
    "/suppliers/{code}",
    summary="Change a supplier's terms or contact",
    openapi_extra=answer(Supplier),
)
def patch_supplier(
    code: str, body: SupplierPatch, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return supplier_service.update(conn, caller.tenant, code, body)


@router.delete("/suppliers/{code}", status_code=204, summary="Delete a supplier without orders")
def delete_supplier(code: str, caller: Admin, engine: EngineDep) -> Response:
    with db.write(engine) as conn:
        supplier_service.delete(conn, caller.tenant, code)
    return Response(status_code=204)


@router.get(
    "/suppliers/{code}/performance",
    summary="On-time rate, fill rate, lead time",
    openapi_extra=answer(SupplierPerformance),
)
def supplier_performance(code: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        sup = supplier_service.supplier(conn, caller.tenant, code)
        measured = performance.measure(conn, caller.tenant, sup.id).get(sup.id, performance.EMPTY)
    return {
        "supplier": code,
        "promised_lead_time_days": sup.lead_time_days,
        "promised_lead_time_std_days": sup.lead_time_std_days,
        **measured.document(),
    }


@router.get(
    "/items/{sku}/suppliers", summary="Where an item is bought", openapi_extra=answer(SupplierLinks)
)
def list_links(sku: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"sku": sku, "suppliers": supplier_service.links(conn, caller.tenant, sku)}


@router.post(
    "/items/{sku}/suppliers",
    status_code=201,
    summary="Link a supplier to an item",
    openapi_extra=answer(SupplierLink),
)
def create_link(sku: str, body: ItemSupplierIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return supplier_service.link(conn, caller.tenant, sku, body)


@router.patch(
    "/items/{sku}/suppliers/{code}",
    summary="Change price, pack size, MOQ, preference",
    openapi_extra=answer(SupplierLink),
)
def patch_link(
    sku: str, code: str, body: ItemSupplierPatch, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return supplier_service.update_link(conn, caller.tenant, sku, code, body)


@router.delete("/items/{sku}/suppliers/{code}", status_code=204, summary="Unlink a supplier")
def delete_link(sku: str, code: str, caller: Admin, engine: EngineDep) -> Response:
    with db.write(engine) as conn:
        supplier_service.unlink(conn, caller.tenant, sku, code)
    return Response(status_code=204)


# ---- the plan --------------------------------------------------------------------------


@router.get(
    "/plan/settings",
    summary="Service level, ordering and holding cost, windows",
    openapi_extra=answer(PlanSettings),
)
def get_plan_settings(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return plan_settings.load(conn, caller.tenant).document()


@router.patch(
    "/plan/settings", summary="Change the planning settings", openapi_extra=answer(PlanSettings)
)
def patch_plan_settings(
    body: PlanSettingsPatch, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return plan_settings.update(conn, caller.tenant, body).document()


@router.post(
    "/plan",
    summary="Run the plan now (one run at a time per tenant)",
    openapi_extra=answer(PlanRun),
)
def run_plan(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    return plan.run(engine, caller.tenant)


@router.get("/plan", summary="The last plan run", openapi_extra=answer(PlanRun))
def get_plan(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return plan.status(conn, caller.tenant)


@router.get(
    "/plan/suggestions",
    summary="Purchase suggestions grouped by supplier, paged",
    openapi_extra=answer(SuggestionPage),
)
def get_suggestions(
    caller: Admin,
    engine: EngineDep,
    supplier: str | None = None,
    urgent: bool | None = None,
    all: Annotated[bool, Query(description="Also lines with nothing to order")] = False,
    after: Cursor = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return plan.suggestions(
            conn,
            caller.tenant,
            supplier=supplier,
            urgent=urgent,
            due_only=not all,
            after=after,
            limit=limit,
        )


@router.get(
    "/items/{sku}/forecast",
    summary="One item's forecast day by day, with its prediction interval and past demand",
    description="The daily demand forecast of one item at one location (or, without "
    "`location`, at all its locations as one series) for the plan's horizon, or its first "
    "`days` (a longer `days` forecasts further), each day with the bounds of the central "
    "`level` prediction interval, which widen with the horizon. It is computed now, from the "
    "same demand history and with the same models as the plan (a weekly season; days with an "
    "empty shelf count as unknown), so it does not need a plan run. `actual` is that "
    "history: the units sold each day, and whether the shelf was empty at the day's end. A "
    "digital, print-on-demand or bundle item is a 422.",
    openapi_extra=answer(ItemForecast),
)
def get_item_forecast(
    sku: str,
    caller: Admin,
    engine: EngineDep,
    location: Annotated[str | None, Query(max_length=64, description="A location code")] = None,
    level: Annotated[float, Query(ge=0.5, le=0.99, description="Interval coverage")] = 0.95,
    days: Annotated[int | None, Query(ge=1, le=365, description="Days ahead")] = None,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return outlook.outlook(conn, caller.tenant, sku, location, db.utcnow().date(), level, days)


@router.post(
    "/plan/purchase-orders",
    status_code=201,
    summary="Turn the open suggestions into draft purchase orders",
    openapi_extra=answer(PlannedOrders),
)
def plan_to_orders(
    caller: Admin,
    engine: EngineDep,
    body: PlanOrdersIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = body or PlanOrdersIn()
    return _once(
        engine,
        caller.tenant,
        "plan/purchase-orders",
        idempotency_key,
        body.model_dump(mode="json"),
        201,
        lambda conn: plan.to_purchase_orders(
            conn, caller.tenant, body.suppliers, caller.actor, db.utcnow(), body.lines
        ),
    )


# ---- purchase orders -------------------------------------------------------------------


def _statuses(status: str | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    return orders.OPEN if status == "open" else (status,)


@router.post(
    "/purchase-orders",
    status_code=201,
    summary="Create a draft purchase order",
    openapi_extra=answer(PurchaseOrder),
)
def create_order(
    body: PurchaseOrderIn, caller: Admin, engine: EngineDep, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    return _once(
        engine,
        caller.tenant,
        "purchase-orders",
        idempotency_key,
        body.model_dump(mode="json"),
        201,
        lambda conn: orders.create(conn, caller.tenant, body, caller.actor, db.utcnow()),
    )


@router.get(
    "/purchase-orders",
    summary="Purchase orders by number, paged",
    openapi_extra=answer(PurchaseOrders),
)
def list_orders(
    caller: Admin,
    engine: EngineDep,
    status: Status | None = None,
    supplier: str | None = None,
    after: Cursor = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        page, nxt = orders.listing(
            conn,
            caller.tenant,
            statuses=_statuses(status),
            supplier=supplier,
            after=after,
            limit=limit,
        )
    return {"purchase_orders": page, "next_after": nxt}


@router.get(
    "/purchase-orders.csv",
    summary="Every open purchase order as CSV, one row a line",
    openapi_extra=answer("csv"),
)
def orders_csv(caller: Admin, engine: EngineDep, status: Status = "open") -> Response:
    with db.read(engine) as conn:
        docs = orders.open_orders(conn, caller.tenant, _statuses(status) or orders.OPEN)
    return Response(
        orders.to_csv(docs),
        media_type=CSV,
        headers={"Content-Disposition": 'attachment; filename="purchase-orders.csv"'},
    )


@router.get(
    "/purchase-orders/{po_id:int}.csv",
    summary="One purchase order as CSV",
    openapi_extra=answer("csv"),
)
def order_csv(po_id: OrderId, caller: Admin, engine: EngineDep) -> Response:
    with db.read(engine) as conn:
        doc = orders.get(conn, caller.tenant, po_id)
    return Response(
        orders.to_csv([doc]),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{doc["number"]}.csv"'},
    )


@router.get(
    "/purchase-orders/{po_id}",
    summary="One purchase order with lines and receipts",
    openapi_extra=answer(PurchaseOrder),
)
def get_order(po_id: OrderId, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return orders.get(conn, caller.tenant, po_id)


@router.patch(
    "/purchase-orders/{po_id}",
    summary="Change a draft's lines, or any open order's notes",
    openapi_extra=answer(PurchaseOrder),
)
def patch_order(
    po_id: OrderId,
    body: PurchaseOrderPatch,
    caller: Admin,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return _once(
        engine,
        caller.tenant,
        f"purchase-orders/{po_id}/patch",
        idempotency_key,
        body.model_dump(mode="json", exclude_unset=True),
        200,
        lambda conn: orders.update(conn, caller.tenant, po_id, body, db.utcnow()),
    )


def _transition_route(action: str, summary: str) -> None:
    def endpoint(
        po_id: OrderId, caller: Admin, engine: EngineDep, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        return _once(
            engine,
            caller.tenant,
            f"purchase-orders/{po_id}/{action}",
            idempotency_key,
            {},
            200,
            lambda conn: orders.transition(
                conn, caller.tenant, po_id, action, caller.actor, db.utcnow()
            ),
        )

    endpoint.__name__ = f"{action}_order"
    router.post(
        f"/purchase-orders/{{po_id}}/{action}",
        summary=summary,
        openapi_extra=answer(PurchaseOrder),
    )(endpoint)


_transition_route("approve", "Approve a draft: raises incoming at the destination")
_transition_route("send", "Mark an approved order as sent to the supplier")
_transition_route("cancel", "Cancel an open order: removes its outstanding incoming")


@router.post(
    "/purchase-orders/{po_id}/receipts",
    status_code=201,
    summary="Book a delivery: incoming → on_hand at the order's unit price",
    openapi_extra=answer(PurchaseOrder),
)
def receive_order(
    po_id: OrderId,
    body: ReceiptIn,
    caller: Admin,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return _once(
        engine,
        caller.tenant,
        f"purchase-orders/{po_id}/receipts",
        idempotency_key,
        body.model_dump(mode="json"),
        201,
        lambda conn: orders.receive(conn, caller.tenant, po_id, body, caller.actor, db.utcnow()),
    )


# ---- valuation -------------------------------------------------------------------------

Method = Annotated[Literal["fifo", "average"], Query(description="Cost flow")]


def _as_of(as_of: date | None) -> date:
    today = db.utcnow().date()
    if as_of is not None and as_of > today:
        raise Invalid("as_of cannot be in the future.")
    return as_of or today


@router.get(
    "/valuation",
    summary="Stock value per item and location (FIFO or average cost)",
    openapi_extra=answer(Valuation),
)
def get_valuation(
    caller: Admin,
    engine: EngineDep,
    method: Method = "fifo",
    as_of: Day | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        if location is not None:
            catalog.location(conn, caller.tenant, location)  # 404 for an unknown code
        return valuation.report(conn, caller.tenant, method, _as_of(as_of), location)


@router.get("/valuation/abc", summary="ABC classes by stock value", openapi_extra=answer(Abc))
def get_abc(
    caller: Admin,
    engine: EngineDep,
    method: Method = "fifo",
    as_of: Day | None = None,
    a: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    b: Annotated[float, Query(gt=0, lt=1)] = 0.95,
) -> dict[str, Any]:
    if b <= a:
        raise Invalid("The B threshold must be above the A threshold (e.g. a=0.8, b=0.95).")
    with db.read(engine) as conn:
        return valuation.abc(conn, caller.tenant, method, _as_of(as_of), a, b)
