"""The replenishment plan: demand history → forecast → policy → purchase suggestions.

A run reads one consistent snapshot (balances, ledger window, suppliers, measured
performance), forecasts every (item, location) that has demand, applies the inventory
policy of `policy.suggest_orders` with the tenant's settings, and replaces the tenant's
stored suggestions in one transaction. Only one run per tenant proceeds at a time: the
run claims the tenant's `plan_runs` row with a conditional UPDATE.

Lead time per item is the preferred supplier's (see `suppliers.sources`), replaced by the
measured mean and spread once that supplier has MIN_RECEIPTS deliveries. The lot size is
the EOQ where a unit price is known (holding cost = holding_rate × price), else the
forecast demand of one review period; MOQ and pack size come from the supplier link.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import db, tenancy, tenants
from ..catalog import service as catalog
from ..errors import Conflict, NotFound
from ..tables import items, locations
from . import demand, orders, performance, policy
from . import settings as plan_settings
from . import suppliers as supplier_service
from .forecast import forecast
from .tables import plan_runs, plan_suggestions, suppliers

Progress = Callable[[str, int, int], None]
STALE_RUN = timedelta(minutes=30)  # a "running" run older than this died with its process
SEASON = 7  # daily data: a weekly pattern
# Forecast settings measured fastest by bench/plan_e2e.py on PostgreSQL (docs/performance.md).
FORECAST_BLOCK = 2048
FORECAST_WORKERS = 2
FORECAST_CHUNK = 65_536  # series copied out of the history per forecast() call
STORE_CHUNK = 10_000  # suggestion rows per COPY
FIGURES = (
    "forecast_daily",
    "sigma_daily",
    "model",
    "lead_time_days",
    "lead_time_std_days",
    "lead_time_source",
    "lead_time_demand",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "eoq",
    "lot_size",
    "inventory_position",
    "available",
    "on_order",
    "days_of_cover",
    "moq",
    "pack_size",
    "supplier_sku",
    "history_days",
    "stockout_days",
    "demand_in_history",
)
STORED = (
    "tenant_id",
    "run_id",
    "item_id",
    "location_id",
    "supplier_id",
    "qty",
    "unit_price",
    "risk",
    "urgent",
    "purchase_order_id",
)


def _claim(engine: Engine, tenant: str, now: datetime) -> str:
    """Mark the tenant's run as ours, or 409 while another run is in progress."""
    run_id = str(uuid.uuid4())
    with db.write(engine) as conn:
        tenants.load(conn, tenant)  # 404 for an unknown tenant (the CLI names any)
        conn.execute(
            db.insert(conn, plan_runs)
            .values(
                tenant_id=tenant,
                run_id=run_id,
                status="idle",
                started_at=now,
                summary={},
            )
            .on_conflict_do_nothing()
        )
        claimed = conn.execute(
            tenancy.update(tenant, plan_runs)
            .where(
                sa.or_(plan_runs.c.status != "running", plan_runs.c.started_at < now - STALE_RUN)
            )
            .values(run_id=run_id, status="running", started_at=now, finished_at=None, error=None)
        )
        if claimed.rowcount != 1:
            started = conn.execute(
                tenancy.select(tenant, plan_runs, plan_runs.c.started_at)
            ).scalar_one()
            raise Conflict(
                f"A plan run for this tenant is in progress (started {db.iso(started)});"
                " wait for it to finish.",
                slug="plan-running",
            )
    return run_id


@dataclass(frozen=True)
class Lines:
    """The suggestion lines of a run, as columns, written out in line order chunk by chunk
    (a million lines never exist as a million dicts at once)."""

    n: int
    order: np.ndarray  # row k of the columns is line number position order[k] + 1
    columns: dict[str, list[Any]]  # stored columns and figures, one list entry per series

    def chunks(self, size: int = STORE_CHUNK) -> Iterator[list[dict[str, Any]]]:
        cols = self.columns
        for lo in range(0, self.n, size):
            rows = []
            for line_no, k in enumerate(self.order[lo : lo + size].tolist(), start=lo + 1):
                figures = {f: cols[f][k] for f in FIGURES}
                row = {c: cols[c][k] for c in STORED}
                rows.append(row | {"line_no": line_no, "figures": figures})
            yield rows


