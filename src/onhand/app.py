"""The FastAPI application: routes, error handling, metrics, and the background jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import Engine

from . import __version__, apidocs, db, gcpolicy, logs, problems
from . import telemetry as otel
from .answers import Health, answer
from .catalog.routes import router as catalog_router
from .channels.routes import router as channels_router
from .counts.routes import router as counts_router
from .edge import StrictJSONRoute
from .events import live
from .fulfilment.routes import router as fulfilment_router
from .metrics import RequestMetrics, check_access, metrics_response
from .planning.landed_routes import router as landed_router
from .planning.routes import router as planning_router
from .preauth import RequestEdge
from .reservations.batcher import GroupCommit
from .reservations.routes import router as reservations_router
from .returns.routes import router as returns_router
from .settings import Settings, get_settings
from .stock.lot_routes import router as lots_router
from .stock.routes import router as stock_router
from .web.reports.routes import router as console_router
from .web.routes import router as web_router


def create_served_app() -> FastAPI:
    """The app as `onhand serve` runs it in each worker: from the environment's settings, its
    process's garbage collector tuned once it has started (gcpolicy). Tests build their apps
    with `create_app`, whose processes must collect as usual."""
    return create_app(tune_gc=True)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    run_jobs: bool | None = None,
    tune_gc: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    logs.configure(settings.log_level, settings.log_format)
    engine = engine or db.make_engine(settings.database_url)
    jobs_on = settings.run_jobs if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from .jobs import Jobs

        runner = Jobs(app.state.engine, settings) if jobs_on else None
        if runner:
            await runner.start()
        if tune_gc:
            gcpolicy.tune()
        try:
            yield
        finally:
            if runner:
                await runner.stop()
            await live.shutdown(app)

    app = FastAPI(
        title="onhand",
        version=__version__,
        summary="Inventory backbone: stock ledger, reservations, live stock, replenishment.",
        lifespan=lifespan,
        docs_url=None,  # served offline by apidocs
        redoc_url=None,
        telemetry=otel.config(),
    )
    app.router.route_class = StrictJSONRoute
    app.state.engine = engine
    app.state.settings = settings
    app.state.direct_routes = True  # see edge.direct
    app.state.group_commit = GroupCommit(engine, enabled=settings.group_commit)
    problems.install(app)
    app.add_middleware(RequestEdge, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    # Checkout holds first: the routes are tried in order, and this is the busiest one.
    app.include_router(reservations_router)
    app.include_router(catalog_router)
    app.include_router(fulfilment_router)  # before stock: it serves GET /availability
    app.include_router(stock_router)
    app.include_router(lots_router)
    live.install(app)  # SSE/WebSocket hub, webhooks API, Redis availability cache
    app.include_router(planning_router)
    app.include_router(console_router)
    app.include_router(channels_router)
    app.include_router(landed_router)
    app.include_router(returns_router)
    app.include_router(counts_router)
    app.include_router(web_router)

    @app.get(
        "/health",
        tags=["ops"],
        summary="Liveness and database reachability",
        openapi_extra=answer(Health),
    )
    def health() -> dict[str, Any]:
        with db.read(engine) as conn:
            conn.execute(sa.text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=False)
    def metrics(request: Request) -> Any:
        check_access(request, settings.metrics_token)
        return metrics_response()

    apidocs.install(app)
    return app
