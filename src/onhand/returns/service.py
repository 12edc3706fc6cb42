"""Returns (RMA): each step checks the status it needs, moves stock through stock movements
(so the ledger, `stock.changed` and the console's returns tile see it like any return), and
records an `rma.*` event in the same transaction.

    requested --approve--> approved --receive--> received --inspect (every line)--> closed
    requested | approved --refuse--> refused

Received units land in `quality_control` at the RMA's location; inspection gives each line a
disposition: `restock` (to available), `damage` (to damaged), `scrap` (written off) or
`return_to_vendor` (written off, the reference says to whom it goes back).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..catalog import service as catalog
from ..errors import Conflict, Invalid, NotFound
from ..events import catalogue, outbox
from ..stock import lots as lot_rows
from ..stock import movements
from ..stock.schemas import MovementIn
from ..tables import items, locations
from .schemas import InspectIn, ReceiveIn, RmaIn
from .tables import rma_lines, rmas

# What each disposition posts: (movement type, from_state, to_state).
DISPOSITIONS = {
    "restock": ("quality_release", None, "available"),
    "damage": ("quality_release", None, "damaged"),
    "scrap": ("write_off", "quality_control", None),
    "return_to_vendor": ("write_off", "quality_control", None),
}


def create(conn: Connection, tenant: str, body: RmaIn, actor: str, now: datetime) -> dict[str, Any]:
    loc = catalog.location(conn, tenant, body.location)
    found = catalog.items_by_sku(conn, tenant, {line.sku for line in body.lines})
    lines = []
    for n, line in enumerate(body.lines, start=1):
        item = found.get(line.sku)
        if item is None:
            raise NotFound(f"There is no item '{line.sku}'.", slug="unknown-sku")
        if not item.stocked:
            raise Invalid(
                f"Line {n}: {item.sku} is a {item.kind} item; only physical items and licence "
                "seats come back as stock (a bundle comes back as its components)."
            )
        if item.tracking == "serial" and (line.qty != 1 or not line.serial):
            raise Invalid(
                f"Line {n}: {item.sku} is tracked by serial number: one line per unit, qty 1, "
                "naming its serial."
            )
        lines.append(
            {
                "tenant_id": tenant,
                "line_no": n,
                "item_id": item.id,
                "qty": line.qty,
                "reason": line.reason,
                "lot": line.lot,
                "serial": line.serial,
                "order_reference": line.order_reference or body.order_reference,
            }
        )
    rma_id = str(uuid.uuid4())
    conn.execute(
        rmas.insert().values(
            tenant_id=tenant,
            id=rma_id,
            status="requested",
            location_id=loc.id,
            order_reference=body.order_reference,
            customer=body.customer,
            note=body.note,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(rma_lines.insert(), [{**line, "rma_id": rma_id} for line in lines])
    return _announce(conn, tenant, rma_id, "requested", now)


def approve(conn: Connection, tenant: str, rma_id: str, now: datetime) -> dict[str, Any]:
    _locked(conn, tenant, rma_id, "approve", ("requested",))
    _status(conn, tenant, rma_id, "approved", now)
    return _announce(conn, tenant, rma_id, "approved", now)


def refuse(
    conn: Connection, tenant: str, rma_id: str, reason: str, now: datetime
) -> dict[str, Any]:
    _locked(conn, tenant, rma_id, "refuse", ("requested", "approved"))
    _status(conn, tenant, rma_id, "refused", now, refusal=reason)
    return _announce(conn, tenant, rma_id, "refused", now)


def receive(
    conn: Connection, tenant: str, rma_id: str, body: ReceiveIn, actor: str, now: datetime
) -> dict[str, Any]:
    """Book the units that arrived into quality_control, line by line."""
    head = _locked(conn, tenant, rma_id, "receive", ("approved",))
    lines = _lines(conn, tenant, rma_id)
    arrived = {ln["line_no"]: int(ln["qty"]) for ln in lines}
    if body.lines is not None:
        given = {r.line: r.qty for r in body.lines}
        if unknown := sorted(set(given) - set(arrived)):
            raise Invalid(f"This return has no line {unknown[0]}.")
        for n, q in given.items():
            if q > arrived[n]:
                raise Invalid(f"Line {n}: {q} arrived, but only {arrived[n]} were to come back.")
        arrived = {n: given.get(n, 0) for n in arrived}
    for ln in lines:
        q = arrived[ln["line_no"]]
        if q:
            _post(conn, tenant, head, ln, "return", q, None, "quality_control", actor, now)
        conn.execute(
            rma_lines.update().where(*_line_key(tenant, rma_id, ln["line_no"])).values(received=q)
        )
    done = not any(arrived.values())  # nothing came back: nothing to inspect
    _status(conn, tenant, rma_id, "closed" if done else "received", now)
    return _announce(conn, tenant, rma_id, "received", now)


def inspect(
    conn: Connection, tenant: str, rma_id: str, body: InspectIn, actor: str, now: datetime
) -> dict[str, Any]:
    """Give received lines their disposition; the return closes when every line has one."""
    head = _locked(conn, tenant, rma_id, "inspect", ("received",))
    lines = {ln["line_no"]: ln for ln in _lines(conn, tenant, rma_id)}
    seen: set[int] = set()
    for r in body.lines:
        ln = lines.get(r.line)
        if ln is None:
            raise Invalid(f"This return has no line {r.line}.")
        if r.line in seen or ln["disposition"] is not None:
            raise Conflict(
                f"Line {r.line} was inspected already ({ln['disposition'] or r.disposition}).",
                slug="rma-step",
            )
        if not ln["received"]:
            raise Conflict(
                f"Line {r.line}: nothing of it arrived, so there is nothing to inspect.",
                slug="rma-step",
            )
        seen.add(r.line)
        kind, src, dst = DISPOSITIONS[r.disposition]
        _post(
            conn, tenant, head, ln, kind, int(ln["received"]), src, dst, actor, now, r.disposition
        )
        conn.execute(
            rma_lines.update()
            .where(*_line_key(tenant, rma_id, r.line))
            .values(
                disposition=r.disposition,
                inspected_by=actor,
                inspected_at=now,
                inspection_note=r.note,
            )
        )
        ln["disposition"] = r.disposition
    if all(ln["disposition"] or not ln["received"] for ln in lines.values()):
        _status(conn, tenant, rma_id, "closed", now)
    return _announce(conn, tenant, rma_id, "inspected", now)


# ---- reading -------------------------------------------------------------------------------


def get(conn: Connection, tenant: str, rma_id: str) -> dict[str, Any]:
    found = _documents(conn, tenant, [rmas.c.id == rma_id], 1)
    if not found:
        raise NotFound(f"There is no return '{rma_id}'.", slug="unknown-rma")
    return found[0]


def listing(conn: Connection, tenant: str, status: str | None, limit: int) -> list[dict[str, Any]]:
    where = [] if status is None else [rmas.c.status == status]
    return _documents(conn, tenant, where, limit)


def _documents(conn: Connection, tenant: str, where: list[Any], limit: int) -> list[dict[str, Any]]:
    heads = conn.execute(
        sa.select(rmas, locations.c.code.label("location"))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == rmas.c.location_id))
        .where(tenancy.of(tenant, rmas), *where)
        .order_by(rmas.c.created_at.desc(), rmas.c.id)
        .limit(limit)
    ).all()
    if not heads:
        return []
    rows = conn.execute(
        sa.select(rma_lines, items.c.sku)
        .join(items, tenancy.on(tenant, items, items.c.id == rma_lines.c.item_id))
        .where(tenancy.of(tenant, rma_lines), rma_lines.c.rma_id.in_([h.id for h in heads]))
        .order_by(rma_lines.c.rma_id, rma_lines.c.line_no)
    ).all()
    by_rma: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_rma.setdefault(r.rma_id, []).append(
            {
                "line": r.line_no,
                "sku": r.sku,
                "qty": int(r.qty),
                "reason": r.reason,
                "lot": r.lot,
                "serial": r.serial,
                "order_reference": r.order_reference,
                "received": None if r.received is None else int(r.received),
                "disposition": r.disposition,
                "inspected_by": r.inspected_by,
                "inspected_at": r.inspected_at,
                "inspection_note": r.inspection_note,
            }
        )
    return [
        {
            "id": h.id,
            "status": h.status,
            "location": h.location,
            "order_reference": h.order_reference,
            "customer": h.customer,
            "note": h.note,
            "refusal": h.refusal,
            "created_by": h.created_by,
            "created_at": h.created_at,
            "updated_at": h.updated_at,
            "lines": by_rma.get(h.id, []),
        }
        for h in heads
    ]


# ---- steps ---------------------------------------------------------------------------------


def _locked(conn: Connection, tenant: str, rma_id: str, step: str, allowed: tuple[str, ...]) -> Any:
    row = conn.execute(
        db.for_update(conn, sa.select(rmas).where(tenancy.of(tenant, rmas), rmas.c.id == rma_id))
    ).first()
    if row is None:
        raise NotFound(f"There is no return '{rma_id}'.", slug="unknown-rma")
    if row.status not in allowed:
        raise Conflict(
            f"This return is {row.status}: it can be {step}d only when it is "
            f"{' or '.join(allowed)}.",
            slug="rma-step",
        )
    return row


def _status(
    conn: Connection, tenant: str, rma_id: str, status: str, now: datetime, **extra: Any
) -> None:
    conn.execute(
        rmas.update()
        .where(tenancy.of(tenant, rmas), rmas.c.id == rma_id)
        .values(status=status, updated_at=now, **extra)
    )


def _lines(conn: Connection, tenant: str, rma_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(rma_lines, items.c.sku)
        .join(items, tenancy.on(tenant, items, items.c.id == rma_lines.c.item_id))
        .where(tenancy.of(tenant, rma_lines), rma_lines.c.rma_id == rma_id)
        .order_by(rma_lines.c.line_no)
    ).all()
    return [dict(r._mapping) for r in rows]


def _line_key(tenant: str, rma_id: str, line_no: int) -> list[Any]:
    return [
        tenancy.of(tenant, rma_lines),
        rma_lines.c.rma_id == rma_id,
        rma_lines.c.line_no == line_no,
    ]


def _post(
    conn: Connection,
    tenant: str,
    head: Any,
    line: dict[str, Any],
    kind: str,
    qty: int,
    src: str | None,
    dst: str | None,
    actor: str,
    now: datetime,
    disposition: str | None = None,
) -> None:
    code = conn.execute(
        sa.select(locations.c.code).where(
            tenancy.of(tenant, locations), locations.c.id == head.location_id
        )
    ).scalar_one()
    what = f"RMA {head.id[:8]} line {line['line_no']}"
    # A lot-tracked item's units come back into (and go on from) the lot the line names.
    lot = None
    if line["lot"]:
        item = catalog.item(conn, tenant, line["sku"])
        if item.lots:
            lot = lot_rows.find(conn, tenant, item, line["lot"]).code
    body = MovementIn.model_validate(
        {
            "type": kind,
            "sku": line["sku"],
            "location": code,
            "qty": qty,
            "from_state": src,
            "to_state": dst,
            "reference": f"{what}: {disposition.replace('_', ' ')}" if disposition else what,
            "note": line["reason"],
            # A serial-tracked unit comes back (and goes) by its serial number.
            **({"serials": [line["serial"]]} if line["serial"] else {}),
            **({"lot": lot} if lot else {}),
        }
    )
    movements.post(conn, tenant, body, actor, now)


def _announce(
    conn: Connection, tenant: str, rma_id: str, step: str, now: datetime
) -> dict[str, Any]:
    doc = get(conn, tenant, rma_id)
    event = catalogue.RMA_STEP[step](
        rma=rma_id,
        status=doc["status"],
        order_reference=doc["order_reference"],
        lines=[
            {k: ln[k] for k in ("line", "sku", "qty", "received", "disposition")}
            for ln in doc["lines"]
        ],
    )
    outbox.record_many(conn, [event.row(tenant, now)])
    return doc
