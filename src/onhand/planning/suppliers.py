"""Suppliers and which items they sell (price, supplier SKU, pack size and MOQ per item)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy
from ..catalog import service as catalog
from ..errors import Conflict, NotFound
from .schemas import ItemSupplierIn, ItemSupplierPatch, SupplierIn, SupplierPatch
from .tables import item_suppliers, purchase_orders, suppliers


@dataclass(frozen=True)
class Supplier:
    id: int
    code: str
    currency: str
    lead_time_days: float
    lead_time_std_days: float
    moq: int
    pack_size: int
    default_price: Decimal | None


@dataclass(frozen=True)
class Source:
    """Where an item is bought: the supplier with the link's overrides applied."""

    supplier: Supplier
    supplier_sku: str | None
    price: Decimal | None
    moq: int
    pack_size: int
    preferred: bool


def money(value: Decimal | None) -> str | None:
    """A price as a plain decimal string without trailing zeros ("4.3", "12")."""
    if value is None:
        return None
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _supplier(row: Any) -> Supplier:
    return Supplier(
        row.id,
        row.code,
        row.currency,
        float(row.lead_time_days),
        float(row.lead_time_std_days),
        int(row.moq),
        int(row.pack_size),
        row.default_price,
    )


def _out(row: Any) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": row.name,
        "email": row.email,
        "currency": row.currency,
        "lead_time_days": row.lead_time_days,
        "lead_time_std_days": row.lead_time_std_days,
        "moq": row.moq,
        "pack_size": row.pack_size,
        "default_price": money(row.default_price),
        "active": row.active,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _row(conn: Connection, tenant: str, code: str) -> Any:
    row = conn.execute(tenancy.select(tenant, suppliers).where(suppliers.c.code == code)).first()
    if row is None:
        raise NotFound(f"There is no supplier '{code}'.", slug="unknown-supplier", supplier=code)
    return row


def supplier(conn: Connection, tenant: str, code: str) -> Supplier:
    return _supplier(_row(conn, tenant, code))


def suppliers_by_id(conn: Connection, tenant: str) -> dict[int, Supplier]:
    rows = conn.execute(tenancy.select(tenant, suppliers))
    return {r.id: _supplier(r) for r in rows}


def create(conn: Connection, tenant: str, body: SupplierIn) -> dict[str, Any]:
    exists = conn.execute(
        tenancy.select(tenant, suppliers, suppliers.c.id).where(suppliers.c.code == body.code)
    ).first()
    if exists:
        raise Conflict(
            f"A supplier with code '{body.code}' exists already.",
            slug="duplicate",
            supplier=body.code,
        )
    now = db.utcnow()
    conn.execute(
        tenancy.insert(tenant, suppliers).values(
            created_at=now, updated_at=now, **body.model_dump()
        )
    )
    return get(conn, tenant, body.code)


def get(conn: Connection, tenant: str, code: str) -> dict[str, Any]:
    return _out(_row(conn, tenant, code))


def listing(conn: Connection, tenant: str, active: bool | None = None) -> list[dict[str, Any]]:
    stmt = tenancy.select(tenant, suppliers)
    if active is not None:
        stmt = stmt.where(suppliers.c.active == active)
    return [_out(r) for r in conn.execute(stmt.order_by(suppliers.c.code))]


def update(conn: Connection, tenant: str, code: str, patch: SupplierPatch) -> dict[str, Any]:
    row = _row(conn, tenant, code)
    values = patch.model_dump(exclude_unset=True)
    for field in (
        "name",
        "currency",
        "lead_time_days",
        "lead_time_std_days",
        "moq",
        "pack_size",
        "active",
    ):
        if field in values and values[field] is None:
            values.pop(field)  # null means "leave as is" for fields that cannot be empty
    if values:
        conn.execute(
            tenancy.update(tenant, suppliers)
            .where(suppliers.c.id == row.id)
            .values(updated_at=db.utcnow(), **values)
        )
    return get(conn, tenant, code)


