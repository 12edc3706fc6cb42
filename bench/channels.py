"""A full tenant sync of N partner stores into one owner's store, against the fake Shopify.

    python bench/channels.py --partners 30 --items 900 --json

The fake (tests/integration/shopify_fake.py) validates every request against Shopify's real
2026-04 schema and applies Shopify's standard bucket (2,000 points, 100 restored per second)
to each store. One tenant: a location per partner, `items / partners` items per partner, the
owner's store mapped to every partner location. Measured: a first sync (every partner read,
every item written to the store), then a repeat sync with nothing changed (it must write
nothing). Baseline in the same run: the first sync again, on fresh stores, with the
client-side pacing turned off (requests go out as fast as they can and rely on THROTTLED
answers), to show what pacing saves. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from cryptography.fernet import Fernet  # noqa: E402
from shopify_fake import FakeShopify, Store  # noqa: E402

from onhand import auth, db, schema  # noqa: E402
from onhand.catalog import service as catalog  # noqa: E402
from onhand.catalog.schemas import ItemIn, LocationIn  # noqa: E402
from onhand.channels import mappings, service, shopify, sync, throttle  # noqa: E402
from onhand.channels.schemas import ChannelIn  # noqa: E402
from onhand.settings import Settings  # noqa: E402

SHOP_LOC = "gid://shopify/Location/1"
PARTNER_LOC = "gid://shopify/Location/2"


def build(
    engine: Any, ctx: sync.Context, fake: FakeShopify, tenant: str, partners: int, items: int
) -> tuple[list[Store], Store]:
    per = items // partners
    rng = random.Random(7)
    owner = fake.add_store(f"{tenant}-owner")
    stores = []
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, tenant)
        rows_by_channel: dict[str, list[dict[str, Any]]] = {}
        for p in range(partners):
            code = f"P{p:02d}"
            catalog.create_location(conn, tenant, LocationIn(code=code, name=f"Partner {p}"))
            store = fake.add_store(f"{tenant}-{code.lower()}")
            stores.append(store)
            rows_by_channel[code] = []
            for i in range(per):
                sku = f"{code}-BEANS-{i:02d}"
                catalog.create_item(conn, tenant, ItemIn(sku=sku, name=sku, kind="physical"))
                held = store.add_variant(sku, {PARTNER_LOC: rng.randint(0, 40)})
                sold = owner.add_variant(sku, {SHOP_LOC: 0})
                rows_by_channel[code].append({"sku": sku, **held})
                rows_by_channel.setdefault("owner", []).append({"sku": sku, **sold})
        pairs = [(f"P{p:02d}", PARTNER_LOC) for p in range(partners)]
        for code, store, role, locs in [
            *((f"P{p:02d}", stores[p], "partner", [pairs[p]]) for p in range(partners)),
            ("owner", owner, "store", [(c, SHOP_LOC) for c, _ in pairs]),
        ]:
            body = ChannelIn(
                code=code.lower(),
                role=role,  # type: ignore[arg-type]
                shop=f"{store.name}.myshopify.com",
                access_token=store.token,
                api_url=fake.url(store.name),
                locations=[{"location": a, "channel_location": b} for a, b in locs],  # type: ignore[misc]
            )
            service.create(conn, tenant, body, ctx.ring, ctx.allowed)
            row = service.row_of(conn, tenant, code.lower())
            ids = mappings.item_ids(conn, tenant, {r["sku"] for r in rows_by_channel[code]})
            mappings.save(
                conn,
                tenant,
                row.id,
                [
                    {
                        "item_id": ids[r["sku"]],
                        "variant": r["variant"],
                        "inventory_item": r["inventory_item"],
                        "by": "explicit",
                    }
                    for r in rows_by_channel[code]
                ],
            )
    return stores, owner


def full_sync(engine: Any, ctx: sync.Context, tenant: str) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from onhand.channels import runs
    from onhand.channels.tables import channels

    with db.read(engine) as conn:
        rows = list(conn.execute(sa.select(channels).where(channels.c.tenant_id == tenant)))
    started = sync.start_runs(engine, tenant, [r.id for r in rows], "manual")
    roles = {r.id: r.role for r in rows}
    new = [(run.channel_id, roles[run.channel_id], run.id) for run, _ in started]
    asyncio.run(sync.run_in_order(ctx, tenant, new))
    with db.read(engine) as conn:
        return [runs.get_run(conn, tenant, rid) for _, _, rid in new]


def figures(stores: list[Store]) -> dict[str, float]:
    return {
        "calls": sum(s.calls for s in stores),
        "points": sum(s.points for s in stores),
        "throttled": sum(s.throttled for s in stores),
        "writes": sum(len(s.writes) for s in stores),
    }


def measure(engine: Any, ctx: sync.Context, fake: FakeShopify, tenant: str, a: Any) -> dict:
    partners, owner = build(engine, ctx, fake, tenant, a.partners, a.items)
    everyone = [*partners, owner]
    started = time.perf_counter()
    first = full_sync(engine, ctx, tenant)
    wall = time.perf_counter() - started
    after_first = figures(everyone)
    owner_first = figures([owner])
    started = time.perf_counter()
    repeat = full_sync(engine, ctx, tenant)
    repeat_wall = time.perf_counter() - started
    after_repeat = figures(everyone)
    return {
        "wall_s": round(wall, 2),
        "runs": {
            s: sum(1 for r in first if r["status"] == s) for s in ("succeeded", "partial", "failed")
        },
        "items_written": sum(r["items_ok"] for r in first),
        "calls": after_first["calls"],
        "points": after_first["points"],
        "throttled": after_first["throttled"],
        "owner_store": owner_first,
        "repeat": {
            "wall_s": round(repeat_wall, 2),
            "calls": after_repeat["calls"] - after_first["calls"],
            "writes": after_repeat["writes"] - after_first["writes"],
            "items_unchanged": sum(r["items_unchanged"] for r in repeat),
            "failed_runs": sum(1 for r in repeat if r["status"] == "failed"),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=30)
    parser.add_argument("--items", type=int, default=900)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--json", action="store_true")
    a = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="onhand-bench-channels-")
    url = a.database_url or f"sqlite:///{tmp}/bench.db"
    settings = Settings(
        database_url=url,
        secret_key=Fernet.generate_key().decode(),
        allow_private_networks="127.0.0.0/8",
    )
    engine = db.make_engine(url)
    schema.upgrade(engine)
    ctx = sync.Context.of(engine, settings)
    fake = FakeShopify()
    paced = measure(engine, ctx, fake, "paced", a)
    # Baseline: no client-side pacing (a bucket that never waits); THROTTLED answers only.
    shopify.bucket_for = lambda _store: throttle.Bucket(maximum=1e12, restore=1e12)  # type: ignore[assignment]
    unpaced = measure(engine, ctx, fake, "unpaced", a)
    fake.stop()
    result = {
        "benchmark": "channels.full_sync",
        "partners": a.partners,
        "items": a.items,
        "bucket": {"maximum": 2000, "restore_per_s": 100},
        "database": engine.dialect.name,
        "paced": paced,
        "baseline_unpaced": unpaced,
    }
    print(json.dumps(result) if a.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