def run(
    engine: Engine,
    tenant: str,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    block: int = FORECAST_BLOCK,
    workers: int = FORECAST_WORKERS,
) -> dict[str, Any]:
    """Run the plan for one tenant and store its suggestions; returns the run summary.

    ``block`` and ``workers`` are the forecast's series per block and threads; the
    defaults are the fastest measured by ``bench/plan_e2e.py``."""
    now = now or db.utcnow()
    tick = progress or (lambda stage, done, total: None)
    run_id = _claim(engine, tenant, now)
    try:
        with db.read(engine) as conn:
            lines, summary = compute(conn, tenant, run_id, now, tick, block, workers)
        with db.write(engine) as conn:
            current = conn.execute(
                db.for_update(conn, tenancy.select(tenant, plan_runs, plan_runs.c.run_id))
            ).scalar()
            if current != run_id:
                raise Conflict("This plan run was superseded by a newer one.", slug="plan-running")
            conn.execute(tenancy.delete(tenant, plan_suggestions))
            _store(conn, lines, tick)
            conn.execute(
                tenancy.update(tenant, plan_runs).values(
                    status="done", finished_at=db.utcnow(), summary=summary
                )
            )
    except Exception as exc:
        with db.write(engine) as conn:
            conn.execute(
                tenancy.update(tenant, plan_runs)
                .where(plan_runs.c.run_id == run_id)
                .values(status="failed", finished_at=db.utcnow(), error=str(exc)[:2000])
            )
        raise
    with db.read(engine) as conn:
        return status(conn, tenant)


def _store(conn: Connection, lines: Lines, tick: Progress) -> None:
    """Write the lines: on PostgreSQL as COPY text built here (several times faster than a
    row of Python values per line), on SQLite as executemany."""
    tick("store", 0, lines.n)
    if db.is_sqlite(conn):
        done = 0
        for rows in lines.chunks():
            db.bulk_insert(conn, plan_suggestions, rows)
            done += len(rows)
            tick("store", done, lines.n)
        return
    names = ", ".join((*STORED, "line_no", "figures"))
    raw = conn.connection.driver_connection
    assert raw is not None
    encode = json.JSONEncoder(separators=(",", ":")).encode
    cols = lines.columns
    stored = [cols[c] for c in STORED]
    figures = [cols[f] for f in FIGURES]
    with raw.cursor() as cur, cur.copy(f"COPY plan_suggestions ({names}) FROM STDIN") as copy:
        for lo in range(0, lines.n, STORE_CHUNK):
            out = []
            for line_no, k in enumerate(lines.order[lo : lo + STORE_CHUNK].tolist(), lo + 1):
                doc = encode({f: col[k] for f, col in zip(FIGURES, figures, strict=True)})
                fields = [_copy_text(col[k]) for col in stored]
                fields += [str(line_no), doc.replace("\\", "\\\\")]
                out.append("\t".join(fields))
            copy.write("\n".join(out) + "\n")
            tick("store", min(lo + STORE_CHUNK, lines.n), lines.n)


def _copy_text(value: Any) -> str:
    """One field in COPY's text format (the stored columns hold no tabs or newlines)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\")


def _lead_times(
    src: list[supplier_service.Source | None],
    perf: dict[int, performance.Performance],
    default: float,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    # None (no measured spread yet) becomes NaN in the float arrays.
    mean: list[float | None] = []
    std: list[float | None] = []
    origin: list[str] = []
    for s in src:
        measured = perf.get(s.supplier.id) if s else None
        if s is None:
            mean.append(default)
            std.append(0.0)
            origin.append("default")
        elif measured is not None and measured.trusted:
            mean.append(measured.lead_time_mean)
            std.append(measured.lead_time_std)
            origin.append("measured")
        else:
            mean.append(s.supplier.lead_time_days)
            std.append(s.supplier.lead_time_std_days)
            origin.append("supplier")
    return np.array(mean, dtype=float), np.array(std, dtype=float), origin


def _forecast(
    hist: demand.DemandHistory, horizon: int, tick: Progress, block: int, workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forecast the series that ever sold on an observed day; the rest forecast zero.

    Series are copied out of the history FORECAST_CHUNK at a time, so the copy stays
    small however many series there are."""
    n = hist.qty.shape[0]
    mean, sigma = np.zeros((n, horizon), np.float32), np.zeros(n, np.float32)
    model = np.full(n, "none", dtype=object)
    rows = np.flatnonzero(((hist.qty > 0) & ~hist.stockout).any(axis=1))
    done = [0]

    def step(k: int) -> None:
        done[0] += k
        tick("forecast", done[0], len(rows))

    tick("forecast", 0, len(rows))
    for lo in range(0, len(rows), FORECAST_CHUNK):
        part = rows[lo : lo + FORECAST_CHUNK]
        fc = forecast(
            hist.qty[part],
            horizon,
            SEASON,
            stockout=hist.stockout[part],
            block=block,
            workers=workers,
            on_block=step,
        )
        mean[part], sigma[part], model[part] = fc.mean, fc.sigma, fc.model
    return mean, sigma, model


