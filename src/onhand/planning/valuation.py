"""Stock valuation from the ledger: FIFO and moving weighted-average cost, and ABC classes.

The ledger's `on_hand` entries are replayed in order, item by item, as of the end of a day:
  * an increase with a unit cost (a receipt, a purchase-order delivery) adds a cost layer;
  * a decrease takes cost out: FIFO from the oldest layers, average at the current
    average cost of that location;
  * a transfer carries the cost it took out at the source to the destination (the legs
    share a movement id; an in-transit transfer keeps its layers until it is received);
  * any other increase without a cost (return, count or adjustment up) enters at the
    location's current average (average method, when it holds stock), else at the item's
    latest receipt cost so far, else its catalogue unit cost, else zero — quantities for
    which no cost at all was known are reported as `uncosted_qty`.
Values are exact decimals; stock in transit is valued once it arrives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.engine import Connection

from .. import tenancy
from ..tables import items, ledger, locations
from . import landed as landed_costs
from .suppliers import money

Method = Literal["fifo", "average"]
Layers = list[tuple[int, Decimal]]  # (quantity, unit cost)
ZERO = Decimal(0)
CENT = Decimal("0.01")


def cents(amount: Decimal) -> str:
    return format(amount.quantize(CENT), "f")


@dataclass
class _Pool:
    """Stock of one item at one place, with its cost: FIFO layers or a running average."""

    fifo: bool
    layers: deque = field(default_factory=deque)  # FIFO: [qty, cost], oldest first
    qty: int = 0
    value: Decimal = ZERO

    def add(self, taken: Layers) -> None:
        for q, cost in taken:
            if self.fifo:
                self.layers.append([q, cost])
            self.qty += q
            self.value += q * cost

    def take(self, q: int, fallback: Decimal) -> Layers:
        """Remove q units and return what they cost (units beyond the stock at `fallback`)."""
        out: Layers = []
        if not self.fifo:
            have = min(q, max(self.qty, 0))
            if have:
                cost = self.value / self.qty
                out.append((have, cost))
                self.value -= cost * have if have < self.qty else self.value
            self.qty -= q
            if q > have:
                out.append((q - have, fallback))
            return out
        left = q
        while left and self.layers:
            layer = self.layers[0]
            used = min(left, layer[0])
            out.append((used, layer[1]))
            layer[0] -= used
            left -= used
            if not layer[0]:
                self.layers.popleft()
        if left:
            out.append((left, fallback))
        self.qty -= q
        self.value -= sum((u * c for u, c in out), ZERO)
        return out


@dataclass(frozen=True)
class Valued:
    item_id: int
    location_id: int
    qty: int
    value: Decimal
    uncosted: int


def _replay(
    rows: Sequence[Any],
    fifo: bool,
    catalogue_cost: dict[int, Decimal | None],
    landing: dict[tuple[str, int], Decimal] | None = None,
) -> list[Valued]:
    """Walk one tenant's on_hand and in_transit entries (ordered by item, id). `landing` adds
    landed cost per unit to receipts: (PO number or receipt movement id, item id) -> amount."""
    landing = landing or {}

    def landed(r: Any) -> Decimal:
        if not landing or r.delta <= 0 or r.state != "on_hand":
            return ZERO
        key = r.reference if r.reason == "po_receipt" else r.movement_id
        return landing.get((key, r.item_id), ZERO) if key else ZERO

    out: list[Valued] = []
    item_id: int | None = None
    pools: dict[tuple[str, int], _Pool] = {}
    moved: dict[str, deque] = {}
    last_cost: Decimal | None = None
    uncosted: dict[int, int] = {}

    def flush() -> None:
        assert item_id is not None  # called only once the first row has set it
        for (kind, loc), pool in pools.items():
            if kind == "on_hand":
                out.append(Valued(item_id, loc, pool.qty, pool.value, uncosted.get(loc, 0)))

    for r in rows:
        if r.item_id != item_id:
            if item_id is not None:
                flush()
            item_id, pools, moved, uncosted = r.item_id, {}, {}, {}
            last_cost = None
        pool = pools.setdefault((r.state, r.location_id), _Pool(fifo))
        fallback = last_cost if last_cost is not None else catalogue_cost.get(r.item_id)
        if not fifo and pool.qty > 0:
            fallback = pool.value / pool.qty  # average: uncosted units join at the average
        if r.delta < 0:
            taken = pool.take(-r.delta, fallback or ZERO)
            if r.movement_id:
                moved.setdefault(r.movement_id, deque()).extend(taken)
            continue
        if r.state == "on_hand" and r.unit_cost is not None:
            last_cost = Decimal(r.unit_cost) + landed(r)
            pool.add([(r.delta, last_cost)])
            continue
        carried = _carry(moved.get(r.movement_id) if r.movement_id else None, r.delta)
        short = r.delta - sum(q for q, _ in carried)
        if short:
            if fallback is None and r.state == "on_hand":
                uncosted[r.location_id] = uncosted.get(r.location_id, 0) + short
            carried.append((short, (fallback or ZERO) + landed(r)))
        pool.add(carried)
    if item_id is not None:
        flush()
    return out


def _carry(source: deque | None, q: int) -> Layers:
    """Take up to q units of the layers a transfer leg removed elsewhere."""
    out: Layers = []
    while q and source:
        have, cost = source[0]
        used = min(q, have)
        out.append((used, cost))
        q -= used
        if used == have:
            source.popleft()
        else:
            source[0] = (have - used, cost)
    return out


def _end(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time(), UTC)


def value(
    conn: Connection, tenant: str, method: Method, as_of: date, *, landed: bool = True
) -> list[Valued]:
    """Quantity and value of every item at every location at the end of `as_of` (UTC), with
    the landed costs charged by then (`landed=False`: what the stock cost to buy)."""
    end = _end(as_of)
    landing = landed_costs.per_unit(conn, tenant, end) if landed else None
    return _value(conn, tenant, method, end, landing)


def _value(
    conn: Connection,
    tenant: str,
    method: Method,
    end: datetime,
    landing: dict[tuple[str, int], Decimal] | None,
) -> list[Valued]:
    rows = conn.execute(
        tenancy.select(
            tenant,
            ledger,
            ledger.c.item_id,
            ledger.c.location_id,
            ledger.c.state,
            ledger.c.delta,
            ledger.c.unit_cost,
            ledger.c.movement_id,
            ledger.c.reason,
            ledger.c.reference,
        )
        .where(
            ledger.c.state.in_(("on_hand", "in_transit")),
            ledger.c.delta != 0,
            ledger.c.created_at < end,
        )
        .order_by(ledger.c.item_id, ledger.c.id)
    ).all()
    costs: dict[int, Decimal | None] = dict(
        conn.execute(tenancy.select(tenant, items, items.c.id, items.c.unit_cost)).all()
    )
    return _replay(rows, method == "fifo", costs, landing)


def report(
    conn: Connection, tenant: str, method: Method, as_of: date, location: str | None = None
) -> dict[str, Any]:
    """The valuation document: rows per item and location with stock, and totals."""
    skus: dict[int, str] = dict(
        conn.execute(tenancy.select(tenant, items, items.c.id, items.c.sku)).all()
    )
    codes: dict[int, str] = dict(
        conn.execute(tenancy.select(tenant, locations, locations.c.id, locations.c.code)).all()
    )
    end = _end(as_of)
    landing = landed_costs.per_unit(conn, tenant, end)
    rows = [
        v
        for v in _value(conn, tenant, method, end, landing)
        if v.qty and (location is None or codes[v.location_id] == location)
    ]
    rows.sort(key=lambda v: (skus[v.item_id], codes[v.location_id]))
    total = sum((v.value for v in rows), ZERO)
    # What the same stock cost to buy, without freight, duty and the like (a second replay,
    # only when the tenant has landed charges at all).
    bought = (
        {(v.item_id, v.location_id): v.value for v in _value(conn, tenant, method, end, None)}
        if landing
        else {}
    )

    def purchase(v: Valued) -> Decimal:
        return bought.get((v.item_id, v.location_id), ZERO) if landing else v.value

    bought_total = sum((purchase(v) for v in rows), ZERO)
    return {
        "method": method,
        "as_of": as_of.isoformat(),
        "location": location,
        "items": [
            {
                "sku": skus[v.item_id],
                "location": codes[v.location_id],
                "qty": v.qty,
                "unit_cost": money(round(v.value / v.qty, 6)) if v.qty else None,
                "value": cents(v.value),
                "purchase_value": cents(purchase(v)),
                "landed_value": cents(v.value - purchase(v)),
                "uncosted_qty": v.uncosted,
            }
            for v in rows
        ],
        "totals": {
            "qty": sum(v.qty for v in rows),
            "value": cents(total),
            "purchase_value": cents(bought_total),
            "landed_value": cents(total - bought_total),
            "lines": len(rows),
        },
    }


def abc(
    conn: Connection, tenant: str, method: Method, as_of: date, a: float = 0.8, b: float = 0.95
) -> dict[str, Any]:
    """Items ranked by stock value; the classes split the cumulative share of the total.

    An item whose preceding items hold less than `a` of the value is A (so the item that
    crosses the line is still A), less than `b` is B, the rest — and any item without
    value — C.
    """
    skus: dict[int, str] = dict(
        conn.execute(tenancy.select(tenant, items, items.c.id, items.c.sku)).all()
    )
    per_item: dict[int, Decimal] = {}
    for v in value(conn, tenant, method, as_of):
        per_item[v.item_id] = per_item.get(v.item_id, ZERO) + v.value
    ranked = sorted(per_item.items(), key=lambda kv: (-kv[1], skus[kv[0]]))
    total = sum((v for _, v in ranked), ZERO)
    out, before = [], ZERO
    for item_id, val in ranked:
        share = val / total if total > 0 else ZERO
        prior = before / total if total > 0 else Decimal(1)
        cls = (
            "C"
            if val <= 0
            else "A"
            if prior < Decimal(str(a))
            else "B"
            if prior < Decimal(str(b))
            else "C"
        )
        before += val
        out.append(
            {
                "sku": skus[item_id],
                "value": cents(val),
                "share": round(float(share), 4),
                "cumulative_share": round(float(before / total), 4) if total > 0 else None,
                "class": cls,
            }
        )
    counts = {c: sum(1 for x in out if x["class"] == c) for c in "ABC"}
    return {
        "method": method,
        "as_of": as_of.isoformat(),
        "thresholds": {"a": a, "b": b},
        "total_value": cents(total),
        "classes": counts,
        "items": out,
    }
