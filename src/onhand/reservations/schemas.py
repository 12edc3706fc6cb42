"""Request bodies for reservations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..catalog.schemas import Body
from ..inputs import Whole
from ..quantities import QtyInput

Strategy = Literal["priority", "most_stock", "nearest_zone"]
MAX_TTL = 7 * 24 * 3600


class LineIn(Body):
    sku: str = Field(min_length=1, max_length=128)
    qty: QtyInput
    location: str | None = Field(
        default=None, max_length=64, description="Hold at this location; null lets onhand allocate"
    )


class ReservationIn(Body):
    """Validated whole before it joins a batch: text storable on both databases (no NUL)."""

    lines: list[LineIn] = Field(min_length=1, max_length=200)
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
    ttl_seconds: Whole = Field(ge=1, le=MAX_TTL, description="New lifetime, counted from now")
