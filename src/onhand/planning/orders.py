"""Purchase orders: draft → approved → sent → partially_received → received, or cancelled.

Stock figures move only through the stock kernel (`stock.apply`):
  * approving raises `incoming` at the destination by each line's quantity (reason `po`):
    from then on the order is a commitment and planning counts it as on order;
  * a receipt moves the delivered units from `incoming` to `on_hand` at the line's unit
    price (reason `po_receipt`), so valuation sees the cost;
  * cancelling removes whatever is still outstanding from `incoming` (reason `po_cancel`).
An over-receipt (more than is outstanding on a line) is refused unless the caller allows
it; the surplus then goes to on_hand without touching incoming.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, stock, tenancy
from ..catalog import service as catalog
from ..catalog.service import Item, Location
from ..errors import Conflict, Invalid, NotFound
from ..quantities import to_base_units
from ..stock import Change, Posting, lots
from ..tables import items, locations
from . import settings
from . import suppliers as supplier_service
from .schemas import LineIn, PurchaseOrderIn, PurchaseOrderPatch, ReceiptIn
from .suppliers import Supplier, money
from .tables import purchase_order_lines, purchase_order_receipts, purchase_orders, suppliers

STATUSES = ("draft", "approved", "sent", "partially_received", "received", "cancelled")
OPEN = ("draft", "approved", "sent", "partially_received")
# States after approval: incoming has been raised for the outstanding quantities.
COMMITTED = ("approved", "sent", "partially_received")
# action -> (statuses it may start from, status it leads to)
TRANSITIONS = {
    "approve": (("draft",), "approved"),
    "send": (("approved",), "sent"),
    "cancel": (OPEN, "cancelled"),
}


@dataclass(frozen=True)
class NewLine:
    item: Item
    qty: int
    unit_price: Decimal | None
    supplier_sku: str | None


def number(po_id: int) -> str:
    return f"PO-{po_id:05d}"


def _locked(conn: Connection, tenant: str, po_id: int) -> Any:
    stmt = tenancy.select(tenant, purchase_orders).where(purchase_orders.c.id == po_id)
    row = conn.execute(db.for_update(conn, stmt)).first()
    if row is None:
        raise NotFound(
            f"There is no purchase order {po_id}.",
            slug="unknown-purchase-order",
            purchase_order=po_id,
        )
    return row


def _lines(conn: Connection, tenant: str, po_id: int) -> Sequence[Any]:
    ln = purchase_order_lines
    return conn.execute(
        sa.select(ln, items.c.sku, items.c.name, items.c.unit)
        .join(items, tenancy.on(tenant, items, items.c.id == ln.c.item_id))
        .where(tenancy.of(tenant, ln), ln.c.po_id == po_id)
        .order_by(ln.c.line_no)
    ).all()


PAST = {"approve": "approved", "send": "sent", "cancel": "cancelled", "receive": "received"}


def _illegal(row: Any, action: str) -> Conflict:
    allowed = TRANSITIONS[action][0] if action in TRANSITIONS else ("sent", "partially_received")
    return Conflict(
        f"{number(row.id)} is {row.status}; only an order that is "
        f"{' or '.join(allowed)} can be {PAST[action]}.",
        slug="illegal-transition",
        purchase_order=row.id,
        order_status=row.status,
        action=action,
    )


# ---- building ----------------------------------------------------------------------------


def resolve_lines(
    conn: Connection, tenant: str, sup: Supplier, lines: list[LineIn]
) -> list[NewLine]:
    """SKUs to items, quantities to base units; prices default to the supplier's."""
    found = catalog.items_by_sku(conn, tenant, {ln.sku for ln in lines})
    if len({ln.sku for ln in lines}) != len(lines):
        raise Invalid("A purchase order lists each SKU once; add up the quantities instead.")
    out = []
    for ln in lines:
        item = found.get(ln.sku)
        if item is None:
            raise NotFound(f"There is no item with SKU '{ln.sku}'.", slug="unknown-sku", sku=ln.sku)
        if not item.stocked:
            raise Invalid(
                f"{item.sku} is a {item.kind} item: only physical and licensed items "
                "are bought on purchase orders."
            )
        qty = to_base_units(ln.qty, item.unit, item.units)
        if qty <= 0:
            raise Invalid(f"{item.sku}: an order line needs a positive qty.")
        src = supplier_service.source_for(conn, tenant, item.id, sup.id)
        price = (
            ln.unit_price
            if ln.unit_price is not None
            else (src.price if src else sup.default_price)
        )
        out.append(NewLine(item, qty, price, src.supplier_sku if src else None))
    return out