def _r2(values: Any) -> list[float | None]:
    """Rounded to 2 places, None where not finite (JSON has no NaN)."""
    a = np.asarray(values, dtype=np.float64)
    out: list[float | None] = np.round(a, 2).tolist()
    for k in np.flatnonzero(~np.isfinite(a)).tolist():
        out[k] = None
    return out


def compute(
    conn: Connection,
    tenant: str,
    run_id: str,
    now: datetime,
    tick: Progress,
    block: int = FORECAST_BLOCK,
    workers: int = FORECAST_WORKERS,
) -> tuple[Lines, dict[str, Any]]:
    cfg = plan_settings.load(conn, tenant)
    tick("history", 0, 1)
    planned = demand.series(conn, tenant)
    hist = demand.history(
        conn,
        tenant,
        planned,
        cfg.history_days,
        today=now.date(),
        progress=lambda done, total: tick("history", done, total),
    )
    tick("history", 1, 1)
    mean, sigma, model = _forecast(hist, cfg.horizon_days, tick, block, workers)
    stockout_days = hist.stockout.sum(axis=1)
    sold = hist.qty.sum(axis=1, dtype=np.float64)
    history_days, history_start = hist.days, hist.start
    del hist  # the largest arrays of the run

    n = len(planned)
    sources = supplier_service.sources(conn, tenant)
    src = [sources.get(i) for i in planned.item_ids.tolist()]
    lt, lt_std, lt_origin = _lead_times(
        src, performance.measure(conn, tenant), cfg.default_lead_time_days
    )
    costs: dict[int, Decimal | None] = dict(
        conn.execute(tenancy.select(tenant, items, items.c.id, items.c.unit_cost)).all()
    )
    prices = [
        s.price if s and s.price is not None else costs.get(i)
        for s, i in zip(src, planned.item_ids.tolist(), strict=True)
    ]
    price = np.array([float(p) if p is not None else 0.0 for p in prices])
    annual = mean.mean(axis=1, dtype=np.float64) * 365
    eoq = policy.economic_order_quantity(
        annual, float(cfg.ordering_cost), cfg.holding_rate * np.where(price > 0, price, np.nan)
    )
    review = mean[:, : cfg.review_days].sum(axis=1, dtype=np.float64)
    lot = np.where((price > 0) & np.isfinite(eoq), eoq, review)
    moq = [s.moq if s else 0 for s in src]
    pack = [s.pack_size if s else 1 for s in src]
    out = policy.suggest_orders(
        mean,
        sigma,
        on_hand=planned.on_hand - planned.unusable,
        reserved=planned.reserved,
        on_order=planned.incoming + planned.in_transit,
        lead_time=lt,
        lead_time_std=lt_std,
        service_level=cfg.service_level,
        lot_size=lot,
        review_period=cfg.review_days,
        moq=moq,
        pack_size=pack,
    )
    tick("policy", 1, 1)

    skus: dict[int, str] = dict(
        conn.execute(tenancy.select(tenant, items, items.c.id, items.c.sku)).all()
    )
    codes = {loc.id: loc.code for loc in catalog.locations_by_id(conn, tenant).values()}
    with np.errstate(divide="ignore", invalid="ignore"):
        daily = np.where(lt > 0, out.lead_time_demand / lt, mean[:, 0])
    on_order = planned.incoming + planned.in_transit
    columns: dict[str, list[Any]] = {
        "forecast_daily": _r2(daily),
        "sigma_daily": _r2(sigma),
        "model": [str(m) for m in model.tolist()],
        "lead_time_days": _r2(lt),
        "lead_time_std_days": _r2(lt_std),
        "lead_time_source": lt_origin,
        "lead_time_demand": _r2(out.lead_time_demand),
        "safety_stock": _r2(out.safety_stock),
        "reorder_point": _r2(out.reorder_point),
        "order_up_to": _r2(out.order_up_to),
        "eoq": _r2(eoq),
        "lot_size": _r2(lot),
        "inventory_position": np.asarray(out.inventory_position).astype(np.int64).tolist(),
        "available": planned.available.tolist(),
        "on_order": on_order.tolist(),
        "days_of_cover": _r2(out.days_of_cover),
        "moq": moq,
        "pack_size": pack,
        "supplier_sku": [s.supplier_sku if s else None for s in src],
        "history_days": [history_days] * n,
        "stockout_days": stockout_days.astype(np.int64).tolist(),
        "demand_in_history": sold.astype(np.int64).tolist(),
        "tenant_id": [tenant] * n,
        "run_id": [run_id] * n,
        "item_id": planned.item_ids.tolist(),
        "location_id": planned.location_ids.tolist(),
        "supplier_id": [s.supplier.id if s else None for s in src],
        "qty": np.asarray(out.quantity).astype(np.int64).tolist(),
        "unit_price": prices,
        "risk": [str(r) for r in np.asarray(out.risk).tolist()],
        "urgent": np.asarray(out.urgent).astype(bool).tolist(),
        "purchase_order_id": [None] * n,
    }
    # Line order: by supplier (no supplier last), urgent first, then SKU and location.
    order = np.lexsort(
        (
            np.array([codes[i] for i in planned.location_ids.tolist()], dtype=str),
            np.array([skus[i] for i in planned.item_ids.tolist()], dtype=str),
            ~np.asarray(out.urgent, dtype=bool),
            np.array([s.supplier.code if s else "\uffff" for s in src], dtype=str),
        )
    )
    due = np.asarray(out.quantity) > 0
    supplier_ids = columns["supplier_id"]
    summary = {
        "run_id": run_id,
        "series": n,
        "forecasted": int((model != "none").sum()),
        "suggestions": int(due.sum()),
        "urgent": int((due & np.asarray(out.urgent, dtype=bool)).sum()),
        "suppliers": len({supplier_ids[k] for k in np.flatnonzero(due).tolist()} - {None}),
        "unassigned": sum(supplier_ids[k] is None for k in np.flatnonzero(due).tolist()),
        "history_start": history_start.isoformat(),
        "settings": cfg.document(),
    }
    return Lines(n, order, columns), summary


