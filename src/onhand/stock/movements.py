"""Stock movements: each type is a recipe of state changes, applied through stock.apply."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from .. import tenants
from ..catalog import service as catalog
from ..errors import Invalid
from ..quantities import to_base_units
from ..tables import movements
from . import history, kernel, lots, model, serials
from .availability import location_figures
from .model import STATES, Change, Figures, Item, Location, Outcome, Posting
from .schemas import MovementIn

# Moving stock into or out of a non-available state: the state that holds it (available is derived).
HOLDING = {"available": None, "quality_control": "quality_control", "damaged": "damaged"}

Step = tuple[Location, dict[str, int]]
SETS_LEVEL = ("count", "safety_stock")


def _between(src: str, dst: str, q: int) -> dict[str, int]:
    """Move q units between two parts of on_hand (None means available)."""
    if src == dst != "available":
        raise Invalid(f"Units in {src} are there already: choose another from_state or to_state.")
    deltas: dict[str, int] = {}
    if source := HOLDING[src]:
        deltas[source] = -q
    if target := HOLDING[dst]:
        deltas[target] = deltas.get(target, 0) + q
    return deltas


def _current(locked: kernel.Locked, item: Item, loc: Location, state: str) -> int:
    row = next((f for f in locked.get(item.id, []) if f.location_id == loc.id), None)
    return 0 if row is None else row.states[state]


def _positive(q: int | None, what: str) -> int:
    if q is None or q <= 0:
        raise Invalid(f"A {what} needs a positive qty.")
    return q


def plan(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    body: MovementIn,
    qty: int | None,
    counted: int | None,
    locked: kernel.Locked,
) -> list[Step]:
    """The state changes of one movement, location by location."""
    t = body.type
    if t == "receipt":
        return [(loc, {"on_hand": _positive(qty, t)})]
    if t == "adjustment":
        if not qty:
            raise Invalid("An adjustment needs a non-zero qty (negative to lower stock).")
        return [(loc, {"on_hand": qty})]
    if t == "ship":
        return [(loc, {"on_hand": -_positive(qty, t)})]
    if t == "return":
        q = _positive(qty, t)
        return [(loc, {"on_hand": q} | _between("available", body.to_state or "available", q))]
    if t == "damage":
        return [(loc, _between(body.from_state or "available", "damaged", _positive(qty, t)))]
    if t == "quality_hold":
        return [
            (loc, _between(body.from_state or "available", "quality_control", _positive(qty, t)))
        ]
    if t == "quality_release":
        return [(loc, _between("quality_control", body.to_state or "available", _positive(qty, t)))]
    if t == "write_off":
        q = _positive(qty, t)
        return [(loc, {"on_hand": -q} | _between(body.from_state or "damaged", "available", q))]
    if t == "transfer":
        q = _positive(qty, t)
        dest = catalog.location(conn, tenant, body.to or "")
        if dest.id == loc.id:
            raise Invalid("A transfer needs two different locations.")
        return [(loc, {"on_hand": -q}), (dest, {"in_transit" if body.in_transit else "on_hand": q})]
    if t == "transfer_receive":
        q = _positive(qty, t)
        return [(loc, {"in_transit": -q, "on_hand": q})]
    if t == "count":
        if counted is None or counted < 0:
            raise Invalid("A count needs 'counted', zero or more.")
        return [(loc, {"on_hand": counted - _current(locked, item, loc, "on_hand")})]
    if t == "safety_stock":
        if qty is None or qty < 0:
            raise Invalid("safety_stock sets the level to keep back: qty zero or more.")
        return [(loc, {"safety_stock": qty - _current(locked, item, loc, "safety_stock")})]
    raise Invalid(f"Unknown movement type {t}.")


def post(
    conn: Connection, tenant: str, body: MovementIn, actor: str, now: datetime
) -> dict[str, Any]:
    """Apply one movement in the caller's transaction and describe what it wrote."""
    item = catalog.item(conn, tenant, body.sku)
    if not item.stocked:
        raise Invalid(
            f"{item.sku} is a {item.kind} item: stock movements apply to physical "
            "and licensed items (bundles move through their components)."
        )
    loc = catalog.location(conn, tenant, body.location)
    qty = None if body.qty is None else to_base_units(body.qty, item.unit, item.units)
    counted = (
        None
        if body.counted is None
        else to_base_units(body.counted, item.unit, item.units, field="counted")
    )
    if body.lot is not None and not item.lots:
        raise Invalid(f"{item.sku} does not track lots; leave the lot out.", slug="not-lot-tracked")
    qty = serials.quantity(item, body, qty)
    # Counts and safety stock set a level, and a lot item's lots are chosen from their
    # figures: read them under the lock the change will hold.
    locked = (
        kernel.lock(conn, tenant, [item.id], now) if body.type in SETS_LEVEL or item.lots else None
    )
    lot = None
    if item.lots and body.type != "receipt":
        lot = lots.named(conn, tenant, item, body.lot)
    steps = plan(conn, tenant, item, loc, body, qty, counted, locked or {})
    if lot is not None and body.type == "count":  # a lot is counted against its own level
        level = lots.free_at(conn, tenant, {item.id}, now, "on_hand").get((item.id, loc.id), [])
        here = next((f.available for f in level if f.lot.id == lot.id), 0)
        steps = [(loc, {"on_hand": (counted or 0) - here})]
    movement_id = str(uuid.uuid4())
    conn.execute(
        movements.insert().values(
            tenant_id=tenant,
            id=movement_id,
            type=body.type,
            reference=body.reference,
            note=body.note,
            actor=actor,
            created_at=now,
        )
    )
    dest = catalog.location(conn, tenant, body.to) if body.type == "transfer" and body.to else None
    serials.record(conn, tenant, item, loc, body, movement_id, now, dest)
    posting = Posting(
        reason=body.type,
        actor=actor,
        reference=body.reference,
        movement_id=movement_id,
        unit_cost=body.unit_cost,
    )
    named = bool(body.serials)  # serials.record moved the units this change counts
    changes = [
        Change(item, deltas, location=step_loc, record_zero=body.type == "count", serials=named)
        for step_loc, deltas in steps
    ]
    if item.lots:
        if body.type == "receipt":
            lot = lots.receive(
                conn,
                tenant,
                item,
                lots.lot_spec(body.lot),
                movement_id=movement_id,
                reference=body.reference,
                now=now,
            )
        changes = _by_lot(conn, tenant, item, body.type, changes, lot, now)
    kernel.apply(
        conn, tenant, changes, posting, now, locked=locked, event={"movement_id": movement_id}
    )
    return {
        "id": movement_id,
        "type": body.type,
        "sku": item.sku,
        "location": loc.code,
        "to": body.to,
        "qty": qty,
        "counted": counted,
        "serials": list(body.serials) if body.serials else None,
        "reference": body.reference,
        "note": body.note,
        "actor": actor,
        "created_at": now,
        "entries": history.entries(conn, tenant, movement_id=movement_id, limit=100)[0],
    }


