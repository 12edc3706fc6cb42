"""The reference service of bench/http_holds.py: what a plain FastAPI + psycopg service does
for a hold, one transaction per request (a conditional UPDATE, then an INSERT).

    ONHAND_REFERENCE_DSN=postgresql://postgres@127.0.0.1:5432/db uvicorn app:app

It answers the same POST /v1/{tenant}/reservations body as onhand ({"lines": [{"sku",
"qty"}]}, first line only), 201 when granted, 409 when the stock is not there. No auth, no
ledger, no events, no idempotency: the floor of the work a hold needs, not a competitor.
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

DSN = os.environ.get("ONHAND_REFERENCE_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
POOL = AsyncConnectionPool(DSN, min_size=8, max_size=int(os.environ.get("POOL", "64")), open=False)


class Line(BaseModel):
    sku: str
    qty: int


class Hold(BaseModel):
    lines: list[Line]


@asynccontextmanager
async def lifespan(_: FastAPI) -> Any:
    await POOL.open()
    yield
    await POOL.close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/{tenant}/reservations", status_code=201)
async def hold(tenant: str, body: Hold) -> Any:
    line = body.lines[0]
    async with POOL.connection() as conn, conn.transaction():
        took = await conn.execute(
            "UPDATE ref_stock SET reserved = reserved + %s "
            "WHERE sku = %s AND on_hand - reserved >= %s",
            (line.qty, line.sku, line.qty),
        )
        if took.rowcount != 1:
            return JSONResponse({"type": "insufficient-stock"}, status_code=409)
        hold_id = str(uuid.uuid4())
        await conn.execute(
            "INSERT INTO ref_holds (id, sku, qty, created_at) VALUES (%s, %s, %s, now())",
            (hold_id, line.sku, line.qty),
        )
    return {"id": hold_id, "status": "active"}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
