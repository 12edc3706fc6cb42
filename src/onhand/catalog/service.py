"""Catalogue reads and writes: locations (a tree) and items of every kind."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .. import db, tenancy
from ..errors import Conflict, Invalid, NotFound
from ..stock.model import Item, Location
from ..stock.sql import available_expr
from ..tables import balances, bundle_components, items, locations
from .schemas import ItemIn, ItemPatch, LocationIn, LocationPatch

# ---- locations -------------------------------------------------------------------------

_LOCATION = (locations.c.id, locations.c.code, locations.c.zone, locations.c.priority)


def _with_parent(tenant: str) -> sa.Select[Any]:
    """The tenant's locations with their parent's code (the parent is the same tenant's)."""
    parent = locations.alias("parent")
    on = sa.and_(parent.c.id == locations.c.parent_id, tenancy.of(tenant, parent))
    return tenancy.select(
        tenant, locations, locations, parent.c.code.label("parent_code")
    ).outerjoin(parent, on)


def _location_out(row: Any, parent_code: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "code": row.code,
        "name": row.name,
        "parent": parent_code,
        "zone": row.zone,
        "priority": row.priority,
        "created_at": row.created_at,
    }


def create_location(conn: Connection, tenant: str, body: LocationIn) -> dict[str, Any]:
    parent_id = location(conn, tenant, body.parent).id if body.parent else None
    exists = conn.execute(
        tenancy.select(tenant, locations, locations.c.id).where(locations.c.code == body.code)
    ).first()
    duplicate = Conflict(f"A location with code '{body.code}' exists already.", slug="duplicate")
    if exists:
        raise duplicate
    try:
        conn.execute(
            tenancy.insert(tenant, locations).values(
                code=body.code,
                name=body.name,
                parent_id=parent_id,
                zone=body.zone,
                priority=body.priority,
                created_at=db.utcnow(),
            )
        )
    except IntegrityError:  # created by a concurrent request since the check above
        raise duplicate from None
    return get_location(conn, tenant, body.code)


def update_location(
    conn: Connection, tenant: str, code: str, patch: LocationPatch
) -> dict[str, Any]:
    current = location(conn, tenant, code)
    values = patch.model_dump(exclude_unset=True)
    if "parent" in values:
        values["parent_id"] = _new_parent(conn, tenant, current, values.pop("parent"))
    conn.execute(
        tenancy.update(tenant, locations).where(locations.c.id == current.id).values(**values)
    )
    return get_location(conn, tenant, code)


def _new_parent(conn: Connection, tenant: str, moved: Location, code: str | None) -> int | None:
    """The id of the location `moved` goes into (None: it becomes a warehouse); 422 when that
    location does not exist or lies inside `moved`, which would make the tree a loop."""
    if code is None:
        return None
    tree = tenancy.select(
        tenant, locations, locations.c.id, locations.c.code, locations.c.parent_id
    )
    if not db.is_sqlite(conn):
        # Two moves checked side by side could each pass and together close a loop (A into B
        # while B goes into A): lock the tenant's tree, in id order so movers never deadlock.
        # NO KEY UPDATE, so new balance rows (whose foreign key shares the row) are not held up.
        tree = tree.order_by(locations.c.id).with_for_update(key_share=True)
    rows = conn.execute(tree).all()
    parent_of = {r.id: r.parent_id for r in rows}
    target = next((r.id for r in rows if r.code == code), None)
    if target is None:
        raise Invalid(
            f"There is no location '{code}' to put {moved.code} in.",
            slug="unknown-location",
            location=code,
        )
    ancestor: int | None = target
    seen: set[int] = set()
    while ancestor is not None and ancestor not in seen:  # `seen`: never hang on a bad tree
        seen.add(ancestor)
        if ancestor == moved.id:
            where = "itself" if target == moved.id else f"{code}, which is inside it"
            raise Invalid(
                f"{moved.code} cannot go into {where}: a location cannot be its own ancestor.",
                slug="location-cycle",
                location=moved.code,
                parent=code,
            )
        ancestor = parent_of.get(ancestor)
    return target


def location(conn: Connection, tenant: str, code: str) -> Location:
    row = conn.execute(
        tenancy.select(tenant, locations, *_LOCATION).where(locations.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"There is no location '{code}'.", slug="unknown-location", location=code)
    return Location(row.id, row.code, row.zone, row.priority)


def get_location(conn: Connection, tenant: str, code: str) -> dict[str, Any]:
    row = conn.execute(_with_parent(tenant).where(locations.c.code == code)).first()
    if row is None:
        raise NotFound(f"There is no location '{code}'.", slug="unknown-location", location=code)
    return _location_out(row, row.parent_code)


def list_locations(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    rows = conn.execute(_with_parent(tenant).order_by(locations.c.priority, locations.c.code))
    return [_location_out(r, r.parent_code) for r in rows]


def locations_by_id(conn: Connection, tenant: str) -> dict[int, Location]:
    rows = conn.execute(tenancy.select(tenant, locations, *_LOCATION))
    return {r.id: Location(r.id, r.code, r.zone, r.priority) for r in rows}


# ---- items -----------------------------------------------------------------------------


def _validate_kind(body: ItemIn) -> None:
    if body.kind == "pod" and not body.capacity_per_day:
        raise Invalid("A print-on-demand item needs capacity_per_day (units it can make a day).")
    if body.kind != "pod" and body.capacity_per_day is not None:
        raise Invalid("capacity_per_day only applies to print-on-demand ('pod') items.")
    if body.kind == "bundle" and not body.components:
        raise Invalid('A bundle needs components, e.g. [{"sku": "A", "qty": 2}].')
    if body.kind != "bundle" and body.components:
        raise Invalid("Only a bundle item has components.")
    if body.kind == "bundle" and len({c.sku for c in body.components or []}) != len(
        body.components or []
    ):
        raise Invalid("A bundle lists each component SKU once; add up the quantities instead.")
    if body.tracking != "none" and body.kind != "physical":
        raise Invalid(
            f"Only physical items can be tracked by {body.tracking}, not {body.kind} items."
        )
    if body.tracking != "none" and body.allow_backorder:
        raise Invalid(
            f"A {body.tracking}-tracked item cannot allow backorders: "
            "units that do not exist have no lot or serial number."
        )
    for name in ("min_shelf_life_days", "expiry_warning_days"):
        if getattr(body, name) is not None and body.tracking != "lot":
            raise Invalid(f"{name} applies to lot-tracked items (tracking 'lot').")


def create_item(conn: Connection, tenant: str, body: ItemIn) -> dict[str, Any]:
    _validate_kind(body)
    exists = conn.execute(
        tenancy.select(tenant, items, items.c.id).where(items.c.sku == body.sku)
    ).first()
    duplicate = Conflict(
        f"An item with SKU '{body.sku}' exists already.", slug="duplicate", sku=body.sku
    )
    if exists:
        raise duplicate
    parts = []
    for comp in body.components or []:
        part = item(conn, tenant, comp.sku)
        if part.kind == "bundle":
            raise Invalid(f"{comp.sku} is a bundle itself; a bundle's components are single items.")
        parts.append((part, comp.qty))
    now = db.utcnow()
    values = body.model_dump(exclude={"components"})
    try:
        inserted = conn.execute(
            tenancy.insert(tenant, items).values(created_at=now, updated_at=now, **values)
        ).inserted_primary_key
        assert inserted is not None  # a one-row INSERT always reports its key
        new_id = inserted[0]
    except IntegrityError:  # created by a concurrent request since the check above
        raise duplicate from None
    if parts:
        conn.execute(
            bundle_components.insert(),
            [
                {"tenant_id": tenant, "bundle_id": new_id, "component_id": p.id, "qty": q}
                for p, q in parts
            ],
        )
    return get_item(conn, tenant, body.sku)


def update_item(conn: Connection, tenant: str, sku: str, patch: ItemPatch) -> dict[str, Any]:
    current = item(conn, tenant, sku)
    values = patch.model_dump(exclude_unset=True)
    if "capacity_per_day" in values and current.kind != "pod":
        raise Invalid("capacity_per_day only applies to print-on-demand ('pod') items.")
    if values.get("allow_backorder") is False and current.allow_backorder:
        _refuse_if_backordered(conn, tenant, current)
    if values.get("allow_backorder") and current.tracking != "none":
        raise Invalid(
            f"A {current.tracking}-tracked item cannot allow backorders: "
            "units that do not exist have no lot or serial number."
        )
    for name in ("min_shelf_life_days", "expiry_warning_days"):
        if values.get(name) is not None and not current.lots:
            raise Invalid(f"{name} applies to lot-tracked items (tracking 'lot').")
    if values:
        conn.execute(
            tenancy.update(tenant, items)
            .where(items.c.id == current.id)
            .values(updated_at=db.utcnow(), **values)
        )
    return get_item(conn, tenant, sku)


def _refuse_if_backordered(conn: Connection, tenant: str, current: Item) -> None:
    """Backorders may only be turned off while no location sells more than it holds."""
    lowest = conn.execute(
        tenancy.select(tenant, balances, sa.func.min(available_expr(db.utcnow()))).where(
            balances.c.item_id == current.id
        )
    ).scalar()
    if lowest is not None and lowest < 0:
        raise Conflict(
            f"{current.sku} is backordered ({-int(lowest)} more promised than held at "
            "a location): receive or adjust stock before turning backorders off.",
            slug="backordered",
            sku=current.sku,
        )


def _components(conn: Connection, tenant: str, bundle_ids: list[int]) -> dict[int, list[Any]]:
    if not bundle_ids:
        return {}
    bc = bundle_components
    rows = conn.execute(
        tenancy.select(tenant, bc, bc.c.bundle_id, bc.c.qty, items)
        .join(items, items.c.id == bc.c.component_id)
        .where(tenancy.of(tenant, items), bc.c.bundle_id.in_(bundle_ids))
        .order_by(items.c.id)
    )
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(r.bundle_id, []).append(r)
    return out


def _item_from_row(row: Any, parts: list[Any]) -> Item:
    components = tuple((_item_from_row(p, []), p.qty) for p in parts)
    return Item(
        row.id,
        row.sku,
        row.kind,
        row.unit,
        dict(row.units or {}),
        bool(row.allow_backorder),
        row.capacity_per_day,
        components,
        row.tracking,
        row.min_shelf_life_days,
    )


def item(conn: Connection, tenant: str, sku: str) -> Item:
    """The item behind a SKU, with its components when it is a bundle; 404 if unknown."""
    row = conn.execute(tenancy.select(tenant, items).where(items.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"There is no item with SKU '{sku}'.", slug="unknown-sku", sku=sku)
    parts = _components(conn, tenant, [row.id]).get(row.id, []) if row.kind == "bundle" else []
    return _item_from_row(row, parts)


def _item_out(row: Any, parts: list[Any]) -> dict[str, Any]:
    out = {
        c: getattr(row, c)
        for c in (
            "id",
            "sku",
            "name",
            "kind",
            "unit",
            "units",
            "barcode",
            "attributes",
            "allow_backorder",
            "low_stock_threshold",
            "reorder_point",
            "capacity_per_day",
            "unit_cost",
            "active",
            "created_at",
            "updated_at",
            "tracking",
            "min_shelf_life_days",
            "expiry_warning_days",
        )
    }
    out["unit_cost"] = str(row.unit_cost) if row.unit_cost is not None else None
    if row.kind == "bundle":
        out["components"] = [{"sku": p.sku, "qty": p.qty} for p in parts]
    return out


def get_item(conn: Connection, tenant: str, sku: str) -> dict[str, Any]:
    row = conn.execute(tenancy.select(tenant, items).where(items.c.sku == sku)).first()
    if row is None:
        raise NotFound(f"There is no item with SKU '{sku}'.", slug="unknown-sku", sku=sku)
    return _item_out(row, _components(conn, tenant, [row.id]).get(row.id, []))


def list_items(
    conn: Connection,
    tenant: str,
    *,
    kind: str | None = None,
    q: str | None = None,
    barcode: str | None = None,
    active: bool | None = None,
    after: int = 0,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of items ordered by id; returns the rows and the cursor of the next page."""
    stmt = tenancy.select(tenant, items).where(items.c.id > after)
    if kind:
        stmt = stmt.where(items.c.kind == kind)
    if barcode:
        stmt = stmt.where(items.c.barcode == barcode)
    if active is not None:
        stmt = stmt.where(items.c.active == active)
    if q:
        # `contains` escapes % and _, so a search for "100%" finds exactly that text.
        needle = q.lower()
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(items.c.sku).contains(needle, autoescape=True),
                sa.func.lower(items.c.name).contains(needle, autoescape=True),
            )
        )
    rows = conn.execute(stmt.order_by(items.c.id).limit(limit + 1)).all()
    page = rows[:limit]
    parts = _components(conn, tenant, [r.id for r in page if r.kind == "bundle"])
    next_cursor = page[-1].id if len(rows) > limit else None
    return [_item_out(r, parts.get(r.id, [])) for r in page], next_cursor


@functools.cache
def _items_by_sku(pg: bool) -> sa.Select:
    """Read by every batch of holds: built once (see db.fetch)."""
    wanted = db.in_bound(items.c.sku, "skus", pg=pg)
    return tenancy.select(sa.bindparam("tenant"), items).where(wanted)


def items_by_sku(conn: Connection, tenant: str, skus: set[str]) -> dict[str, Item]:
    """Many items (with bundle components) in two queries; unknown SKUs are simply absent."""
    if not skus:
        return {}
    rows = db.fetch(
        conn, _items_by_sku(not db.is_sqlite(conn)), {"tenant": tenant, "skus": sorted(skus)}
    )
    parts = _components(conn, tenant, [r.id for r in rows if r.kind == "bundle"])
    return {r.sku: _item_from_row(r, parts.get(r.id, [])) for r in rows}


def locations_by_code(conn: Connection, tenant: str) -> dict[str, Location]:
    return {loc.code: loc for loc in locations_by_id(conn, tenant).values()}


def items_by_id(conn: Connection, tenant: str, ids: set[int]) -> dict[int, Item]:
    if not ids:
        return {}
    rows = conn.execute(tenancy.select(tenant, items).where(items.c.id.in_(sorted(ids)))).all()
    return {r.id: _item_from_row(r, []) for r in rows}


def kit_links(
    conn: Connection,
    tenant: str,
    *,
    parts: list[str] | None = None,
    kits: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(component SKU, bundle SKU) pairs, limited to the components or bundles named."""
    part, kit = items.alias("part"), items.alias("kit")
    bc = bundle_components
    stmt = (
        tenancy.select(tenant, bc, part.c.sku, kit.c.sku)
        .join(part, sa.and_(part.c.id == bc.c.component_id, tenancy.of(tenant, part)))
        .join(kit, sa.and_(kit.c.id == bc.c.bundle_id, tenancy.of(tenant, kit)))
        .order_by(part.c.sku, kit.c.sku)
    )
    if parts is not None:
        stmt = stmt.where(part.c.sku.in_(parts))
    if kits is not None:
        stmt = stmt.where(kit.c.sku.in_(kits))
    return [(component, bundle) for component, bundle in conn.execute(stmt)]
