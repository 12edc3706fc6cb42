"""CPU per hold through the app's own HTTP route, with and without its direct path (edge.direct).

    python bench/hold_route.py --blocks 8 --holds 2000 --json

The whole app as `onhand serve` builds it (create_app, its lifespan, group commit, outbox
tails, PostgreSQL), driven in-process over ASGI by httpx with 64 holds in flight on one SKU:
no sockets and no HTTP parsing, so the figure is the route's cost and what follows it. The two
variants run in alternating blocks of `--holds` holds each, so a host that slows down during
the run slows both alike. CPU is read per block: of the whole process, and of the event-loop
thread alone (where the route runs; the batches run on their own thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from onhand import db, schema
from onhand.app import create_app
from onhand.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_holds import _drop_database, _fresh_database  # noqa: E402
from reservations import oversold, setup  # noqa: E402

BODY = b'{"lines": [{"sku": "SKU-000000", "qty": 1}]}'


def _app(url: str, engine: sa.Engine, direct: bool) -> Any:
    app = create_app(Settings(database_url=url, run_jobs=False, log_level="warning"), engine)
    app.state.direct_routes = direct
    return app


async def _block(app: Any, tenant: str, token: str, holds: int, clients: int) -> dict[str, Any]:
    """`holds` holds, `clients` at a time; CPU of the process and of this (the loop's) thread."""
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    statuses: dict[int, int] = {}
    left = holds
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench") as client,
    ):

        async def one_client() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                r = await client.post(f"/v1/{tenant}/reservations", content=BODY, headers=headers)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        await client.get("/health")
        process, thread, wall = time.process_time(), time.thread_time(), time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        process, thread = time.process_time() - process, time.thread_time() - thread
        wall = time.perf_counter() - wall
    return {
        "process_ms_per_hold": 1000 * process / holds,
        "loop_ms_per_hold": 1000 * thread / holds,
        "holds_per_s": holds / wall,
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/onhand_route_bench",
    )
    parser.add_argument("--blocks", type=int, default=8, help="Blocks of each variant")
    parser.add_argument("--holds", type=int, default=2000, help="Holds per block")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line")
    args = parser.parse_args()

    url = db.normalise_url(args.database_url)
    _fresh_database(url)
    engine = db.make_engine(url)
    schema.upgrade(engine)
    tenant, _, token = setup(engine, 1, args.blocks * args.holds * 2 + 1000)
    apps = {"direct": _app(url, engine, True), "full": _app(url, engine, False)}
    blocks: dict[str, list[dict[str, Any]]] = {name: [] for name in apps}
    for n in range(args.blocks):
        for name in list(apps)[:: 1 if n % 2 == 0 else -1]:
            run = asyncio.run(_block(apps[name], tenant, token, args.holds, args.clients))
            blocks[name].append(run)
            if not args.json:
                print(name, {k: round(v, 3) for k, v in run.items() if k != "statuses"})
    result: dict[str, Any] = {"benchmark": "hold_route", "blocks": args.blocks, "holds": args.holds}
    for name, runs in blocks.items():
        result[name] = {
            key: round(statistics.median(r[key] for r in runs), 4)
            for key in ("process_ms_per_hold", "loop_ms_per_hold", "holds_per_s")
        }
        result[name]["not_201"] = sum(c for r in runs for s, c in r["statuses"].items() if s != 201)
    for key in ("process_ms_per_hold", "loop_ms_per_hold"):
        # Paired per block: each direct block against the full block beside it.
        pairs = [d[key] / f[key] for d, f in zip(blocks["direct"], blocks["full"], strict=True)]
        result[f"direct_vs_full_{key}"] = round(statistics.median(pairs), 3)
    result["oversold"] = oversold(engine, tenant)
    engine.dispose()
    _drop_database(url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
