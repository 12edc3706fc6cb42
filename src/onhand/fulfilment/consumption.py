"""Consumption: sales reported by tills and delivery apps, applied once per event id.

A batch is one transaction. First the batch claims its event ids (an INSERT that skips ids
already stored for the tenant and source), so a till resending its offline queue applies
each sale once, and two copies of a batch racing each other apply it once between them.
Then every claimed sale is exploded into components (a bundle or recipe consumes its parts),
checked against the stock each part has at its location, in the order the events came, and
the batch's stock changes are posted through stock/ summed per (item, location).

A sale that finds too little stock is backordered when the item allows backorders (the
shortfall is committed and a backorder line with an ETA is written), else refused with the
reason. Either way the answer reports it; nothing is dropped. A lot item sells from its lots
that may still be sold, first expired, first out (a till does not say which lot it sold);
it is not backordered or shipped from a till. A serial item is refused (its sale must name
the serial numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from .. import db, stock, tenancy, tenants
from ..catalog import service as catalog
from ..catalog.service import Item, Location
from ..errors import DomainError
from ..quantities import to_base_units
from ..stock import lots, model
from . import backorders, picking, stockpost
from .schemas import ConsumptionIn, SaleEvent
from .tables import consumption_events


@dataclass
class Sale:
    event: SaleEvent
    item: Item | None = None
    location: Location | None = None
    qty: int = 0
    result: str = "applied"
    reason: str | None = None
    parts: list[tuple[Item, int]] = field(default_factory=list)
    backorders: list[dict[str, Any]] = field(default_factory=list)


def _explode(item: Item, qty: int) -> list[tuple[Item, int]]:
    """The stocked items a sale consumes: itself, or its components times the quantity."""
    if item.kind == "bundle":
        return [(part, per * qty) for part, per in item.components if part.stocked]
    return [(item, qty)] if item.stocked else []


def _resolve(sale: Sale, found: dict[str, Item], places: dict[str, Location]) -> None:
    e = sale.event
    sale.item, sale.location = found.get(e.sku), places.get(e.location)
    if sale.item is None:
        sale.result, sale.reason = "refused", f"There is no item with SKU '{e.sku}'."
        return
    if sale.location is None:
        sale.result, sale.reason = "refused", f"There is no location '{e.location}'."
        return
    try:
        sale.qty = to_base_units(e.qty, sale.item.unit, sale.item.units)
    except DomainError as problem:
        sale.result, sale.reason = "refused", problem.detail
        return
    if sale.qty <= 0:
        sale.result, sale.reason = "refused", "A sale needs a positive qty."
        return
    kinds = {sale.item.kind} | {p.kind for p, _ in sale.item.components}
    if "pod" in kinds:
        sale.result = "refused"
        sale.reason = f"{e.sku} is made to order; sell it through a reservation."
        return
    sale.parts = _explode(sale.item, sale.qty)
    serial = sorted({p.sku for p, _ in sale.parts if p.tracking == "serial"})
    if serial:
        # Their units move only with the serial numbers they carry, which a till does not
        # report: the sale is refused here rather than failing the whole batch.
        sale.result, sale.parts = "refused", []
        sale.reason = (
            f"{', '.join(serial)} is tracked by serial number; record the sale with a "
            "movement that names them."
        )
        return
    lot = sorted({p.sku for p, _ in sale.parts if p.tracking == "lot"})
    if lot and e.ship:
        sale.result, sale.parts = "refused", []
        sale.reason = (
            f"{', '.join(lot)} is tracked by lot: a till sells it from its lots at once (first "
            "expired, first out); ship it through a reservation."
        )


def apply_batch(
    conn: Connection, tenant: str, body: ConsumptionIn, actor: str, now: datetime
) -> dict[str, Any]:
    """Apply one batch in the caller's transaction; the per-event answer."""
    sales = [Sale(e) for e in body.events]
    found = catalog.items_by_sku(conn, tenant, {e.sku for e in body.events})
    places = catalog.locations_by_code(conn, tenant)
    seen: set[str] = set()
    repeats: set[int] = set()
    for i, sale in enumerate(sales):
        if sale.event.id in seen:
            repeats.add(i)
            sale.result = "duplicate"
            continue
        seen.add(sale.event.id)
        _resolve(sale, found, places)
    # Only sales that name a known item and location are claimed: a sale refused for an
    # unknown SKU can be sent again once the SKU exists.
    candidates = [
        s for i, s in enumerate(sales) if i not in repeats and s.item and s.location and s.qty > 0
    ]
    claimed = _claim(conn, tenant, body.source, candidates, now)
    for s in candidates:
        if s.event.id not in claimed:
            s.result = "duplicate"
    earlier = _stored_results(
        conn, tenant, body.source, [s.event.id for s in sales if s.result == "duplicate"]
    )
    live = [s for s in candidates if s.event.id in claimed and s.result == "applied"]
    _apply(conn, tenant, body.source, live, actor, now)
    exceptions = [s for s in candidates if s.event.id in claimed and s.result != "applied"]
    if exceptions:
        conn.execute(
            consumption_events.update()
            .where(
                tenancy.of(tenant, consumption_events),
                consumption_events.c.source == body.source,
                consumption_events.c.event_id == sa.bindparam("b_id"),
            )
            .values(result=sa.bindparam("b_result"), reason=sa.bindparam("b_reason")),
            [{"b_id": s.event.id, "b_result": s.result, "b_reason": s.reason} for s in exceptions],
        )
    counts: dict[str, int] = {}
    results = []
    for s in sales:
        counts[s.result] = counts.get(s.result, 0) + 1
        doc: dict[str, Any] = {"id": s.event.id, "result": s.result}
        if s.reason:
            doc["reason"] = s.reason
        if s.result == "duplicate" and s.event.id in earlier:
            doc["first_result"] = earlier[s.event.id]
        if s.backorders:
            doc["backorders"] = s.backorders
        results.append(doc)
    return {"source": body.source, "counts": counts, "results": results}