def delete(conn: Connection, tenant: str, code: str) -> None:
    """Remove a supplier that never received a purchase order (else deactivate it)."""
    row = _row(conn, tenant, code)
    used = conn.execute(
        sa.select(sa.func.count())
        .select_from(purchase_orders)
        .where(tenancy.of(tenant, purchase_orders), purchase_orders.c.supplier_id == row.id)
    ).scalar()
    if used:
        raise Conflict(
            f"Supplier '{code}' has {used} purchase orders; set active to false "
            "instead of deleting it.",
            slug="supplier-in-use",
            supplier=code,
        )
    conn.execute(
        tenancy.delete(tenant, item_suppliers).where(item_suppliers.c.supplier_id == row.id)
    )
    conn.execute(tenancy.delete(tenant, suppliers).where(suppliers.c.id == row.id))


# ---- item–supplier links ---------------------------------------------------------------


def _link_out(row: Any) -> dict[str, Any]:
    return {
        "supplier": row.code,
        "supplier_name": row.name,
        "supplier_sku": row.supplier_sku,
        "price": money(row.price),
        "currency": row.currency,
        "pack_size": row.link_pack_size,
        "moq": row.link_moq,
        "effective_pack_size": row.link_pack_size or row.pack_size,
        "effective_moq": row.moq if row.link_moq is None else row.link_moq,
        "effective_price": money(row.price if row.price is not None else row.default_price),
        "preferred": row.preferred,
        "lead_time_days": row.lead_time_days,
    }


def _links_stmt(tenant: str) -> sa.Select:
    s, link = suppliers, item_suppliers
    return (
        sa.select(
            s.c.code,
            s.c.name,
            s.c.currency,
            s.c.pack_size,
            s.c.moq,
            s.c.default_price,
            s.c.lead_time_days,
            link.c.supplier_sku,
            link.c.price,
            link.c.pack_size.label("link_pack_size"),
            link.c.moq.label("link_moq"),
            link.c.preferred,
            link.c.item_id,
        )
        .join(s, tenancy.on(tenant, s, s.c.id == link.c.supplier_id))
        .where(tenancy.of(tenant, link))
    )


def links(conn: Connection, tenant: str, sku: str) -> list[dict[str, Any]]:
    item = catalog.item(conn, tenant, sku)
    rows = conn.execute(
        _links_stmt(tenant)
        .where(item_suppliers.c.item_id == item.id)
        .order_by(item_suppliers.c.preferred.desc(), suppliers.c.code)
    )
    return [_link_out(r) for r in rows]


def _link(conn: Connection, tenant: str, sku: str, code: str) -> dict[str, Any]:
    for link in links(conn, tenant, sku):
        if link["supplier"] == code:
            return link
    raise NotFound(
        f"Supplier '{code}' is not linked to {sku}.", slug="unknown-link", sku=sku, supplier=code
    )


def _clear_preferred(conn: Connection, tenant: str, item_id: int) -> None:
    """One preferred supplier per item: a new preference replaces the old one."""
    conn.execute(
        tenancy.update(tenant, item_suppliers)
        .where(item_suppliers.c.item_id == item_id, item_suppliers.c.preferred)
        .values(preferred=False)
    )


def link(conn: Connection, tenant: str, sku: str, body: ItemSupplierIn) -> dict[str, Any]:
    item = catalog.item(conn, tenant, sku)
    sup = supplier(conn, tenant, body.supplier)
    exists = conn.execute(
        tenancy.select(tenant, item_suppliers, item_suppliers.c.item_id).where(
            item_suppliers.c.item_id == item.id, item_suppliers.c.supplier_id == sup.id
        )
    ).first()
    if exists:
        raise Conflict(
            f"Supplier '{body.supplier}' is already linked to {sku}; PATCH the link.",
            slug="duplicate",
            sku=sku,
            supplier=body.supplier,
        )
    if body.preferred:
        _clear_preferred(conn, tenant, item.id)
    now = db.utcnow()
    conn.execute(
        tenancy.insert(tenant, item_suppliers).values(
            item_id=item.id,
            supplier_id=sup.id,
            created_at=now,
            updated_at=now,
            **body.model_dump(exclude={"supplier"}),
        )
    )
    return _link(conn, tenant, sku, body.supplier)