# ---- reading ---------------------------------------------------------------------------


def status(conn: Connection, tenant: str) -> dict[str, Any]:
    row = conn.execute(tenancy.select(tenant, plan_runs)).first()
    if row is None or row.status == "idle":
        raise NotFound(
            "No plan has been run for this tenant yet; POST /plan to run one.", slug="no-plan"
        )
    return {
        **row.summary,
        "run_id": row.run_id,
        "status": row.status,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "error": row.error,
    }


def _finished_run(conn: Connection, tenant: str) -> str:
    doc = status(conn, tenant)
    if doc["status"] == "running":
        raise Conflict(
            "A plan run is in progress; try again when it has finished.", slug="plan-running"
        )
    if doc["status"] != "done":
        raise Conflict(
            f"The last plan run failed ({doc['error']}); run the plan again.", slug="plan-failed"
        )
    return doc["run_id"]


def _suggestion_out(r: Any) -> dict[str, Any]:
    total = None if r.unit_price is None else r.unit_price * r.qty
    return {
        "line_no": r.line_no,
        "sku": r.sku,
        "name": r.name,
        "location": r.location,
        "supplier": r.supplier,
        "currency": r.currency,
        "qty": r.qty,
        "unit_price": supplier_service.money(r.unit_price),
        "line_total": supplier_service.money(total),
        "risk": r.risk,
        "urgent": r.urgent,
        "purchase_order": orders.number(r.purchase_order_id) if r.purchase_order_id else None,
        **r.figures,
    }


def _suggestions_stmt(tenant: str) -> sa.Select:
    ps = plan_suggestions
    return (
        sa.select(
            ps,
            items.c.sku,
            items.c.name,
            locations.c.code.label("location"),
            suppliers.c.code.label("supplier"),
            suppliers.c.currency,
        )
        .join(items, tenancy.on(tenant, items, items.c.id == ps.c.item_id))
        .join(locations, tenancy.on(tenant, locations, locations.c.id == ps.c.location_id))
        .outerjoin(suppliers, tenancy.on(tenant, suppliers, suppliers.c.id == ps.c.supplier_id))
        .where(tenancy.of(tenant, ps))
    )


