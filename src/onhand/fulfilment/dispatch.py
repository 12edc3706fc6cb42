"""Dispatch: where to ship from. Nearest stock first, by the tenant's dispatch preferences.

Order of candidate locations for a request in zone Z: locations in Z first; then other zones
by their distance from Z in the tenant's distance table, then by zone priority; inside a
zone, by location priority and code. When Z alone has the quantity asked for, only Z's
locations are proposed: an inter-zone shipment is never suggested then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..catalog import service as catalog
from ..errors import Invalid
from ..stock.availability import location_figures
from .tables import dispatch_preferences

Code = str


class InterZone(BaseModel):
    allowed: bool = True
    # Farthest zone distance a shipment may cross; None means any distance.
    max_distance: int | None = Field(default=None, ge=0, le=10_000)


class Preferences(BaseModel):
    """The tenant's dispatch preferences document (GET/PUT /policies/dispatch-preferences)."""

    zone_priorities: dict[Code, int] = Field(
        default_factory=dict, description="Lower first, among zones at the same distance"
    )
    # distances["north"]["south"] = 2: symmetric unless both directions are given.
    distances: dict[Code, dict[Code, int]] = Field(default_factory=dict)
    substitutes: dict[Code, list[Code]] = Field(
        default_factory=dict, description="Per SKU, the SKUs that may be offered instead"
    )
    inter_zone: InterZone = Field(default_factory=InterZone)
    same_zone_eta_hours: int = Field(default=4, ge=0, le=24 * 365)
    eta_hours_per_distance: int = Field(default=24, ge=0, le=24 * 365)

    @field_validator("zone_priorities", "distances", "substitutes")
    @classmethod
    def _bounded(cls, value: dict) -> dict:
        if len(value) > 1000:
            raise ValueError("at most 1000 entries")
        return value

    def distance(self, a: str | None, b: str | None) -> int | None:
        if a == b:
            return 0
        if a is None or b is None:
            return None
        there = self.distances.get(a, {}).get(b)
        return there if there is not None else self.distances.get(b, {}).get(a)


def load(conn: Connection, tenant: str) -> Preferences:
    doc = conn.execute(
        sa.select(dispatch_preferences.c.preferences).where(
            tenancy.of(tenant, dispatch_preferences)
        )
    ).scalar()
    return Preferences.model_validate(doc or {})


def save(conn: Connection, tenant: str, prefs: Preferences) -> Preferences:
    for sku, subs in prefs.substitutes.items():
        if sku in subs:
            raise Invalid(f"{sku} cannot be its own substitute.")
    for a, row in prefs.distances.items():
        for b, d in row.items():
            if d < 0:
                raise Invalid(f"The distance from {a} to {b} must be zero or more.")
    now = db.utcnow()
    doc = prefs.model_dump(mode="json")
    stmt = db.insert(conn, dispatch_preferences).values(
        tenant_id=tenant, preferences=doc, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"preferences": doc, "updated_at": now}
        )
    )
    return load(conn, tenant)


def zone_rank(conn: Connection, tenant: str) -> Callable[[str, str | None], tuple[int, int]]:
    """For the nearest_zone reservation strategy: how near zone b is to zone a, as a sort key
    (distance from the tenant's table, then zone priority; unknown last)."""
    prefs = load(conn, tenant)
    big = 10**9

    def key(a: str, b: str | None) -> tuple[int, int]:
        d = prefs.distance(a, b)
        return (big if d is None else d, prefs.zone_priorities.get(b or "", big))

    return key


def zone_reach(conn: Connection, tenant: str) -> Callable[[str, str | None], bool]:
    """For the nearest_zone reservation strategy: whether a hold asked for in zone a may take
    stock in zone b under the inter-zone rules (never, or up to `max_distance`). Without a
    limit a zone missing from the distance table may be used (after every known one)."""
    rules = load(conn, tenant)

    def reach(a: str, b: str | None) -> bool:
        if a == b:
            return True
        if not rules.inter_zone.allowed:
            return False
        limit = rules.inter_zone.max_distance
        return limit is None or _within(rules.distance(a, b), limit)

    return reach


