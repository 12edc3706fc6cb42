"""Commit-to-client latency of live stock: N SSE subscribers spread over two `onhand serve`
processes on one PostgreSQL, M stock movements posted alternately to either process.

    python bench/events.py --subscribers 1000 --changes 200 --json

Latency per (change, subscriber) is measured two ways, both on this machine's clock:
`from_response`: from the moment the movement's POST returned (the commit is done by then);
`from_event_time`: from the event's `at`, taken when the request began its transaction, so
it also counts the transaction itself (an upper bound). Clients are one asyncio process using
httpx streaming. A fresh database is created and dropped. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

from onhand import auth, db, schema
from onhand.tables import outbox

MOVEMENT = re.compile(rb'"movement_id":"([0-9a-f-]{36})"')


def start_server(url: str, port: int, jobs: bool) -> subprocess.Popen:
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": url,
        "ONHAND_LOG_LEVEL": "warning",
        "ONHAND_RUN_JOBS": "true" if jobs else "false",
    }
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"onhand-bench-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "onhand.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"server on {port} did not start: {log.read_text()[-2000:]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def subscriber(
    client: httpx.AsyncClient,
    url: str,
    seen: dict[str, float],
    ready: asyncio.Event,
    counter: list[int],
) -> None:
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        first = True
        tail = b""
        async for chunk in response.aiter_raw():
            now = time.time()
            if first:
                first = False
                counter[0] += 1
                if counter[1] == counter[0]:
                    ready.set()
            data = tail + chunk
            cut = data.rfind(b"\n\n")
            if cut < 0:
                tail = data
                continue
            tail = data[cut + 2 :]
            for match in MOVEMENT.finditer(data, 0, cut):
                seen.setdefault(match.group(1).decode(), now)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


async def run(
    args: argparse.Namespace, bases: list[str], tenant: str, token: str, skus: list[str]
) -> tuple[dict[str, float], list[dict[str, float]], float]:
    limits = httpx.Limits(max_connections=args.subscribers + 10, max_keepalive_connections=0)
    clients = [
        httpx.AsyncClient(base_url=b, limits=limits, timeout=httpx.Timeout(30, read=None))
        for b in bases
    ]
    ready = asyncio.Event()
    counter = [0, args.subscribers]
    seen: list[dict[str, float]] = [{} for _ in range(args.subscribers)]
    tasks = [
        asyncio.create_task(
            subscriber(
                clients[i % 2], f"/v1/{tenant}/events?access_token={token}", seen[i], ready, counter
            )
        )
        for i in range(args.subscribers)
    ]
    await asyncio.wait_for(ready.wait(), 120)
    await asyncio.sleep(0.5)
    posted: dict[str, float] = {}
    writers = [
        httpx.AsyncClient(
            base_url=f"{b}/v1/{tenant}", timeout=30, headers={"Authorization": f"Bearer {token}"}
        )
        for b in bases
    ]
    started = time.perf_counter()
    for n in range(args.changes):
        due = started + n / args.rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        r = await writers[n % 2].post(
            "/movements",
            json={"type": "receipt", "sku": skus[n % len(skus)], "location": "WH1", "qty": 1},
        )
        posted[r.json()["id"]] = time.time()
    elapsed = time.perf_counter() - started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(s) < args.changes for s in seen):
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in clients + writers:
        await c.aclose()
    return posted, seen, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="movements per second")
    parser.add_argument("--skus", type=int, default=10)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scratch = ExitStack()
    url_s = scratch.enter_context(db.scratch_database(args.postgres, "onhand_bench"))
    engine = db.make_engine(url_s, pool_size=2)
    procs: list[subprocess.Popen] = []
    try:
        schema.upgrade(engine)
        tenant = "bench"
        with db.write(engine) as conn:
            token = auth.create_token(conn, tenant, ["admin"], name="bench").token
        ports = [free_port(), free_port()]
        procs = [start_server(url_s, ports[0], True), start_server(url_s, ports[1], False)]
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        skus = [f"SKU-{i:03d}" for i in range(args.skus)]
        with httpx.Client(
            base_url=f"{bases[0]}/v1/{tenant}", headers={"Authorization": f"Bearer {token}"}
        ) as c:
            c.post("/locations", json={"code": "WH1", "name": "Main"}).raise_for_status()
            for sku in skus:
                c.post("/items", json={"sku": sku, "name": sku}).raise_for_status()
        cpu_before = [cpu_seconds(p.pid) for p in procs], time.process_time()
        try:  # the client process is the bottleneck at 1,000 streams: give it the faster loop
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        posted, seen, elapsed = asyncio.run(run(args, bases, tenant, token, skus))
        server_cpu = [
            round(cpu_seconds(p.pid) - b, 2) for p, b in zip(procs, cpu_before[0], strict=True)
        ]
        client_cpu = round(time.process_time() - cpu_before[1], 2)
        with db.read(engine) as conn:
            at = {
                r.payload["movement_id"]: r.created_at.timestamp()
                for r in conn.execute(
                    sa.select(outbox.c.payload, outbox.c.created_at).where(
                        outbox.c.tenant_id == tenant
                    )
                )
            }
        from_response, from_event = [], []
        for s in seen:
            for movement, received in s.items():
                if movement in posted:
                    # Not clamped: a negative latency is a clock bug, and is reported as one.
                    from_response.append(received - posted[movement])
                    from_event.append(received - at[movement])
        expected = args.subscribers * args.changes
        result = {
            "benchmark": "events",
            "database": "postgresql",
            "servers": 2,
            "subscribers": args.subscribers,
            "changes": args.changes,
            "rate_per_second": round(args.changes / elapsed, 1),
            "deliveries": len(from_response),
            "expected_deliveries": expected,
            "missing": expected - len(from_response),
            "from_response": summary(from_response) if from_response else None,
            "from_event_time": summary(from_event) if from_event else None,
            # Deliveries seen before their cause (a clock moved, or the timestamps disagree).
            "negative_latencies": {
                "from_response": sum(1 for v in from_response if v < 0),
                "from_event_time": sum(1 for v in from_event if v < 0),
                "most_negative_ms": round(min([0.0, *from_response, *from_event]) * 1000, 3),
            },
            "seconds": round(elapsed, 2),
            "server_cpu_seconds": server_cpu,
            "client_cpu_seconds": client_cpu,
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg()[0],
            "measured_at": datetime.now().isoformat(timespec="seconds"),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        engine.dispose()
        scratch.close()
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
