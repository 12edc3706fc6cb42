"""The documents the API answers with, as models for the OpenAPI document (`/openapi.json`).

They only describe: a route names its model with `answer(Model)` and keeps building its own
dict, so the bytes a client gets are exactly what they were. tests/integration/
test_openapi_answers.py runs a shop's day through the API and validates every success answer
against these schemas, strictly (a property a model does not name fails), so what the document
says is what the API does. Amounts of money and unit costs are decimal strings ("4.200000");
times are ISO 8601 in UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

REGISTRY: dict[str, type[BaseModel]] = {}
KEY = "x-onhand-answer"
EXAMPLE_KEY = "x-onhand-example"
UPSTREAM_KEY = "x-onhand-upstream"
Decimal = str  # a decimal number as a string, exact
Kind = Literal["physical", "digital", "licensed", "pod", "bundle"]


# Request bodies the API accepts, for body models that carry no example of their own (by the
# body model's name); tests/integration/test_openapi.py posts each one.
BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    "SettingsPatch": {
        "timezone": "Europe/London",
        "reservation_ttl_seconds": 900,
        "allocation": "priority",
    },
    "ConsumptionIn": {
        "source": "web-shop",
        "events": [
            {"id": "order-1001", "sku": "BOOK-1", "qty": 1, "location": "WH1", "ship": True}
        ],
    },
    "Preferences": {
        "zone_priorities": {"north": 1, "south": 2},
        "distances": {"north": {"south": 2}},
        "substitutes": {"BOOK-1": ["BOOK-2"]},
        "inter_zone": {"allowed": True, "max_distance": 3},
    },
    "WaveIn": {"group_by": "zone", "max_lines": 40},
    "ConfirmIn": {"picker": "ann", "scan": "BOOK-1", "qty": 1},
    "BracketsIn": {
        "currency": "EUR",
        "brackets": [{"up_to": 400, "rate": "0.10"}, {"up_to": None, "rate": "0.12"}],
        "max_error_rate": "0.01",
    },
    "WebhookIn": {
        "url": "https://hooks.example.com/onhand",
        "types": ["stock.changed", "stock.low"],
    },
    "ChannelIn": {
        "code": "occ",
        "provider": "shopify",
        "role": "store",
        "shop": "occ.myshopify.com",
        "access_token": "shpat_0123456789abcdef",
        "webhook_secret": "whsec_0123456789",
        "locations": [{"location": "WH1", "channel_location": "gid://shopify/Location/1"}],
        "sync_interval_minutes": 60,
        "alert_emails": ["ops@example.com"],
    },
    "ChannelPatch": {"sync_interval_minutes": 30, "enabled": False},
    "MappingsIn": {
        "mappings": [{"sku": "BOOK-1", "variant": "gid://shopify/ProductVariant/101", "buffer": 2}]
    },
}


def answer(
    model: type[BaseModel] | Literal["csv"], example: str | None = None, upstream: bool = False
) -> dict[str, Any]:
    """`openapi_extra` for a route whose success answer is `model` (or CSV text); `example`
    names a request body of BODY_EXAMPLES, for a body model with no example of its own;
    `upstream`: the route calls a store, whose refusal or silence is a 502."""
    # Only names here: FastAPI drops every null from what `openapi_extra` carries, and an
    # example may need one; apidocs.build puts the example itself in place.
    extra: dict[str, Any] = {}
    if example is not None:
        assert example in BODY_EXAMPLES, example
        extra[EXAMPLE_KEY] = example
    if upstream:
        extra[UPSTREAM_KEY] = True
    if model == "csv":
        return {**extra, KEY: "csv"}
    assert isinstance(model, type)
    known = REGISTRY.setdefault(model.__name__, model)
    assert known is model, f"two answer models are called {model.__name__}"
    return {**extra, KEY: model.__name__}


class Doc(BaseModel):
    """An answer document. Schemas do not forbid other properties (a later version may add
    some), but the test validates answers as if they did."""


# ---- catalogue ----------------------------------------------------------------------------


class Location(Doc):
    id: int
    code: str
    name: str
    parent: str | None = Field(description="The parent location's code; null: a warehouse")
    zone: str | None
    priority: int = Field(description="Lower is allocated first")
    created_at: dt.datetime


class Locations(Doc):
    locations: list[Location]


class Component(Doc):
    sku: str
    qty: int = Field(description="Units of the component in one kit")


class Item(Doc):
    id: int
    sku: str
    name: str
    kind: Kind
    unit: str = Field(description="The base unit every quantity is counted in")
    units: dict[str, int] = Field(description="Larger input units, in base units each")
    barcode: str | None
    attributes: dict[str, Any]
    allow_backorder: bool
    low_stock_threshold: int | None
    reorder_point: int | None
    capacity_per_day: int | None = Field(description="Print on demand: units a day")
    unit_cost: Decimal | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    components: list[Component] | None = Field(default=None, description="Bundles only")
    tracking: Literal["none", "lot", "serial"] = Field(
        description="lot: stock is also kept per lot, each with its expiry date"
    )
    min_shelf_life_days: int | None = Field(description="Lot items: days left needed to sell")
    expiry_warning_days: int | None = Field(description="Lot items: lot.expiring this early")


class Items(Doc):
    items: list[Item]
    next_cursor: int | None = Field(description="`after` for the next page; null: the last")


class TenantSettings(Doc):
    timezone: str
    reservation_ttl_seconds: int | None
    allocation: str
    max_reservation_ttl_seconds: int
    max_reservation_extensions: int


# ---- stock --------------------------------------------------------------------------------


class States(Doc):
    on_hand: int
    reserved: int
    committed: int
    damaged: int
    quality_control: int
    safety_stock: int
    incoming: int
    in_transit: int


class LocationFigures(States):
    location: str
    zone: str | None
    priority: int
    available: int


class BalanceRow(LocationFigures):
    sku: str


class LocationBalances(Doc):
    location: str
    balances: list[BalanceRow]
    next_cursor: int | None


class KitPart(Doc):
    sku: str
    qty: int
    available: int | None


class LotStates(Doc):
    on_hand: int
    available: int = Field(description="0 while the lot may not be sold")
    reserved: int
    committed: int
    damaged: int
    quality_control: int


class LotAtLocation(LotStates):
    location: str | None


class LotFigures(LotStates):
    lot: str
    expires_on: dt.date | None = Field(description="Use by: the last day it is sold")
    best_before: dt.date | None
    manufactured_on: dt.date | None
    supplier: str | None
    sellable: bool = Field(description="false: expired, too close to expiry, or recalled")
    locations: list[LotAtLocation]


class Availability(Doc):
    """A physical, licensed or digital item; a bundle has fewer states and its components;
    a print-on-demand item its capacity left today."""

    sku: str
    kind: Kind
    available: int | None = Field(description="null: unlimited (digital)")
    on_hand: int
    reserved: int
    committed: int
    damaged: int | None = None
    quality_control: int | None = None
    safety_stock: int | None = None
    incoming: int | None = None
    in_transit: int | None = None
    locations: list[LocationFigures]
    components: list[KitPart] | None = Field(default=None, description="Bundles only")
    capacity_per_day: int | None = Field(default=None, description="Print on demand only")
    day: dt.date | None = Field(default=None, description="Print on demand: today, locally")
    lots: list[LotFigures] | None = Field(
        default=None, description="Lot items: each lot with stock, first to expire first"
    )


class LedgerEntry(Doc):
    id: int
    sku: str
    location: str | None = Field(description="null: a print-on-demand day")
    state: str
    delta: int
    reason: str
    reference: str | None
    movement_id: str | None
    reservation_id: str | None
    actor: str | None
    unit_cost: Decimal | None
    created_at: dt.datetime
    day: dt.date | None = Field(default=None, description="Print on demand: the booked day")
    lot: str | None = Field(default=None, description="Lot items: the lot's code")


class Ledger(Doc):
    entries: list[LedgerEntry]
    next_before: int | None = Field(description="`before` for the next (older) page")


class Movement(Doc):
    id: str
    type: str
    sku: str
    location: str
    to: str | None
    qty: int
    counted: int | None
    serials: list[str] | None = Field(
        default=None, description="Serial-tracked items: the units this movement moved"
    )
    reference: str | None
    note: str | None
    actor: str | None
    created_at: dt.datetime
    entries: list[LedgerEntry]


# ---- reservations -------------------------------------------------------------------------


class Allocation(Doc):
    sku: str
    location: str | None
    qty: int
    day: dt.date | None = Field(default=None, description="Print on demand: the booked day")
    backordered: int | None = Field(
        default=None, description="Units held beyond the stock there: a backorder line"
    )
    lot: str | None = Field(default=None, description="Lot items: the lot held")


class HoldLine(Doc):
    sku: str
    qty: int
    location: str | None
    allocations: list[Allocation]


class HeldBackorder(Doc):
    id: str
    sku: str
    location: str | None
    qty: int
    eta: dt.date | None
    eta_basis: str | None


class Reservation(Doc):
    id: str
    status: Literal["active", "committed", "released", "expired"]
    expires_at: dt.datetime
    created_at: dt.datetime
    reference: str | None
    lines: list[HoldLine]
    shipped_at: dt.datetime | None = Field(default=None, description="Once shipped")
    backorders: list[HeldBackorder] | None = Field(
        default=None,
        description="The create's answer, for a hold beyond stock: its backorder lines",
    )


class Reservations(Doc):
    reservations: list[Reservation]


# ---- lots ---------------------------------------------------------------------------------


class LotReceipt(Doc):
    location: str | None
    qty: int
    reference: str | None
    movement_id: str | None
    at: dt.datetime


class LotOrigin(Doc):
    supplier: str | None
    reference: str | None = Field(description="The purchase order or delivery reference")
    movement_id: str | None = Field(description="The receipt that created the lot")
    received_at: dt.datetime
    receipts: list[LotReceipt]


class LotHere(Doc):
    location: str | None
    on_hand: int
    reserved: int
    committed: int
    damaged: int
    quality_control: int
    in_transit: int


class LotTotals(Doc):
    on_hand: int
    reserved: int
    committed: int
    damaged: int
    quality_control: int
    in_transit: int


class LotTaker(Doc):
    reservation_id: str
    reference: str | None = Field(description="The hold's reference (cart or order)")
    held: int
    committed: int
    shipped: int
    given_back: int = Field(description="Released, lapsed or moved to another lot by a recall")
    locations: list[str]
    first_at: dt.datetime
    last_at: dt.datetime


class LotShipment(Doc):
    location: str | None
    qty: int
    reference: str | None
    movement_id: str | None
    at: dt.datetime


class LotOther(Doc):
    reason: str
    state: str
    delta: int


class LotTrace(Doc):
    sku: str
    lot: str
    expires_on: dt.date | None
    best_before: dt.date | None
    manufactured_on: dt.date | None
    supplier: str | None
    recalled_at: dt.datetime | None
    expired_at: dt.datetime | None = Field(description="When the expiry job moved it aside")
    origin: LotOrigin
    now: list[LotHere] = Field(description="Where every unit of the lot is, per location")
    totals: LotTotals
    reservations: list[LotTaker]
    shipments: list[LotShipment] = Field(description="Shipped without a hold")
    other: list[LotOther] = Field(description="Other changes, summed per reason and state")


class HoldMoved(Doc):
    reservation_id: str
    location: str
    lot: str
    qty: int


class LotQualityHeld(Doc):
    location: str
    qty: int


class RecallDone(Doc):
    at: dt.datetime
    reason: str | None
    quality_control: list[LotQualityHeld]
    holds_moved: list[HoldMoved]
    holds_released: list[str]


class LotRecall(LotTrace):
    recall: RecallDone


class ExpiringLot(Doc):
    sku: str
    lot: str
    expires_on: dt.date
    days_left: int = Field(description="Negative: expired that many days ago")
    on_hand: int
    recalled: bool


class ExpiringLots(Doc):
    lots: list[ExpiringLot]


# ---- planning -----------------------------------------------------------------------------


class Supplier(Doc):
    code: str
    name: str
    email: str | None
    currency: str
    lead_time_days: float
    lead_time_std_days: float
    moq: int
    pack_size: int
    default_price: Decimal | None
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class Suppliers(Doc):
    suppliers: list[Supplier]


class SupplierPerformance(Doc):
    supplier: str
    promised_lead_time_days: float
    promised_lead_time_std_days: float
    receipts: int
    lead_time_days_mean: float | None
    lead_time_days_std: float | None
    on_time_rate: float | None
    fill_rate: float | None
    units_ordered: int
    units_delivered: int
    used_for_planning: bool
    min_receipts: int


class SupplierLink(Doc):
    supplier: str
    supplier_name: str
    supplier_sku: str | None
    price: Decimal | None
    currency: str
    pack_size: int | None
    moq: int | None
    effective_pack_size: int
    effective_moq: int
    effective_price: Decimal | None
    preferred: bool
    lead_time_days: float


class SupplierLinks(Doc):
    sku: str
    suppliers: list[SupplierLink]


class PlanSettings(Doc):
    service_level: float
    ordering_cost: Decimal
    holding_rate: float
    history_days: int
    horizon_days: int
    review_days: int
    default_lead_time_days: float


class PlanRun(Doc):
    run_id: str
    status: Literal["idle", "running", "done", "failed"]
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    series: int | None = None
    forecasted: int | None = None
    suggestions: int | None = None
    urgent: int | None = None
    suppliers: int | None = None
    unassigned: int | None = None
    history_start: dt.date | None = None
    settings: PlanSettings | None = None
    progress: dict[str, Any] | None = Field(default=None, description="While running")


class LastPlan(Doc):
    run: PlanRun | None = Field(description="null: no plan ran yet")


class SupplierGroup(Doc):
    supplier: str | None = Field(description="null: lines without a supplier")
    supplier_name: str | None
    currency: str | None
    lines: int
    units: int
    urgent_lines: int
    value: Decimal | None
    ordered_lines: int


class Suggestion(Doc):
    line_no: int
    sku: str
    name: str
    location: str
    supplier: str | None
    currency: str | None
    qty: int = Field(description="Units to order (0: nothing due)")
    unit_price: Decimal | None
    line_total: Decimal | None
    risk: str
    urgent: bool
    purchase_order: str | None = Field(description="The draft order it went into")
    forecast_daily: float | None
    sigma_daily: float | None
    model: str
    lead_time_days: float | None
    lead_time_std_days: float | None
    lead_time_source: str
    lead_time_demand: float | None
    safety_stock: float | None
    reorder_point: float | None
    order_up_to: float | None
    eoq: float | None
    lot_size: float | None
    inventory_position: int
    available: int
    on_order: int
    days_of_cover: float | None
    moq: int
    pack_size: int
    supplier_sku: str | None
    history_days: int
    stockout_days: int
    demand_in_history: int


class SuggestionPage(Doc):
    run: PlanRun
    suppliers: list[SupplierGroup]
    suggestions: list[Suggestion]
    next_after: int | None


class DemandDay(Doc):
    date: dt.date
    demand: int = Field(description="Units sold that day")
    stockout: bool = Field(description="The shelf was empty at the day's end (unknown demand)")


class ForecastDay(Doc):
    date: dt.date
    mean: float
    lo: float = Field(description="Lower bound of the central `level` prediction interval")
    hi: float = Field(description="Upper bound")


class ItemForecast(Doc):
    sku: str
    location: str | None = Field(description="null: all the item's locations as one series")
    model: str = Field(description="The model(s) averaged; none: it never sold")
    level: float
    sigma: float = Field(description="One-step residual standard deviation")
    history_start: dt.date
    actual: list[DemandDay]
    forecast: list[ForecastDay]


class OrderLine(Doc):
    line_no: int
    sku: str
    name: str
    unit: str
    supplier_sku: str | None
    qty: int
    received: int
    outstanding: int
    unit_price: Decimal | None
    line_total: Decimal | None


class ReceiptLine(Doc):
    sku: str
    qty: int


class Receipt(Doc):
    receipt_no: int
    received_at: dt.datetime
    actor: str | None
    lines: list[ReceiptLine]


class PurchaseOrder(Doc):
    id: int
    number: str
    status: Literal["draft", "approved", "sent", "partially_received", "received", "cancelled"]
    supplier: str
    supplier_name: str
    currency: str
    location: str
    reference: str | None
    note: str | None
    expected_on: dt.date | None
    plan_run_id: str | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    approved_at: dt.datetime | None
    sent_at: dt.datetime | None
    closed_at: dt.datetime | None
    units: int
    received: int
    total: Decimal | None
    lines: list[OrderLine]
    receipts: list[Receipt] | None = Field(default=None, description="Not in listings")


class PurchaseOrders(Doc):
    purchase_orders: list[PurchaseOrder]
    next_after: int | None


class UnassignedLine(Doc):
    sku: str
    location: str
    qty: int


class PlannedOrders(Doc):
    purchase_orders: list[PurchaseOrder]
    unassigned: list[UnassignedLine] = Field(description="Due lines without a supplier")


class ValuationLine(Doc):
    sku: str
    location: str | None
    qty: int
    unit_cost: Decimal | None
    value: Decimal
    purchase_value: Decimal = Field(description="The part of `value` paid to the supplier")
    landed_value: Decimal = Field(description="The part from freight, duty, insurance, …")
    uncosted_qty: int = Field(description="Units with no known cost (valued at 0)")


class ValuationTotals(Doc):
    qty: int
    value: Decimal
    purchase_value: Decimal
    landed_value: Decimal
    lines: int


class Valuation(Doc):
    method: Literal["fifo", "average"]
    as_of: dt.date
    location: str | None
    items: list[ValuationLine]
    totals: ValuationTotals


class AbcLine(Doc):
    model_config = ConfigDict(populate_by_name=True)
    sku: str
    value: Decimal
    share: float
    cumulative_share: float
    class_: Literal["A", "B", "C"] = Field(alias="class")


class AbcThresholds(Doc):
    a: float
    b: float


class Abc(Doc):
    model_config = ConfigDict(populate_by_name=True)
    method: Literal["fifo", "average"]
    as_of: dt.date
    thresholds: AbcThresholds
    total_value: Decimal
    classes: dict[str, int]
    items: list[AbcLine]


# ---- fulfilment ---------------------------------------------------------------------------


class InterZoneRule(Doc):
    allowed: bool
    max_distance: int | None


class DispatchPreferences(Doc):
    zone_priorities: dict[str, int]
    distances: dict[str, dict[str, int]]
    substitutes: dict[str, list[str]]
    inter_zone: InterZoneRule
    same_zone_eta_hours: int
    eta_hours_per_distance: int


class NewBackorder(Doc):
    id: str
    sku: str
    location: str | None
    qty: int
    eta: dt.date | None
    eta_basis: str | None


class ConsumptionResult(Doc):
    id: str
    result: str = Field(description="applied, refused, backordered or duplicate")
    reason: str | None = Field(default=None, description="Why it was refused")
    backorders: list[NewBackorder] | None = Field(default=None, description="When backordered")
    first_result: str | None = Field(default=None, description="A duplicate: the first answer")


class Consumption(Doc):
    source: str
    counts: dict[str, int]
    results: list[ConsumptionResult]


class DispatchLocation(Doc):
    location: str
    zone: str | None
    available: int
    distance: float | None
    inter_zone: bool
    eta: dt.datetime | None


class Substitute(Doc):
    sku: str
    available: int | None


class Dispatch(Doc):
    sku: str
    zone: str | None
    qty: int
    zone_available: int
    enough_in_zone: bool
    enough: bool
    locations: list[DispatchLocation]
    substitutes: list[Substitute]


class AvailabilityList(Doc):
    availability: list[Availability]


class AvailabilityAnswer(RootModel[Dispatch | AvailabilityList]):
    """With `sku=`: where to dispatch it from; with `skus=`: each SKU's availability."""