# Movements whose lot, when none is named, is chosen first expired, first out (sellable lots
# only), and the state the units are taken from.
CHOSEN = {"ship": None, "transfer": None, "transfer_receive": "in_transit"}


def _by_lot(
    conn: Connection,
    tenant: str,
    item: Item,
    kind: str,
    changes: list[Change],
    lot: lots.Lot | None,
    now: datetime,
) -> list[Change]:
    """A lot item's movement as changes of its lots: the lot named, or (ship, transfer) the
    sellable lots that expire first. A shipment is a sale: the kernel refuses a lot past its
    sell-by day even when it is named."""
    if kind == "safety_stock":
        if lot is not None:
            raise Invalid("Safety stock is kept per item and location, not per lot.")
        return changes
    sale = kind == "ship"
    if kind not in CHOSEN:
        if lot is None:
            raise Invalid(
                f"{item.sku} is lot-tracked: name the lot of this {kind}.",
                slug="lot-required",
                sku=item.sku,
            )
        return [replace(c, lot=lot.id) for c in changes]
    source = changes[0]
    assert source.location is not None
    moved = -sum(d for d in source.deltas.values() if d < 0)
    sell_by = None
    if CHOSEN[kind] is None and lot is None:
        sell_by = model.sell_by(tenants.load(conn, tenant).day(now), item.min_shelf_life_days)
    parts = lots.split_at(
        conn,
        tenant,
        item,
        source.location.id,
        source.location.code,
        moved,
        now,
        lot=lot,
        sell_by=sell_by,
        state=CHOSEN[kind],
    )
    return [
        replace(c, deltas={s: d // moved * n for s, d in c.deltas.items()}, lot=part.id, sale=sale)
        for part, n in parts
        for c in changes
    ]


def publish_changes(
    conn: Connection, tenant: str, item: Item, codes: list[str], now: datetime, **extra: Any
) -> None:
    """`stock.changed` per named location, figures read now (for callers that post through
    `stock.ledger.change`; `stock.apply` announces its own changes)."""
    reason = str(extra.pop("reason"))
    rows = location_figures(conn, tenant, [item.id], now)[item.id]
    figures = [
        Figures(
            item.id,
            r["location_id"],
            r["location"],
            r["zone"],
            r["priority"],
            {s: r[s] for s in STATES},
        )
        for r in rows
    ]
    by_code = {f.code: f.location_id for f in figures}
    outcome = Outcome(
        items={item.id: item},
        rows={item.id: figures},
        touched=[(item.id, by_code[c]) for c in dict.fromkeys(codes) if c in by_code],
    )
    kernel.emit_changed(conn, tenant, outcome, now, reason, extra)
