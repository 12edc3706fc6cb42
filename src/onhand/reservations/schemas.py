"""Request bodies for reservations."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from ..catalog.schemas import Body
from ..inputs import Whole
from ..quantities import QtyInput

Strategy = Literal["priority", "most_stock", "nearest_zone"]
MAX_TTL = 7 * 24 * 3600


class HoldLineIn(Body):
    sku: str = Field(min_length=1, max_length=128)
    qty: QtyInput
    location: str | None = Field(
        default=None, max_length=64, description="Hold at this location; null lets onhand allocate"
    )
    lot: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Lot-tracked items: hold this lot; null takes the lot that expires first",
    )


LineIn = HoldLineIn  # the name other modules import


class ReservationIn(Body):
    """Validated whole before it joins a batch: text storable on both databases (no NUL)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [{"sku": "BOOK-1", "qty": 2, "location": None}],
                    "ttl_seconds": 900,
                    "reference": "cart-1",
                }
            ]
        }
    )

    lines: list[HoldLineIn] = Field(min_length=1, max_length=200)
    ttl_seconds: Whole | None = Field(
        default=None,
        ge=1,
        le=MAX_TTL,
        description="Lifetime of the hold (default: tenant setting, 900)",
    )
    reference: str | None = Field(default=None, max_length=200, description="Cart or order id")
    allocation: Strategy | None = Field(default=None, description="Default: tenant setting")
    zone: str | None = Field(default=None, max_length=64, description="Hint for nearest_zone")


class ExtendIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ttl_seconds": 1800}]})

    ttl_seconds: Whole = Field(ge=1, le=MAX_TTL, description="New lifetime, counted from now")
