"""Request bodies and answers of returns (RMA)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..catalog.schemas import Body, Code, PositiveInt, Sku
from ..quantities import MAX_QTY

Disposition = Literal["restock", "damage", "scrap", "return_to_vendor"]
Status = Literal["requested", "approved", "received", "closed", "refused"]
Text = Field(default=None, max_length=200)


class RmaLineIn(Body):
    sku: str = Sku
    qty: PositiveInt
    reason: str = Field(min_length=1, max_length=200, examples=["arrived damaged"])
    lot: str | None = Field(default=None, max_length=64)
    serial: str | None = Field(default=None, max_length=128)
    order_reference: str | None = Text


class RmaIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "location": "WH1",
                    "order_reference": "#1001",
                    "customer": "Ada at the corner café",
                    "lines": [{"sku": "BOOK-1", "qty": 2, "reason": "arrived damaged"}],
                }
            ]
        },
    )

    location: str = Code
    order_reference: str | None = Text
    customer: str | None = Text
    note: str | None = Field(default=None, max_length=2000)
    lines: list[RmaLineIn] = Field(min_length=1, max_length=500)


class ReceivedLine(Body):
    line: int = Field(ge=1, le=500)
    qty: int = Field(ge=0, le=MAX_QTY, description="Units that arrived (0: none)")


class ReceiveIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"lines": [{"line": 1, "qty": 2}]}]}
    )

    lines: list[ReceivedLine] | None = Field(
        default=None, max_length=500, description="Units per line; left out: all asked for"
    )


class InspectedLine(Body):
    line: int = Field(ge=1, le=500)
    disposition: Disposition
    note: str | None = Field(default=None, max_length=2000)


class InspectIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"lines": [{"line": 1, "disposition": "restock"}]}]},
    )

    lines: list[InspectedLine] = Field(min_length=1, max_length=500)


class RefuseIn(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "outside the 30-day window"}]}
    )

    reason: str = Field(min_length=1, max_length=2000)


class RmaLine(BaseModel):
    line: int
    sku: str
    qty: int
    reason: str
    lot: str | None
    serial: str | None
    order_reference: str | None
    received: int | None = Field(description="Units that arrived; null until received")
    disposition: Disposition | None
    inspected_by: str | None
    inspected_at: datetime | None
    inspection_note: str | None


class Rma(BaseModel):
    id: str
    status: Status
    location: str
    order_reference: str | None
    customer: str | None
    note: str | None
    refusal: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[RmaLine]


class Rmas(BaseModel):
    rmas: list[Rma]
