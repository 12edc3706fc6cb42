"""Reservation throughput: hot SKU or spread, in-process service layer or over HTTP.

    python bench/reservations.py --database-url URL --skus 1 --clients 64 --seconds 10 --json

Prints one JSON line. `oversold` is counted from the database afterwards (holds granted beyond
stock, plus any invariant finding of `onhand check` for the bench tenant), never assumed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from onhand import auth, check, db, problems, schema
from onhand.catalog.service import Item, Location
from onhand.errors import DomainError
from onhand.idempotency import Replay
from onhand.reservations.batcher import GroupCommit
from onhand.reservations.granting import Job
from onhand.reservations.schemas import LineIn, ReservationIn
from onhand.stock import ledger
from onhand.tables import balances, items, locations


def setup(engine: sa.Engine, skus: int, stock: int) -> tuple[str, list[str], str]:
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    now = db.utcnow()
    names = [f"SKU-{n:06d}" for n in range(skus)]
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, tenant)
        token = auth.create_token(conn, tenant, ["admin"], name="bench").token
        loc_id = conn.execute(
            locations.insert().values(
                tenant_id=tenant, code="WH1", name="Bench", priority=1, created_at=now
            )
        ).inserted_primary_key[0]
        conn.execute(
            items.insert(),
            [
                {
                    "tenant_id": tenant,
                    "sku": s,
                    "name": s,
                    "kind": "physical",
                    "units": {},
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for s in names
            ],
        )
        ids = dict(
            conn.execute(
                sa.select(items.c.sku, items.c.id).where(items.c.tenant_id == tenant)
            ).all()
        )
        loc = Location(loc_id, "WH1", None, 1)
        posting = ledger.Posting(reason="receipt", actor="bench")
        for s in names:
            ledger.change(
                conn,
                tenant,
                Item(ids[s], s, "physical", "each", {}, False, None),
                loc,
                {"on_hand": stock},
                posting,
                now,
            )
    return tenant, names, token


def oversold(engine: sa.Engine, tenant: str) -> int:
    with db.read(engine) as conn:
        over = conn.execute(
            sa.select(
                sa.func.coalesce(
                    sa.func.sum(balances.c.reserved + balances.c.committed - balances.c.on_hand), 0
                )
            ).where(
                balances.c.tenant_id == tenant,
                balances.c.reserved + balances.c.committed > balances.c.on_hand,
            )
        ).scalar()
        findings = [f for f in check.run(conn) if tenant in f.what]
    return int(over) + len(findings)


async def drive(
    submit, names: list[str], clients: int, seconds: float
) -> tuple[list[float], int, int, int]:
    latencies: list[float] = []
    counts = {"granted": 0, "rejected": 0, "errors": 0}
    stop = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            sku = names[rng.randrange(len(names))]
            start = time.perf_counter()
            status = await submit(sku)
            latencies.append(time.perf_counter() - start)
            key = "granted" if status == 201 else "rejected" if status == 409 else "errors"
            counts[key] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, counts["granted"], counts["rejected"], counts["errors"]


def in_process(engine: sa.Engine, tenant: str, names: list[str], args: argparse.Namespace):
    # The route's own path: GroupCommit.submit, with or without batching. Without it, each
    # hold is one transaction on the same thread pool `onhand serve` uses.
    group = GroupCommit(engine, enabled=not args.no_group_commit)

    async def submit(sku: str) -> int:
        job = Job(ReservationIn(lines=[LineIn(sku=sku, qty=1)]), "bench")
        answer = await group.submit(tenant, job)
        # The status the route would answer: a document is a grant, an error maps as in HTTP.
        if isinstance(answer, DomainError):
            return problems.status_for(answer)
        return answer.status if isinstance(answer, Replay) else 201

    async def main():
        return await drive(submit, names, args.clients, args.seconds)

    result = asyncio.run(main())
    return result, group


def over_http(url: str, tenant: str, token: str, args: argparse.Namespace) -> dict:
    """Drive a real `onhand serve` with wrk (a C load generator: a Python client would be
    the bottleneck on two cores). Debian: apt-get install wrk."""
    if not shutil.which("wrk"):
        sys.exit("--http needs wrk (apt-get install wrk)")
    port = 18000 + random.randrange(1000)
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": url,
        "ONHAND_LOG_LEVEL": "warning",
        "ONHAND_GROUP_COMMIT": "false" if args.no_group_commit else "true",
    }
    log = Path("/tmp") / f"bench-serve-{port}.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "onhand.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        script = Path(__file__).with_name("wrk_reserve.lua")
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.clients}",
                f"-d{max(1, round(args.seconds))}s",
                "-s",
                str(script),
                base,
            ],
            env={
                **os.environ,
                "ONHAND_TOKEN": token,
                "ONHAND_TENANT": tenant,
                "ONHAND_SKUS": str(args.skus),
            },
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("WRK "))
        return json.loads(line[4:])
    finally:
        server.terminate()
        server.wait(10)


def _own_database(url: str) -> None:
    """The bench writes onhand's schema into the database it is given: never the server's own
    databases; one that does not exist yet is created."""
    name = sa.make_url(url).database
    if name in (None, "postgres", "template0", "template1"):
        sys.exit(f"name a database of the bench's own, not '{name}' (e.g. …/bench)")
    admin = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///./bench.db")
    parser.add_argument("--skus", type=int, default=1)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--stock", type=int, default=10_000_000, help="Units per SKU")
    parser.add_argument("--http", action="store_true", help="Through a real `onhand serve`")
    parser.add_argument("--no-group-commit", action="store_true", help="One transaction per hold")
    parser.add_argument("--workers", type=int, default=1, help="--http: server processes")
    parser.add_argument("--json", action="store_true", help="Print only the JSON line")
    args = parser.parse_args()

    url = db.normalise_url(args.database_url)
    if url.startswith("postgresql"):
        _own_database(url)
    engine = db.make_engine(url, pool_size=args.clients + 4)
    schema.upgrade(engine)
    tenant, names, token = setup(engine, args.skus, args.stock)
    if not db.is_sqlite(engine):
        # A running PostgreSQL has statistics (autovacuum analyses a table soon after it was
        # filled); a benchmark that starts the moment its rows are in would measure plans
        # made for empty tables (10,000 SKUs: every batch scanned all balance rows).
        with db.write(engine) as conn:
            conn.exec_driver_sql("ANALYZE")
    group = None
    if args.http:
        run = over_http(url, tenant, token, args)
    else:
        started = time.perf_counter()
        (latencies, granted, rejected, errors), group = in_process(engine, tenant, names, args)
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
        run = {
            "granted": granted,
            "rejected": rejected,
            "errors": errors,
            "seconds": time.perf_counter() - started,
            "p50_ms": q[49] * 1000,
            "p99_ms": q[98] * 1000,
        }
    result = {
        "database": engine.dialect.name,
        "mode": "http" if args.http else "in-process",
        "group_commit": not args.no_group_commit,
        "skus": args.skus,
        "clients": args.clients,
        "seconds": round(run["seconds"], 2),
        # Granted holds and refusals (409: not enough stock) are separate figures: a refusal
        # is cheaper than a grant, so a sum would flatter a sold-out run.
        "granted_per_second": round(run["granted"] / run["seconds"], 1),
        "refused_per_second": round(run["rejected"] / run["seconds"], 1),
        "granted": run["granted"],
        "rejected": run["rejected"],
        "errors": run["errors"] + run.get("socket_errors", 0),
        "oversold": oversold(engine, tenant),
        "p50_ms": round(run["p50_ms"], 2),
        "p99_ms": round(run["p99_ms"], 2),
    }
    if group is not None and group.batches:
        result["mean_batch"] = round(group.batched_requests / group.batches, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
