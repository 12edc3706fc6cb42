"""The sample tenant `demo`: a small science-fiction publisher and shop with a year of history.

Everything is written through the real services — `catalog.service` for the catalogue and
`stock.movements.post` for every receipt, sale, count and transfer — with `now` set in the
past, so the history obeys exactly the rules live traffic does and `onhand check` holds.
Suppliers and their item links go through `planning.suppliers`, so `plan` has lead times,
pack sizes and prices to work with. The year is simulated day by day with a seeded
`random.Random`: the same calendar day always gives the same data. Sales only ship what a
local model of the shelves says is there, so the service never has to refuse one.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from . import auth, db, tenants
from .catalog import service as catalog
from .catalog.schemas import ComponentIn, ItemIn, LocationIn
from .planning import suppliers
from .planning.schemas import ItemSupplierIn, SupplierIn
from .problems import Conflict
from .stock import movements
from .stock.schemas import MovementIn
from .tables import tenants as tenants_table

TENANT = "demo"
SEED = 1965
DAYS = 365
ACTOR = "demo:loader"

LOCATIONS = [
    LocationIn(code="NORTH", name="Leeds warehouse", zone="north", priority=10),
    LocationIn(
        code="NORTH-A1", name="Leeds, aisle A bay 1", parent="NORTH", zone="north", priority=10
    ),
    LocationIn(
        code="NORTH-A2", name="Leeds, aisle A bay 2", parent="NORTH", zone="north", priority=20
    ),
    LocationIn(code="SOUTH", name="Bristol warehouse", zone="south", priority=50),
    LocationIn(
        code="SOUTH-A1", name="Bristol, aisle A bay 1", parent="SOUTH", zone="south", priority=50
    ),
    LocationIn(
        code="SOUTH-B1", name="Bristol, cool store", parent="SOUTH", zone="south", priority=60
    ),
    LocationIn(code="LICENCES", name="Licence seats (virtual)", priority=900),
]


@dataclass(frozen=True)
class Title:
    """A paperback the shop stocks, and how it sells."""

    sku: str
    name: str
    author: str
    pages: int
    first_published: int
    rate: float  # mean copies a day at the start of the year
    trend: float  # relative change of demand over the year (+0.2 = 20 % more)
    cadence: int  # days between purchase orders
    cost: str  # unit cost at the start of the year
    north: str = "NORTH-A1"
    south_share: float = 0.4
    reorder_until: int = DAYS  # the last day a purchase order goes out (a title going out of print)


TITLES = [
    Title("BOOK-DUNE", "Dune", "Frank Herbert", 896, 1965, 5.0, 0.25, 7, "6.40"),
    Title("BOOK-DUNE-MESSIAH", "Dune Messiah", "Frank Herbert", 336, 1969, 1.6, 0.15, 7, "5.10"),
    Title(
        "BOOK-CHILDREN-OF-DUNE",
        "Children of Dune",
        "Frank Herbert",
        608,
        1976,
        1.1,
        0.1,
        14,
        "5.60",
        north="NORTH-A2",
        south_share=0.0,
    ),
    Title("BOOK-NEUROMANCER", "Neuromancer", "William Gibson", 288, 1984, 2.0, -0.1, 7, "4.90"),
    Title(
        "BOOK-LEFT-HAND",
        "The Left Hand of Darkness",
        "Ursula K. Le Guin",
        304,
        1969,
        1.3,
        0.3,
        14,
        "5.20",
        north="NORTH-A2",
        south_share=0.0,
    ),
    Title(
        "BOOK-EARTHSEA",
        "A Wizard of Earthsea",
        "Ursula K. Le Guin",
        208,
        1968,
        1.7,
        0.0,
        7,
        "4.30",
        south_share=0.0,
    ),
    Title(
        "BOOK-FOUNDATION",
        "Foundation",
        "Isaac Asimov",
        256,
        1951,
        2.1,
        -0.15,
        7,
        "4.60",
        north="NORTH-A2",
        south_share=0.0,
    ),
    Title(
        "BOOK-HYPERION", "Hyperion", "Dan Simmons", 496, 1989, 0.9, 0.1, 14, "5.80", south_share=0.0
    ),
    Title(
        "BOOK-SOLARIS",
        "Solaris",
        "Stanisław Lem",
        224,
        1961,
        0.6,
        -0.3,
        14,
        "4.70",
        north="NORTH-A2",
        south_share=0.0,
        reorder_until=DAYS - 75,
    ),
    Title(
        "BOOK-KINDRED",
        "Kindred",
        "Octavia E. Butler",
        288,
        1979,
        1.2,
        0.5,
        14,
        "5.00",
        south_share=0.0,
        reorder_until=DAYS - 40,
    ),
]

# Thresholds on a few titles so the dashboard has something to flag.
THRESHOLDS = {
    "BOOK-DUNE": (40, 60),
    "BOOK-SOLARIS": (5, 8),
    "BOOK-KINDRED": (6, 10),
    "BOOK-HYPERION": (4, 8),
}

WEEKDAY = (0.85, 0.9, 0.95, 1.0, 1.15, 1.35, 1.1)  # Monday … Sunday


def isbn13(body: str) -> str:
    """Complete a 12-digit ISBN body with its check digit."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