class Backorder(Doc):
    id: str
    sku: str
    ordered_sku: str
    location: str | None
    qty: int
    status: str
    eta: dt.date | None
    eta_basis: str | None
    origin: str
    created_at: dt.datetime
    allocated_at: dt.datetime | None
    substitutes: list[Substitute]


class Backorders(Doc):
    backorders: list[Backorder]


class AllocatedLine(Doc):
    id: str
    sku: str
    location: str
    qty: int


class EtaChange(Doc):
    id: str
    sku: str
    eta: dt.date | None
    previous_eta: dt.date | None


class BackorderAllocation(Doc):
    allocated: list[AllocatedLine]
    eta_changed: list[EtaChange]


class PickTask(Doc):
    id: str
    sku: str
    barcode: str | None
    location: str
    zone: str | None
    qty: int
    picked: int | None
    short: int | None
    status: str
    picker: str | None
    source: str
    source_id: str | None
    wave: str | None
    due_by: dt.datetime | None
    picked_at: dt.datetime | None


class PickTasks(Doc):
    tasks: list[PickTask]


class WaveProgress(Doc):
    lines: int
    picked: int


class WavePicker(Doc):
    picker: str
    lines: int
    short: int


class Wave(Doc):
    id: str
    zone: str | None
    group_by: str
    status: str
    cutoff: dt.datetime | None
    created_at: dt.datetime
    shipped_at: dt.datetime | None
    progress: WaveProgress
    pickers: list[WavePicker]
    lines: list[PickTask]


