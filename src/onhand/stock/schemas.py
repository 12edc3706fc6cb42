"""Request bodies for stock movements."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from ..catalog.schemas import Body, Money
from ..inputs import Flag
from ..quantities import QtyInput

MovementType = Literal[
    "receipt",
    "adjustment",
    "damage",
    "quality_hold",
    "quality_release",
    "write_off",
    "ship",
    "return",
    "transfer",
    "transfer_receive",
    "count",
    "safety_stock",
]
StockState = Literal["available", "quality_control", "damaged"]

# What each type needs besides sku and location, for a clear message when it is missing.
NEEDS = {"transfer": ("to", "qty"), "count": ("counted",), "safety_stock": ("qty",)}


# Lot codes name lots in URLs (…/lots/{sku}/{lot}): the same alphabet as location codes.
LotCode = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_:-]*(\.[A-Za-z0-9_:-]+)*$"),
]


Serial = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\s/]+$")]


class LotIn(Body):
    """A lot (batch) as a receipt names it; other movements name a lot by its code alone."""

    code: LotCode | None = Field(
        default=None, description="The lot code; a receipt without one gets a generated code"
    )
    expires_on: date | None = Field(default=None, description="Use by: the last day it is sold")
    best_before: date | None = None
    manufactured_on: date | None = None
    supplier: str | None = Field(default=None, max_length=64)


class MovementIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "receipt",
                    "sku": "BOOK-1",
                    "location": "WH1",
                    "qty": 100,
                    "unit_cost": "4.20",
                    "reference": "delivery 1",
                }
            ]
        }
    )

    type: MovementType
    sku: str = Field(min_length=1, max_length=128)
    location: str = Field(
        min_length=1, max_length=64, description="Where; the source of a transfer"
    )
    to: str | None = Field(default=None, max_length=64, description="Destination of a transfer")
    qty: QtyInput | None = None
    counted: QtyInput | None = Field(default=None, description="The counted quantity (count)")
    from_state: StockState | None = None
    to_state: StockState | None = None
    in_transit: Flag = Field(default=False, description="Transfer: arrive later (transfer_receive)")
    unit_cost: Money | None = None
    lot: LotIn | LotCode | None = Field(
        default=None,
        description="Lot-tracked items: the lot (a code, or for a receipt its details)",
    )
    serials: list[Serial] | None = Field(
        default=None,
        max_length=10_000,
        description="Serial-tracked items: the serial number of each unit moved (qty may be "
        "left out: it is their count)",
    )
    reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _fields_for_type(self) -> MovementIn:
        for field in NEEDS.get(self.type, ("qty",)):
            if getattr(self, field) is None and not (field == "qty" and self.serials):
                raise ValueError(f"a {self.type} needs '{field}'")
        if self.serials is not None and len(set(self.serials)) != len(self.serials):
            raise ValueError("serials: each serial number once")
        return self
