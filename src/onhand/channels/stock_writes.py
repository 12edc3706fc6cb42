"""How channels change stock: only through the stock service (ledger.change), each change
announced on the outbox like any other, so live pushes and alerts follow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from ..catalog.service import Item, Location
from ..problems import InsufficientStock
from ..stock import ledger
from ..stock.availability import HELD, location_figures
from ..stock.movements import publish_changes

SYNC_REASON = "channel_sync"
SALE_REASON = "channel_sale"
CANCEL_REASON = "channel_cancel"


def set_on_hand(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    partner_qty: int,
    reference: str,
    now: datetime,
) -> tuple[int, int]:
    """Make the location's on_hand the partner's figure: (before, after).

    Units already held here (reserved, committed, …) stay covered: on_hand never falls below
    them, so the partner's figure becomes this location's `available`, never less than zero.
    """
    figures = {r["location_id"]: r for r in location_figures(conn, tenant, [item.id], now)[item.id]}
    row = figures.get(loc.id)
    before = int(row["on_hand"]) if row else 0
    held = sum(int(row[s]) for s in HELD) if row else 0
    target = max(partner_qty, 0) + held
    if target != before:
        ledger.change(
            conn,
            tenant,
            item,
            loc,
            {"on_hand": target - before},
            ledger.Posting(reason=SYNC_REASON, actor="channel", reference=reference),
            now,
            check_available=False,
        )
        publish_changes(conn, tenant, item, [loc.code], now, reason=SYNC_REASON)
    return before, target


def take_sale(
    conn: Connection,
    tenant: str,
    item: Item,
    places: list[Location],
    qty: int,
    reference: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Record units sold on a store: from the available stock of `places` in their order, then
    (the store sold them already) from what is on hand. Returns [{"location", "qty"}]."""
    figures = {r["location_id"]: r for r in location_figures(conn, tenant, [item.id], now)[item.id]}
    taken: list[dict[str, Any]] = []
    left = qty
    posting = ledger.Posting(reason=SALE_REASON, actor="channel", reference=reference)
    for pass_ in ("available", "on_hand"):
        for loc in places:
            if left <= 0:
                break
            row = figures.get(loc.id)
            if row is None:
                continue
            have = int(row[pass_]) - sum(t["qty"] for t in taken if t["location_id"] == loc.id)
            q = min(left, have)
            if q <= 0:
                continue
            try:
                ledger.change(
                    conn,
                    tenant,
                    item,
                    loc,
                    {"on_hand": -q},
                    posting,
                    now,
                    check_available=pass_ == "available",
                )
            except InsufficientStock:  # changed since the figures were read: try elsewhere
                continue
            taken.append({"location": loc.code, "location_id": loc.id, "qty": q})
            left -= q
    if taken:
        publish_changes(conn, tenant, item, [t["location"] for t in taken], now, reason=SALE_REASON)
    return taken


def put_back(
    conn: Connection,
    tenant: str,
    item: Item,
    taken: list[tuple[Location, int]],
    reference: str,
    now: datetime,
) -> None:
    """A cancelled store order: its units return where they were taken from."""
    posting = ledger.Posting(reason=CANCEL_REASON, actor="channel", reference=reference)
    for loc, q in taken:
        if q > 0:
            ledger.change(conn, tenant, item, loc, {"on_hand": q}, posting, now)
    if taken:
        publish_changes(
            conn, tenant, item, [loc.code for loc, _ in taken], now, reason=CANCEL_REASON
        )
