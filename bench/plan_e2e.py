"""The replenishment plan end to end on PostgreSQL: ledger history → forecast → policy →
suggestions written, timed through a real `onhand serve` answering `POST /plan`.

    python bench/plan_e2e.py --items 100000 --json [--sweep] [--keep]
    python bench/plan_e2e.py --url postgresql://…/onhand_plan_… --json   # reuse a loaded db

Setup (not timed): a scratch database gets one tenant with N item-locations (N/2 items at
2 locations) and 365 days of history. First one item gets a receipt and a sale through
the real movement service; every other row is a copy of those rows with its own ids,
quantities and times, written with binary COPY (ledger, movements, balances: the
balance of each pair equals the sum of its ledger rows). Outbox events of the history
are not written (the plan never reads them). Demand is a retail long tail: 10% of the
pairs sell on 30–90% of days, 30% on 2–15%, 60% on 0.2–2%; stock is topped up every 7,
14 or 28 days to a level that sometimes runs out, and 3% of the pairs get no stock for
their last 60 days.

Measured, in this order and in one run:
- with `--sweep`, the forecast stage alone on the history read from the database, for
  each forecast block size and worker count (the fastest is what `onhand plan` uses);
- `plan.run` in this process with the service's settings, per stage (history read,
  forecast, policy, store);
- `POST /plan` on `onhand serve` (background jobs off), wall time and the server's peak
  resident memory (VmHWM).
Prints one JSON line. `--keep` keeps the database (its URL is printed) for `--url`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

from onhand import auth, db, schema
from onhand.planning import demand, plan
from onhand.stock import movements
from onhand.stock.schemas import MovementIn
from onhand.tables import balances, items, ledger, locations
from onhand.tables import movements as movement_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proctree  # noqa: E402

TENANT = "bench"
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
CHUNK = 20_000  # item-locations generated per COPY


# ---- binary COPY from NumPy -------------------------------------------------------------


def _binary(n: int, fields: list[tuple[str, Any]]) -> bytes:
    """n rows in PostgreSQL's binary COPY layout; each field is (kind, values or None).

    kinds: "i8", "i4", "ts" (int64 µs since 2000-01-01), "bool", "S" (fixed-width bytes
    array), "null". Values are arrays of n or one scalar for every row.
    """
    layout: list[tuple[str, str]] = [("count", ">i2")]
    fill: list[tuple[str, Any]] = []
    for i, (kind, values) in enumerate(fields):
        if kind == "null":
            layout.append((f"len{i}", ">i4"))
            fill.append((f"len{i}", -1))
            continue
        if kind == "S":
            width = np.asarray(values).dtype.itemsize
            layout += [(f"len{i}", ">i4"), (f"v{i}", f"S{width}")]
            fill += [(f"len{i}", width), (f"v{i}", values)]
            continue
        dtype, width = {"i8": (">i8", 8), "ts": (">i8", 8), "i4": (">i4", 4), "bool": ("u1", 1)}[
            kind
        ]
        layout += [(f"len{i}", ">i4"), (f"v{i}", dtype)]
        fill += [(f"len{i}", width), (f"v{i}", values)]
    rows = np.empty(n, dtype=np.dtype(layout))
    rows["count"] = len(fields)
    for name, values in fill:
        rows[name] = values
    return rows.tobytes()


def copy_binary(conn: sa.Connection, table: str, columns: list[str], data: bytes) -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    cols = ", ".join(columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT binary)") as cp:
        cp.write(header)
        cp.write(data)
        cp.write(b"\xff\xff")


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4 UUID strings as a fixed-width bytes array (like str(uuid4()))."""
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.frombuffer(b"0123456789abcdef", dtype="S1")[
        np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
    ]
    dash = np.full((n, 1), b"-", dtype="S1")
    parts = [hexed[:, 0:8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash]
    parts += [hexed[:, 16:20], dash, hexed[:, 20:32]]
    return np.ascontiguousarray(np.concatenate(parts, axis=1)).view("S36").ravel()


# ---- the history ------------------------------------------------------------------------


def simulate(
    rng: np.random.Generator, n: int, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daily shipped and received units (n × days) and the stock left at the end."""
    kind = rng.random(n)
    p = np.where(
        kind < 0.1,
        rng.uniform(0.3, 0.9, n),
        np.where(kind < 0.4, rng.uniform(0.02, 0.15, n), rng.uniform(0.002, 0.02, n)),
    )
    size = rng.uniform(1, 6, n)
    t = np.arange(days)
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 7, (n, 1))) / 7)
    wants = (rng.random((n, days)) < np.minimum(p[:, None] * weekly, 1)) * (
        1 + rng.poisson(size[:, None] - 1, (n, days))
    )
    cycle = rng.choice([7, 14, 28], n)
    offset = rng.integers(0, 7, n)
    level = np.ceil(p * size * (cycle + 3) * rng.uniform(0.8, 1.6, n)).astype(np.int64) + 1
    reorder = np.ceil(p * size * 3 * rng.uniform(0.5, 2, n)).astype(np.int64)  # 3 days' demand
    ends = rng.random(n) < 0.03  # no receipts in the last 60 days
    stock = np.zeros(n, dtype=np.int64)
    shipped = np.zeros((n, days), dtype=np.int64)
    received = np.zeros((n, days), dtype=np.int64)
    for d in range(days):
        due = (((d - offset) % cycle == 0) & (stock <= reorder)) | (d == 0)
        due &= ~(ends & (d >= days - 60))
        received[:, d] = np.where(due, np.maximum(level - stock, 0), 0)
        stock += received[:, d]
        shipped[:, d] = np.minimum(wants[:, d], stock)
        stock -= shipped[:, d]
    return shipped, received, stock


def template(engine: sa.Engine, day: datetime) -> dict[str, dict[str, Any]]:
    """Rows the real services write for a location, an item, a receipt and a sale."""
    from onhand.catalog import service as catalog
    from onhand.catalog.schemas import ItemIn, LocationIn

    with db.write(engine) as conn:
        catalog.create_location(conn, TENANT, LocationIn(code="WH1", name="Warehouse 1"))
        catalog.create_location(conn, TENANT, LocationIn(code="WH2", name="Warehouse 2"))
        catalog.create_item(conn, TENANT, ItemIn(sku="SKU-00000000", name="Item 0"))
    with db.write(engine) as conn:
        sale = {"sku": "SKU-00000000", "location": "WH1"}
        movements.post(conn, TENANT, MovementIn(type="receipt", qty=5, **sale), "bench", day)
        movements.post(
            conn, TENANT, MovementIn(type="ship", qty=2, **sale), "bench", day + timedelta(hours=4)
        )
    with db.read(engine) as conn:
        one = lambda stmt: dict(conn.execute(stmt).mappings().one())  # noqa: E731
        rows = conn.execute(
            sa.select(ledger).where(ledger.c.tenant_id == TENANT).order_by(ledger.c.id)
        ).mappings()
        receipt, ship = (dict(r) for r in rows)
        return {
            "item": one(sa.select(items).where(items.c.tenant_id == TENANT)),
            "location": one(
                sa.select(locations).where(
                    locations.c.tenant_id == TENANT, locations.c.code == "WH1"
                )
            ),
            "receipt": receipt,
            "ship": ship,
            "movement": one(
                sa.select(movement_rows).where(
                    movement_rows.c.tenant_id == TENANT, movement_rows.c.type == "ship"
                )
            ),
            "balance": one(sa.select(balances).where(balances.c.tenant_id == TENANT)),
        }


def without_indexes(engine: sa.Engine, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes and primary keys of tables before a bulk load (an index built once
    at the end is much faster than one kept up to date row by row); returns the DDL that
    puts them back exactly as they were."""
    with db.write(engine) as conn:
        keys = conn.execute(
            sa.text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'p' AND conrelid::regclass::text = ANY(:t)"
            ),
            {"t": list(tables)},
        ).all()
        indexes = conn.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:t) "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')"
            ),
            {"t": list(tables)},
        ).all()
        for name, _ in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        for table, name, _ in keys:
            conn.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    return [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in keys] + [
        d for _, d in indexes
    ]


