"""Helpers of the planning tests: a stocked tenant, movements at chosen times, invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from onhand import check, db
from onhand.stock import ledger, movements
from onhand.stock.schemas import MovementIn


def clean(engine: sa.Engine, tenant: str) -> list[str]:
    """`onhand check` findings that concern this tenant (must be empty)."""
    with db.read(engine) as conn:
        return [f.what for f in check.run(conn) if f"tenant {tenant} " in f.what]


def created(response: Any, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def shop(api: Any, skus: tuple[str, ...] = ("A",), codes: tuple[str, ...] = ("WH1",)) -> None:
    for code in codes:
        created(api.post("/locations", json={"code": code, "name": code}))
    for sku in skus:
        created(api.post("/items", json={"sku": sku, "name": f"Item {sku}"}))


def midday(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def days_ago(n: int, hour: int = 12) -> datetime:
    return midday(datetime.now(UTC).date() - timedelta(days=n), hour)


def move(engine: sa.Engine, tenant: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A stock movement recorded as if it happened at `at` (through the real service)."""
    with db.write(engine) as conn:
        return movements.post(conn, tenant, MovementIn(**fields), "test", at)


def sell_committed(
    engine: sa.Engine, tenant: str, sku: str, location: str, qty: int, at: datetime
) -> str:
    """A checkout at `at` through the reservation code: a hold, then its commit. Returns the
    reservation id."""
    from onhand.reservations import granting, lifecycle
    from onhand.reservations.schemas import LineIn, ReservationIn

    body = ReservationIn(lines=[LineIn(sku=sku, qty=qty, location=location)])
    with db.write(engine) as conn:
        [doc] = granting.create_batch(conn, tenant, [granting.Job(body, "test")], at)
        assert isinstance(doc, dict), repr(doc)
        assert lifecycle.commit(conn, tenant, doc["id"], "test", at)["status"] == "committed"
    return doc["id"]


def ship_committed(engine: sa.Engine, tenant: str, reservation_id: str, at: datetime) -> None:
    """The warehouse ships a committed sale at `at` (through the reservation code)."""
    from onhand.reservations import lifecycle

    with db.write(engine) as conn:
        assert lifecycle.ship(conn, tenant, reservation_id, "test", at)["shipped_at"] == db.iso(at)


def moves(engine: sa.Engine, tenant: str, steps: list[tuple[datetime, dict[str, Any]]]) -> None:
    """Receipts and shipments at chosen times, straight into the ledger in one transaction
    (the fast path for long histories; `move` goes through the movement service)."""
    from onhand.catalog import service as catalog

    signs = {"receipt": 1, "ship": -1}
    with db.write(engine) as conn:
        found = catalog.items_by_sku(conn, tenant, {f["sku"] for _, f in steps})
        places = catalog.locations_by_code(conn, tenant)
        for at, f in steps:
            posting = ledger.Posting(reason=f["type"], unit_cost=f.get("unit_cost"))
            ledger.change(
                conn,
                tenant,
                found[f["sku"]],
                places[f["location"]],
                {"on_hand": signs[f["type"]] * f["qty"]},
                posting,
                at,
            )


def daily_sales(
    sku: str,
    location: str,
    received: int,
    per_day: int,
    days: int,
) -> list[tuple[datetime, dict[str, Any]]]:
    """A receipt `days` days ago, then `per_day` shipped every day up to yesterday."""
    steps = [
        (days_ago(days, 8), {"type": "receipt", "sku": sku, "location": location, "qty": received})
    ]
    steps += [
        (days_ago(n), {"type": "ship", "sku": sku, "location": location, "qty": per_day})
        for n in range(days, 0, -1)
    ]
    return steps