class Waves(Doc):
    waves: list[Wave]


class Putaway(Doc):
    sku: str
    location: str | None
    zone: str | None
    reason: str
    on_hand_there: int
    bin_load: int


class PayoutBracket(Doc):
    up_to: int | None
    rate: Decimal


class PayoutBrackets(Doc):
    configured: bool | None = Field(default=None, description="In reads: false until set")
    currency: str | None
    brackets: list[PayoutBracket]
    max_error_rate: Decimal | None


class PayoutDay(Doc):
    day: dt.date
    lines: int
    errors: int
    accuracy: Decimal | None
    accurate: bool
    bracket: int | None
    rate: Decimal | None
    amount: Decimal


class PickerPayout(Doc):
    picker: str
    lines: int
    errors: int
    amount: Decimal
    days: list[PayoutDay]


class Payouts(Doc):
    model_config = ConfigDict(populate_by_name=True)
    period: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    currency: str | None
    brackets: list[PayoutBracket]
    max_error_rate: Decimal | None
    pickers: list[PickerPayout]
    total: Decimal


# ---- events -------------------------------------------------------------------------------


class Webhook(Doc):
    id: str
    url: str
    types: list[str]
    active: bool
    created_at: dt.datetime
    secret: str | None = Field(default=None, description="Only in the answer that creates it")


