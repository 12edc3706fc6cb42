"""The stock model as plain values: states, the availability formula, the guard, domain values.

Nothing here imports the rest of onhand or touches a database. The formulas are written once,
over a getter (`value(state)`), so the same definition gives a Python integer for figures held
in memory and a SQL expression when the getter returns columns (see stock/sql.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

# Every stored state of a balance row (tenant, item, location).
STATES = (
    "on_hand",
    "reserved",
    "committed",
    "damaged",
    "quality_control",
    "safety_stock",
    "incoming",
    "in_transit",
)
# Parts of on_hand that are not free to sell.
HELD = ("reserved", "committed", "damaged", "quality_control", "safety_stock")
# Units physically set apart from on_hand. A backordered item may promise (hold, commit, keep
# back as safety stock) more than it has, but never set apart units it does not have.
SET_ASIDE = ("damaged", "quality_control")
# The states of a print-on-demand booking (tenant, item, day); its capacity is the item's.
POD_STATES = ("reserved", "committed")

STOCKED_KINDS = ("physical", "licensed")
# The states a lot-tracked item keeps per lot as well (lot_balances); safety stock and incoming
# belong to the item at a location, not to a lot.
LOT_STATES = ("on_hand", "reserved", "committed", "damaged", "quality_control", "in_transit")

Getter = Callable[[str], Any]


def available(value: Getter) -> Any:
    """available = on_hand − reserved − committed − damaged − quality_control − safety_stock.

    `value(state)` gives a state's figure: an int, or a SQL column expression.
    """
    held = value(HELD[0])
    for state in HELD[1:]:
        held = held + value(state)
    return value("on_hand") - held


def physical(value: Getter) -> Any:
    """Units that are really there to ship: on_hand less what is set apart."""
    return value("on_hand") - value("damaged") - value("quality_control")


def pod_available(capacity: Any, value: Getter) -> Any:
    """A print-on-demand day's free capacity."""
    return capacity - value("reserved") - value("committed")


def net(deltas: Mapping[str, int], formula: Callable[[Getter], Any]) -> int:
    """How a change moves a formula (e.g. `net(deltas, available)`)."""
    return int(formula(lambda s: deltas.get(s, 0)))


@dataclass(frozen=True)
class Guard:
    """What a change must leave true, decided from the signs of its deltas alone.

    `floors`: states it lowers (each must stay >= 0); `available`: it lowers availability of an
    item that does not allow backorders; `physical`: it lowers physical stock of one that does.
    """

    floors: tuple[str, ...]
    available: bool
    physical: bool


def guard(deltas: Mapping[str, int], allow_backorder: bool, sells: bool = True) -> Guard:
    """The guard for a change. `sells=False` for changes that move held units along (commit,
    release, expiry, shipping a committed sale): they never take anything from `available`."""
    floors = tuple(s for s in STATES if deltas.get(s, 0) < 0)
    if not sells:
        return Guard(floors, False, False)
    if allow_backorder:
        return Guard(floors, False, net(deltas, physical) < 0)
    return Guard(floors, net(deltas, available) < 0, False)


def conditions(
    g: Guard, after: Getter, free_after: Getter | None = None, *, capacity: Any = None
) -> list[Any]:
    """The guard's conditions over the figures after the change.

    `after(state)` is a stored state after the change; `free_after(state)` the same as
    availability sees it (lapsed holds left out of `reserved`), when that differs. For a
    print-on-demand booking pass its `capacity`.
    """
    free = free_after or after
    out = [after(s) >= 0 for s in g.floors]
    if g.available:
        out.append((available(free) if capacity is None else pod_available(capacity, free)) >= 0)
    if g.physical:
        out.append(physical(after) >= 0)
    return out


def admits(
    g: Guard,
    figures: Mapping[str, int],
    deltas: Mapping[str, int],
    *,
    lapsed: int = 0,
    capacity: int | None = None,
) -> bool:
    """The guard's decision for figures held in memory (the database makes the same one).

    `lapsed`: units of lapsed holds still inside `figures["reserved"]`.
    """

    def after(s: str) -> int:
        return figures.get(s, 0) + deltas.get(s, 0)

    def free_after(s: str) -> int:
        return after(s) - (lapsed if s == "reserved" else 0)

    return all(conditions(g, after, free_after, capacity=capacity))


