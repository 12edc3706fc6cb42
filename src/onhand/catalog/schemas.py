"""Request bodies for the catalogue."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..inputs import MAX_ID as MAX_ID  # paging cursors of the catalogue and stock routes
from ..inputs import Flag, PlainDecimal, Whole
from ..quantities import MAX_QTY

Kind = Literal["physical", "digital", "licensed", "pod", "bundle"]
Tracking = Literal["none", "lot", "serial"]
ShelfLifeDays = Annotated[Whole, Field(ge=0, le=3650)]
# Codes name locations and suppliers in URLs: letters, digits, '_', ':' and '-', in parts
# joined by single dots. No '/', and no '..' that a client would resolve away.
Code = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_:-]*(\.[A-Za-z0-9_:-]+)*$",
    examples=["WH1"],
)
Sku = Field(min_length=1, max_length=128, pattern=r"^[^\s/]+$", examples=["BOOK-1"])
# Counts and thresholds in base units, bounded like every quantity (see quantities.MAX_QTY).
NonNegativeInt = Annotated[Whole, Field(ge=0, le=MAX_QTY)]
PositiveInt = Annotated[Whole, Field(gt=0, le=MAX_QTY)]
Money = Annotated[PlainDecimal, Field(ge=0, max_digits=18, decimal_places=6)]

# Free-form attributes are stored as JSON and sent back in every item answer: bounded so that
# storing, reading and encoding them can never fail after the row is written.
MAX_ATTRIBUTES_BYTES = 16_384
MAX_ATTRIBUTES_DEPTH = 8


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_ATTRIBUTES_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    if _depth(value) > MAX_ATTRIBUTES_DEPTH:
        raise ValueError(f"attributes may be nested at most {MAX_ATTRIBUTES_DEPTH} levels deep")
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (ValueError, TypeError, RecursionError):
        raise ValueError("attributes must be plain JSON (no NaN or Infinity)") from None
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes take {size:,} bytes as JSON (at most 16,384)")
    return value


Attributes = Annotated[dict[str, Any], AfterValidator(_storable)]


class Body(BaseModel):
    """A request body. Its text must be storable in both databases: PostgreSQL refuses NUL."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text may not contain NUL (\\u0000) characters")
        return value


class LocationIn(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "WH1", "name": "Main warehouse", "zone": "north"}]}
    )

    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    parent: str | None = None
    zone: str | None = Field(default=None, max_length=64)
    priority: Whole = Field(default=100, ge=0, le=1_000_000)


class LocationPatch(Body):
    """A change to a location: any field of LocationIn but its code, which URLs and history
    name it by. Unknown fields are refused rather than ignored, so a typo is never a no-op."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "Leeds warehouse", "zone": "north", "priority": 10}]
        },
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent: str | None = Field(default=None, max_length=64, description="null: a warehouse")
    zone: str | None = Field(default=None, max_length=64)
    priority: Whole | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _changes_something(self) -> LocationPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of name, parent, zone, priority to change")
        for name in ("name", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"'{name}' can be changed but not cleared (null)")
        return self


class ComponentIn(Body):
    sku: str = Sku
    qty: PositiveInt


class ItemIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "BOOK-1",
                    "name": "Dune",
                    "kind": "physical",
                    "low_stock_threshold": 5,
                    "attributes": {"author": "Frank Herbert"},
                }
            ]
        }
    )

    sku: str = Sku
    name: str = Field(min_length=1, max_length=300)
    kind: Kind = "physical"
    unit: str = Field(default="each", min_length=1, max_length=16)
    units: dict[str, PositiveInt] = Field(default_factory=dict)
    barcode: str | None = Field(default=None, max_length=64)
    attributes: Attributes = Field(default_factory=dict, examples=[{"author": "Frank Herbert"}])
    allow_backorder: Flag = False
    low_stock_threshold: NonNegativeInt | None = None
    reorder_point: NonNegativeInt | None = None
    capacity_per_day: PositiveInt | None = None
    components: list[ComponentIn] | None = None
    unit_cost: Money | None = None
    tracking: Tracking = Field(
        default="none", description="lot: stock is kept per lot (batch) with an expiry date"
    )
    min_shelf_life_days: ShelfLifeDays | None = Field(
        default=None, description="Lot items: never hold or ship a lot with fewer days left"
    )
    expiry_warning_days: ShelfLifeDays | None = Field(
        default=None, description="Lot items: announce lot.expiring this many days ahead (3)"
    )


class ItemPatch(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reorder_point": 10, "unit_cost": "4.20"}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=300)
    barcode: str | None = Field(default=None, max_length=64)
    attributes: Attributes | None = None
    allow_backorder: Flag | None = None
    low_stock_threshold: NonNegativeInt | None = None
    reorder_point: NonNegativeInt | None = None
    capacity_per_day: PositiveInt | None = None
    unit_cost: Money | None = None
    active: Flag | None = None
    min_shelf_life_days: ShelfLifeDays | None = None
    expiry_warning_days: ShelfLifeDays | None = None

    @model_validator(mode="after")
    def _kept_fields_stay_set(self) -> ItemPatch:
        for name in ("name", "attributes", "allow_backorder", "active", "capacity_per_day"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"'{name}' can be changed but not cleared (null)")
        return self