class Webhooks(Doc):
    webhooks: list[Webhook]


class Delivery(Doc):
    id: int
    event_id: int
    event_type: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    delivered_at: dt.datetime | None


class Deliveries(Doc):
    deliveries: list[Delivery]
    next_before: int | None


# ---- channels -----------------------------------------------------------------------------


class MappedLocation(Doc):
    location: str
    channel_location: str


class Channel(Doc):
    code: str
    provider: str
    role: Literal["store", "partner"]
    shop: str
    api_url: str
    access_token: str = Field(description="Its last four characters at most: '…abcd'")
    webhook_secret: str | None = Field(description="'…' when one is set")
    locations: list[MappedLocation]
    sync_interval_minutes: int | None
    enabled: bool
    alert_emails: list[str]
    min_shelf_life_days: int | None = Field(
        default=None, description="Lot items: days of shelf life kept on this store"
    )
    status: str
    last_sync: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime


class Channels(Doc):
    channels: list[Channel]


class Mapping(Doc):
    sku: str
    variant: str
    inventory_item: str | None
    by: str | None
    tracked: bool | None
    buffer: int | None
    share: int | None


class Mappings(Doc):
    mappings: list[Mapping]


class Matched(Doc):
    sku: str
    variant: str
    inventory_item: str | None
    by: str


