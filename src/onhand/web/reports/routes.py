"""HTTP: the console's aggregates under /v1/{tenant}/console/… (admin scope, read-only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import Response

from ... import db
from ...answers import (
    Alerts,
    CoverTile,
    History,
    Holds,
    LastPlan,
    ReturnsTile,
    StockSeries,
    ValuationSeries,
    answer,
)
from ...catalog import service as catalog
from ...catalog.schemas import MAX_ID
from ...errors import Invalid, NotFound
from ...http import Admin, EngineDep, Limit, api_router
from ...planning import plan, valuation
from ...tables import STATES
from . import alerts, history, holds, series, tiles

router = api_router(prefix="/v1/{tenant}/console", tags=["console"])
State = Literal[STATES]  # type: ignore[valid-type]


@router.get(
    "/tiles/returns",
    summary="Returns of the last 30 days against the 30 before",
    openapi_extra=answer(ReturnsTile),
)
def returns_tile(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    return tiles.tile(engine, caller.tenant, "returns")


@router.get(
    "/tiles/cover",
    summary="Days of cover by item and location against lead time",
    openapi_extra=answer(CoverTile),
)
def cover_tile(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    return tiles.tile(engine, caller.tenant, "cover")


def _bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    if since and until and since > until:
        raise Invalid("'since' must not be after 'until'.")
    start = datetime.combine(since, time.min, tzinfo=UTC) if since else None
    # `until` is inclusive: everything before the next midnight.
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC) if until else None
    return start, end


def _history(
    engine: Any,
    tenant: str,
    sku: str | None,
    location: str | None,
    reason: str | None,
    state: str | None,
    since: date | None,
    until: date | None,
    before: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    start, end = _bounds(since, until)
    with db.read(engine) as conn:
        item_id = catalog.item(conn, tenant, sku).id if sku else None
        location_id = catalog.location(conn, tenant, location).id if location else None
        return history.page(
            conn,
            tenant,
            item_id=item_id,
            location_id=location_id,
            reason=reason or None,
            state=state,
            since=start,
            until=end,
            before=before,
            limit=limit,
        )


Cursor = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Cursor from next_before")]


@router.get(
    "/history",
    summary="Ledger rows with the running balance, filtered, paged",
    openapi_extra=answer(History),
)
def get_history(
    caller: Admin,
    engine: EngineDep,
    sku: str | None = None,
    location: str | None = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    state: State | None = None,
    since: date | None = None,
    until: date | None = None,
    before: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    entries, cursor = _history(
        engine, caller.tenant, sku, location, reason, state, since, until, before, limit
    )
    return {"entries": entries, "next_before": cursor}


@router.get(
    "/history.csv",
    summary="The filtered ledger as CSV (up to 100,000 rows)",
    openapi_extra=answer("csv"),
)
def get_history_csv(
    caller: Admin,
    engine: EngineDep,
    sku: str | None = None,
    location: str | None = None,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    state: State | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    rows: list[dict[str, Any]] = []
    cursor: int | None = None
    while len(rows) < 100_000:
        page, cursor = _history(
            engine, caller.tenant, sku, location, reason, state, since, until, cursor, 1000
        )
        rows.extend(page)
        if cursor is None:
            break
    return Response(
        history.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="ledger.csv"'},
    )


@router.get(
    "/holds",
    summary="Active holds with the seconds left, soonest first",
    openapi_extra=answer(Holds),
)
def get_holds(
    caller: Admin,
    engine: EngineDep,
    sku: Annotated[str | None, Query(max_length=128)] = None,
    limit: Limit = 200,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        return {"holds": holds.active(conn, caller.tenant, db.utcnow(), sku=sku, limit=limit)}


@router.get(
    "/items/{sku}/series",
    summary="On hand per day and location, and units sold",
    openapi_extra=answer(StockSeries),
)
def get_series(
    sku: str,
    caller: Admin,
    engine: EngineDep,
    days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        item = catalog.item(conn, caller.tenant, sku)
        return {
            "sku": sku,
            **series.stock_and_sales(conn, caller.tenant, item.id, db.utcnow().date(), days),
        }


@router.get(
    "/valuation/series",
    summary="Stock value at the end of each of the last months",
    openapi_extra=answer(ValuationSeries),
)
def get_valuation_series(
    caller: Admin,
    engine: EngineDep,
    method: Literal["fifo", "average"] = "fifo",
    months: Annotated[int, Query(ge=1, le=24)] = 12,
) -> dict[str, Any]:
    with db.read(engine) as conn:
        points = []
        for day in series.month_ends(db.utcnow().date(), months):
            doc = valuation.report(conn, caller.tenant, method, day)
            points.append({"as_of": day.isoformat(), "value": doc["totals"]["value"]})
    return {"method": method, "points": points}


@router.get(
    "/alerts",
    summary="Items out, low or below their reorder point; latest alerts",
    openapi_extra=answer(Alerts),
)
def get_alerts(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    with db.read(engine) as conn:
        return alerts.alerts(conn, caller.tenant)


@router.get(
    "/plan", summary="The last plan run, or null when none ran yet", openapi_extra=answer(LastPlan)
)
def get_last_plan(caller: Admin, engine: EngineDep) -> dict[str, Any]:
    # The console asks before it reads suggestions, so a new tenant causes no 404s.
    with db.read(engine) as conn:
        try:
            return {"run": plan.status(conn, caller.tenant)}
        except NotFound:
            return {"run": None}
