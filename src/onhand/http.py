"""Shared FastAPI dependencies: the engine, the authenticated caller per scope, paging."""

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from sqlalchemy.engine import Engine

from .auth import Caller, require


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]
Admin = Annotated[Caller, Depends(require("admin"))]
Storefront = Annotated[Caller, Depends(require("storefront"))]
Public = Annotated[Caller, Depends(require("public"))]
Sync = Annotated[Caller, Depends(require("sync"))]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size")]