def update_link(
    conn: Connection, tenant: str, sku: str, code: str, patch: ItemSupplierPatch
) -> dict[str, Any]:
    item = catalog.item(conn, tenant, sku)
    sup = supplier(conn, tenant, code)
    _link(conn, tenant, sku, code)
    values = patch.model_dump(exclude_unset=True)
    if values.get("preferred") is None:
        values.pop("preferred", None)
    elif values["preferred"]:
        _clear_preferred(conn, tenant, item.id)
    if values:
        conn.execute(
            tenancy.update(tenant, item_suppliers)
            .where(item_suppliers.c.item_id == item.id, item_suppliers.c.supplier_id == sup.id)
            .values(updated_at=db.utcnow(), **values)
        )
    return _link(conn, tenant, sku, code)


def unlink(conn: Connection, tenant: str, sku: str, code: str) -> None:
    item = catalog.item(conn, tenant, sku)
    sup = supplier(conn, tenant, code)
    done = conn.execute(
        tenancy.delete(tenant, item_suppliers).where(
            item_suppliers.c.item_id == item.id, item_suppliers.c.supplier_id == sup.id
        )
    )
    if done.rowcount == 0:
        raise NotFound(
            f"Supplier '{code}' is not linked to {sku}.",
            slug="unknown-link",
            sku=sku,
            supplier=code,
        )


_SOURCE_COLUMNS = (
    suppliers,
    item_suppliers.c.item_id,
    item_suppliers.c.supplier_sku,
    item_suppliers.c.price.label("link_price"),
    item_suppliers.c.pack_size.label("link_pack_size"),
    item_suppliers.c.moq.label("link_moq"),
    item_suppliers.c.preferred,
)


def _source(row: Any) -> Source:
    sup = _supplier(row)
    price = row.link_price if row.link_price is not None else row.default_price
    return Source(
        sup,
        row.supplier_sku,
        price,
        sup.moq if row.link_moq is None else int(row.link_moq),
        int(row.link_pack_size or sup.pack_size),
        bool(row.preferred),
    )


def _source_rows(tenant: str) -> sa.Select:
    return (
        sa.select(*_SOURCE_COLUMNS)
        .join(
            suppliers, tenancy.on(tenant, suppliers, suppliers.c.id == item_suppliers.c.supplier_id)
        )
        .where(tenancy.of(tenant, item_suppliers))
    )


def sources(conn: Connection, tenant: str) -> dict[int, Source]:
    """Per item, the supplier it is bought from: the preferred link, else the only or the
    cheapest active one (ties by code). Inactive suppliers are never chosen."""
    best: dict[int, tuple[tuple, Source]] = {}
    for r in conn.execute(_source_rows(tenant).where(suppliers.c.active)):
        src = _source(r)
        rank = (not src.preferred, src.price is None, src.price or 0, src.supplier.code)
        if r.item_id not in best or rank < best[r.item_id][0]:
            best[r.item_id] = (rank, src)
    return {item_id: src for item_id, (_, src) in best.items()}


def source_for(conn: Connection, tenant: str, item_id: int, supplier_id: int) -> Source | None:
    """The link between one item and one supplier, if there is one."""
    row = conn.execute(
        _source_rows(tenant).where(
            item_suppliers.c.item_id == item_id, item_suppliers.c.supplier_id == supplier_id
        )
    ).first()
    return None if row is None else _source(row)