def _write_lines(conn: Connection, tenant: str, po_id: int, lines: list[NewLine]) -> None:
    conn.execute(
        tenancy.delete(tenant, purchase_order_lines).where(purchase_order_lines.c.po_id == po_id)
    )
    conn.execute(
        purchase_order_lines.insert(),
        [
            {
                "tenant_id": tenant,
                "po_id": po_id,
                "line_no": n,
                "item_id": ln.item.id,
                "supplier_sku": ln.supplier_sku,
                "qty": ln.qty,
                "received": 0,
                "unit_price": ln.unit_price,
            }
            for n, ln in enumerate(lines, start=1)
        ],
    )


def insert(
    conn: Connection,
    tenant: str,
    sup: Supplier,
    loc: Location,
    lines: list[NewLine],
    actor: str | None,
    now: datetime,
    *,
    reference: str | None = None,
    note: str | None = None,
    expected_on: Any = None,
    plan_run_id: str | None = None,
) -> int:
    """Write a draft purchase order; returns its id."""
    po_id = settings.next_po_number(conn, tenant)
    conn.execute(
        tenancy.insert(tenant, purchase_orders).values(
            id=po_id,
            supplier_id=sup.id,
            location_id=loc.id,
            status="draft",
            currency=sup.currency,
            reference=reference,
            note=note,
            expected_on=expected_on,
            plan_run_id=plan_run_id,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
    )
    _write_lines(conn, tenant, po_id, lines)
    return po_id


def create(
    conn: Connection, tenant: str, body: PurchaseOrderIn, actor: str, now: datetime
) -> dict[str, Any]:
    sup = supplier_service.supplier(conn, tenant, body.supplier)
    loc = catalog.location(conn, tenant, body.location)
    lines = resolve_lines(conn, tenant, sup, body.lines)
    po_id = insert(
        conn,
        tenant,
        sup,
        loc,
        lines,
        actor,
        now,
        reference=body.reference,
        note=body.note,
        expected_on=body.expected_on,
    )
    return get(conn, tenant, po_id)


def update(
    conn: Connection, tenant: str, po_id: int, patch: PurchaseOrderPatch, now: datetime
) -> dict[str, Any]:
    row = _locked(conn, tenant, po_id)
    values = patch.model_dump(exclude_unset=True, exclude={"lines", "location"})
    if row.status not in OPEN:
        raise Conflict(
            f"{number(po_id)} is {row.status}; it can no longer be changed.",
            slug="illegal-transition",
            purchase_order=po_id,
            order_status=row.status,
        )
    if (patch.lines is not None or patch.location is not None) and row.status != "draft":
        raise Conflict(
            f"{number(po_id)} is {row.status}; lines and destination can be changed "
            "only while it is a draft.",
            slug="illegal-transition",
            purchase_order=po_id,
            order_status=row.status,
        )
    if patch.location is not None:
        values["location_id"] = catalog.location(conn, tenant, patch.location).id
    if patch.lines is not None:
        sup = supplier_service.supplier(conn, tenant, _supplier_code(conn, tenant, row.supplier_id))
        _write_lines(conn, tenant, po_id, resolve_lines(conn, tenant, sup, patch.lines))
    conn.execute(
        tenancy.update(tenant, purchase_orders)
        .where(purchase_orders.c.id == po_id)
        .values(updated_at=now, **values)
    )
    return get(conn, tenant, po_id)


def _supplier_code(conn: Connection, tenant: str, supplier_id: int) -> str:
    return conn.execute(
        tenancy.select(tenant, suppliers, suppliers.c.code).where(suppliers.c.id == supplier_id)
    ).scalar_one()


# ---- lifecycle ---------------------------------------------------------------------------


def _set(conn: Connection, tenant: str, po_id: int, **values: Any) -> None:
    conn.execute(
        tenancy.update(tenant, purchase_orders)
        .where(purchase_orders.c.id == po_id)
        .values(**values)
    )


def _move_incoming(
    conn: Connection,
    tenant: str,
    row: Any,
    sign: int,
    reason: str,
    actor: str | None,
    now: datetime,
) -> None:
    """Raise (+1) or lower (−1) incoming by every line's outstanding quantity."""
    lines = _lines(conn, tenant, row.id)
    found = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines})
    loc = catalog.locations_by_id(conn, tenant)[row.location_id]
    posting = Posting(reason=reason, actor=actor, reference=number(row.id))
    for ln in lines:
        outstanding = max(ln.qty - ln.received, 0)
        if outstanding:
            stock.apply(
                conn,
                tenant,
                [Change(found[ln.item_id], {"incoming": sign * outstanding}, location=loc)],
                posting,
                now,
                event={"purchase_order": number(row.id)},
            )


