"""Request bodies and answers of cycle counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..catalog.schemas import Body
from ..inputs import PlainDecimal
from ..quantities import MAX_QTY, QtyInput

Status = Literal["open", "review", "posted"]


class ClassRule(Body):
    model_config = ConfigDict(extra="forbid")

    every_days: int = Field(ge=1, le=3650, description="Count each item and location this often")
    tolerance_pct: PlainDecimal = Field(
        default=Decimal(0),
        ge=0,
        le=100,
        description="A count within this % of the expected quantity posts itself",
    )
    tolerance_units: int = Field(
        default=0, ge=0, le=MAX_QTY, description="… or within this many units (the larger wins)"
    )


class ProgrammeIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "A": {"every_days": 30, "tolerance_pct": "1", "tolerance_units": 0},
                    "B": {"every_days": 90, "tolerance_pct": "2", "tolerance_units": 1},
                    "C": {"every_days": 365, "tolerance_pct": "5", "tolerance_units": 2},
                }
            ]
        },
    )

    A: ClassRule
    B: ClassRule
    C: ClassRule


class Programme(BaseModel):
    A: ClassRule
    B: ClassRule
    C: ClassRule
    updated_at: datetime | None = Field(description="null: the default programme")


class CountIn(Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"counted": 12}]})

    counted: QtyInput = Field(description="What is on the shelf (base units, or '2.5 kg')")


class CountTask(BaseModel):
    id: str
    sku: str
    location: str
    abc_class: str
    due_on: date
    status: Status
    counted: int | None
    expected: int | None = Field(description="Shown only once counted (counts are blind)")
    variance: int | None
    within: bool | None = Field(description="Whether the count was within the tolerance")
    counted_by: str | None
    counted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None


class CountTasks(BaseModel):
    tasks: list[CountTask]


class Generated(BaseModel):
    on: date
    created: int = Field(description="Tasks made for the items and locations due that day")
    open: int = Field(description="Tasks open or in review after it")


class ClassAccuracy(BaseModel):
    counted: int
    within: int
    accuracy: float | None


class Accuracy(BaseModel):
    since: datetime
    counted: int
    within: int
    accuracy: float | None = Field(description="Share of counts within tolerance")
    by_class: dict[str, ClassAccuracy]
    by_week: list[dict[str, str | int | float | None]]
