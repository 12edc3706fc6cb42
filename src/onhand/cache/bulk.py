"""Cache entries for a page of items at once, for reconciliation and rebuilds.

They must equal, string for string, what `figures.entry_for` (the availability route's own
code) gives for each item; tests/integration/test_events_cache.py checks it on both databases.
On PostgreSQL the database itself builds each entry as jsonb text, so Python only compares
strings: a million balances reconcile in seconds. SQLite takes a plain-tuple Python pass.
Bundles, few and made of other items, always go through `entry_for`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..catalog import service as catalog
from ..stock import model
from ..stock.availability import FIGURES
from ..tables import balances, items, locations, reservation_lines
from .figures import SIMPLE_KINDS, encode, entry_for

TOTALS = (*FIGURES, "available")
# The SQL below lists these states by name; fail loudly if the model ever changes them.
assert FIGURES == (
    "on_hand",
    "reserved",
    "committed",
    "damaged",
    "quality_control",
    "safety_stock",
    "incoming",
    "in_transit",
)


def bulk_entries(
    conn: Connection, tenant: str, rows: Sequence[Any], now: datetime
) -> dict[str, str]:
    """Encoded entries for a page of item rows (id, sku, kind), ordered by id."""
    simple = [r for r in rows if r.kind in SIMPLE_KINDS]
    if simple:  # lot-tracked items are not cached: what they can sell changes with the date
        tracked = set(
            conn.execute(
                tenancy.select(tenant, items, items.c.id).where(
                    items.c.id.in_([r.id for r in simple]), items.c.tracking != "none"
                )
            ).scalars()
        )
        simple = [r for r in simple if r.id not in tracked]
    out: dict[str, str] = {}
    if simple:
        build = _python_entries if db.is_sqlite(conn) else _sql_entries
        out.update(build(conn, tenant, simple, now))
    for r in rows:
        if r.kind == "bundle":
            encoded = entry_for(conn, tenant, catalog.item(conn, tenant, r.sku), now)
            if encoded is not None:
                out[r.sku] = encoded
    return out


# ---- PostgreSQL: the database prints each entry -----------------------------------------

# The per-location columns of the query below, by state; available comes from the model.
_COLUMN = {
    "on_hand": "oh",
    "reserved": "rs",
    "committed": "cm",
    "damaged": "dm",
    "quality_control": "qc",
    "safety_stock": "ss",
}
_AVAILABLE = str(model.available(lambda state: sa.literal_column(_COLUMN[state])).compile())
_SQL = sa.text(f"""
WITH lapsed AS (
    SELECT item_id, location_id, sum(qty) AS q FROM reservation_lines
     WHERE tenant_id = :t AND item_id BETWEEN :lo AND :hi AND active
       AND expires_at <= :now AND day IS NULL
     GROUP BY item_id, location_id),
per_location AS (
    SELECT b.item_id, l.code, l.zone, l.priority,
           b.on_hand AS oh, b.reserved - coalesce(x.q, 0) AS rs, b.committed AS cm,
           b.damaged AS dm, b.quality_control AS qc, b.safety_stock AS ss,
           b.incoming AS inc, b.in_transit AS tr
      FROM balances b
      JOIN locations l ON l.id = b.location_id AND l.tenant_id = b.tenant_id
      LEFT JOIN lapsed x ON x.item_id = b.item_id AND x.location_id = b.location_id
     WHERE b.tenant_id = :t AND b.item_id BETWEEN :lo AND :hi),
per_item AS (
    SELECT item_id,
           jsonb_agg(jsonb_build_object(
               'location', code, 'zone', zone, 'priority', priority, 'on_hand', oh,
               'reserved', rs, 'committed', cm, 'damaged', dm, 'quality_control', qc,
               'safety_stock', ss, 'incoming', inc, 'in_transit', tr, 'available', {_AVAILABLE})
               ORDER BY priority, code) AS locs,
           sum(oh) AS oh, sum(rs) AS rs, sum(cm) AS cm, sum(dm) AS dm, sum(qc) AS qc,
           sum(ss) AS ss, sum(inc) AS inc, sum(tr) AS tr, sum({_AVAILABLE}) AS av
      FROM per_location GROUP BY item_id),
lapses AS (
    SELECT item_id, min(expires_at) AS until FROM reservation_lines
     WHERE tenant_id = :t AND item_id BETWEEN :lo AND :hi AND active AND expires_at > :now
     GROUP BY item_id)