def catalogue() -> list[ItemIn]:
    """Every item of the sample, components before the bundle that uses them."""
    out = []
    for n, t in enumerate(TITLES):
        low, reorder = THRESHOLDS.get(t.sku, (None, None))
        out.append(
            ItemIn(
                sku=t.sku,
                name=t.name,
                kind="physical",
                barcode=isbn13(f"97819160{n:04d}"),
                unit_cost=Decimal(t.cost),
                low_stock_threshold=low,
                reorder_point=reorder,
                attributes={
                    "author": t.author,
                    "format": "paperback",
                    "pages": t.pages,
                    "first_published": t.first_published,
                    "language": "en",
                },
            )
        )
    for sku, name, author, size in (
        ("EBOOK-DUNE", "Dune", "Frank Herbert", 2.9),
        ("EBOOK-NEUROMANCER", "Neuromancer", "William Gibson", 1.4),
        ("EBOOK-EARTHSEA", "A Wizard of Earthsea", "Ursula K. Le Guin", 1.1),
    ):
        out.append(
            ItemIn(
                sku=sku,
                name=f"{name} (ebook)",
                kind="digital",
                attributes={"author": author, "format": "epub", "size_mb": size, "drm": False},
            )
        )
    out += [
        ItemIn(
            sku="ART-NEBULA-PACK",
            name="Nebula brushes and textures, studio licence",
            kind="licensed",
            low_stock_threshold=5,
            reorder_point=8,
            unit_cost=Decimal("12.00"),
            attributes={"files": 240, "licence": "studio, 1 seat", "formats": ["abr", "png"]},
        ),
        ItemIn(
            sku="ART-DESERT-PLATES",
            name="Desert matte paintings, commercial licence",
            kind="licensed",
            low_stock_threshold=3,
            unit_cost=Decimal("30.00"),
            attributes={"files": 36, "licence": "commercial, 1 seat", "formats": ["psd", "tiff"]},
        ),
        ItemIn(
            sku="POSTER-ARRAKIS-A2",
            name="Arrakis at dusk, poster A2",
            kind="pod",
            capacity_per_day=40,
            attributes={"size": "A2", "paper": "200 gsm matte"},
        ),
        ItemIn(
            sku="POSTER-FOUNDATION-A3",
            name="Trantor skyline, poster A3",
            kind="pod",
            capacity_per_day=25,
            attributes={"size": "A3", "paper": "200 gsm matte"},
        ),
        ItemIn(
            sku="PACK:DUNE-TRILOGY",
            name="Dune trilogy box set",
            kind="bundle",
            components=[
                ComponentIn(sku=s, qty=1)
                for s in ("BOOK-DUNE", "BOOK-DUNE-MESSIAH", "BOOK-CHILDREN-OF-DUNE")
            ],
            attributes={"box": "slipcase"},
        ),
        ItemIn(
            sku="COFFEE-SPICE-ROAST",
            name="Spice Roast coffee beans",
            kind="physical",
            unit="g",
            units={"kg": 1000},
            barcode="5060123450017",
            unit_cost=Decimal("0.021"),
            low_stock_threshold=5000,
            reorder_point=8000,
            attributes={
                "origin": "Ethiopia, Yirgacheffe",
                "roast": "medium",
                "bags": ["250 g", "1 kg"],
            },
        ),
    ]
    return out