def transition(
    conn: Connection, tenant: str, po_id: int, action: str, actor: str | None, now: datetime
) -> dict[str, Any]:
    """approve, send or cancel; 409 when the order's status does not allow it."""
    row = _locked(conn, tenant, po_id)
    sources, target = TRANSITIONS[action]
    if row.status not in sources:
        raise _illegal(row, action)
    values: dict[str, Any] = {"status": target, "updated_at": now}
    if action == "approve":
        if not _lines(conn, tenant, po_id):
            raise Invalid(f"{number(po_id)} has no lines to approve.")
        _move_incoming(conn, tenant, row, +1, "po", actor, now)
        values["approved_at"] = now
    elif action == "send":
        values["sent_at"] = now
        if row.expected_on is None:
            days = conn.execute(
                tenancy.select(tenant, suppliers, suppliers.c.lead_time_days).where(
                    suppliers.c.id == row.supplier_id
                )
            ).scalar_one()
            values["expected_on"] = (now + timedelta(days=math.ceil(days))).date()
    else:
        if row.status in COMMITTED:
            _move_incoming(conn, tenant, row, -1, "po_cancel", actor, now)
        values["closed_at"] = now
    _set(conn, tenant, po_id, **values)
    return get(conn, tenant, po_id)


def receive(
    conn: Connection, tenant: str, po_id: int, body: ReceiptIn, actor: str | None, now: datetime
) -> dict[str, Any]:
    """Book a delivery against the order: incoming → on_hand at the line's unit price."""
    row = _locked(conn, tenant, po_id)
    if row.status not in ("sent", "partially_received"):
        raise _illegal(row, "receive")
    if len({ln.sku for ln in body.lines}) != len(body.lines):
        raise Invalid("A receipt lists each SKU once; add up the quantities instead.")
    lines = {ln.sku: ln for ln in _lines(conn, tenant, po_id)}
    found = catalog.items_by_id(conn, tenant, {ln.item_id for ln in lines.values()})
    booked = []
    for got in body.lines:
        ln = lines.get(got.sku)
        if ln is None:
            raise Invalid(f"{got.sku} is not on {number(po_id)}.", slug="not-on-order", sku=got.sku)
        item = found[ln.item_id]
        qty = to_base_units(got.qty, item.unit, item.units)
        if qty <= 0:
            raise Invalid(f"{got.sku}: a receipt needs a positive qty.")
        outstanding = max(ln.qty - ln.received, 0)
        if qty > outstanding and not body.allow_over_receipt:
            raise Conflict(
                f"{got.sku}: {qty} received but only {outstanding} outstanding on "
                f"{number(po_id)} ({ln.qty} ordered, {ln.received} received before). "
                "Send allow_over_receipt: true to accept the surplus.",
                slug="over-receipt",
                sku=got.sku,
                ordered=ln.qty,
                received=ln.received,
                outstanding=outstanding,
                qty=qty,
            )
        booked.append((ln, item, qty, min(qty, outstanding)))
    loc = catalog.locations_by_id(conn, tenant)[row.location_id]
    receipt_no = 1 + (
        conn.execute(
            tenancy.select(
                tenant, purchase_order_receipts, sa.func.max(purchase_order_receipts.c.receipt_no)
            ).where(purchase_order_receipts.c.po_id == po_id)
        ).scalar()
        or 0
    )
    specs = {got.sku: got.lot for got in body.lines}
    for ln, item, qty, from_incoming in booked:
        posting = Posting(
            reason="po_receipt", actor=actor, reference=number(po_id), unit_cost=ln.unit_price
        )
        lot_id = None
        if item.lots:  # the delivery is a lot of the order's supplier
            given = specs[item.sku]
            spec = given.model_dump() if given is not None else {}
            spec["supplier"] = spec.get("supplier") or _supplier_code(conn, tenant, row.supplier_id)
            lot = lots.receive(
                conn, tenant, item, spec, movement_id=None, reference=number(po_id), now=now
            )
            lot_id = lot.id
        elif specs[item.sku] is not None:
            raise Invalid(
                f"{item.sku} does not track lots; leave the lot out.", slug="not-lot-tracked"
            )
        stock.apply(
            conn,
            tenant,
            [Change(item, {"incoming": -from_incoming, "on_hand": qty}, location=loc, lot=lot_id)],
            posting,
            now,
            event={"purchase_order": number(po_id)},
        )
        conn.execute(
            tenancy.update(tenant, purchase_order_lines)
            .where(
                purchase_order_lines.c.po_id == po_id, purchase_order_lines.c.line_no == ln.line_no
            )
            .values(received=purchase_order_lines.c.received + qty)
        )
        conn.execute(
            tenancy.insert(tenant, purchase_order_receipts).values(
                po_id=po_id,
                receipt_no=receipt_no,
                line_no=ln.line_no,
                qty=qty,
                unit_cost=ln.unit_price,
                actor=actor,
                received_at=now,
            )
        )
    done = all(ln.received >= ln.qty for ln in _lines(conn, tenant, po_id))
    _set(
        conn,
        tenant,
        po_id,
        status="received" if done else "partially_received",
        updated_at=now,
        closed_at=now if done else None,
    )
    return get(conn, tenant, po_id)


