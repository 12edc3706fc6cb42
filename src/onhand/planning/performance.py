"""How suppliers actually deliver, measured from purchase-order receipts.

* lead time: days from sending the order to each delivery (one delivery = one receipt,
  whatever its number of lines); mean and sample standard deviation;
* on-time rate: deliveries on or before the order's expected date (UTC day);
* fill rate: units delivered (at most the ordered quantity per line) over units ordered,
  on orders that are finished — fully received, or cancelled after they were sent.

With at least MIN_RECEIPTS deliveries the measured lead time replaces the promised one
in the safety-stock calculation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import tenancy
from .tables import purchase_order_lines, purchase_order_receipts, purchase_orders

MIN_RECEIPTS = 3
DAY = 86400.0


@dataclass(frozen=True)
class Performance:
    receipts: int
    lead_time_mean: float | None
    lead_time_std: float | None
    on_time_rate: float | None
    fill_rate: float | None
    units_ordered: int
    units_delivered: int

    @property
    def trusted(self) -> bool:
        """Enough deliveries for the measured lead time to replace the promised one."""
        return self.receipts >= MIN_RECEIPTS

    def document(self) -> dict[str, Any]:
        r = lambda v: None if v is None else round(v, 4)  # noqa: E731
        return {
            "receipts": self.receipts,
            "lead_time_days_mean": r(self.lead_time_mean),
            "lead_time_days_std": r(self.lead_time_std),
            "on_time_rate": r(self.on_time_rate),
            "fill_rate": r(self.fill_rate),
            "units_ordered": self.units_ordered,
            "units_delivered": self.units_delivered,
            "used_for_planning": self.trusted,
            "min_receipts": MIN_RECEIPTS,
        }


EMPTY = Performance(0, None, None, None, None, 0, 0)


def _deliveries(conn: Connection, tenant: str, supplier_id: int | None) -> dict[int, list]:
    po, r = purchase_orders, purchase_order_receipts
    stmt = (
        sa.select(
            po.c.supplier_id,
            po.c.sent_at,
            po.c.expected_on,
            sa.func.min(r.c.received_at).label("received_at"),
        )
        .join(po, sa.and_(po.c.tenant_id == r.c.tenant_id, po.c.id == r.c.po_id))
        .where(tenancy.of(tenant, r), po.c.sent_at.is_not(None))
        .group_by(po.c.supplier_id, r.c.po_id, r.c.receipt_no, po.c.sent_at, po.c.expected_on)
    )
    if supplier_id is not None:
        stmt = stmt.where(po.c.supplier_id == supplier_id)
    out: dict[int, list] = {}
    for row in conn.execute(stmt):
        out.setdefault(row.supplier_id, []).append(row)
    return out


def _fill(conn: Connection, tenant: str, supplier_id: int | None) -> dict[int, tuple[int, int]]:
    po, ln = purchase_orders, purchase_order_lines
    delivered = sa.case((ln.c.received < ln.c.qty, ln.c.received), else_=ln.c.qty)
    stmt = (
        sa.select(po.c.supplier_id, sa.func.sum(ln.c.qty), sa.func.sum(delivered))
        .join(po, sa.and_(po.c.tenant_id == ln.c.tenant_id, po.c.id == ln.c.po_id))
        .where(
            tenancy.of(tenant, ln),
            po.c.sent_at.is_not(None),
            po.c.status.in_(("received", "cancelled")),
        )
        .group_by(po.c.supplier_id)
    )
    if supplier_id is not None:
        stmt = stmt.where(po.c.supplier_id == supplier_id)
    return {s: (int(o), int(d)) for s, o, d in conn.execute(stmt)}


def _summarise(deliveries: list, fill: tuple[int, int]) -> Performance:
    days = [(d.received_at - d.sent_at).total_seconds() / DAY for d in deliveries]
    n = len(days)
    mean = sum(days) / n if n else None
    std = (
        math.sqrt(sum((x - mean) ** 2 for x in days) / (n - 1))
        if n > 1 and mean is not None
        else (0.0 if n == 1 else None)
    )
    promised = [d for d in deliveries if d.expected_on is not None]
    on_time = (
        sum(d.received_at.date() <= d.expected_on for d in promised) / len(promised)
        if promised
        else None
    )
    ordered, delivered = fill
    return Performance(
        n, mean, std, on_time, delivered / ordered if ordered else None, ordered, delivered
    )


def measure(
    conn: Connection, tenant: str, supplier_id: int | None = None
) -> dict[int, Performance]:
    """Performance per supplier id (suppliers without any order are absent)."""
    deliveries = _deliveries(conn, tenant, supplier_id)
    fill = _fill(conn, tenant, supplier_id)
    return {
        s: _summarise(deliveries.get(s, []), fill.get(s, (0, 0)))
        for s in set(deliveries) | set(fill)
    }