def load(engine: sa.Engine, pairs: int, days: int, seed: int) -> dict[str, Any]:
    """The tenant and its history; returns what was written."""
    today = db.utcnow().date()
    first = today - timedelta(days=days)
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, TENANT)
        token = auth.create_token(conn, TENANT, ["admin"], name="bench").token
    shape = template(engine, datetime.combine(first - timedelta(days=1), dtime(9), UTC))
    with db.write(engine) as conn:  # the template's history is replaced by the generated one
        for table in (ledger, movement_rows, balances):
            conn.execute(table.delete().where(table.c.tenant_id == TENANT))
        loc_ids = sorted(
            conn.execute(sa.select(locations.c.id).where(locations.c.tenant_id == TENANT)).scalars()
        )
    item0 = shape["item"]
    n_items = pairs // len(loc_ids)
    now = db.utcnow()
    with db.write(engine) as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY items (id, tenant_id, sku, name, kind, unit, units, attributes, "
                "allow_backorder, active, unit_cost, created_at, updated_at) FROM STDIN"
            ) as cp,
        ):
            for k in range(1, n_items):
                cp.write_row(
                    (
                        item0["id"] + k,
                        TENANT,
                        f"SKU-{k:08d}",
                        f"Item {k}",
                        item0["kind"],
                        item0["unit"],
                        json.dumps(item0["units"]),
                        json.dumps(item0["attributes"]),
                        item0["allow_backorder"],
                        item0["active"],
                        None,
                        now,
                        now,
                    )
                )
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('items', 'id'), max(id)) FROM items")
        )
    restore = without_indexes(engine, ("ledger", "movements"))
    rng = np.random.default_rng(seed)
    first_us = int((datetime.combine(first, dtime(), UTC) - PG_EPOCH).total_seconds() * 1e6)
    now_us = int((now - PG_EPOCH).total_seconds() * 1e6)
    tenant = np.array(TENANT.encode(), dtype=f"S{len(TENANT)}")
    actor = np.array(shape["ship"]["actor"].encode())
    ledger_id = 1
    written = {"ledger": 0, "movements": 0}
    item_ids = item0["id"] + np.arange(n_items)
    series_items = np.repeat(item_ids, len(loc_ids))
    series_locs = np.tile(np.array(loc_ids), n_items)
    for lo in range(0, len(series_items), CHUNK):
        it, lc = series_items[lo : lo + CHUNK], series_locs[lo : lo + CHUNK]
        n = len(it)
        shipped, received, stock = simulate(rng, n, days)
        with db.write(engine) as conn:
            # Foreign keys are per-row triggers; the generated ids are valid by construction
            # (same_shape and orphans() check afterwards), so the load skips them.
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for reason, qty, hour in (("receipt", received, (7, 8)), ("ship", shipped, (9, 20))):
                s, d = np.nonzero(qty)
                m = len(s)
                at = (
                    first_us
                    + d * 86_400_000_000
                    + rng.integers(hour[0] * 3600, hour[1] * 3600, m) * 1_000_000
                    + rng.integers(0, 1_000_000, m)
                )
                mid = uuids(rng, m)
                kind = np.array(reason.encode())
                copy_binary(
                    conn,
                    "movements",
                    ["tenant_id", "id", "type", "reference", "note", "actor", "created_at"],
                    _binary(
                        m,
                        [
                            ("S", tenant),
                            ("S", mid),
                            ("S", kind),
                            ("null", None),
                            ("null", None),
                            ("S", actor),
                            ("ts", at),
                        ],
                    ),
                )
                sign = 1 if reason == "receipt" else -1
                copy_binary(
                    conn,
                    "ledger",
                    [
                        "id",
                        "tenant_id",
                        "item_id",
                        "location_id",
                        "state",
                        "delta",
                        "reason",
                        "reference",
                        "movement_id",
                        "reservation_id",
                        "actor",
                        "unit_cost",
                        "created_at",
                    ],
                    _binary(
                        m,
                        [
                            ("i8", ledger_id + np.arange(m)),
                            ("S", tenant),
                            ("i8", it[s]),
                            ("i8", lc[s]),
                            ("S", np.array(b"on_hand")),
                            ("i8", sign * qty[s, d]),
                            ("S", kind),
                            ("null", None),
                            ("S", mid),
                            ("null", None),
                            ("S", actor),
                            ("null", None),
                            ("ts", at),
                        ],
                    ),
                )
                ledger_id += m
                written["ledger"] += m
                written["movements"] += m
            zero = np.zeros(n, dtype=np.int64)
            copy_binary(
                conn,
                "balances",
                [
                    "tenant_id",
                    "item_id",
                    "location_id",
                    "on_hand",
                    "reserved",
                    "committed",
                    "damaged",
                    "quality_control",
                    "safety_stock",
                    "incoming",
                    "in_transit",
                    "updated_at",
                ],
                _binary(
                    n,
                    [
                        ("S", tenant),
                        ("i8", it),
                        ("i8", lc),
                        ("i8", stock),
                        ("i8", zero),
                        ("i8", zero),
                        ("i8", zero),
                        ("i8", zero),
                        ("i8", zero),
                        ("i8", zero),
                        ("i8", zero),
                        ("ts", now_us),
                    ],
                ),
            )
    with db.write(engine) as conn:
        conn.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('ledger', 'id'), max(id)) FROM ledger")
        )
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        for ddl in restore:
            conn.execute(sa.text(ddl))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return {"token": token, "shape": shape, "written": written, "pairs": len(series_items)}


