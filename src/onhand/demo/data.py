"""The sample tenant's data: its locations, titles and other items, suppliers and links.

Plain definitions with no database access; `simulation.py` plays a year of trade on them and
`__init__.load` writes both through the real services.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..catalog.schemas import ComponentIn, ItemIn, LocationIn
from ..planning.schemas import ItemSupplierIn, SupplierIn

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
