"""Full reconciliation of the Redis availability cache against N balances.

    python bench/reconcile.py --balances 1000000 --json

Creates a fresh PostgreSQL database (dropped afterwards) holding one tenant with N balances
(items x locations), fills the cache once (a rebuild), drifts some figures and deletes some
keys, then times one full reconciliation pass and checks that it found exactly that drift.
Uses Redis database 13 by default, which it flushes. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from contextlib import ExitStack

import redis
import sqlalchemy as sa

from onhand import db, schema
from onhand.cache.reconcile import reconcile
from onhand.cache.redis_cache import AvailabilityCache


def build(engine: sa.Engine, tenant: str, balances: int, per_item: int) -> list[str]:
    """Tenant, `per_item` locations, balances // per_item items, one balance per pair (SQL-side)."""
    n_items = balances // per_item
    now = db.utcnow()
    with db.write(engine) as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name, timezone, settings, created_at) "
                "VALUES (:t, :t, 'UTC', '{}', :now)"
            ),
            {"t": tenant, "now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO locations (tenant_id, code, name, priority, created_at) "
                "SELECT CAST(:t AS varchar), 'WH' || g, 'Warehouse ' || g, g, :now "
                "FROM generate_series(1, :n) g"
            ),
            {"t": tenant, "now": now, "n": per_item},
        )
        conn.execute(
            sa.text(
                "INSERT INTO items (tenant_id, sku, name, kind, unit, units, attributes, "
                "allow_backorder, active, created_at, updated_at) "
                "SELECT CAST(:t AS varchar), 'SKU-' || lpad(g::text, 8, '0'), 'Item ' || g, "
                "'physical', 'each', '{}', '{}', false, true, :now, :now "
                "FROM generate_series(1, :n) g"
            ),
            {"t": tenant, "now": now, "n": n_items},
        )
        conn.execute(
            sa.text(
                "INSERT INTO balances "
                "(tenant_id, item_id, location_id, on_hand, reserved, updated_at) "
                "SELECT CAST(:t AS varchar), i.id, l.id, 10 + (i.id * 7 + l.id) % 90, "
                "(i.id + l.id) % 5, :now "
                "FROM items i CROSS JOIN locations l WHERE i.tenant_id = :t AND l.tenant_id = :t"
            ),
            {"t": tenant, "now": now},
        )
        conn.execute(sa.text("ANALYZE"))
        return list(
            conn.execute(
                sa.text("SELECT sku FROM items WHERE tenant_id = :t"), {"t": tenant}
            ).scalars()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--balances", type=int, default=1_000_000)
    parser.add_argument("--per-item", type=int, default=5, help="locations per item")
    parser.add_argument("--drift", type=int, default=1000, help="figures changed and keys deleted")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    scratch = ExitStack()
    engine = db.make_engine(
        scratch.enter_context(db.scratch_database(args.postgres, "onhand_bench")), pool_size=5
    )
    raw = redis.Redis.from_url(args.redis_url)
    try:
        schema.upgrade(engine)
        tenant = "bench"
        started = time.perf_counter()
        skus = build(engine, tenant, args.balances, args.per_item)
        setup_seconds = time.perf_counter() - started
        raw.flushdb()
        cache = AvailabilityCache(args.redis_url, prefix="onhand:bench:", timeout=30.0)
        key = cache.key
        rebuild = reconcile(engine, cache, record=False)

        rng = random.Random(4)
        drifted = rng.sample(skus, args.drift * 2)
        pipe = raw.pipeline(transaction=False)
        for sku in drifted[: args.drift]:
            pipe.get(key(tenant, sku))
        for sku, value in zip(drifted[: args.drift], pipe.execute(), strict=True):
            entry = json.loads(value)
            entry["doc"]["available"] += 1
            raw.set(key(tenant, sku), json.dumps(entry))
        raw.delete(*[key(tenant, s) for s in drifted[args.drift :]])

        full = reconcile(engine, cache)
        kinds = {"changed": 0, "missing": 0}
        with db.read(engine) as conn:
            for kind, count in conn.execute(
                sa.text("SELECT kind, count(*) FROM cache_repairs GROUP BY kind")
            ):
                kinds[kind] = count
        clean = reconcile(engine, cache)
        result = {
            "benchmark": "reconcile",
            "balances": args.balances,
            "items": len(skus),
            "locations_per_item": args.per_item,
            "setup_seconds": round(setup_seconds, 2),
            "rebuild_seconds": round(rebuild.seconds, 2),
            "rebuild_written": rebuild.repaired,
            "reconcile_seconds": round(full.seconds, 2),
            "balances_per_second": round(args.balances / full.seconds),
            "repaired": full.repaired,
            "repaired_changed": kinds["changed"],
            "repaired_missing": kinds["missing"],
            "expected_repairs": args.drift * 2,
            "second_pass_repairs": clean.repaired,
            "second_pass_seconds": round(clean.seconds, 2),
        }
    finally:
        engine.dispose()
        raw.flushdb()
        raw.close()
        scratch.close()
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")
    sys.exit(0 if result["repaired"] == result["expected_repairs"] else 1)


if __name__ == "__main__":
    main()
