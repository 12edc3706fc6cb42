"""How long a lot's trace takes when the lot is touched by many ledger rows.

    python bench/lot_trace.py --database-url postgresql+psycopg://… --rows 100000 --json

Builds a fresh tenant with one lot-tracked item and one big lot (plus a second lot, so the
lot's rows are not the whole ledger), then writes history through the same services a client
uses: holds granted in batches, committed and shipped (5 ledger rows per sale), and shipments
with their own order references (1 row each), until the lot has `--rows` ledger rows. Then it
times `trace` (the query and the document) and the JSON encoding of the answer, several times,
and prints one JSON line. `onhand check` findings for the tenant are counted, never assumed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from onhand import auth, check, db, schema
from onhand.catalog import service as catalog
from onhand.catalog.schemas import ItemIn, LocationIn
from onhand.reservations import granting, lifecycle
from onhand.reservations.schemas import HoldLineIn, ReservationIn
from onhand.stock import kernel, lots, movements, recall
from onhand.stock.model import Change, Posting
from onhand.stock.schemas import MovementIn
from onhand.tables import ledger


def build(engine: sa.Engine, rows: int, batch: int) -> tuple[str, int]:
    tenant = f"trace-{uuid.uuid4().hex[:8]}"
    now = db.utcnow()
    expires = (date.today() + timedelta(days=30)).isoformat()
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, tenant)
        catalog.create_location(conn, tenant, LocationIn(code="WH1", name="Kitchen"))
        catalog.create_item(conn, tenant, ItemIn(sku="MILK", name="Milk", tracking="lot"))
        for code, qty in (("BIG", 10 * rows), ("OTHER", 1000)):
            body = {
                "type": "receipt",
                "sku": "MILK",
                "location": "WH1",
                "qty": qty,
                "reference": "PO-1",
                "lot": {"code": code, "expires_on": expires, "supplier": "DAIRY"},
            }
            movements.post(conn, tenant, MovementIn.model_validate(body), "bench", now)
    item_id = 0
    with db.read(engine) as conn:
        item = catalog.item(conn, tenant, "MILK")
        item_id = item.id
        lot = lots.find(conn, tenant, item, "BIG")
        loc = catalog.location(conn, tenant, "WH1")
    sales = rows // 10  # 5 rows per sale: half the lot's rows are sales, half shipments
    hold = ReservationIn(lines=[HoldLineIn(sku="MILK", qty=1, location="WH1", lot="BIG")])
    done = 0
    while done < sales:
        n = min(batch, sales - done)
        with db.write(engine) as conn:
            now = db.utcnow()
            jobs = [
                granting.Job(hold.model_copy(update={"reference": f"cart-{done + k}"}), "bench")
                for k in range(n)
            ]
            answers = granting.create_batch(conn, tenant, jobs, now)
            for a in answers:
                assert isinstance(a, dict), a
                lifecycle.commit(conn, tenant, a["id"], "bench", now)
                lifecycle.ship(conn, tenant, a["id"], "bench", now)
        done += n
    left = rows - 1 - 5 * sales
    shipped = 0
    while shipped < left:
        n = min(batch * 5, left - shipped)
        with db.write(engine) as conn:
            now = db.utcnow()
            changes = [
                Change(
                    item,
                    {"on_hand": -1},
                    location=loc,
                    lot=lot.id,
                    sale=True,
                    posting=Posting(reason="ship", actor="bench", reference=f"SO-{shipped + k}"),
                )
                for k in range(n)
            ]
            kernel.apply(conn, tenant, changes, Posting(reason="ship"), now)
        shipped += n
    return tenant, item_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:///./bench.db")
    parser.add_argument("--rows", type=int, default=100_000, help="Ledger rows on the lot")
    parser.add_argument("--batch", type=int, default=200, help="Holds per transaction")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print only the JSON line")
    args = parser.parse_args()

    engine = db.make_engine(db.normalise_url(args.database_url))
    schema.upgrade(engine)
    started = time.perf_counter()
    tenant, _ = build(engine, args.rows, args.batch)
    built = time.perf_counter() - started
    with db.read(engine) as conn:
        lot_rows = conn.execute(
            sa.select(sa.func.count())
            .select_from(ledger)
            .where(
                ledger.c.tenant_id == tenant,
                ledger.c.lot_id
                == lots.find(conn, tenant, catalog.item(conn, tenant, "MILK"), "BIG").id,
            )
        ).scalar()
    timings, encodings, size = [], [], 0
    doc: dict = {}
    for _ in range(args.repeat):
        with db.read(engine) as conn:
            t0 = time.perf_counter()
            doc = recall.trace(conn, tenant, "MILK", "BIG")
            t1 = time.perf_counter()
        text = json.dumps(doc)
        t2 = time.perf_counter()
        timings.append(t1 - t0)
        encodings.append(t2 - t1)
        size = len(text)
    with db.read(engine) as conn:
        findings = [f for f in check.run(conn) if f"tenant {tenant} " in f.what]
    result = {
        "database": engine.dialect.name,
        "lot_ledger_rows": int(lot_rows or 0),
        "build_seconds": round(built, 1),
        "trace_ms_min": round(min(timings) * 1000, 1),
        "trace_ms_median": round(statistics.median(timings) * 1000, 1),
        "trace_ms_max": round(max(timings) * 1000, 1),
        "json_ms_median": round(statistics.median(encodings) * 1000, 1),
        "answer_bytes": size,
        "reservations": len(doc.get("reservations", [])),
        "shipments": len(doc.get("shipments", [])),
        "findings": len(findings),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