def _groups(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    ps = plan_suggestions
    rows = conn.execute(
        sa.select(
            suppliers.c.code,
            suppliers.c.name,
            suppliers.c.currency,
            sa.func.count(),
            sa.func.sum(ps.c.qty),
            sa.func.sum(sa.case((ps.c.urgent, 1), else_=0)),
            sa.func.sum(ps.c.qty * ps.c.unit_price),
            sa.func.count(ps.c.purchase_order_id),
        )
        .select_from(
            ps.outerjoin(
                suppliers, tenancy.on(tenant, suppliers, suppliers.c.id == ps.c.supplier_id)
            )
        )
        .where(tenancy.of(tenant, ps), ps.c.qty > 0)
        .group_by(suppliers.c.code, suppliers.c.name, suppliers.c.currency)
        .order_by(suppliers.c.code.is_(None), suppliers.c.code)
    )  # unassigned last everywhere
    return [
        {
            "supplier": code,
            "supplier_name": name,
            "currency": currency,
            "lines": n,
            "units": int(units),
            "urgent_lines": int(urgent),
            "value": supplier_service.money(Decimal(value)) if value is not None else None,
            "ordered_lines": ordered,
        }
        for code, name, currency, n, units, urgent, value, ordered in rows
    ]


def suggestions(
    conn: Connection,
    tenant: str,
    *,
    supplier: str | None = None,
    urgent: bool | None = None,
    due_only: bool = True,
    after: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """A page of the current run's lines, grouped by supplier (line order), with group totals."""
    run = status(conn, tenant)
    ps = plan_suggestions
    stmt = _suggestions_stmt(tenant).where(ps.c.line_no > after)
    if due_only:
        stmt = stmt.where(ps.c.qty > 0)
    if urgent is not None:
        stmt = stmt.where(ps.c.urgent == urgent)
    if supplier:
        stmt = stmt.where(ps.c.supplier_id == supplier_service.supplier(conn, tenant, supplier).id)
    rows = conn.execute(stmt.order_by(ps.c.line_no).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "run": run,
        "suppliers": _groups(conn, tenant),
        "suggestions": [_suggestion_out(r) for r in page],
        "next_after": page[-1].line_no if len(rows) > limit else None,
    }


# ---- suggestions → draft purchase orders ------------------------------------------------


def to_purchase_orders(
    conn: Connection,
    tenant: str,
    codes: list[str] | None,
    actor: str,
    now: datetime,
    line_nos: list[int] | None = None,
) -> dict[str, Any]:
    """One draft purchase order per supplier and destination from the open suggestions."""
    conn.execute(db.for_update(conn, tenancy.select(tenant, plan_runs, plan_runs.c.run_id))).first()
    run_id = _finished_run(conn, tenant)
    wanted = None
    if codes is not None:
        wanted = {supplier_service.supplier(conn, tenant, c).id for c in codes}
    ps = plan_suggestions
    rows = conn.execute(
        _suggestions_stmt(tenant)
        .where(ps.c.qty > 0, ps.c.purchase_order_id.is_(None))
        .order_by(ps.c.line_no)
    ).all()
    if line_nos is not None:
        chosen = set(line_nos)
        rows = [r for r in rows if r.line_no in chosen]
    unassigned = [
        {"sku": r.sku, "location": r.location, "qty": r.qty} for r in rows if r.supplier_id is None
    ]
    groups: dict[tuple[int, int], list[Any]] = {}
    for r in rows:
        if r.supplier_id is not None and (wanted is None or r.supplier_id in wanted):
            groups.setdefault((r.supplier_id, r.location_id), []).append(r)
    by_id = supplier_service.suppliers_by_id(conn, tenant)
    places = catalog.locations_by_id(conn, tenant)
    found = catalog.items_by_id(conn, tenant, {r.item_id for r in rows})
    made = []
    for (sup_id, loc_id), lines in groups.items():
        new = [
            orders.NewLine(found[r.item_id], r.qty, r.unit_price, r.figures.get("supplier_sku"))
            for r in lines
        ]
        po_id = orders.insert(
            conn,
            tenant,
            by_id[sup_id],
            places[loc_id],
            new,
            actor,
            now,
            plan_run_id=run_id,
            reference=f"plan {run_id[:8]}",
        )
        conn.execute(
            tenancy.update(tenant, ps)
            .where(ps.c.line_no.in_([r.line_no for r in lines]))
            .values(purchase_order_id=po_id)
        )
        made.append(orders.get(conn, tenant, po_id))
    return {"purchase_orders": made, "unassigned": unassigned}
