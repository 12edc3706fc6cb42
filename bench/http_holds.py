"""Hot-SKU holds over HTTP: onhand against a plain FastAPI + psycopg service, side by side.

    python bench/http_holds.py --seconds 15 --connections 64 --json

One PostgreSQL database holds both. wrk (apt-get install wrk) posts one-unit holds on one
SKU for the same time with the same connections to, in turn: the reference service
(bench/reference/app.py: one transaction per request, a conditional UPDATE and an INSERT),
`onhand serve --workers 1` and `--workers 2` (and `--workers auto` where it chooses more than
2; the JSON says what it chose). Afterwards nothing may be
oversold: onhand's figures are checked by `onhand check` and against stock, the reference's
reserved against its stock and its holds. Every target runs on a fresh database, and with
`--rounds` the order of the targets is reversed each round. Prints one JSON line with
holds/s, p50/p99 (medians of the rounds) and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from onhand import db, schema
from onhand.cli import worker_count

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proctree  # noqa: E402
from reservations import oversold, setup  # noqa: E402

HERE = Path(__file__).resolve().parent
SKU = "SKU-000000"


def _admin(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database (creating or dropping others)."""
    admin = sa.create_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        for sql in statements:
            conn.execute(sa.text(sql))
    admin.dispose()


def _fresh_database(url: str) -> None:
    """Create the bench database anew (dropping what an earlier target left in it)."""
    name = sa.make_url(url).database
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    _admin(url, f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')


def _reference_tables(engine: sa.Engine, stock: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS ref_holds, ref_stock"))
        conn.execute(
            sa.text(
                "CREATE TABLE ref_stock (sku text PRIMARY KEY, on_hand bigint NOT NULL, "
                "reserved bigint NOT NULL DEFAULT 0)"
            )
        )
        conn.execute(
            sa.text(
                "CREATE TABLE ref_holds (id uuid PRIMARY KEY, sku text NOT NULL, "
                "qty bigint NOT NULL, created_at timestamptz NOT NULL)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO ref_stock (sku, on_hand) VALUES (:s, :q)"), {"s": SKU, "q": stock}
        )


def _reference_oversold(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        over = conn.execute(
            sa.text("SELECT count(*) FROM ref_stock WHERE reserved > on_hand")
        ).scalar_one()
        holds = conn.execute(sa.text("SELECT coalesce(sum(qty), 0) FROM ref_holds")).scalar()
        reserved = conn.execute(sa.text("SELECT reserved FROM ref_stock")).scalar()
    return int(over) + int(holds != reserved)


def _serve(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    log = Path("/tmp") / f"bench-http-{port}.log"
    proc = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit(f"server on {port} did not start; see {log}")


def _cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants: the
    server's own cost of the holds, which a busy machine slows down but does not change."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = proctree.stats()
    mine = proctree.tree(root, fields)
    return sum((int(fields[p][11]) + int(fields[p][12])) / tick for p in mine)


def _wrk(
    port: int, tenant: str, token: str, args: argparse.Namespace, server: int
) -> dict[str, Any]:
    cpu_before = _cpu_seconds(server)
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--latency",
            "-s",
            str(HERE / "wrk_reserve.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "ONHAND_TOKEN": token, "ONHAND_TENANT": tenant, "ONHAND_SKUS": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = _cpu_seconds(server) - cpu_before
    line = next(ln for ln in out.splitlines() if ln.startswith("WRK "))
    run = json.loads(line[4:])
    return {
        "server_cpu_ms_per_hold": round(1000 * cpu / max(run["granted"], 1), 3),
        "holds_per_s": round(run["granted"] / run["seconds"], 1),
        "refused_per_s": round(run["rejected"] / run["seconds"], 1),
        "p50_ms": run["p50_ms"],
        "p99_ms": run["p99_ms"],
        "errors": run["errors"] + run["socket_errors"],  # neither 201 nor 409, or no answer
        "granted": run["granted"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/onhand_http_bench",
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--stock", type=int, default=100_000_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="Rounds of all targets (in turn reversed)"
    )
    parser.add_argument(
        "--baseline",
        help="The src/ folder of another onhand checkout: its `serve --workers 1` and 2 run too",
    )
    parser.add_argument("--json", action="store_true", help="Print only the JSON line")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk (apt-get install wrk)")

    url = db.normalise_url(args.database_url)
    load_before = os.getloadavg()[0]
    env = {**os.environ, "ONHAND_DATABASE_URL": url, "ONHAND_LOG_LEVEL": "warning"}
    libpq = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    targets = {
        "reference": [
            sys.executable, "-m", "uvicorn", "--app-dir", str(HERE / "reference"), "app:app",
            "--log-level", "warning", "--no-access-log", "--loop", "uvloop", "--http", "httptools",
        ],
        "onhand_1": [sys.executable, "-m", "onhand.cli", "serve", "--workers", "1"],
        "onhand_2": [sys.executable, "-m", "onhand.cli", "serve", "--workers", "2"],
    }  # fmt: skip
    extra: dict[str, dict[str, str]] = {}
    order = ["reference", "onhand_1", "onhand_2"]
    # What `--workers auto` chooses here; it runs as a target of its own only beyond 2.
    auto = worker_count("auto", url)
    if auto > 2:
        targets["onhand_auto"] = [*targets["onhand_1"][:-1], "auto"]
        order.append("onhand_auto")
    if args.baseline:  # the same commands, importing onhand from the other checkout
        for n in (1, 2):
            targets[f"baseline_{n}"] = targets[f"onhand_{n}"]
            extra[f"baseline_{n}"] = {"PYTHONPATH": str(Path(args.baseline).resolve())}
        order = ["reference", "baseline_1", "onhand_1", "onhand_2", "baseline_2", *order[3:]]
    runs: dict[str, dict[str, Any]] = {}
    over: dict[str, int] = {}
    for _ in range(args.rounds):
        for name in order:
            # A fresh database per target: no target works off another's outbox backlog.
            _fresh_database(url)
            engine = db.make_engine(url)
            schema.upgrade(engine)
            tenant, _, token = setup(engine, 1, args.stock)
            _reference_tables(engine, args.stock)
            port = 19000 + random.randrange(1000)
            proc = _serve(
                [*targets[name], "--port", str(port)],
                {**env, "ONHAND_REFERENCE_DSN": libpq, **extra.get(name, {})},
                port,
            )
            try:
                run = _wrk(port, tenant, token, args, proc.pid)
            finally:
                proc.terminate()
                proc.wait(15)
            found = _reference_oversold(engine) if name == "reference" else oversold(engine, tenant)
            engine.dispose()
            over[name] = over.get(name, 0) + found
            runs.setdefault(name, {"rounds": []})["rounds"].append(run)
        order.reverse()  # the next round in the other order: no target always goes first
    _drop_database(url)
    for run in runs.values():
        rates = [r["holds_per_s"] for r in run["rounds"]]
        run["holds_per_s"] = round(statistics.median(rates), 1)
        run["p99_ms"] = statistics.median(r["p99_ms"] for r in run["rounds"])
        run["errors"] = sum(r["errors"] for r in run["rounds"])
        run["server_cpu_ms_per_hold"] = statistics.median(
            r["server_cpu_ms_per_hold"] for r in run["rounds"]
        )
    base = runs["reference"]["holds_per_s"] or 1.0
    result = {
        "benchmark": "http_holds",
        "database": "postgresql",
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "runs": runs,
        "ratio_onhand_1": round(runs["onhand_1"]["holds_per_s"] / base, 2),
        "ratio_onhand_2": round(runs["onhand_2"]["holds_per_s"] / base, 2),
        "auto_workers": auto,
        "ratio_onhand_auto": round(
            runs[f"onhand_{auto}" if auto <= 2 else "onhand_auto"]["holds_per_s"] / base, 2
        ),
        "oversold": over,
    }
    for n in (1, 2):  # with --baseline: the other checkout against this one
        if before := runs.get(f"baseline_{n}", {}).get("holds_per_s"):
            result[f"ratio_baseline_{n}"] = round(before / base, 2)
            result[f"onhand_{n}_vs_baseline_{n}"] = round(
                runs[f"onhand_{n}"]["holds_per_s"] / before, 2
            )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
