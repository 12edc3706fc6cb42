"""A year of trade for the sample tenant, simulated day by day with a seeded random source.

Every change goes through `stock.movements.post` with `now` set in the past, so the history
obeys exactly the rules live traffic does. Sales only ship what a local model of the shelves
says is there, so the service never has to refuse one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from ..stock import movements
from ..stock.schemas import MovementIn
from .data import ACTOR, DAYS, TENANT, TITLES, WEEKDAY, Title

# The days a film release sends readers to the Dune books.
FILM = range(200, 221)


# ---- a model of the shelves, so that the loader only ever ships what is there -------------


@dataclass
class Shelf:
    on_hand: int = 0
    damaged: int = 0
    quality_control: int = 0
    safety_stock: int = 0
    in_transit: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.damaged - self.quality_control - self.safety_stock


@dataclass
class Loader:
    conn: Connection
    rng: random.Random
    first_day: date
    shelves: dict[tuple[str, str], Shelf] = field(default_factory=dict)
    orders: int = 0
    posted: int = 0

    def shelf(self, sku: str, loc: str) -> Shelf:
        return self.shelves.setdefault((sku, loc), Shelf())

    def post(self, at: datetime, **fields: Any) -> None:
        movements.post(self.conn, TENANT, MovementIn(**fields), ACTOR, at)
        self.posted += 1

    # each method changes the database and the model in the same way

    def receive(
        self,
        at: datetime,
        sku: str,
        loc: str,
        qty: int | str,
        grams: int | None = None,
        cost: Decimal | None = None,
        reference: str | None = None,
    ) -> None:
        self.orders += 1
        ref = reference or f"PO-{at:%Y}-{self.orders:04d}"
        self.post(at, type="receipt", sku=sku, location=loc, qty=qty, unit_cost=cost, reference=ref)
        self.shelf(sku, loc).on_hand += grams if grams is not None else int(qty)

    def ship(
        self,
        at: datetime,
        sku: str,
        loc: str,
        qty: int,
        text: str | None = None,
        reference: str | None = None,
    ) -> int:
        """Ship up to `qty`; returns what went out (never more than is available)."""
        qty = min(qty, self.shelf(sku, loc).available)
        if qty > 0:
            self.post(
                at,
                type="ship",
                sku=sku,
                location=loc,
                qty=text or qty,
                reference=reference or f"web orders {at:%Y-%m-%d}",
            )
            self.shelf(sku, loc).on_hand -= qty
        return max(qty, 0)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here are small)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def season(day: date) -> float:
    """Book sales peak before Christmas and sag in late summer."""
    doy = day.timetuple().tm_yday
    factor = 1 + 0.2 * math.cos(2 * math.pi * (doy - 350) / 365)
    if day.month == 12 and day.day <= 22:
        factor *= 1.5
    return factor


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def demand(t: Title, d: int, day: date, film: range) -> float:
    rate = t.rate * WEEKDAY[day.weekday()] * season(day) * (1 + t.trend * d / (DAYS - 1))
    if t.sku.startswith("BOOK-DUNE") and d in film:
        rate *= 2.2  # a film release sends readers to the book for a few weeks
    return rate


def _replenish(ld: Loader, t: Title, d: int, day: date, film: range) -> None:
    if d == 0 or d > t.reorder_until or (d + len(t.sku)) % t.cadence:
        return
    cost = (Decimal(t.cost) * Decimal(1 + 0.04 * d / DAYS)).quantize(Decimal("0.01"))
    rate = demand(t, d, day, film) / WEEKDAY[day.weekday()]
    # Leeds is restocked every cycle; Bristol every other one, with twice the cover.
    bristol = (d + len(t.sku)) // t.cadence % 2 == 0
    for loc, share, cycle in (
        (t.north, 1 - t.south_share, t.cadence),
        ("SOUTH-A1", t.south_share if bristol else 0, 2 * t.cadence),
    ):
        if share <= 0:
            continue
        shelf = ld.shelf(t.sku, loc)
        target = math.ceil(rate * share * (cycle + 4) * 1.4) + shelf.safety_stock + 4
        want = target - shelf.on_hand + shelf.damaged
        if want > 0:
            ld.receive(at(day, 8, 30), t.sku, loc, math.ceil(want / 6) * 6, cost=cost)


def _sell(ld: Loader, t: Title, d: int, day: date, film: range) -> None:
    wanted = poisson(ld.rng, demand(t, d, day, film))
    south = sum(1 for _ in range(wanted) if ld.rng.random() < t.south_share)
    north_left = wanted - south - ld.ship(at(day, 18), t.sku, t.north, wanted - south)
    if t.south_share:
        south += north_left
        south_left = south - ld.ship(at(day, 18, 5), t.sku, "SOUTH-A1", south)
        if south_left and north_left == 0:
            ld.ship(at(day, 18, 10), t.sku, t.north, south_left)


def _coffee(ld: Loader, d: int, day: date) -> None:
    sku, loc = "COFFEE-SPICE-ROAST", "SOUTH-B1"
    shelf = ld.shelf(sku, loc)
    if d % 7 == 1 or shelf.available < 4000:
        sacks = max(0, math.ceil((30_000 - shelf.on_hand) / 2500))
        if sacks:
            grams = sacks * 2500
            ld.receive(
                at(day, 9),
                sku,
                loc,
                f"{Decimal(grams) / 1000} kg",
                grams=grams,
                cost=Decimal("0.021") + Decimal(d // 120) / 1000,
            )
    if d == 150:  # a batch tasted off: held for quality control, then released
        ld.post(
            at(day, 11),
            type="quality_hold",
            sku=sku,
            location=loc,
            qty="2.5 kg",
            note="cupping panel flagged a batch",
        )
        shelf.quality_control += 2500
    if d == 153:
        ld.post(at(day, 11), type="quality_release", sku=sku, location=loc, qty="2.5 kg")
        shelf.quality_control -= 2500
    bags = [
        250 if ld.rng.random() < 0.7 else 1000
        for _ in range(poisson(ld.rng, 3.2 * WEEKDAY[day.weekday()]))
    ]
    grams = min(sum(bags), shelf.available // 250 * 250)
    if grams:
        ld.ship(at(day, 17), sku, loc, grams, text=f"{Decimal(grams) / 1000} kg")


def _licences(ld: Loader, d: int, day: date) -> None:
    for sku, mean, block in (("ART-NEBULA-PACK", 0.5, 25), ("ART-DESERT-PLATES", 0.15, 10)):
        if ld.shelf(sku, "LICENCES").available < 3:
            ld.receive(at(day, 8), sku, "LICENCES", block, reference=f"licence block {d // 30 + 1}")
        ld.ship(at(day, 16), sku, "LICENCES", poisson(ld.rng, mean), reference=f"downloads {day}")


def _warehouse_work(ld: Loader, d: int, day: date, write_offs: list) -> None:
    """Damage, write-offs, returns, counts and transfers: the untidy part of a warehouse."""
    rng = ld.rng
    books = TITLES
    # stock counts each quarter at Leeds bay A1, with the variance a real count finds
    if d in (91, 182, 273):
        for t in books:
            if t.north != "NORTH-A1":
                continue
            shelf = ld.shelf(t.sku, "NORTH-A1")
            variance = -2 if (d == 91 and t.sku == "BOOK-DUNE") else rng.choice((0, 0, 0, -1, 1))
            counted = max(shelf.on_hand + variance, shelf.on_hand - shelf.available)
            ld.post(
                at(day, 7),
                type="count",
                sku=t.sku,
                location="NORTH-A1",
                counted=counted,
                reference=f"quarterly count Q{d // 91}",
            )
            shelf.on_hand = counted
    # a rebalancing transfer Leeds → Bristol on the first of each month, two days on the road
    if day.day == 1 or d == DAYS - 2:
        shelf = ld.shelf("BOOK-DUNE", "NORTH-A1")
        qty = 12 if shelf.available >= 40 else 0
        if qty:
            ld.post(
                at(day, 10),
                type="transfer",
                sku="BOOK-DUNE",
                location="NORTH-A1",
                to="SOUTH-A1",
                qty=qty,
                in_transit=True,
                reference=f"rebalance {day:%B}",
            )
            shelf.on_hand -= qty
            ld.shelf("BOOK-DUNE", "SOUTH-A1").in_transit += qty
    # damage in handling, written off a week later
    if rng.random() < 0.05:
        t = rng.choice(books)
        loc = t.north if rng.random() < 0.7 or not t.south_share else "SOUTH-A1"
        shelf = ld.shelf(t.sku, loc)
        if shelf.available >= 3:
            qty = 1 if rng.random() < 0.8 else 2
            ld.post(
                at(day, 14),
                type="damage",
                sku=t.sku,
                location=loc,
                qty=qty,
                note=rng.choice(("crushed corner", "water damage", "torn cover")),
            )
            shelf.damaged += qty
            write_offs.append((t.sku, loc, qty, d + 7))
    # customer returns, now and then one that comes back unsellable
    if rng.random() < 0.06:
        t = rng.choice(books)
        to_state = "damaged" if rng.random() < 0.25 else "available"
        ld.post(
            at(day, 12),
            type="return",
            sku=t.sku,
            location=t.north,
            qty=1,
            to_state=to_state,
            reference=f"RMA-{d:04d}",
        )
        ld.shelf(t.sku, t.north).on_hand += 1
        if to_state == "damaged":
            ld.shelf(t.sku, t.north).damaged += 1
            write_offs.append((t.sku, t.north, 1, d + 7))
    for entry in [w for w in write_offs if w[3] == d]:
        sku, loc, qty, _ = entry
        ld.post(
            at(day, 15),
            type="write_off",
            sku=sku,
            location=loc,
            qty=qty,
            reference="damaged stock disposed",
        )
        ld.shelf(sku, loc).on_hand -= qty
        ld.shelf(sku, loc).damaged -= qty
        write_offs.remove(entry)


def _arrivals(ld: Loader, day: date, d: int) -> None:
    """Transfers sent two days ago arrive at Bristol."""
    shelf = ld.shelf("BOOK-DUNE", "SOUTH-A1")
    sent = ld.first_day + timedelta(days=d - 2)
    if shelf.in_transit and (sent.day == 1):
        ld.post(
            at(day, 9, 30),
            type="transfer_receive",
            sku="BOOK-DUNE",
            location="SOUTH-A1",
            qty=shelf.in_transit,
            reference=f"rebalance {sent:%B}",
        )
        shelf.on_hand += shelf.in_transit
        shelf.in_transit = 0


def _opening(ld: Loader, day: date) -> None:
    for t in TITLES:
        ld.receive(
            at(day, 6),
            t.sku,
            t.north,
            math.ceil(t.rate * 30 / 6) * 6,
            cost=Decimal(t.cost),
            reference="opening stock",
        )
        if t.south_share:
            ld.receive(
                at(day, 6),
                t.sku,
                "SOUTH-A1",
                math.ceil(t.rate * 20 / 6) * 6,
                cost=Decimal(t.cost),
                reference="opening stock",
            )
    ld.receive(
        at(day, 6),
        "COFFEE-SPICE-ROAST",
        "SOUTH-B1",
        "20 kg",
        grams=20_000,
        cost=Decimal("0.021"),
        reference="opening stock",
    )
    ld.post(
        at(day, 7),
        type="safety_stock",
        sku="BOOK-DUNE",
        location="NORTH-A1",
        qty=6,
        note="kept back for the bookshop partners",
    )
    ld.shelf("BOOK-DUNE", "NORTH-A1").safety_stock = 6


def simulate(
    ld: Loader, days: range, film: range, write_offs: list, advance: Callable[[], None]
) -> None:
    for d in days:
        day = ld.first_day + timedelta(days=d)
        if d == 0:
            _opening(ld, day)
        _arrivals(ld, day, d)
        for t in TITLES:
            _replenish(ld, t, d, day, film)
        _warehouse_work(ld, d, day, write_offs)
        for t in TITLES:
            _sell(ld, t, d, day, film)
        _coffee(ld, d, day)
        _licences(ld, d, day)
        if d == DAYS - 1:
            _finish(ld, day)
        advance()


def _finish(ld: Loader, day: date) -> None:
    """The last day leaves one title of each mood for the dashboard and the badge: Kindred sold
    out (a bookshop took the last copies; a reprint is due), Solaris down to its last few, and
    Dune never empty, since the README's first curl asks for it."""
    left = ld.shelf("BOOK-KINDRED", "NORTH-A1").available
    if left:
        ld.ship(at(day, 19), "BOOK-KINDRED", "NORTH-A1", left, reference="bookshop order BS-0417")
    solaris = ld.shelf("BOOK-SOLARIS", "NORTH-A2")
    if solaris.available < 2:
        ld.post(
            at(day, 19),
            type="return",
            sku="BOOK-SOLARIS",
            location="NORTH-A2",
            qty=3,
            reference="sale-or-return copies back from a bookshop",
        )
        solaris.on_hand += 3
    dune = ld.shelf("BOOK-DUNE", "NORTH-A1")
    if dune.available < 30:
        ld.receive(at(day, 19, 30), "BOOK-DUNE", "NORTH-A1", 48, cost=Decimal("6.65"))