def _claim(
    conn: Connection, tenant: str, source: str, sales: list[Sale], now: datetime
) -> set[str]:
    """Store the sales' event ids; the ids this batch stored (ids stored before are skipped by
    the primary key). One statement for the whole batch on both databases."""
    if not sales:
        return set()
    c = consumption_events.c
    if not db.is_sqlite(conn):
        return _claim_unnested(conn, tenant, source, sales, now)
    rows = [
        {
            "tenant_id": tenant,
            "source": source,
            "event_id": s.event.id,
            "sku": s.event.sku,
            "location": s.event.location,
            "qty": s.qty,
            "ship": s.event.ship,
            "result": "applied",
            "reason": None,
            "sold_at": s.event.at or now,
            "received_at": now,
        }
        for s in sales
    ]
    stmt = db.insert(conn, consumption_events).on_conflict_do_nothing().returning(c.event_id)
    return set(conn.execute(stmt, rows).scalars())


def _claim_unnested(
    conn: Connection, tenant: str, source: str, sales: list[Sale], now: datetime
) -> set[str]:
    """PostgreSQL: the batch as six arrays, unnested into one INSERT … SELECT. A multi-row
    VALUES of 500 sales is 5,500 parameters that the driver rewrites on every call."""
    c = consumption_events.c
    arrays: dict[str, tuple[list[Any], Any]] = {
        "event_id": ([s.event.id for s in sales], sa.String),
        "sku": ([s.event.sku for s in sales], sa.String),
        "location": ([s.event.location for s in sales], sa.String),
        "qty": ([s.qty for s in sales], sa.BigInteger),
        "ship": ([s.event.ship for s in sales], sa.Boolean),
        "sold_at": ([(s.event.at or now).astimezone(UTC) for s in sales], sa.DateTime(True)),
    }
    rows = (
        sa.func.unnest(
            *(sa.bindparam(f"u_{name}", v, type_=ARRAY(t)) for name, (v, t) in arrays.items())
        )
        .table_valued(*arrays)
        .render_derived()
    )
    constant = {
        "tenant_id": sa.literal(tenant, sa.String),
        "source": sa.literal(source, sa.String),
        "result": sa.literal("applied", sa.String),
        "received_at": sa.literal(now, consumption_events.c.received_at.type),
    }
    names = [*constant, *arrays]
    stmt = (
        postgresql.insert(consumption_events)
        .from_select(names, sa.select(*constant.values(), *(rows.c[n] for n in arrays)))
        .on_conflict_do_nothing()
        .returning(c.event_id)
    )
    return set(conn.execute(stmt).scalars())


