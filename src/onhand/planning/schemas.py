"""Request bodies of the planning API: suppliers, links, settings, purchase orders, receipts."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ..catalog.schemas import Body, Code, NonNegativeInt, PositiveInt, Sku
from ..inputs import Day, Flag, Number, PlainDecimal, Whole
from ..quantities import QtyInput
from ..stock.schemas import LotIn

Currency = Field(default="EUR", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
Price = Field(default=None, ge=0, max_digits=18, decimal_places=6)
LeadDays = Field(ge=0, le=730, description="Days from ordering to delivery")


class SupplierIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "ACME",
                    "name": "Acme Books",
                    "lead_time_days": 7,
                    "moq": 10,
                    "pack_size": 5,
                }
            ]
        }
    )

    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    currency: str = Currency
    lead_time_days: Number = LeadDays
    lead_time_std_days: Number = Field(default=0.0, ge=0, le=365)
    moq: NonNegativeInt = Field(default=0, description="Minimum order quantity per line")
    pack_size: PositiveInt = Field(default=1, description="Order in multiples of this")
    default_price: PlainDecimal | None = Price
    active: Flag = True


class SupplierPatch(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lead_time_days": 5, "email": "orders@acme.example"}]}
    )

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    lead_time_days: Number | None = Field(default=None, ge=0, le=730)
    lead_time_std_days: Number | None = Field(default=None, ge=0, le=365)
    moq: NonNegativeInt | None = None
    pack_size: PositiveInt | None = None
    default_price: PlainDecimal | None = Price
    active: Flag | None = None


class ItemSupplierIn(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"supplier": "ACME", "price": "3.80", "preferred": True}]}
    )

    supplier: str = Code
    supplier_sku: str | None = Field(default=None, max_length=128)
    price: PlainDecimal | None = Price
    pack_size: PositiveInt | None = Field(default=None, description="Overrides the supplier's")
    moq: NonNegativeInt | None = Field(default=None, description="Overrides the supplier's")
    preferred: Flag = False


class ItemSupplierPatch(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"price": "3.60"}]})

    supplier_sku: str | None = Field(default=None, max_length=128)
    price: PlainDecimal | None = Price
    pack_size: PositiveInt | None = None
    moq: NonNegativeInt | None = None
    preferred: Flag | None = None


class PlanSettingsPatch(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"service_level": 0.95, "horizon_days": 60}]}
    )

    service_level: Number | None = Field(
        default=None, ge=0.5, le=0.999, description="Cycle service level for safety stock"
    )
    ordering_cost: PlainDecimal | None = Field(
        default=None,
        ge=0,
        max_digits=18,
        decimal_places=6,
        description="Cost of placing one order line",
    )
    holding_rate: Number | None = Field(
        default=None, gt=0, le=5, description="Yearly holding cost as a share of unit price"
    )
    history_days: Whole | None = Field(default=None, ge=14, le=1095)
    horizon_days: Whole | None = Field(default=None, ge=7, le=365)
    review_days: Whole | None = Field(default=None, ge=1, le=90)
    default_lead_time_days: Number | None = Field(default=None, ge=0, le=730)


class PlanOrdersIn(Body):
    model_config = ConfigDict(json_schema_extra={"examples": [{"suppliers": ["ACME"]}]})

    suppliers: list[str] | None = Field(
        default=None, max_length=500, description="Only these supplier codes (default: all)"
    )
    lines: list[int] | None = Field(
        default=None,
        max_length=10_000,
        description="Only these suggestion line numbers (`line_no`; default: all)",
    )


class OrderLineIn(Body):
    sku: str = Sku
    qty: QtyInput
    unit_price: PlainDecimal | None = Price


LineIn = OrderLineIn  # the name other modules import


class PurchaseOrderIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "supplier": "ACME",
                    "location": "WH1",
                    "lines": [{"sku": "BOOK-1", "qty": 50, "unit_price": "3.60"}],
                    "reference": "PO-2026-1",
                }
            ]
        }
    )

    supplier: str = Code
    location: str = Field(min_length=1, max_length=64, description="Where the goods arrive")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    expected_on: Day | None = None


class PurchaseOrderPatch(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Deliver to the back door"}]}
    )

    lines: list[OrderLineIn] | None = Field(
        default=None, min_length=1, max_length=1000, description="Replaces every line (drafts only)"
    )
    location: str | None = Field(default=None, min_length=1, max_length=64)
    reference: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    expected_on: Day | None = None


class ReceiptLineIn(Body):
    sku: str = Sku
    qty: QtyInput
    lot: LotIn | None = Field(
        default=None,
        description="Lot-tracked items: the delivered lot (code, expires_on…); generated if absent",
    )


class ReceiptIn(Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"lines": [{"sku": "BOOK-1", "qty": 20}]}]}
    )

    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=1000)
    allow_over_receipt: Flag = Field(
        default=False, description="Accept more than was ordered on a line"
    )