class MatchResult(Doc):
    matched: list[Matched]
    unmatched_items: list[str]
    unmatched_variants: list[dict[str, Any]]


class SyncRun(Doc):
    id: str
    channel: str
    trigger: str
    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    items_ok: int
    items_unchanged: int
    items_failed: int
    items_skipped: int
    calls: int
    error: str | None


class SyncRuns(Doc):
    runs: list[SyncRun]


class SyncItem(Doc):
    sku: str
    channel_item: str | None
    channel_location: str | None
    before: int | None
    after: int | None
    status: str
    error: str | None
    offer: dict[str, Any] | None = Field(
        description="How the quantity offered to the store was made (available, buffer, share)"
    )


class SyncRunDetail(SyncRun):
    items: list[SyncItem]


class WebhookReceipt(Doc):
    status: Literal["recorded", "duplicate"]
    webhook_id: str


# ---- the console's reports ----------------------------------------------------------------


class Hold(Doc):
    id: str
    reference: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    seconds_left: int
    lines: list[HoldLine]
    units: int


class Holds(Doc):
    holds: list[Hold]


class ReturnFigures(Doc):
    units: int
    value: Decimal


class ReturnWindow(ReturnFigures):
    by_reason: dict[str, ReturnFigures] = Field(description="resaleable, damaged, quality_control")


