"""Every event type onhand emits, one dataclass each: its name, version and fields.

An event's outbox row is built by `row()`; its payload holds the fields in declaration
order, and an optional field (default None) is left out while it is None. docs/events.md
lists this catalogue (tests/unit/test_event_catalogue.py keeps the two equal).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from . import outbox

_LAYOUTS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _layout(event: type) -> tuple[tuple[str, bool], ...]:
    """(name, left out while None) of each field: read once per type, not once per event (a
    hold batch builds one event per hold)."""
    if event not in _LAYOUTS:
        _LAYOUTS[event] = tuple(
            (f.name, f.default is None and f.name not in ("sku", "location"))
            for f in dataclasses.fields(event)
        )
    return _LAYOUTS[event]


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str]
    version: ClassVar[int] = 1
    when: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        out = {}
        for name, optional in _layout(type(self)):
            value = getattr(self, name)
            if value is None and optional:
                continue
            out[name] = value
        return out

    def row(self, tenant: str, now: datetime) -> dict[str, Any]:
        """The outbox row of this event (see events/outbox.py)."""
        return outbox.event_row(tenant, self.type, now, **self.payload())


@dataclass(frozen=True, kw_only=True)
class StockChanged(Event):
    type = "stock.changed"
    when = "a movement, hold, commit, release, expiry, shipment or receipt changed a location"
    sku: str
    location: str
    available: int | None  # the SKU's total after the change
    location_available: int
    on_hand: int
    reason: str
    movement_id: str | None = None
    purchase_order: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Reservation(Event):
    sku: None = None
    location: None = None
    reservation_id: str
    lines: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ReservationCreated(_Reservation):
    type = "reservation.created"
    when = "a hold was granted"
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class ReservationCommitted(_Reservation):
    type = "reservation.committed"
    when = "a hold became a sale (reserved → committed)"


@dataclass(frozen=True, kw_only=True)
class ReservationReleased(_Reservation):
    type = "reservation.released"
    when = "a hold was given back before it lapsed"


@dataclass(frozen=True, kw_only=True)
class ReservationExpired(_Reservation):
    type = "reservation.expired"
    when = "a hold lapsed (swept, or released after its time)"


@dataclass(frozen=True, kw_only=True)
class ReservationShipped(_Reservation):
    type = "reservation.shipped"
    when = "a committed sale left the warehouse (committed and on_hand fell)"


@dataclass(frozen=True, kw_only=True)
class ReservationExtended(Event):
    type = "reservation.extended"
    when = "a hold's expiry was pushed forward"
    sku: None = None
    location: None = None
    reservation_id: str
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class _Alert(Event):
    sku: str
    location: None = None
    available: int | None
    cause_event_id: int  # the stock.changed that caused it
    low_stock_threshold: int | None
    reorder_point: int | None


@dataclass(frozen=True, kw_only=True)
class StockOut(_Alert):
    type = "stock.out"
    when = "the SKU's total available reached 0"


@dataclass(frozen=True, kw_only=True)
class StockLow(_Alert):
    type = "stock.low"
    when = "it fell to or below low_stock_threshold and/or reorder_point"
    crossed: list[str]  # which of the two it crossed


@dataclass(frozen=True, kw_only=True)
class StockBackIn(_Alert):
    type = "stock.back_in"
    when = "it was out and is available again"
    low: bool  # still at or below low_stock_threshold
    below_reorder_point: bool


@dataclass(frozen=True, kw_only=True)
class _Backorder(Event):
    sku: str
    location: str | None
    backorder: str  # the backorder line's id


@dataclass(frozen=True, kw_only=True)
class BackorderCreated(_Backorder):
    type = "backorder.created"
    when = "a hold or a sale (consumption) beyond stock became a backorder line"
    qty: int
    eta: str | None  # the promised date, from a purchase order or the supplier's lead time
    origin: str


@dataclass(frozen=True, kw_only=True)
class BackorderAllocated(_Backorder):
    type = "backorder.allocated"
    when = (
        "arriving stock was given to the line (oldest first); a sale's line became a pick task, "
        "a hold's line lets its reservation be picked once committed"
    )
    qty: int
    origin: str


@dataclass(frozen=True, kw_only=True)
class BackorderEtaChanged(_Backorder):
    type = "backorder.eta_changed"
    when = "the line's promised date moved"
    location: None = None
    eta: str | None
    previous_eta: str | None
    eta_basis: str | None


@dataclass(frozen=True, kw_only=True)
class BackorderCancelled(_Backorder):
    type = "backorder.cancelled"
    when = "the hold behind the line was released or expired before stock arrived"
    qty: int
    origin: str


@dataclass(frozen=True, kw_only=True)
class _Wave(Event):
    sku: None = None
    location: None = None
    wave: str
    lines: int


@dataclass(frozen=True, kw_only=True)
class WaveCreated(_Wave):
    type = "wave.created"
    when = "open pick tasks were grouped into a wave"


@dataclass(frozen=True, kw_only=True)
class WaveShipped(_Wave):
    type = "wave.shipped"
    when = "a wave's picked lines were packed and shipped"


@dataclass(frozen=True, kw_only=True)
class PickConfirmed(Event):
    type = "pick.confirmed"
    when = "a picker confirmed a pick line (in full or short)"
    sku: str
    location: str
    task: str
    wave: str | None
    picker: str
    qty: int
    outcome: str  # ok | short


@dataclass(frozen=True, kw_only=True)
class LocationUpdated(Event):
    type = "location.updated"
    when = "a location was renamed, re-zoned, re-prioritised or moved (its figures did not change)"
    sku: None = None
    location: str
    changed: list[str]  # the fields the change named: name, zone, priority, parent
    name: str
    zone: str | None
    priority: int
    parent: str | None


@dataclass(frozen=True, kw_only=True)
class ChannelSyncFailed(Event):
    type = "channel.sync_failed"
    when = "a channel's sync run failed (the store's owners are also e-mailed once per error)"
    sku: None = None
    location: None = None
    channel: str
    shop: str
    run: str
    error: str | None


@dataclass(frozen=True, kw_only=True)
class _Rma(Event):
    sku: None = None
    location: None = None
    rma: str
    status: str
    order_reference: str | None
    lines: list[dict[str, Any]]  # [{"line", "sku", "qty", "received", "disposition"}]


@dataclass(frozen=True, kw_only=True)
class RmaRequested(_Rma):
    type = "rma.requested"
    when = "a return (RMA) was requested"


@dataclass(frozen=True, kw_only=True)
class RmaApproved(_Rma):
    type = "rma.approved"
    when = "a return was approved: its goods may be sent back"


@dataclass(frozen=True, kw_only=True)
class RmaRefused(_Rma):
    type = "rma.refused"
    when = "a return was refused before its goods arrived"


@dataclass(frozen=True, kw_only=True)
class RmaReceived(_Rma):
    type = "rma.received"
    when = "a return's goods arrived and were booked into quality control"


@dataclass(frozen=True, kw_only=True)
class RmaInspected(_Rma):
    type = "rma.inspected"
    when = "lines of a return were inspected (restocked, damaged, scrapped or sent to the vendor)"


@dataclass(frozen=True, kw_only=True)
class _Lot(Event):
    sku: str
    location: None = None
    lot: str


@dataclass(frozen=True, kw_only=True)
class LotExpiring(_Lot):
    type = "lot.expiring"
    when = "a lot with stock comes within the item's expiry_warning_days (3) of its expiry date"
    expires_on: str
    days_left: int
    on_hand: int


@dataclass(frozen=True, kw_only=True)
class LotExpired(_Lot):
    type = "lot.expired"
    when = "the expiry job moved a lot past its expiry date into quality_control (reason expired)"
    expires_on: str
    quality_control: int  # units moved
    locations: list[dict[str, Any]]  # [{"location", "qty"}]
    holds_moved: list[dict[str, Any]]  # open holds moved to a fresher lot
    holds_released: list[str]  # open holds released (no fresher lot had room)


@dataclass(frozen=True, kw_only=True)
class RecallInitiated(_Lot):
    type = "inventory.recall.initiated"
    when = "a lot was recalled: off sale everywhere, its free units quality-held, holds moved"
    reason: str | None = None
    quality_control: int  # units moved into quality_control
    holds_moved: list[dict[str, Any]]  # [{"reservation_id", "location", "lot", "qty"}]
    holds_released: list[str]  # reservation ids


CATALOGUE: tuple[type[Event], ...] = (
    StockChanged,
    ReservationCreated,
    ReservationCommitted,
    ReservationReleased,
    ReservationExpired,
    ReservationShipped,
    ReservationExtended,
    StockOut,
    StockLow,
    StockBackIn,
    BackorderCreated,
    BackorderAllocated,
    BackorderEtaChanged,
    BackorderCancelled,
    WaveCreated,
    WaveShipped,
    PickConfirmed,
    LocationUpdated,
    ChannelSyncFailed,
    RmaRequested,
    RmaApproved,
    RmaRefused,
    RmaReceived,
    RmaInspected,
    LotExpiring,
    LotExpired,
    RecallInitiated,
)
BY_TYPE = {e.type: e for e in CATALOGUE}
RMA_STEP: dict[str, type[_Rma]] = {
    "requested": RmaRequested,
    "approved": RmaApproved,
    "refused": RmaRefused,
    "received": RmaReceived,
    "inspected": RmaInspected,
}
RESERVATION_STATUS = {
    "committed": ReservationCommitted,
    "released": ReservationReleased,
    "expired": ReservationExpired,
}


def fields(event: type[Event]) -> list[tuple[str, str]]:
    """(name, type) of each payload field, as the documentation shows them."""
    return [
        (f.name, str(f.type).replace(" | None", " or null").replace(" | ", " or "))
        for f in dataclasses.fields(event)
        if not (f.name in ("sku", "location") and f.type == "None")
    ]


def markdown() -> str:
    """The catalogue as the table in docs/events.md."""
    lines = ["| type | version | when | fields |", "|---|---|---|---|"]
    for e in CATALOGUE:
        shown = ", ".join(f"`{n}` ({t})" for n, t in fields(e))
        lines.append(f"| `{e.type}` | {e.version} | {e.when} | {shown} |")
    return "\n".join(lines) + "\n"
