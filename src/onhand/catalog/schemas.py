"""Request bodies for the catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ..quantities import MAX_QTY

Kind = Literal["physical", "digital", "licensed", "pod", "bundle"]
Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
Sku = Field(min_length=1, max_length=128, pattern=r"^[^\s/]+$")
# Counts and thresholds in base units, bounded like every quantity (see quantities.MAX_QTY).
NonNegativeInt = Annotated[int, Field(ge=0, le=MAX_QTY)]
PositiveInt = Annotated[int, Field(gt=0, le=MAX_QTY)]
# Paging cursors are 64-bit row ids; a larger number is bad input, not a database error.
MAX_ID = 2**63 - 1


class Body(BaseModel):
    """A request body. Its text must be storable in both databases: PostgreSQL refuses NUL."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text may not contain NUL (\\u0000) characters")
        return value


class LocationIn(Body):
    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    zone: str | None = Field(default=None, max_length=64)
    priority: int = Field(default=100, ge=0, le=1_000_000)


class ComponentIn(Body):
    sku: str = Sku
    qty: PositiveInt


class ItemIn(Body):
    sku: str = Sku
    name: str = Field(min_length=1, max_length=300)
    kind: Kind = "physical"
    unit: str = Field(default="each", min_length=1, max_length=16)
    units: dict[str, PositiveInt] = Field(default_factory=dict)
    barcode: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] = Field(default_factory=dict)
    allow_backorder: bool = False
    low_stock_threshold: NonNegativeInt | None = None
    reorder_point: NonNegativeInt | None = None
    capacity_per_day: PositiveInt | None = None
    components: list[ComponentIn] | None = None
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=6)


class ItemPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    barcode: str | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None
    allow_backorder: bool | None = None
    low_stock_threshold: NonNegativeInt | None = None
    reorder_point: NonNegativeInt | None = None
    capacity_per_day: PositiveInt | None = None
    unit_cost: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=6)
    active: bool | None = None

    @model_validator(mode="after")
    def _kept_fields_stay_set(self) -> ItemPatch:
        for name in ("name", "attributes", "allow_backorder", "active", "capacity_per_day"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"'{name}' can be changed but not cleared (null)")
        return self
