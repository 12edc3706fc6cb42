"""HTTP: locations and items."""

from typing import Annotated, Any

from fastapi import Query

from .. import db, tenants
from ..answers import Item, Items, Location, LocationBalances, Locations, TenantSettings, answer
from ..events import outbox
from ..events.catalogue import LocationUpdated
from ..http import Admin, EngineDep, Limit, api_router
from ..inputs import Digits
from ..stock.availability import location_figures
from . import service
from .schemas import MAX_ID, ItemIn, ItemPatch, Kind, LocationIn, LocationPatch

router = api_router(prefix="/v1/{tenant}", tags=["catalogue"])


@router.post(
    "/locations",
    status_code=201,
    summary="Create a location (warehouse, zone or bin)",
    openapi_extra=answer(Location),
)
def create_location(body: LocationIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.create_location(conn, caller.tenant, body)


@router.get("/locations", summary="All locations, by priority", openapi_extra=answer(Locations))
def list_locations(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"locations": service.list_locations(conn, caller.tenant)}


@router.get("/locations/{code}", summary="One location", openapi_extra=answer(Location))
def get_location(code: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.get_location(conn, caller.tenant, code)


@router.patch(
    "/locations/{code}",
    summary="Rename a location, or change its zone, priority or parent",
    description="Changes the fields given and leaves the others as they are; the code stays. "
    "`parent` moves the location (with everything inside it) into another one, and `null` "
    "makes it a warehouse; a location that does not exist, or one inside the moved location "
    "(a location cannot be its own ancestor), is a 422. `zone` may be cleared with `null`; "
    "`name` and `priority` may not. An empty body is a 422. Stock stays where it is.",
    openapi_extra=answer(Location),
)
def update_location(
    code: str, body: LocationPatch, caller: Admin, engine: EngineDep
) -> dict[str, Any]:
    with db.write(engine) as conn:
        updated = service.update_location(conn, caller.tenant, code, body)
        # Announced like a stock change, in its transaction: the availability cache shows a
        # location's zone and priority in every item's figures and refreshes them on this.
        event = LocationUpdated(
            location=code,
            changed=sorted(body.model_dump(exclude_unset=True)),
            name=updated["name"],
            zone=updated["zone"],
            priority=updated["priority"],
            parent=updated["parent"],
        )
        outbox.record_many(conn, [event.row(caller.tenant, db.utcnow())])
        return updated


@router.get(
    "/locations/{code}/balances",
    summary="Every item's figures at one location",
    openapi_extra=answer(LocationBalances),
)
def location_balances(
    code: str,
    caller: Admin,
    engine: EngineDep,
    after: Annotated[int, Digits, Query(ge=0, le=MAX_ID, description="Cursor")] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        loc = service.location(conn, caller.tenant, code)
        page, cursor = service.list_items(conn, caller.tenant, after=after, limit=limit)
        figures = location_figures(conn, caller.tenant, [i["id"] for i in page], db.utcnow())
        rows = [
            {"sku": i["sku"], **{k: v for k, v in f.items() if k not in ("location_id",)}}
            for i in page
            for f in figures[i["id"]]
            if f["location"] == loc.code
        ]
    return {"location": code, "balances": rows, "next_cursor": cursor}


@router.post(
    "/items", status_code=201, summary="Create an item of any kind", openapi_extra=answer(Item)
)
def create_item(body: ItemIn, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.create_item(conn, caller.tenant, body)


@router.get("/items", summary="Items with filters, paged by cursor", openapi_extra=answer(Items))
def list_items(
    caller: Admin,
    engine: EngineDep,
    kind: Kind | None = None,
    q: Annotated[str | None, Query(max_length=100, description="SKU or name contains")] = None,
    barcode: str | None = None,
    active: bool | None = None,
    after: Annotated[
        int, Digits, Query(ge=0, le=MAX_ID, description="Cursor from next_cursor")
    ] = 0,
    limit: Limit = 50,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        page, cursor = service.list_items(
            conn,
            caller.tenant,
            kind=kind,
            q=q,
            barcode=barcode,
            active=active,
            after=after,
            limit=limit,
        )
    return {"items": page, "next_cursor": cursor}


@router.get("/items/{sku}", summary="One item", openapi_extra=answer(Item))
def get_item(sku: str, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return service.get_item(conn, caller.tenant, sku)


@router.patch(
    "/items/{sku}",
    summary="Change an item's name, thresholds, backorders, …",
    openapi_extra=answer(Item),
)
def update_item(sku: str, body: ItemPatch, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return service.update_item(conn, caller.tenant, sku, body)


@router.get("/settings", summary="The tenant's settings", openapi_extra=answer(TenantSettings))
def get_settings(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return tenants.load(conn, caller.tenant).__dict__


@router.patch(
    "/settings",
    summary="Change time zone, default hold lifetime, allocation",
    openapi_extra=answer(TenantSettings, example="SettingsPatch"),
)
def patch_settings(body: tenants.SettingsPatch, caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.write(engine) as conn:
        return tenants.update(conn, caller.tenant, body).__dict__