# ---- domain values --------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    id: int
    sku: str
    kind: str
    unit: str
    units: dict[str, int]
    allow_backorder: bool
    capacity_per_day: int | None
    components: tuple[tuple[Item, int], ...] = ()
    tracking: str = "none"
    min_shelf_life_days: int | None = None

    @property
    def stocked(self) -> bool:
        """Physical items and licence seats are counted per location."""
        return self.kind in STOCKED_KINDS

    @property
    def lots(self) -> bool:
        """Stock is also kept per lot (batch), each with its expiry date."""
        return self.tracking == "lot"


def sell_by(today: date, min_shelf_life_days: int | None) -> date:
    """The earliest expiry date a lot may have to be sold on `today`: a lot expires at the end
    of its `expires_on`, and an item may ask for days of shelf life left on top."""
    return today + timedelta(days=min_shelf_life_days or 0)


@dataclass(frozen=True)
class Location:
    id: int
    code: str
    zone: str | None
    priority: int


@dataclass
class Figures:
    """One balance row as read under lock: stored states, and units of lapsed holds in it."""

    item_id: int
    location_id: int
    code: str
    zone: str | None
    priority: int
    states: dict[str, int]
    lapsed: int = 0

    def value(self, state: str) -> int:
        """A state as availability sees it: lapsed holds are free."""
        return self.states[state] - (self.lapsed if state == "reserved" else 0)

    @property
    def available(self) -> int:
        return int(available(self.value))


@dataclass
class PodFigures:
    """One print-on-demand day as read under lock."""

    item_id: int
    day: date
    capacity: int
    states: dict[str, int]
    lapsed: int = 0

    def value(self, state: str) -> int:
        return self.states[state] - (self.lapsed if state == "reserved" else 0)

    @property
    def available(self) -> int:
        return int(pod_available(self.capacity, self.value))


@dataclass
class Free:
    """What one location can still give while a batch is decided (decremented as it grants)."""

    location_id: int
    code: str | None
    zone: str | None
    priority: int
    available: int


@dataclass(frozen=True)
class Need:
    """What one line of a hold takes from one item (a bundle line needs each component)."""

    line: int
    item: Item
    qty: int
    location: Location | None
    parent_sku: str | None
    lot: int | None = None  # a lot asked for by the line (its id)


@dataclass(frozen=True)
class Posting:
    """Why a change happened; copied onto every ledger row it writes."""

    reason: str
    actor: str | None = None
    reference: str | None = None
    movement_id: str | None = None
    reservation_id: str | None = None
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class Change:
    """Signed deltas for one balance row (item, location) or one pod booking (item, day).

    `sells`: whether it may take from availability (see `guard`); `lapsed`: the units it
    retires belonged to a hold that has lapsed (already counted free); `posting` overrides the
    call's posting for this change's ledger rows (one per hold in a batch). A lot-tracked
    item's change of a LOT_STATE names its `lot`; `sale` refuses a lot past its sell-by day.
    """

    item: Item
    deltas: Mapping[str, int]
    location: Location | None = None
    day: date | None = None
    sells: bool = True
    lapsed: bool = False
    posting: Posting | None = None
    record_zero: bool = False
    # A lot-tracked item's lot (its id): the lot's row moves with the item's.
    lot: int | None = None
    # The units go to a buyer (a hold, a shipment): the lot must still be sellable that day.
    sale: bool = False
    # A serial-tracked item's units are named (stock/serials.py moved them): only such a
    # change may bring them in or take them out.
    serials: bool = False

    @property
    def key(self) -> tuple[int, int | date]:
        if self.location is not None:
            return (self.item.id, self.location.id)
        if self.day is None:
            raise ValueError(f"{self.item.sku}: a change needs a location or a pod day")
        return (self.item.id, self.day)


@dataclass
class Outcome:
    """What an `apply` left: per touched item, every balance row's figures after the change
    (untouched rows as locked), the touched rows in the order first touched, and pod days.
    For an item locked only in part, `rows` has its locked rows and `totals` its `available`
    over all locations after the change."""

    items: dict[int, Item] = field(default_factory=dict)
    rows: dict[int, list[Figures]] = field(default_factory=dict)
    touched: list[tuple[int, int]] = field(default_factory=list)
    pods: dict[tuple[int, date], PodFigures] = field(default_factory=dict)
    totals: dict[int, int] = field(default_factory=dict)
    # Lot items: per (item, location), available units in lots that may not be sold today.
    held_back: dict[tuple[int, int], int] = field(default_factory=dict)