class ReturnsTile(Doc):
    model_config = ConfigDict(populate_by_name=True)
    window_days: int
    from_: dt.datetime = Field(alias="from")
    split: dt.datetime
    to: dt.datetime
    current: ReturnWindow
    previous: ReturnWindow
    computed_at: dt.datetime


class CoverCell(Doc):
    available: int
    daily_demand: float
    days: float | None
    level: str


class CoverRow(Doc):
    sku: str
    name: str
    lead_time_days: float
    cells: dict[str, CoverCell] = Field(description="By location code")


class CoverTile(Doc):
    demand_days: int
    locations: list[str]
    items: list[CoverRow]
    computed_at: dt.datetime


class HistoryRow(Doc):
    id: int
    created_at: dt.datetime
    sku: str
    unit: str
    location: str | None
    state: str
    delta: int
    balance: int = Field(description="The running balance of the row's item, location, state")
    reason: str
    reference: str | None
    movement_id: str | None
    reservation_id: str | None
    actor: str | None
    unit_cost: Decimal | None


class History(Doc):
    entries: list[HistoryRow]
    next_before: int | None


class StockSeries(Doc):
    sku: str
    dates: list[dt.date]
    on_hand: dict[str, list[int]] = Field(description="By location code, one a day")
    sold: list[int]


class ValuePoint(Doc):
    as_of: dt.date
    value: Decimal


class ValuationSeries(Doc):
    method: Literal["fifo", "average"]
    points: list[ValuePoint]


class CurrentAlert(Doc):
    sku: str
    name: str
    available: int | None
    level: Literal["out", "low", "below_reorder_point"]
    below_reorder_point: bool
    low_stock_threshold: int | None
    reorder_point: int | None
    since: dt.datetime | None


class AlertEvent(Doc):
    id: int
    type: str
    sku: str | None
    available: int | None
    at: dt.datetime


class Alerts(Doc):
    current: list[CurrentAlert]
    events: list[AlertEvent]


class Health(Doc):
    status: str
    version: str
    database: str