SUPPLIERS = [
    SupplierIn(
        code="HARBOUR",
        name="Harbour Books Wholesale",
        email="orders@harbour-books.example",
        currency="GBP",
        lead_time_days=5,
        lead_time_std_days=1.5,
        moq=12,
        pack_size=6,
    ),
    SupplierIn(
        code="GALAXY",
        name="Galaxy Trade Distribution",
        email="trade@galaxy-dist.example",
        currency="GBP",
        lead_time_days=9,
        lead_time_std_days=3,
        moq=24,
        pack_size=12,
    ),
    SupplierIn(
        code="YIRGA",
        name="Yirga Green Coffee Roasters",
        email="hello@yirga.example",
        currency="GBP",
        lead_time_days=3,
        lead_time_std_days=0.5,
        moq=5000,
        pack_size=2500,
        default_price=Decimal("0.021"),
    ),
    SupplierIn(
        code="PIXELWORKS",
        name="Pixelworks Licensing",
        email="seats@pixelworks.example",
        currency="GBP",
        lead_time_days=0,
        pack_size=5,
    ),
]


def supplier_links() -> list[tuple[str, ItemSupplierIn]]:
    """Every title from Harbour; the slow ones preferably from Galaxy, the Dune books from both."""
    out = []
    for t in TITLES:
        slow = t.cadence == 14 and t.rate < 1.3
        out.append(
            (
                t.sku,
                ItemSupplierIn(
                    supplier="HARBOUR",
                    supplier_sku=f"HB-{t.sku[5:]}",
                    price=Decimal(t.cost),
                    preferred=not slow,
                ),
            )
        )
        if slow or t.sku.startswith("BOOK-DUNE"):
            trade_price = (Decimal(t.cost) * Decimal("0.94")).quantize(Decimal("0.01"))
            out.append(
                (
                    t.sku,
                    ItemSupplierIn(
                        supplier="GALAXY",
                        supplier_sku=f"GTD{isbn13(f'97819160{TITLES.index(t):04d}')}",
                        price=trade_price,
                        preferred=slow,
                    ),
                )
            )
    out += [
        (
            "COFFEE-SPICE-ROAST",
            ItemSupplierIn(supplier="YIRGA", supplier_sku="SPICE-2.5KG", preferred=True),
        ),
        (
            "ART-NEBULA-PACK",
            ItemSupplierIn(
                supplier="PIXELWORKS", price=Decimal("12.00"), pack_size=25, preferred=True
            ),
        ),
        (
            "ART-DESERT-PLATES",
            ItemSupplierIn(
                supplier="PIXELWORKS", price=Decimal("30.00"), pack_size=10, preferred=True
            ),
        ),
    ]
    return out


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


def _simulate(
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


@contextmanager
def _progress(console: Console | None) -> Iterator[Progress]:
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
        transient=False,
    )
    with bar:
        yield bar


def _tenant_exists(conn: Connection) -> bool:
    return (
        conn.execute(sa.select(tenants_table.c.id).where(tenants_table.c.id == TENANT)).first()
        is not None
    )


def exists(engine: Engine) -> bool:
    with db.read(engine) as conn:
        return _tenant_exists(conn)


def load(engine: Engine, progress: Console | None = None) -> bool:
    """Create the tenant `demo` with its catalogue and a year of history; False if it exists.

    All of it is one transaction: an interrupted load leaves nothing behind, and a second
    load finds the tenant and does nothing. Two loads racing on PostgreSQL: the loser's
    catalogue collides with the winner's, it rolls back and reports False as well.
    """
    if exists(engine):
        return False
    items = catalogue()
    links = supplier_links()
    try:
        with _progress(progress) as bar, db.write(engine) as conn:
            if _tenant_exists(conn):
                return False
            auth.ensure_tenant(conn, TENANT, "Sandworm Press (demo)")
            tenants.update(conn, TENANT, tenants.SettingsPatch(timezone="Europe/London"))
            setup = bar.add_task(
                "catalogue and suppliers",
                total=len(LOCATIONS) + len(items) + len(SUPPLIERS) + len(links),
            )
            for loc in LOCATIONS:
                catalog.create_location(conn, TENANT, loc)
                bar.advance(setup)
            for item in items:
                catalog.create_item(conn, TENANT, item)
                bar.advance(setup)
            for vendor in SUPPLIERS:
                suppliers.create(conn, TENANT, vendor)
                bar.advance(setup)
            for sku, link in links:
                suppliers.link(conn, TENANT, sku, link)
                bar.advance(setup)
            first_day = db.utcnow().date() - timedelta(days=DAYS)
            loader = Loader(conn, random.Random(SEED), first_day)
            history = bar.add_task("a year of stock history", total=DAYS)
            _simulate(loader, range(DAYS), range(200, 221), [], lambda: bar.advance(history))
    except (Conflict, IntegrityError):
        if exists(engine):
            return False
        raise
    return True