def orphans(engine: sa.Engine) -> int:
    """Ledger rows whose item, location or balance is missing (must be 0)."""
    with db.read(engine) as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM ledger l LEFT JOIN balances b ON b.tenant_id = "
                    "l.tenant_id AND b.item_id = l.item_id AND b.location_id = l.location_id "
                    "LEFT JOIN items i ON i.id = l.item_id LEFT JOIN locations c ON "
                    "c.id = l.location_id WHERE b.item_id IS NULL OR i.id IS NULL OR c.id IS NULL"
                )
            ).scalar_one()
        )


def same_shape(engine: sa.Engine, shape: dict[str, dict[str, Any]]) -> list[str]:
    """Columns where a generated row differs from what the service wrote, other than ids,
    quantities and times (must be empty)."""
    varying = {"id", "item_id", "movement_id", "delta", "created_at", "updated_at", "sku", "name"}
    varying |= {"on_hand", "location_id"}
    problems = []
    with db.read(engine) as conn:
        for key, table, where in (
            ("ship", ledger, ledger.c.reason == "ship"),
            ("receipt", ledger, ledger.c.reason == "receipt"),
            ("movement", movement_rows, movement_rows.c.type == "ship"),
            ("balance", balances, balances.c.on_hand >= 0),
            ("item", items, items.c.sku == "SKU-00000001"),
        ):
            got = (
                conn.execute(sa.select(table).where(table.c.tenant_id == TENANT, where).limit(1))
                .mappings()
                .one()
            )
            for column, value in shape[key].items():
                if column not in varying and got[column] != value:
                    problems.append(f"{key}.{column}: {got[column]!r} != {value!r}")
    return problems


