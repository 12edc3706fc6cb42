"""The sample tenant `demo`: a small science-fiction publisher and shop with a year of history.

`data.py` holds what the tenant is made of, `simulation.py` the year of trade; this module
writes both in one transaction.

Everything is written through the real services — `catalog.service` for the catalogue and
`stock.movements.post` for every receipt, sale, count and transfer — with `now` set in the
past, so the history obeys exactly the rules live traffic does and `onhand check` holds.
Suppliers and their item links go through `planning.suppliers`, so `plan` has lead times,
pack sizes and prices to work with. The year is simulated day by day with a seeded
`random.Random`: the same calendar day always gives the same data. Sales only ship what a
local model of the shelves says is there, so the service never has to refuse one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from .. import auth, db, tenants
from ..catalog import service as catalog
from ..errors import Conflict
from ..planning import suppliers
from ..tables import tenants as tenants_table
from .data import DAYS, LOCATIONS, SEED, SUPPLIERS, TENANT, catalogue, supplier_links
from .simulation import FILM, Loader, simulate

__all__ = ["SUPPLIERS", "TENANT", "exists", "load", "supplier_links"]


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
            simulate(loader, range(DAYS), FILM, [], lambda: bar.advance(history))
    except (Conflict, IntegrityError):
        if exists(engine):
            return False
        raise
    return True
