"""Serial numbers: every unit of a serial-tracked item, where it is and what became of it.

A serial is one row (tenant, item, serial), so it is never in two places. Each movement of
a serial item names its units; the rows change with a conditional UPDATE in the movement's
own transaction (`status` and location must be what the movement expects), so two movements
racing for one unit cannot both take it: the second finds the row changed and is refused.
Quantities still go through the kernel as for any item; `onhand check` proves that the units
in stock at a location are as many as its on_hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..errors import Conflict, Invalid
from ..tables import locations, serial_numbers
from .model import Item, Location
from .schemas import MovementIn

# What each movement type does to the units it names: (status before, status after, where).
# `None` as where: the unit leaves (shipped, written off); "dest": the transfer's destination.
MOVES: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "ship": (("in_stock",), "shipped", None),
    "write_off": (("in_stock",), "written_off", None),
    "return": (("shipped",), "in_stock", "here"),
    "transfer": (("in_stock",), "in_stock", "dest"),
    "transfer_receive": (("in_transit",), "in_stock", "here"),
}
# Movements within on_hand (damage, quality hold and release) may name their units; a level
# set by number cannot say which units it means.
NO_SERIALS = ("adjustment", "count", "safety_stock")


def quantity(item: Item, body: MovementIn, qty: int | None) -> int | None:
    """The movement's quantity, checked against its serial numbers."""
    if item.tracking != "serial":
        if body.serials:
            raise Invalid(f"{item.sku} does not track serial numbers; leave serials out.")
        return qty
    if body.type in NO_SERIALS:
        raise Invalid(
            f"{item.sku} is tracked by serial number: book each unit in with a receipt or "
            "return and out with a ship or write_off naming its serials, not a "
            f"{body.type.replace('_', ' ')}."
        )
    needed = body.type == "receipt" or body.type in MOVES
    if needed and not body.serials:
        raise Invalid(f"{item.sku} is tracked by serial number: name the units in 'serials'.")
    if body.serials and qty is not None and qty != len(body.serials):
        raise Invalid(f"qty is {qty} but {len(body.serials)} serial numbers are named.")
    return len(body.serials) if body.serials else qty


def record(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    body: MovementIn,
    movement_id: str,
    now: datetime,
    dest: Location | None = None,
) -> None:
    """Move the named units, in the movement's transaction (before its stock changes)."""
    if item.tracking != "serial" or not body.serials:
        return
    serials = list(body.serials)
    if body.type == "receipt":
        _receive(conn, tenant, item, loc, serials, movement_id, now)
        return
    move = MOVES.get(body.type)
    if move is None:  # damage, quality hold or release: the units must be here, nothing moves
        _at(conn, tenant, item, serials, ("in_stock",), loc)
        return
    before, after, where = move
    if body.type == "transfer" and body.in_transit:
        after = "in_transit"
    target = {"here": loc, "dest": dest, None: None}[where]
    s = serial_numbers
    done = conn.execute(
        s.update()
        .where(
            tenancy.of(tenant, s),
            s.c.item_id == item.id,
            s.c.serial.in_(serials),
            s.c.status.in_(before),
            # A return comes back from outside; everything else must be at this location.
            *([] if body.type == "return" else [s.c.location_id == loc.id]),
        )
        .values(
            status=after,
            location_id=target.id if target else None,
            last_movement_id=movement_id,
            updated_at=now,
        )
    )
    if done.rowcount != len(serials):
        _at(conn, tenant, item, serials, before, None if body.type == "return" else loc)
        raise Conflict(f"{item.sku}: a serial changed meanwhile; try again.", slug="serial-moved")


def _receive(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    serials: list[str],
    movement_id: str,
    now: datetime,
) -> None:
    s = serial_numbers
    taken = (
        conn.execute(
            db.insert(conn, s)
            .values(
                [
                    {
                        "tenant_id": tenant,
                        "item_id": item.id,
                        "serial": serial,
                        "status": "in_stock",
                        "location_id": loc.id,
                        "received_movement_id": movement_id,
                        "last_movement_id": movement_id,
                        "updated_at": now,
                    }
                    for serial in serials
                ]
            )
            .on_conflict_do_nothing()
            .returning(s.c.serial)
        )
        .scalars()
        .all()
    )
    if len(taken) != len(serials):
        known = sorted(set(serials) - set(taken))
        raise Conflict(
            f"{item.sku}: serial {known[0]} is known already"
            + (f" (and {len(known) - 1} more)" if len(known) > 1 else "")
            + "; a unit that came back is booked with a return.",
            slug="serial-exists",
            serials=known[:20],
        )


def _at(
    conn: Connection,
    tenant: str,
    item: Item,
    serials: list[str],
    wanted: tuple[str, ...],
    loc: Location | None,
) -> None:
    """Refuse, naming the first unit that is not where (or as) the movement needs it."""
    s = serial_numbers
    rows = {
        r.serial: r
        for r in conn.execute(
            sa.select(s.c.serial, s.c.status, locations.c.code)
            .select_from(s)
            .outerjoin(locations, tenancy.on(tenant, locations, locations.c.id == s.c.location_id))
            .where(tenancy.of(tenant, s), s.c.item_id == item.id, s.c.serial.in_(serials))
        )
    }
    for serial in serials:
        r = rows.get(serial)
        if r is None:
            raise Conflict(
                f"{item.sku}: there is no unit with serial {serial}.", slug="unknown-serial"
            )
        if r.status not in wanted or (loc is not None and r.code != loc.code):
            where = f" at {r.code}" if r.code else ""
            raise Conflict(
                f"{item.sku}: serial {serial} is {r.status.replace('_', ' ')}{where}, so this "
                f"movement cannot take it.",
                slug="serial-not-here",
                serial=serial,
            )


def units(conn: Connection, tenant: str, item: Item) -> list[dict[str, Any]]:
    """Every unit of an item: serial, status, location."""
    s = serial_numbers
    return [
        {"serial": r.serial, "status": r.status, "location": r.code}
        for r in conn.execute(
            sa.select(s.c.serial, s.c.status, locations.c.code)
            .select_from(s)
            .outerjoin(locations, tenancy.on(tenant, locations, locations.c.id == s.c.location_id))
            .where(tenancy.of(tenant, s), s.c.item_id == item.id)
            .order_by(s.c.serial)
        )
    ]