# ---- measuring ----------------------------------------------------------------------------


def sweep(engine: sa.Engine) -> list[dict[str, Any]]:
    """The forecast stage alone on the real history, for several block sizes and workers."""
    with db.read(engine) as conn:
        cfg = plan.plan_settings.load(conn, TENANT)
        planned = demand.series(conn, TENANT)
        hist = demand.history(conn, TENANT, planned, cfg.history_days)
    results = []
    for workers in (1, 2):
        for block in (256, 1024, 2048, 8192):
            start, cpu = time.perf_counter(), time.process_time()
            plan._forecast(hist, cfg.horizon_days, lambda *a: None, block, workers)
            results.append(
                {
                    "block": block,
                    "workers": workers,
                    "seconds": round(time.perf_counter() - start, 2),
                    "cpu_seconds": round(time.process_time() - cpu, 2),
                }
            )
    return results


def staged(engine: sa.Engine) -> dict[str, dict[str, float]]:
    """plan.run in this process: wall and CPU seconds per stage (from its progress
    callbacks; CPU time is this process's, so it leaves out PostgreSQL's share)."""
    marks: dict[str, tuple[float, float]] = {}
    first: dict[str, tuple[float, float]] = {}

    def tick(stage: str, done: int, total: int) -> None:
        now = (time.perf_counter(), time.process_time())
        first.setdefault(stage, now)
        marks[stage] = now

    start = (time.perf_counter(), time.process_time())
    plan.run(engine, TENANT, progress=tick)
    end = (time.perf_counter(), time.process_time())
    out: dict[str, dict[str, float]] = {}
    previous = start
    for stage in ("history", "forecast", "policy", "store"):
        stop = marks.get(stage, previous)
        out[stage] = {
            "seconds": round(stop[0] - previous[0], 2),
            "cpu_seconds": round(stop[1] - previous[1], 2),
        }
        previous = stop
    out["total"] = {
        "seconds": round(end[0] - start[0], 2),
        "cpu_seconds": round(end[1] - start[1], 2),
    }
    return out


