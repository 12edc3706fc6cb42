"""Suppliers and item links for the demo tenant.

The supplier list and the links live in `onhand.demo` (one definition, used by the demo
loader as well). `add_demo_suppliers` adds whatever of it is missing, so it also brings a
demo database loaded before the planning tables existed up to date; SKUs the tenant does
not have are skipped.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .. import tenancy
from ..catalog import service as catalog
from . import suppliers
from .tables import item_suppliers
from .tables import suppliers as suppliers_table


def add_demo_suppliers(conn: Connection, tenant: str) -> dict[str, int]:
    """Create the demo suppliers and links that are missing; returns how many were added."""
    from .. import demo  # the demo imports planning, so import it only when called

    have = set(
        conn.execute(tenancy.select(tenant, suppliers_table, suppliers_table.c.code)).scalars()
    )
    added = {"suppliers": 0, "links": 0}
    for vendor in demo.SUPPLIERS:
        if vendor.code not in have:
            suppliers.create(conn, tenant, vendor)
            added["suppliers"] += 1
    links = demo.supplier_links()
    found = catalog.items_by_sku(conn, tenant, {sku for sku, _ in links})
    ids = {s.code: s.id for s in suppliers.suppliers_by_id(conn, tenant).values()}
    linked = {
        (r.item_id, r.supplier_id)
        for r in conn.execute(
            tenancy.select(
                tenant, item_suppliers, item_suppliers.c.item_id, item_suppliers.c.supplier_id
            )
        )
    }
    for sku, link in links:
        item = found.get(sku)
        if item is None or (item.id, ids[link.supplier]) in linked:
            continue
        suppliers.link(conn, tenant, sku, link)
        added["links"] += 1
    return added