# ---- reading -----------------------------------------------------------------------------


def _line_out(ln: Any) -> dict[str, Any]:
    total = None if ln.unit_price is None else ln.unit_price * ln.qty
    return {
        "line_no": ln.line_no,
        "sku": ln.sku,
        "name": ln.name,
        "unit": ln.unit,
        "supplier_sku": ln.supplier_sku,
        "qty": ln.qty,
        "received": ln.received,
        "outstanding": max(ln.qty - ln.received, 0),
        "unit_price": money(ln.unit_price),
        "line_total": money(total),
    }


def _document(row: Any, lines: Sequence[Any], receipts: Sequence[Any] | None) -> dict[str, Any]:
    priced = [ln.unit_price * ln.qty for ln in lines if ln.unit_price is not None]
    doc = {
        "id": row.id,
        "number": number(row.id),
        "status": row.status,
        "supplier": row.supplier_code,
        "supplier_name": row.supplier_name,
        "currency": row.currency,
        "location": row.location_code,
        "reference": row.reference,
        "note": row.note,
        "expected_on": row.expected_on,
        "plan_run_id": row.plan_run_id,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "approved_at": row.approved_at,
        "sent_at": row.sent_at,
        "closed_at": row.closed_at,
        "units": sum(ln.qty for ln in lines),
        "received": sum(ln.received for ln in lines),
        "total": money(sum(priced, Decimal(0))) if len(priced) == len(lines) else None,
        "lines": [_line_out(ln) for ln in lines],
    }
    if receipts is not None:
        doc["receipts"] = receipts
    return doc


def _header(tenant: str) -> sa.Select:
    po = purchase_orders
    return (
        tenancy.select(
            tenant,
            po,
            po,
            suppliers.c.code.label("supplier_code"),
            suppliers.c.name.label("supplier_name"),
            locations.c.code.label("location_code"),
        )
        .join(suppliers, tenancy.on(tenant, suppliers, suppliers.c.id == po.c.supplier_id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == po.c.location_id))
    )