def _stored_results(conn: Connection, tenant: str, source: str, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    c = consumption_events.c
    rows = conn.execute(
        sa.select(c.event_id, c.result).where(
            tenancy.of(tenant, consumption_events),
            c.source == source,
            c.event_id.in_(sorted(set(ids))),
        )
    )
    return {r.event_id: r.result for r in rows}


class _Lots:
    """Lot items in a batch: each sells from its sellable lots (not recalled, not past the
    item's sell-by day), first expired, first out; read after the balance rows are locked."""

    def __init__(
        self, conn: Connection, tenant: str, parts: dict[int, Item], now: datetime
    ) -> None:
        self.items = parts
        self.pools = lots.free_at(conn, tenant, set(parts), now) if parts else {}
        self.today = tenants.load(conn, tenant).day(now) if parts else None
        self.taken: dict[tuple[int, int, int], int] = {}  # (item, location, lot) -> units
        self.places: dict[int, Location] = {}

    def _sellable(self, item: Item, loc: Location) -> list[lots.LotFree]:
        assert self.today is not None
        limit = model.sell_by(self.today, item.min_shelf_life_days)
        return lots.sellable(self.pools.get((item.id, loc.id), []), limit)

    def free(self, item: Item, loc: Location, balance: int) -> int:
        """What a sale may take: the balance's free units, of a lot item those of its
        sellable lots only."""
        if item.tracking != "lot":
            return balance
        return min(balance, sum(f.available for f in self._sellable(item, loc)))

    def why(self, item: Item) -> str:
        return " in lots that may still be sold" if item.tracking == "lot" else ""

    def take(self, item: Item, loc: Location, qty: int) -> None:
        """`qty` (no more than `free` allowed) out of the sellable lots, first expired first."""
        self.places[loc.id] = loc
        for f, n in lots.take(self._sellable(item, loc), qty) or []:
            key = (item.id, loc.id, f.lot.id)
            self.taken[key] = self.taken.get(key, 0) + n

    def changes(self) -> list[stockpost.Change]:
        return [
            stockpost.Change(self.items[i], self.places[loc], {"on_hand": -n}, lot=lot, sale=True)
            for (i, loc, lot), n in self.taken.items()
        ]


def _apply(
    conn: Connection, tenant: str, source: str, sales: list[Sale], actor: str, now: datetime
) -> None:
    """Decide each sale against the stock its parts have, in order, then post the batch."""
    touched: set[tuple[int, int]] = set()
    owing: set[tuple[int, int]] = set()
    for s in sales:
        assert s.location is not None
        for p, _ in s.parts:
            touched.add((p.id, s.location.id))
            if p.allow_backorder:
                owing.add((p.id, s.location.id))
    # Only the (item, location) rows the batch sells from; a backordered shortfall may need
    # its row created, so those exist before anything is decided.
    locked = stockpost.lock(conn, tenant, touched, now, ensure=owing)
    free = stockpost.free(locked)
    lot_items = {p.id: p for s in sales for p, _ in s.parts if p.tracking == "lot"}
    fefo = _Lots(conn, tenant, lot_items, now)
    take: dict[tuple[int, int], dict[str, int]] = {}
    owed: dict[tuple[int, int], int] = {}
    meta: dict[tuple[int, int], tuple[Item, Location]] = {}
    short_lines: list[tuple[Sale, Item, Location, int]] = []
    ship_lines: list[tuple[Sale, Item, Location, int]] = []
    for s in sales:
        loc = s.location
        assert loc is not None and s.item is not None
        needs = [(p, q, fefo.free(p, loc, free.get((p.id, loc.id), 0))) for p, q in s.parts]
        short = [(p, q, f) for p, q, f in needs if f < q]
        refused = [(p, q, f) for p, q, f in short if not p.allow_backorder or p.tracking == "lot"]
        if refused:
            s.result = "refused"
            s.reason = "; ".join(
                f"{p.sku} at {loc.code}: {q} needed, {max(f, 0)} available" + fefo.why(p)
                for p, q, f in refused
            )
            continue
        if short:
            s.result = "backordered"
        state = "committed" if s.event.ship else "on_hand"
        for p, q, f in needs:
            key = (p.id, loc.id)
            meta[key] = (p, loc)
            got = min(q, max(f, 0))
            free[key] = free.get(key, 0) - got
            if got and p.tracking == "lot":
                fefo.take(p, loc, got)
            elif got:
                delta = take.setdefault(key, {})
                delta[state] = delta.get(state, 0) + (got if s.event.ship else -got)
                if s.event.ship:
                    ship_lines.append((s, p, loc, got))
            if q > got:
                owed[key] = owed.get(key, 0) + q - got
                short_lines.append((s, p, loc, q - got))
    changes = [stockpost.Change(*meta[k], d) for k, d in take.items()]
    changes += fefo.changes()
    changes += [stockpost.Change(*meta[k], {"committed": n}, sells=False) for k, n in owed.items()]
    posting = stock.Posting(reason="consumption", actor=actor, reference=source)
    stockpost.post(conn, tenant, changes, posting, now, locked)
    origin = f"consumption:{source}:"
    lines = [(p, loc, q, origin + s.event.id, s.event.sku) for s, p, loc, q in short_lines]
    for (s, *_), doc in zip(short_lines, backorders.record(conn, tenant, lines, now), strict=True):
        s.backorders.append(doc)
    by_sale: dict[str, tuple[Sale, list[tuple[Item, Location, int]]]] = {}
    for s, p, loc, q in ship_lines:
        by_sale.setdefault(s.event.id, (s, []))[1].append((p, loc, q))
    picking.add_tasks_many(
        conn,
        tenant,
        "consumption",
        [(f"{source}:{i}", lines, s.event.ship_by) for i, (s, lines) in by_sale.items()],
        now,
    )
