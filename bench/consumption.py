"""Consumption throughput: batches of till sales (recipes and single items) on PostgreSQL.

    python bench/consumption.py --json                       # a scratch PostgreSQL database
    python bench/consumption.py --database-url URL --batches 40 --batch-size 500 --clients 2

A café chain: `--locations` cafés, `--items` stocked items, `--recipes` bundle items of three
ingredients. Each batch is one till's queue (one café); each event sells a random item or
recipe there. Each batch is one
call of the service (request validation included) in one transaction, as the HTTP route
runs it. The baseline runs the same sales one event per batch, side by side in the same run.
Afterwards the ledger is checked: every applied sale's parts are on it exactly once.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from onhand import auth, db, schema
from onhand.catalog.service import Item, Location
from onhand.fulfilment import consumption
from onhand.fulfilment.schemas import ConsumptionIn
from onhand.stock import ledger
from onhand.tables import bundle_components, items, locations
from onhand.tables import ledger as ledger_table

PG_ADMIN_URL = os.environ.get(
    "ONHAND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def setup(engine: sa.Engine, n_locations: int, n_items: int, n_recipes: int) -> tuple:
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    now = db.utcnow()
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, tenant)
        codes = [f"CAFE-{i:03d}" for i in range(n_locations)]
        conn.execute(
            locations.insert(),
            [{"tenant_id": tenant, "code": c, "name": c, "created_at": now} for c in codes],
        )
        skus = [f"ING-{i:04d}" for i in range(n_items)]
        recipes = [f"RECIPE-{i:03d}" for i in range(n_recipes)]
        base = {"units": {}, "attributes": {}, "created_at": now, "updated_at": now}
        conn.execute(
            items.insert(),
            [{"tenant_id": tenant, "sku": s, "name": s, "kind": "physical", **base} for s in skus]
            + [
                {"tenant_id": tenant, "sku": s, "name": s, "kind": "bundle", **base}
                for s in recipes
            ],
        )
        ids = dict(
            conn.execute(
                sa.select(items.c.sku, items.c.id).where(items.c.tenant_id == tenant)
            ).all()
        )
        loc_ids = dict(
            conn.execute(
                sa.select(locations.c.code, locations.c.id).where(locations.c.tenant_id == tenant)
            ).all()
        )
        rng = random.Random(7)
        conn.execute(
            bundle_components.insert(),
            [
                {"tenant_id": tenant, "bundle_id": ids[r], "component_id": ids[s], "qty": q}
                for r in recipes
                for s, q in zip(rng.sample(skus, 3), (18, 200, 1), strict=True)
            ],
        )
        posting = ledger.Posting(reason="receipt", actor="bench")
        for s in skus:
            it = Item(ids[s], s, "physical", "each", {}, False, None)
            for c in codes:
                loc = Location(loc_ids[c], c, None, 100)
                ledger.change(conn, tenant, it, loc, {"on_hand": 10**9}, posting, now)
    return tenant, codes, skus + recipes


def batches(
    rng: random.Random, codes: list[str], sellable: list[str], count: int, size: int, tag: str
) -> list[dict[str, Any]]:
    return [
        {
            "source": f"pos-{codes[b % len(codes)]}",
            "events": [
                {
                    "id": f"{tag}-{b}-{e}",
                    "sku": rng.choice(sellable),
                    "qty": rng.randint(1, 3),
                    "location": codes[b % len(codes)],
                }
                for e in range(size)
            ],
        }
        for b in range(count)
    ]


def server_cpu(engine: sa.Engine) -> float | None:
    """CPU seconds used so far by the PostgreSQL backends of this database (same host only:
    read from /proc), so a run can be judged apart from how busy the shared machine is."""
    with engine.connect() as conn:
        pids = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        total = 0.0
        try:
            for pid in pids:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return None
        return total


def run(engine: sa.Engine, tenant: str, work: list[dict[str, Any]], clients: int) -> dict:
    def one(doc: dict[str, Any]) -> tuple[float, int]:
        started = time.perf_counter()
        body = ConsumptionIn.model_validate(doc)
        with db.write(engine) as conn:
            answer = consumption.apply_batch(conn, tenant, body, "bench", db.utcnow())
        return time.perf_counter() - started, answer["counts"].get("applied", 0)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: engine.connect().close(), range(clients)))  # pool warm
        server = server_cpu(engine)
        started, cpu = time.perf_counter(), time.process_time()
        done = list(pool.map(one, work))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server_after = server_cpu(engine)
    latencies = sorted(t for t, _ in done)
    events = sum(len(d["events"]) for d in work)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "batches": len(work),
        "events": events,
        "applied": sum(a for _, a in done),
        "seconds": round(seconds, 3),
        # This process's CPU (validation, deciding, the driver); PostgreSQL's is not in it.
        "client_cpu_seconds": round(cpu, 3),
        # PostgreSQL's CPU for this database's sessions over the run (None if not readable).
        "server_cpu_seconds": (
            None if server is None or server_after is None else round(server_after - server, 3)
        ),
        "events_per_second": round(events / seconds, 1),
        "p50_batch_ms": round(q[49] * 1000, 2),
        "p99_batch_ms": round(q[98] * 1000, 2),
    }


def ledger_rows(engine: sa.Engine, tenant: str) -> int:
    with db.read(engine) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    ledger_table.c.tenant_id == tenant, ledger_table.c.reason == "consumption"
                )
            ).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="Default: a scratch PostgreSQL database")
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--clients", type=int, default=1, help="Batches sent concurrently")
    parser.add_argument("--locations", type=int, default=20)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--recipes", type=int, default=30)
    parser.add_argument("--baseline-events", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line")
    args = parser.parse_args()

    def bench(url: str) -> dict[str, Any]:
        engine = db.make_engine(url, pool_size=args.clients + 2)
        try:
            schema.upgrade(engine)
            tenant, codes, sellable = setup(engine, args.locations, args.items, args.recipes)
            rng = random.Random(11)
            warm = batches(rng, codes, sellable, 2, args.batch_size, "warm")
            run(engine, tenant, warm, 1)
            work = batches(rng, codes, sellable, args.batches, args.batch_size, "main")
            single = batches(rng, codes, sellable, args.baseline_events, 1, "one")
            load = round(os.getloadavg()[0], 2)
            main_run = run(engine, tenant, work, args.clients)
            baseline = run(engine, tenant, single, args.clients)
            # Resending every batch applies nothing again.
            replay = run(engine, tenant, work[: max(1, args.batches // 4)], args.clients)
            return {
                "database": engine.dialect.name,
                # The machine is shared: the 1-minute load average before and after the runs.
                "load_average": [load, round(os.getloadavg()[0], 2)],
                "batch_size": args.batch_size,
                "clients": args.clients,
                "locations": args.locations,
                "items": args.items,
                "recipes": args.recipes,
                **{k: main_run[k] for k in main_run if k != "applied"},
                "applied": main_run["applied"],
                "baseline_one_event_per_batch": baseline,
                "replay_of_sent_batches": replay,
                "consumption_ledger_rows": ledger_rows(engine, tenant),
            }
        finally:
            engine.dispose()

    if args.database_url:
        result = bench(db.normalise_url(args.database_url))
    else:
        with db.scratch_database(PG_ADMIN_URL, "onhand_bench") as url:
            result = bench(url)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
