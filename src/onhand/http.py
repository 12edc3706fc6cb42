"""Shared FastAPI pieces: routers, the engine, the authenticated caller per scope, paging."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy.engine import Engine

from .auth import Caller, require
from .edge import StrictJSONRoute
from .inputs import Digits


def api_router(**options: Any) -> APIRouter:
    """An APIRouter whose JSON bodies are parsed strictly (see `edge`)."""
    return APIRouter(route_class=StrictJSONRoute, **options)


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]
Admin = Annotated[Caller, Depends(require("admin"))]
Storefront = Annotated[Caller, Depends(require("storefront"))]
Public = Annotated[Caller, Depends(require("public"))]
Sync = Annotated[Caller, Depends(require("sync"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Limit = Annotated[int, Digits, Query(ge=1, le=1000, description="Page size")]