def over_http(url: str, token: str) -> dict[str, Any]:
    port = _free_port()
    env = os.environ | {
        "ONHAND_DATABASE_URL": url,
        "ONHAND_LOG_LEVEL": "warning",
        "ONHAND_RUN_JOBS": "false",
    }
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"onhand-plan-bench-{port}.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "onhand.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        idle = _tree_rss(server.pid)
        start = time.perf_counter()
        r = httpx.post(
            f"{base}/v1/{TENANT}/plan",
            headers={"Authorization": f"Bearer {token}"},
            timeout=3600,
        )
        seconds = time.perf_counter() - start
        r.raise_for_status()
        return {
            "seconds": round(seconds, 2),
            "status": r.status_code,
            "summary": {k: r.json()[k] for k in ("series", "forecasted", "suggestions", "urgent")},
            # The largest of the server's processes: with `--workers auto` on PostgreSQL the
            # plan runs in a worker, not in the supervisor started here.
            "server_peak_rss_mb": round(_tree_rss(server.pid, "VmHWM") / 1024, 1),
            "server_idle_rss_mb": round(idle / 1024, 1),
        }
    finally:
        server.terminate()
        server.wait(30)


def _rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    return 0


def _tree_rss(root: int, field: str = "VmRSS") -> int:
    """The largest `field` (kB) of a process and its descendants."""
    sizes = []
    for pid in proctree.tree(root, proctree.stats()):
        try:
            sizes.append(_rss(pid, field))
        except OSError:
            continue  # ended meanwhile
    return max(sizes, default=0)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="item-locations")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sweep", action="store_true", help="time forecast block × workers")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--url", help="an already loaded database (from --keep)")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    report: dict[str, Any] = {"benchmark": "plan_e2e", "load_average_start": os.getloadavg()}
    scratch = ExitStack()
    try:
        if args.url:
            url = args.url
            engine = db.make_engine(url, pool_size=2)
            with db.write(engine) as conn:
                token = auth.create_token(conn, TENANT, ["admin"], name="bench").token
        else:
            if args.keep:
                url = f"{args.postgres.rsplit('/', 1)[0]}/onhand_plan_{args.items}_{os.getpid()}"
                admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
                admin.dispose()
            else:
                url = scratch.enter_context(db.scratch_database(args.postgres, "onhand_plan"))
            engine = db.make_engine(url, pool_size=2)
            scratch.callback(engine.dispose)
            schema.upgrade(engine)
            started = time.perf_counter()
            loaded = load(engine, args.items, args.days, args.seed)
            token = loaded["token"]
            report["load_seconds"] = round(time.perf_counter() - started, 1)
            report["rows_written"] = loaded["written"]
            report["shape_differences"] = same_shape(engine, loaded["shape"])
            report["orphan_ledger_rows"] = orphans(engine)
            if args.keep:
                report["url"] = url
        with db.read(engine) as conn:
            report["item_locations"] = conn.execute(
                sa.select(sa.func.count())
                .select_from(balances)
                .where(balances.c.tenant_id == TENANT)
            ).scalar_one()
            report["ledger_rows"] = conn.execute(
                sa.select(sa.func.count()).select_from(ledger).where(ledger.c.tenant_id == TENANT)
            ).scalar_one()
        report["settings"] = {"block": plan.FORECAST_BLOCK, "workers": plan.FORECAST_WORKERS}
        if args.sweep:
            report["forecast_sweep"] = sweep(engine)
        report["in_process_stages"] = staged(engine)
        report["http"] = over_http(url, token)
        report["load_average_end"] = os.getloadavg()
        report["target"] = {100_000: 15, 1_000_000: 120}.get(args.items)
        if report["target"]:
            report["target_met"] = report["http"]["seconds"] <= report["target"] and (
                args.items < 1_000_000 or report["http"]["server_peak_rss_mb"] <= 3072
            )
    finally:
        scratch.close()
    print(
        json.dumps(report, default=str) if args.json else json.dumps(report, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
