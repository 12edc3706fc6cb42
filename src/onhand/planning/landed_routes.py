"""HTTP: landed costs (freight, duty, insurance, handling) on purchase orders and receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel

from .. import db
from ..catalog.schemas import MAX_ID
from ..http import Admin, EngineDep, api_router
from ..inputs import Digits
from . import landed
from .landed import ChargeIn

router = api_router(prefix="/v1/{tenant}", tags=["planning"])
OrderId = Annotated[int, Digits, Path(ge=1, le=MAX_ID, description="The order's id")]
MovementId = Annotated[str, Path(min_length=1, max_length=36, description="The receipt's id")]


class ChargeLine(BaseModel):
    sku: str
    amount: str
    per_unit: str


class Charge(BaseModel):
    id: str
    kind: str
    amount: str
    basis: str
    note: str | None
    created_by: str | None
    created_at: datetime
    lines: list[ChargeLine]


class LandedLine(BaseModel):
    sku: str
    units: int
    landed: str
    per_unit: str


class Charges(BaseModel):
    purchase_order: str | None
    movement_id: str | None
    charges: list[Charge]
    by_line: list[LandedLine]


SPREAD = (
    "Spread over the lines by `value` (quantity × unit price), `quantity`, or `weight` "
    "(quantity × the item's `attributes.weight`), in whole cents that add up to the charge. "
    "FIFO and average valuation add each line's share per unit to the units it brings."
)


@router.post(
    "/purchase-orders/{po_id}/charges",
    status_code=201,
    summary="Add freight, duty, insurance or handling to a purchase order",
    description=SPREAD,
    response_model=Charges,
)
def add_order_charge(
    po_id: OrderId, body: ChargeIn, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return landed.add(conn, caller.tenant, body, caller.actor, db.utcnow(), po_id=po_id)


@router.get(
    "/purchase-orders/{po_id}/charges",
    summary="A purchase order's landed charges and what each line carries",
    response_model=Charges,
)
def order_charges(po_id: OrderId, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return landed.listing(conn, caller.tenant, po_id=po_id)


@router.post(
    "/movements/{movement_id}/charges",
    status_code=201,
    summary="Add freight, duty, insurance or handling to a receipt",
    description=SPREAD,
    response_model=Charges,
)
def add_receipt_charge(
    movement_id: MovementId, body: ChargeIn, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        return landed.add(
            conn, caller.tenant, body, caller.actor, db.utcnow(), movement_id=movement_id
        )


@router.get(
    "/movements/{movement_id}/charges",
    summary="A receipt's landed charges",
    response_model=Charges,
)
def receipt_charges(movement_id: MovementId, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return landed.listing(conn, caller.tenant, movement_id=movement_id)
