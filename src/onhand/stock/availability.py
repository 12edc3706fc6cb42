"""How much can be sold, as the availability documents of API.md.

The formula is stock/model.available; holds that have lapsed count as free even before the
sweeper ran (their lines are subtracted from `reserved`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy, tenants
from ..tables import balances, locations, pod_bookings, reservation_lines
from . import model
from .model import HELD, Item
from .sql import available_expr, lapsed_reserved

__all__ = ["FIGURES", "HELD", "availability", "available_expr", "lapsed_reserved"]

# The stored states every figures document shows, before `available`.
FIGURES = model.STATES


def _lapsed(conn: Connection, tenant: str, item_ids: list[int], now: datetime) -> dict:
    rl = reservation_lines
    rows = conn.execute(
        sa.select(rl.c.item_id, rl.c.location_id, rl.c.day, sa.func.sum(rl.c.qty))
        .where(
            tenancy.of(tenant, rl),
            rl.c.item_id.in_(item_ids),
            rl.c.active,
            rl.c.expires_at <= now,
        )
        .group_by(rl.c.item_id, rl.c.location_id, rl.c.day)
    )
    return {(r[0], r[1], r[2]): int(r[3]) for r in rows}


def location_figures(
    conn: Connection, tenant: str, item_ids: list[int], now: datetime
) -> dict[int, list[dict[str, Any]]]:
    """Per item, one dict per location with every state and `available`."""
    if not item_ids:
        return {}
    lapsed = _lapsed(conn, tenant, item_ids, now)
    rows = conn.execute(
        sa.select(balances, locations.c.code, locations.c.zone, locations.c.priority)
        .join(locations, tenancy.on(tenant, locations, locations.c.id == balances.c.location_id))
        .where(tenancy.of(tenant, balances), balances.c.item_id.in_(item_ids))
        .order_by(balances.c.item_id, locations.c.priority, locations.c.code)
    )
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in item_ids}
    for r in rows:
        fig = {s: int(getattr(r, s)) for s in FIGURES}
        fig["reserved"] -= lapsed.get((r.item_id, r.location_id, None), 0)
        fig["available"] = model.available(fig.__getitem__)
        out[r.item_id].append(
            {
                "location": r.code,
                "location_id": r.location_id,
                "zone": r.zone,
                "priority": r.priority,
                **fig,
            }
        )
    return out


LOT_FIGURES = ("on_hand", "available", "reserved", "committed", "damaged", "quality_control")


def _lots(
    conn: Connection, tenant: str, item: Item, rows: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """A lot item's breakdown per lot (FEFO order), and its locations' `available` less the
    units of lots that may not be sold today (expired, too close to expiry, recalled), which
    count as available nowhere, whether or not the expiry job has moved them yet."""
    from . import lots  # lots imports the model only; kept local as the kernel's lots are

    sell_by = model.sell_by(tenants.load(conn, tenant).day(now), item.min_shelf_life_days)
    lot_rows = lots.rows(conn, tenant, {item.id}, now)
    blocked = lots.unsellable(lot_rows, sell_by)
    for r in rows:
        if held_back := blocked.get((item.id, r["location_id"]), 0):
            r["available"] = max(r["available"] - held_back, 0)
    codes = {r["location_id"]: r["location"] for r in rows}
    out: dict[int, dict[str, Any]] = {}
    for lr in sorted(lot_rows, key=lambda x: lots.fefo_key(x.lot)):
        if all(v == 0 for v in lr.states.values()):
            continue
        sellable = lr.lot.sellable(sell_by)
        figures = {s: lr.states[s] for s in LOT_FIGURES if s != "available"}
        figures["available"] = max(lr.available, 0) if sellable else 0
        doc = out.setdefault(
            lr.lot.id,
            {
                "lot": lr.lot.code,
                **{k: v for k, v in lr.lot.doc().items() if k != "code"},
                "sellable": sellable,
                **{s: 0 for s in LOT_FIGURES},
                "locations": [],
            },
        )
        for s in LOT_FIGURES:
            doc[s] += figures[s]
        doc["locations"].append({"location": codes.get(lr.location_id), **figures})
    return list(out.values())


def _totals(sku: str, kind: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    total = {s: sum(r[s] for r in rows) for s in (*FIGURES, "available")}
    public_rows = [{k: v for k, v in r.items() if k != "location_id"} for r in rows]
    return {"sku": sku, "kind": kind, **total, "locations": public_rows}


def pod_figures(conn: Connection, tenant: str, item: Item, day: date, now: datetime) -> dict:
    booked = conn.execute(
        sa.select(pod_bookings.c.reserved, pod_bookings.c.committed).where(
            tenancy.of(tenant, pod_bookings),
            pod_bookings.c.item_id == item.id,
            pod_bookings.c.day == day,
        )
    ).first()
    reserved = int(booked.reserved) if booked else 0
    committed = int(booked.committed) if booked else 0
    reserved -= _lapsed(conn, tenant, [item.id], now).get((item.id, None, day), 0)
    capacity = item.capacity_per_day or 0
    figures = {"reserved": reserved, "committed": committed}
    return {
        "day": day.isoformat(),
        "capacity": capacity,
        **figures,
        "available": model.pod_available(capacity, figures.__getitem__),
    }


def availability(
    conn: Connection, tenant: str, item: Item, now: datetime, pod_day: date | None = None
) -> dict[str, Any]:
    """The availability document of API.md for one item of any kind."""
    if item.kind == "bundle":
        return bundle_availability(conn, tenant, item, now, pod_day)
    rows = location_figures(conn, tenant, [item.id], now)[item.id]
    breakdown = _lots(conn, tenant, item, rows, now) if item.lots else None
    doc = _totals(item.sku, item.kind, rows)
    if breakdown is not None:
        doc["lots"] = breakdown
    if item.kind == "digital":
        doc["available"] = None
    elif item.kind == "pod":
        pod = pod_figures(conn, tenant, item, pod_day or now.date(), now)
        doc.update(
            available=pod["available"],
            reserved=pod["reserved"],
            committed=pod["committed"],
            capacity=pod,
        )
    return doc


def _kits(free: int | None, per_kit: int) -> int | None:
    return None if free is None else max(free, 0) // per_kit


def bundle_availability(
    conn: Connection, tenant: str, bundle: Item, now: datetime, pod_day: date | None
) -> dict[str, Any]:
    """A kit is available as often as its scarcest component allows."""
    parts = [
        (availability(conn, tenant, part, now, pod_day), qty) for part, qty in bundle.components
    ]
    kits = [_kits(doc["available"], qty) for doc, qty in parts]
    finite = [k for k in kits if k is not None]
    per_location: dict[str, list[int]] = {}
    for doc, qty in parts:
        if doc["kind"] in ("physical", "licensed"):
            for row in doc["locations"]:
                per_location.setdefault(row["location"], []).append(max(row["available"], 0) // qty)
    stocked_parts = sum(1 for doc, _ in parts if doc["kind"] in ("physical", "licensed"))
    locs = [
        {"location": code, "available": min(v), "on_hand": min(v), "reserved": 0, "committed": 0}
        for code, v in per_location.items()
        if len(v) == stocked_parts
    ]
    return {
        "sku": bundle.sku,
        "kind": "bundle",
        "available": min(finite) if finite else None,
        "on_hand": min(finite) if finite else None,
        "reserved": 0,
        "committed": 0,
        "locations": locs,
        "components": [
            {"sku": doc["sku"], "qty": qty, "available": doc["available"]} for doc, qty in parts
        ],
    }
