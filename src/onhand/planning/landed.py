"""Landed cost: freight, duty, insurance and handling charged on a purchase order or a receipt,
allocated over its lines and added to the unit cost of the units received.

A charge on a purchase order is spread over the order's lines by `value` (ordered quantity ×
unit price), `quantity` or `weight` (ordered quantity × the item's `attributes.weight`); a
line's share, divided by the units it brings (ordered, or received when more came), is added
to each of its received units. A charge on a receipt movement is spread over that movement's
units the same way. Shares are whole cents and add up exactly to the charge (largest
remainder). Valuation (valuation.py) replays the ledger with these costs added, and reports
what the stock cost to buy and what it cost landed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import ConfigDict, Field
from sqlalchemy.engine import Connection

from .. import tenancy
from ..catalog.schemas import Body, Money
from ..errors import Invalid, NotFound
from ..tables import items, ledger, movements
from .orders import number
from .suppliers import money
from .tables import landed_charges, purchase_order_lines, purchase_orders

Kind = Literal["freight", "duty", "insurance", "handling", "other"]
Basis = Literal["value", "quantity", "weight"]
CENT = Decimal("0.01")
# A landed unit cost keeps this many decimals (a cent spread over 3 units is 0.003333).
UNIT = Decimal("0.000001")


class ChargeIn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"kind": "freight", "amount": "120.00", "basis": "value", "note": "DHL"}]
        },
    )

    kind: Kind
    amount: Money = Field(gt=0, description="In the order's currency")
    basis: Basis = "value"
    note: str | None = Field(default=None, max_length=2000)


def split(amount: Decimal, weights: dict[Any, Decimal]) -> dict[Any, Decimal]:
    """`amount` in whole cents over the keys in proportion to their weights, adding up exactly:
    each gets its share rounded down, then the cents left go to the largest remainders."""
    total = sum(weights.values(), Decimal(0))
    if total <= 0:
        raise Invalid("Nothing to spread the charge over: every line weighs zero on this basis.")
    cents = int((amount / CENT).to_integral_value())
    exact = {k: Decimal(cents) * w / total for k, w in weights.items()}
    out = {k: int(v.to_integral_value(rounding=ROUND_DOWN)) for k, v in exact.items()}
    left = cents - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), str(k)))[:left]:
        out[k] += 1
    return {k: Decimal(v) * CENT for k, v in out.items()}


# ---- what a charge is spread over ------------------------------------------------------------


def _po_lines(conn: Connection, tenant: str, po_id: int) -> list[dict[str, Any]]:
    pl = purchase_order_lines
    rows = conn.execute(
        sa.select(
            pl.c.item_id, pl.c.qty, pl.c.received, pl.c.unit_price, items.c.sku, items.c.attributes
        )
        .join(items, tenancy.on(tenant, items, items.c.id == pl.c.item_id))
        .where(tenancy.of(tenant, pl), pl.c.po_id == po_id)
        .order_by(pl.c.line_no)
    ).all()
    return [
        {
            "item_id": r.item_id,
            "sku": r.sku,
            "qty": int(r.qty),
            "units": max(int(r.qty), int(r.received)),
            "price": Decimal(r.unit_price or 0),
            "weight": _weight(r.attributes),
        }
        for r in rows
    ]


def _movement_lines(conn: Connection, tenant: str, movement_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            ledger.c.item_id, ledger.c.delta, ledger.c.unit_cost, items.c.sku, items.c.attributes
        )
        .join(items, tenancy.on(tenant, items, items.c.id == ledger.c.item_id))
        .where(
            tenancy.of(tenant, ledger),
            ledger.c.movement_id == movement_id,
            ledger.c.state == "on_hand",
            ledger.c.delta > 0,
        )
    ).all()
    by_item: dict[int, dict[str, Any]] = {}
    for r in rows:
        line = by_item.setdefault(
            r.item_id,
            {
                "item_id": r.item_id,
                "sku": r.sku,
                "qty": 0,
                "price": Decimal(r.unit_cost or 0),
                "weight": _weight(r.attributes),
            },
        )
        line["qty"] += int(r.delta)
    for line in by_item.values():
        line["units"] = line["qty"]
    return list(by_item.values())


def _weight(attributes: Any) -> Decimal:
    value = (attributes or {}).get("weight") if isinstance(attributes, dict) else None
    try:
        return max(Decimal(str(value)), Decimal(0)) if value is not None else Decimal(0)
    except ArithmeticError:
        return Decimal(0)


def _basis(line: dict[str, Any], basis: str) -> Decimal:
    if basis == "quantity":
        return Decimal(line["qty"])
    if basis == "weight":
        return Decimal(line["qty"]) * line["weight"]
    return Decimal(line["qty"]) * line["price"]


def _spread(amount: Any, basis: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    shares = split(Decimal(amount), {ln["item_id"]: _basis(ln, basis) for ln in lines})
    return [
        {
            "sku": ln["sku"],
            "item_id": ln["item_id"],
            "amount": shares[ln["item_id"]],
            "per_unit": (shares[ln["item_id"]] / ln["units"]).quantize(UNIT)
            if ln["units"]
            else Decimal(0),
        }
        for ln in lines
    ]


# ---- adding and reading ----------------------------------------------------------------------


def add(
    conn: Connection,
    tenant: str,
    body: ChargeIn,
    actor: str,
    now: datetime,
    *,
    po_id: int | None = None,
    movement_id: str | None = None,
) -> dict[str, Any]:
    lines = _target(conn, tenant, po_id, movement_id, adding=True)
    charge = {
        "tenant_id": tenant,
        "id": str(uuid.uuid4()),
        "po_id": po_id,
        "movement_id": movement_id,
        "kind": body.kind,
        "amount": body.amount,
        "basis": body.basis,
        "note": body.note,
        "created_by": actor,
        "created_at": now,
    }
    _spread(body.amount, body.basis, lines)  # refuses a basis on which every line weighs 0
    conn.execute(landed_charges.insert().values(**charge))
    return listing(conn, tenant, po_id=po_id, movement_id=movement_id)


def _target(
    conn: Connection,
    tenant: str,
    po_id: int | None,
    movement_id: str | None,
    *,
    adding: bool = False,
) -> list[dict[str, Any]]:
    """The lines a charge is spread over; 404 for an unknown order or movement, and (adding a
    charge) 422 for a cancelled order or a movement that is not a receipt."""
    if po_id is not None:
        status = conn.execute(
            sa.select(purchase_orders.c.status).where(
                tenancy.of(tenant, purchase_orders), purchase_orders.c.id == po_id
            )
        ).scalar()
        if status is None:
            raise NotFound(f"There is no purchase order {po_id}.", slug="unknown-purchase-order")
        if adding and status == "cancelled":
            raise Invalid(f"{number(po_id)} is cancelled: nothing of it lands.")
        return _lines_of(conn, tenant, po_id, None)
    kind = conn.execute(
        sa.select(movements.c.type).where(
            tenancy.of(tenant, movements), movements.c.id == movement_id
        )
    ).scalar()
    if kind is None:
        raise NotFound(f"There is no movement '{movement_id}'.", slug="unknown-movement")
    if adding and kind != "receipt":
        raise Invalid(f"Landed costs attach to receipts; this movement is a {kind}.")
    return _lines_of(conn, tenant, None, movement_id)


def _lines_of(
    conn: Connection, tenant: str, po_id: int | None, movement_id: str | None
) -> list[dict[str, Any]]:
    if po_id is not None:
        return _po_lines(conn, tenant, po_id)
    assert movement_id is not None
    return _movement_lines(conn, tenant, movement_id)


def listing(
    conn: Connection, tenant: str, *, po_id: int | None = None, movement_id: str | None = None
) -> dict[str, Any]:
    lines = _target(conn, tenant, po_id, movement_id)
    c = landed_charges
    where = c.c.po_id == po_id if po_id is not None else c.c.movement_id == movement_id
    rows = conn.execute(
        sa.select(c).where(tenancy.of(tenant, c), where).order_by(c.c.created_at, c.c.id)
    ).all()
    out = []
    totals: dict[str, Decimal] = {ln["sku"]: Decimal(0) for ln in lines}
    for r in rows:
        spread = _spread(r.amount, r.basis, lines)
        for s in spread:
            totals[s["sku"]] += s["amount"]
        out.append(
            {
                "id": r.id,
                "kind": r.kind,
                "amount": money(Decimal(r.amount)),
                "basis": r.basis,
                "note": r.note,
                "created_by": r.created_by,
                "created_at": r.created_at,
                "lines": [
                    {
                        "sku": s["sku"],
                        "amount": money(s["amount"]),
                        "per_unit": money(s["per_unit"]),
                    }
                    for s in spread
                ],
            }
        )
    return {
        "purchase_order": number(po_id) if po_id is not None else None,
        "movement_id": movement_id,
        "charges": out,
        "by_line": [
            {
                "sku": ln["sku"],
                "units": ln["units"],
                "landed": money(totals[ln["sku"]]),
                "per_unit": money((totals[ln["sku"]] / ln["units"]).quantize(UNIT))
                if ln["units"]
                else "0",
            }
            for ln in lines
        ],
    }


def per_unit(conn: Connection, tenant: str, before: datetime) -> dict[tuple[str, int], Decimal]:
    """What landing adds to each unit received: (PO number or receipt movement id, item id) ->
    amount per unit, from the charges made before `before`."""
    c = landed_charges
    rows = conn.execute(
        sa.select(c).where(tenancy.of(tenant, c), c.c.created_at < before).order_by(c.c.id)
    ).all()
    out: dict[tuple[str, int], Decimal] = {}
    lines: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        key = ("po", r.po_id) if r.po_id is not None else ("mv", r.movement_id)
        if key not in lines:
            lines[key] = _lines_of(conn, tenant, r.po_id, r.movement_id)
        target = number(r.po_id) if r.po_id is not None else r.movement_id
        for s in _spread(r.amount, r.basis, lines[key]):
            k = (target, s["item_id"])
            out[k] = out.get(k, Decimal(0)) + s["per_unit"]
    return out
