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
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy
from ..catalog import service as catalog
from ..errors import NotFound
from ..stock.availability import availability
from ..stock.model import Item
from ..tables import balances, items, locations, reservation_lines

SIMPLE_KINDS = ("physical", "licensed", "digital")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Whole microseconds since the epoch: exact in Python and in SQL, unlike a float."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def _jsonb_order(value: Any) -> Any:
    """PostgreSQL's jsonb prints object keys shortest first, then bytewise. Entries are printed
    the same way here, so one built in Python and one built by the database (see bulk.py)
    compare as equal strings."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return {k: _jsonb_order(value[k]) for k in keys}
    if isinstance(value, list):
        return [_jsonb_order(v) for v in value]
    return value


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(_jsonb_order(value), ensure_ascii=False, separators=(", ", ": "), default=str)


def encode(doc: dict[str, Any], valid_until: datetime | None) -> str:
    return dumps({"doc": doc, "valid_until": micros(valid_until) if valid_until else None})


def decode(raw: bytes | str, now: datetime) -> dict[str, Any] | None:
    """The document of an entry, or None once a hold in it has lapsed."""
    entry = json.loads(raw)
    until = entry.get("valid_until")
    if until is not None and micros(now) >= until:
        return None
    return entry["doc"]


def cacheable(item: Item) -> bool:
    """Lot-tracked items (and bundles of them) are not: expiry makes them depend on the date."""
    if item.kind == "bundle":
        return all(part.kind in SIMPLE_KINDS and not part.lots for part, _ in item.components)
    return item.kind in SIMPLE_KINDS and not item.lots


def next_lapse(
    conn: Connection, tenant: str, item_ids: list[int], now: datetime
) -> dict[int, datetime]:
    """Per item, the earliest expiry of an active hold still in the future."""
    if not item_ids:
        return {}
    rl = reservation_lines
    rows = conn.execute(
        tenancy.select(tenant, rl, rl.c.item_id, sa.func.min(rl.c.expires_at))
        .where(rl.c.item_id.in_(item_ids), rl.c.active, rl.c.expires_at > now)
        .group_by(rl.c.item_id)
    )
    return {item_id: when for item_id, when in rows}  # min() keeps the column's UTC type


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
    kits = [kit for _, kit in catalog.kit_links(conn, tenant, parts=skus)]
    return list(dict.fromkeys([*skus, *kits]))


def entries_for_skus(
    conn: Connection, tenant: str, skus: Iterable[str], now: datetime
) -> dict[str, str | None]:
    """Entries of the SKUs and the bundles they belong to (None: drop the key)."""
    out: dict[str, str | None] = {}
    for sku in with_bundles(conn, tenant, skus):
        try:
            out[sku] = entry_for(conn, tenant, catalog.item(conn, tenant, sku), now)
        except NotFound:
            out[sku] = None
    return out


def skus_at(conn: Connection, tenant: str, codes: list[str]) -> list[str]:
    """The SKUs with a balance row at any of these locations (their entries list it)."""
    b, i, loc = balances, items, locations
    rows = conn.execute(
        tenancy.select(tenant, b, i.c.sku)
        .join(i, tenancy.on(tenant, i, i.c.id == b.c.item_id))
        .join(loc, tenancy.on(tenant, loc, loc.c.id == b.c.location_id))
        .where(loc.c.code.in_(codes))
        .distinct()
        .order_by(i.c.sku)
    )
    return [sku for (sku,) in rows]
