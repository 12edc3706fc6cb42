"""Request bodies of the fulfilment API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field

from ..quantities import QtyInput

Text = Field(min_length=1, max_length=128)


class SaleEvent(BaseModel):
    id: str = Field(
        min_length=1, max_length=128, description="Unique per source; resending is safe"
    )
    sku: str = Text
    qty: QtyInput = Field(description="Units sold, in base units or a string like '0.5 kg'")
    location: str = Field(min_length=1, max_length=64)
    at: AwareDatetime | None = Field(default=None, description="When it was sold")
    ship: bool = Field(default=False, description="The buyer waits for a delivery: pick it")
    ship_by: AwareDatetime | None = Field(
        default=None, description="With ship: the carrier's collection it must make"
    )


class ConsumptionIn(BaseModel):
    source: str = Field(min_length=1, max_length=128, examples=["pos-leeds-1"])
    events: list[SaleEvent] = Field(min_length=1, max_length=1000)


class WaveIn(BaseModel):
    group_by: str = Field(default="zone", examples=["zone", "cutoff", "size"])
    zone: str | None = Field(default=None, max_length=64)
    cutoff: AwareDatetime | None = None
    max_lines: int | None = Field(default=None, ge=1, le=10_000)


class ConfirmIn(BaseModel):
    picker: str = Field(min_length=1, max_length=200)
    scan: str = Field(min_length=1, max_length=128, description="The SKU or barcode scanned")
    qty: int = Field(ge=0, le=10**9)


class Bracket(BaseModel):
    up_to: int | None = Field(ge=1, le=10**7, description="Last line of the bracket; null: no end")
    rate: Decimal = Field(ge=0, le=10**6, max_digits=18, decimal_places=6)


class BracketsIn(BaseModel):
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["EUR"])
    brackets: list[Bracket] = Field(min_length=1, max_length=50)
    max_error_rate: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        le=1,
        max_digits=9,
        decimal_places=6,
        description="Short or wrong picks must stay under this share of the day's lines",
    )


class ShipIn(BaseModel):
    at: datetime | None = None