def rank(
    rows: list[dict[str, Any]], zone: str | None, prefs: Preferences
) -> list[tuple[dict[str, Any], int | None]]:
    """Rows with their distance from `zone`, nearest first (see the module docstring)."""
    big = 10**9

    def key(row: dict[str, Any]) -> tuple:
        d = prefs.distance(zone, row["zone"]) if zone else None
        return (
            row["zone"] != zone,
            big if d is None else d,
            prefs.zone_priorities.get(row["zone"] or "", big),
            row["priority"],
            row["location"],
        )

    ordered = sorted(rows, key=key)
    return [(r, prefs.distance(zone, r["zone"]) if zone else None) for r in ordered]


def nearest(
    conn: Connection,
    tenant: str,
    sku: str,
    zone: str | None,
    branch: str | None,
    qty: int,
    now: datetime,
) -> dict[str, Any]:
    """The dispatch availability answer for one SKU."""
    item = catalog.item(conn, tenant, sku)
    if not item.stocked:
        raise Invalid(f"{sku} is a {item.kind} item; dispatch availability needs stocked items.")
    if branch:
        home = catalog.location(conn, tenant, branch)
        zone = zone or home.zone
    prefs = load(conn, tenant)
    rows = [r for r in location_figures(conn, tenant, [item.id], now)[item.id] if r["available"]]
    rows = [r for r in rows if r["available"] > 0]
    ranked = rank(rows, zone, prefs)
    in_zone = [(r, d) for r, d in ranked if zone is None or r["zone"] == zone]
    zone_total = sum(r["available"] for r, _ in in_zone)
    if zone is not None and zone_total < qty and prefs.inter_zone.allowed:
        limit = prefs.inter_zone.max_distance
        chosen = [(r, d) for r, d in ranked if r["zone"] == zone or _within(d, limit)]
    else:
        chosen = in_zone
    if branch:  # the branch itself goes first when it holds the item
        chosen.sort(key=lambda rd: rd[0]["location"] != branch)
    places = []
    for r, d in chosen:
        hours = prefs.same_zone_eta_hours + (d or 0) * prefs.eta_hours_per_distance
        places.append(
            {
                "location": r["location"],
                "zone": r["zone"],
                "available": r["available"],
                "distance": d,
                "inter_zone": zone is not None and r["zone"] != zone,
                "eta": db.iso(now + timedelta(hours=hours)),
            }
        )
    total = sum(p["available"] for p in places)
    answer = {
        "sku": item.sku,
        "zone": zone,
        "qty": qty,
        "zone_available": zone_total,
        "enough_in_zone": zone is None or zone_total >= qty,
        "enough": total >= qty,
        "locations": places,
        "substitutes": [],
    }
    if total < qty:
        answer["substitutes"] = substitutes_available(conn, tenant, {item.sku}, prefs, now).get(
            item.sku, []
        )
    return answer


def _within(distance: int | None, limit: int | None) -> bool:
    return distance is not None and (limit is None or distance <= limit)


def substitutes_available(
    conn: Connection, tenant: str, skus: set[str], prefs: Preferences, now: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Per SKU, its configured substitutes with what is available of each."""
    wanted = {s: prefs.substitutes.get(s, []) for s in skus if prefs.substitutes.get(s)}
    all_subs = {s for subs in wanted.values() for s in subs}
    found = catalog.items_by_sku(conn, tenant, all_subs)
    figures = location_figures(conn, tenant, sorted(i.id for i in found.values()), now)
    avail = {sku: sum(r["available"] for r in figures[it.id]) for sku, it in found.items()}
    return {
        sku: [{"sku": s, "available": max(avail[s], 0)} for s in subs if s in avail]
        for sku, subs in wanted.items()
    }