def _receipts(conn: Connection, tenant: str, po_id: int) -> list[dict[str, Any]]:
    r, ln = purchase_order_receipts, purchase_order_lines
    rows = conn.execute(
        sa.select(r.c.receipt_no, r.c.received_at, r.c.actor, r.c.qty, items.c.sku)
        .join(
            ln,
            sa.and_(
                ln.c.tenant_id == r.c.tenant_id,
                ln.c.po_id == r.c.po_id,
                ln.c.line_no == r.c.line_no,
            ),
        )
        .join(items, tenancy.on(tenant, items, items.c.id == ln.c.item_id))
        .where(tenancy.of(tenant, r), r.c.po_id == po_id)
        .order_by(r.c.receipt_no, r.c.line_no)
    )
    out: dict[int, dict[str, Any]] = {}
    for x in rows:
        doc = out.setdefault(
            x.receipt_no,
            {
                "receipt_no": x.receipt_no,
                "received_at": x.received_at,
                "actor": x.actor,
                "lines": [],
            },
        )
        doc["lines"].append({"sku": x.sku, "qty": x.qty})
    return list(out.values())


def get(conn: Connection, tenant: str, po_id: int) -> dict[str, Any]:
    row = conn.execute(_header(tenant).where(purchase_orders.c.id == po_id)).first()
    if row is None:
        raise NotFound(
            f"There is no purchase order {po_id}.",
            slug="unknown-purchase-order",
            purchase_order=po_id,
        )
    return _document(row, _lines(conn, tenant, po_id), _receipts(conn, tenant, po_id))


def listing(
    conn: Connection,
    tenant: str,
    *,
    statuses: tuple[str, ...] | None = None,
    supplier: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of orders by id (with lines, without receipts) and the next cursor."""
    po = purchase_orders
    stmt = _header(tenant).where(po.c.id > after)
    if statuses:
        stmt = stmt.where(po.c.status.in_(statuses))
    if supplier:
        stmt = stmt.where(po.c.supplier_id == supplier_service.supplier(conn, tenant, supplier).id)
    rows = conn.execute(stmt.order_by(po.c.id).limit(limit + 1)).all()
    page = rows[:limit]
    by_po: dict[int, list[Any]] = {r.id: [] for r in page}
    if page:
        ln = purchase_order_lines
        for x in conn.execute(
            sa.select(ln, items.c.sku, items.c.name, items.c.unit)
            .join(items, tenancy.on(tenant, items, items.c.id == ln.c.item_id))
            .where(tenancy.of(tenant, ln), ln.c.po_id.in_(list(by_po)))
            .order_by(ln.c.po_id, ln.c.line_no)
        ):
            by_po[x.po_id].append(x)
    nxt = page[-1].id if len(rows) > limit else None
    return [_document(r, by_po[r.id], None) for r in page], nxt


# ---- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "po_number",
    "status",
    "supplier",
    "supplier_name",
    "currency",
    "ship_to",
    "expected_on",
    "line_no",
    "sku",
    "supplier_sku",
    "description",
    "unit",
    "qty_ordered",
    "qty_received",
    "qty_outstanding",
    "unit_price",
    "line_total",
)


def to_csv(documents: list[dict[str, Any]]) -> str:
    """One row per order line (layout documented in docs/replenishment.md)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for po in documents:
        for ln in po["lines"]:
            writer.writerow(
                [
                    po["number"],
                    po["status"],
                    po["supplier"],
                    po["supplier_name"],
                    po["currency"],
                    po["location"],
                    po["expected_on"].isoformat() if po["expected_on"] else "",
                    ln["line_no"],
                    ln["sku"],
                    ln["supplier_sku"] or "",
                    ln["name"],
                    ln["unit"],
                    ln["qty"],
                    ln["received"],
                    ln["outstanding"],
                    ln["unit_price"] or "",
                    ln["line_total"] or "",
                ]
            )
    return buffer.getvalue()


def open_orders(
    conn: Connection, tenant: str, statuses: tuple[str, ...] = OPEN
) -> list[dict[str, Any]]:
    """Every order in the given statuses (default: all open ones), by number."""
    out, after = [], 0
    while True:
        page, nxt = listing(conn, tenant, statuses=statuses, after=after, limit=500)
        out += page
        if nxt is None:
            return out
        after = nxt
