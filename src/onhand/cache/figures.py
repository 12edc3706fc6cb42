"""The cached availability documents, computed from the database exactly as the route does.

An entry is the route's JSON document plus `valid_until`: the next moment an active hold on the
item lapses. Lapsed holds count as free even before the sweeper runs, so a cached figure goes
stale at that moment without any event; readers treat the entry as a miss from then on.
Print-on-demand items (and bundles of them) depend on the tenant's calendar day and are not
cached at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..catalog import service as catalog
from ..catalog.service import Item
from ..problems import NotFound
from ..stock.availability import FIGURES, HELD, availability
from ..tables import balances, bundle_components, items, locations, reservation_lines

SIMPLE_KINDS = ("physical", "licensed", "digital")
TOTALS = (*FIGURES, "available")


def entry(doc: dict[str, Any], valid_until: datetime | None) -> dict[str, Any]:
    """What one key holds, as a value: equal to `json.loads` of its stored form."""
    return {"doc": doc, "valid_until": valid_until.timestamp() if valid_until else None}


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def encode(doc: dict[str, Any], valid_until: datetime | None) -> str:
    return dumps(entry(doc, valid_until))


def decode(raw: bytes | str, now: datetime) -> dict[str, Any] | None:
    """The document of an entry, or None once a hold in it has lapsed."""
    entry = json.loads(raw)
    until = entry.get("valid_until")
    if until is not None and now.timestamp() >= until:
        return None
    return entry["doc"]


def cacheable(item: Item) -> bool:
    if item.kind == "bundle":
        return all(part.kind in SIMPLE_KINDS for part, _ in item.components)
    return item.kind in SIMPLE_KINDS


def next_lapse(conn: Connection, tenant: str, item_ids: list[int],
               now: datetime) -> dict[int, datetime]:
    """Per item, the earliest expiry of an active hold still in the future."""
    if not item_ids:
        return {}
    rl = reservation_lines
    rows = conn.execute(
        sa.select(rl.c.item_id, sa.func.min(rl.c.expires_at))
        .where(rl.c.tenant_id == tenant, rl.c.item_id.in_(item_ids), rl.c.active,
               rl.c.expires_at > now)
        .group_by(rl.c.item_id))
    return {item_id: when for item_id, when in rows}  # min() keeps the column's UTC type


def next_lapse_between(conn: Connection, tenant: str, lo: int, hi: int,
                       now: datetime) -> dict[int, datetime]:
    rl = reservation_lines
    return dict(conn.execute(
        sa.select(rl.c.item_id, sa.func.min(rl.c.expires_at))
        .where(rl.c.tenant_id == tenant, rl.c.item_id.between(lo, hi), rl.c.active,
               rl.c.expires_at > now)
        .group_by(rl.c.item_id)).all())


def _item_ids(item: Item) -> list[int]:
    return [item.id] + [part.id for part, _ in item.components]


def entry_for(conn: Connection, tenant: str, item: Item, now: datetime) -> str | None:
    """One item's entry through the route's own code path; None when it is not cached."""
    if not cacheable(item):
        return None
    doc = availability(conn, tenant, item, now)
    lapses = next_lapse(conn, tenant, _item_ids(item), now)
    return encode(doc, min(lapses.values()) if lapses else None)


def with_bundles(conn: Connection, tenant: str, skus: Iterable[str]) -> list[str]:
    """The SKUs and every bundle that contains one of them (a component change moves the kit)."""
    skus = list(dict.fromkeys(skus))
    if not skus:
        return []
    part = items.alias("part")
    bundle = items.alias("bundle")
    rows = conn.execute(
        sa.select(bundle.c.sku).select_from(
            bundle_components.join(part, part.c.id == bundle_components.c.component_id)
            .join(bundle, bundle.c.id == bundle_components.c.bundle_id))
        .where(bundle_components.c.tenant_id == tenant, part.c.sku.in_(skus)))
    return list(dict.fromkeys([*skus, *(r.sku for r in rows)]))


def entries_for_skus(conn: Connection, tenant: str, skus: Iterable[str],
                     now: datetime) -> dict[str, str | None]:
    """Entries of the SKUs and the bundles they belong to (None: drop the key)."""
    out: dict[str, str | None] = {}
    for sku in with_bundles(conn, tenant, skus):
        try:
            out[sku] = entry_for(conn, tenant, catalog.item(conn, tenant, sku), now)
        except NotFound:
            out[sku] = None
    return out


# The loop below unpacks balance columns in this order; fail loudly if availability changes it.
assert FIGURES == ("on_hand", "reserved", "committed", "damaged", "quality_control",
                   "safety_stock", "incoming", "in_transit")
assert HELD == ("reserved", "committed", "damaged", "quality_control", "safety_stock")


def _page_docs(conn: Connection, tenant: str, lo: int, hi: int,
               now: datetime) -> dict[int, tuple[list[dict[str, Any]], list[int]]]:
    """Per item id in [lo, hi]: its location rows as `location_figures` shapes them (minus the
    internal location_id) and its totals in TOTALS order. Plain tuples and one pass: at a
    million balances, Row access and repeated sums dominated the run."""
    rl, b, loc = reservation_lines, balances, locations
    lapsed = {(i, l): int(q) for i, l, q in conn.execute(
        sa.select(rl.c.item_id, rl.c.location_id, sa.func.sum(rl.c.qty))
        .where(rl.c.tenant_id == tenant, rl.c.item_id.between(lo, hi), rl.c.active,
               rl.c.expires_at <= now, rl.c.day.is_(None))
        .group_by(rl.c.item_id, rl.c.location_id))}
    rows = conn.execute(
        sa.select(b.c.item_id, b.c.location_id, *(b.c[f] for f in FIGURES),
                  loc.c.code, loc.c.zone, loc.c.priority)
        .join(loc, loc.c.id == b.c.location_id)
        .where(b.c.tenant_id == tenant, b.c.item_id.between(lo, hi))
        .order_by(b.c.item_id, loc.c.priority, loc.c.code)).all()
    out: dict[int, tuple[list[dict[str, Any]], list[int]]] = {}
    for item_id, location_id, oh, rs, cm, dm, qc, ss, inc, tr, code, zone, priority in rows:
        if lapsed:
            rs -= lapsed.get((item_id, location_id), 0)
        av = oh - rs - cm - dm - qc - ss
        entry = out.get(item_id)
        if entry is None:
            entry = out[item_id] = ([], [0] * 9)
        entry[0].append({"location": code, "zone": zone, "priority": priority, "on_hand": oh,
                         "reserved": rs, "committed": cm, "damaged": dm, "quality_control": qc,
                         "safety_stock": ss, "incoming": inc, "in_transit": tr, "available": av})
        t = entry[1]
        t[0] += oh; t[1] += rs; t[2] += cm; t[3] += dm; t[4] += qc  # noqa: E702
        t[5] += ss; t[6] += inc; t[7] += tr; t[8] += av  # noqa: E702
    return out


def bulk_entries(conn: Connection, tenant: str, rows: list[Any],
                 now: datetime) -> dict[str, dict[str, Any]]:
    """Entry values (not yet encoded: most match and never need it) for a page of item rows
    (id, sku, kind, ordered by id), in three queries.

    Physical, licensed and digital items are computed here exactly as `availability()` does
    (tests/integration/test_events_cache.py compares the two); bundles, few and needing their
    components, go through `availability()` itself.
    """
    simple = [r for r in rows if r.kind in SIMPLE_KINDS]
    out: dict[str, dict[str, Any]] = {}
    if simple:
        per_item = _page_docs(conn, tenant, simple[0].id, simple[-1].id, now)
        lapses = next_lapse_between(conn, tenant, simple[0].id, simple[-1].id, now)
        empty: tuple[list[dict[str, Any]], list[int]] = ([], [0] * 9)
        for r in simple:
            locs, totals = per_item.get(r.id, empty)
            doc: dict[str, Any] = {"sku": r.sku, "kind": r.kind, "locations": locs,
                                   **dict(zip(TOTALS, totals, strict=True))}
            if r.kind == "digital":
                doc["available"] = None
            out[r.sku] = entry(doc, lapses.get(r.id))
    for r in rows:
        if r.kind == "bundle":
            encoded = entry_for(conn, tenant, catalog.item(conn, tenant, r.sku), now)
            if encoded is not None:
                out[r.sku] = json.loads(encoded)
    return out