SELECT i.sku, jsonb_build_object(
         'doc', jsonb_build_object(
             'sku', i.sku, 'kind', i.kind, 'locations', coalesce(p.locs, '[]'::jsonb),
             'on_hand', coalesce(p.oh, 0), 'reserved', coalesce(p.rs, 0),
             'committed', coalesce(p.cm, 0), 'damaged', coalesce(p.dm, 0),
             'quality_control', coalesce(p.qc, 0), 'safety_stock', coalesce(p.ss, 0),
             'incoming', coalesce(p.inc, 0), 'in_transit', coalesce(p.tr, 0),
             'available', CASE WHEN i.kind = 'digital' THEN NULL ELSE coalesce(p.av, 0) END),
         'valid_until', floor(extract(epoch FROM x.until) * 1000000)::bigint)::text
  FROM items i
  LEFT JOIN per_item p ON p.item_id = i.id
  LEFT JOIN lapses x ON x.item_id = i.id
 WHERE i.tenant_id = :t AND i.id BETWEEN :lo AND :hi
   AND i.kind IN ('physical', 'licensed', 'digital')
""")


def _sql_entries(conn: Connection, tenant: str, rows: list[Any], now: datetime) -> dict[str, str]:
    params = {"t": tenant, "lo": rows[0].id, "hi": rows[-1].id, "now": now}
    return dict(conn.execute(_SQL, params).all())


# ---- SQLite: one pass over plain tuples --------------------------------------------------


def _python_entries(
    conn: Connection, tenant: str, rows: list[Any], now: datetime
) -> dict[str, str]:
    lo, hi = rows[0].id, rows[-1].id
    per_item = _page_locations(conn, tenant, lo, hi, now)
    rl = reservation_lines
    lapses: dict[int, datetime] = dict(
        conn.execute(
            tenancy.select(tenant, rl, rl.c.item_id, sa.func.min(rl.c.expires_at))
            .where(rl.c.item_id.between(lo, hi), rl.c.active, rl.c.expires_at > now)
            .group_by(rl.c.item_id)
        ).all()
    )
    empty: tuple[list[dict[str, Any]], list[int]] = ([], [0] * 9)
    out = {}
    for r in rows:
        locs, totals = per_item.get(r.id, empty)
        doc: dict[str, Any] = {
            "sku": r.sku,
            "kind": r.kind,
            "locations": locs,
            **dict(zip(TOTALS, totals, strict=True)),
        }
        if r.kind == "digital":
            doc["available"] = None
        out[r.sku] = encode(doc, lapses.get(r.id))
    return out


def _page_locations(
    conn: Connection, tenant: str, lo: int, hi: int, now: datetime
) -> dict[int, tuple[list[dict[str, Any]], list[int]]]:
    """Per item id in [lo, hi]: its location rows as `location_figures` shapes them (minus the
    internal location_id) and its totals in TOTALS order."""
    rl, b, loc = reservation_lines, balances, locations
    lapsed = {
        (item, loc): int(q)
        for item, loc, q in conn.execute(
            tenancy.select(tenant, rl, rl.c.item_id, rl.c.location_id, sa.func.sum(rl.c.qty))
            .where(
                rl.c.item_id.between(lo, hi),
                rl.c.active,
                rl.c.expires_at <= now,
                rl.c.day.is_(None),
            )
            .group_by(rl.c.item_id, rl.c.location_id)
        )
    }
    rows = conn.execute(
        sa.select(
            b.c.item_id,
            b.c.location_id,
            *(b.c[f] for f in FIGURES),
            loc.c.code,
            loc.c.zone,
            loc.c.priority,
        )
        .join(loc, tenancy.on(tenant, loc, loc.c.id == b.c.location_id))
        .where(tenancy.of(tenant, b), b.c.item_id.between(lo, hi))
        .order_by(b.c.item_id, loc.c.priority, loc.c.code)
    ).all()
    out: dict[int, tuple[list[dict[str, Any]], list[int]]] = {}
    for item_id, location_id, oh, rs, cm, dm, qc, ss, inc, tr, code, zone, priority in rows:
        rs -= lapsed.get((item_id, location_id), 0)
        av = oh - rs - cm - dm - qc - ss
        entry = out.get(item_id)
        if entry is None:
            entry = out[item_id] = ([], [0] * 9)
        entry[0].append(
            {
                "location": code,
                "zone": zone,
                "priority": priority,
                "on_hand": oh,
                "reserved": rs,
                "committed": cm,
                "damaged": dm,
                "quality_control": qc,
                "safety_stock": ss,
                "incoming": inc,
                "in_transit": tr,
                "available": av,
            }
        )
        for n, v in enumerate((oh, rs, cm, dm, qc, ss, inc, tr, av)):
            entry[1][n] += v
    return out
