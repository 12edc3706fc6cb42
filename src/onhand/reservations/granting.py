"""Creating reservations, one or many at a time.

`create_batch` grants a list of requests in one transaction, in arrival order, each all or
nothing. A single request is a batch of one; group commit (batcher.py) hands in many. Stock is
read under lock (stock.lock: the balance rows, then the lines of lapsed holds, so the decision
sees exactly what the guard will), decided here in memory, then written through stock.apply,
whose guarded UPDATE refuses anything beyond the stock.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from .. import db, idempotency, stock, tenants
from ..catalog import service as catalog
from ..errors import DomainError, InsufficientStock, Invalid, NotFound
from ..events import catalogue
from ..quantities import MAX_QTY, to_base_units
from ..settings import DEFAULT_RESERVATION_TTL_SECONDS
from ..stock import lots, model
from ..stock.lots import LotFree
from ..stock.model import Change, Free, Item, Location, Need, Posting
from ..tables import outbox as outbox_rows
from ..tables import reservation_lines, reservations
from . import allocation
from .schemas import ReservationIn

SCOPE = "reservations"
# The origin of a backorder line held by a reservation: this prefix and the reservation's id.
ORIGIN = "reservation:"
# Per job: the reservation document of a grant, the error that refused the job, or (under an
# Idempotency-Key) the refusal stored the first time, replayed as it was answered then.
Answer = dict[str, Any] | DomainError | idempotency.Replay


@dataclass
class Job:
    """One create request: its body, who asked, and its Idempotency-Key if any."""

    body: ReservationIn
    actor: str
    key: str | None = None
    # The server's hold lifetime (Settings.reservation_ttl_seconds), set by the route.
    default_ttl: int = DEFAULT_RESERVATION_TTL_SECONDS
    digest: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.key:
            self.digest = idempotency.fingerprint(self.body.model_dump(mode="json"))


@dataclass(frozen=True)
class Part:
    line: int
    item: Item
    qty: int
    place: Free | None
    day: date | None
    parent_sku: str | None
    # Units held beyond the stock there (an item that allows backorders): a backorder line.
    short: int = 0
    lot: lots.Lot | None = None

    @property
    def location(self) -> Location | None:
        p = self.place
        return None if p is None else Location(p.location_id, p.code or "", p.zone, p.priority)


def _needs(
    conn: Connection,
    tenant: str,
    body: ReservationIn,
    items: dict[str, Item],
    places: dict[str, Location],
) -> tuple[list[Need], list[int]]:
    """What each line takes from stock (bundles become components), and each line's quantity."""
    needs, qtys = [], []
    for n, line in enumerate(body.lines):
        item = items.get(line.sku)
        if item is None:
            raise NotFound(
                f"There is no item with SKU '{line.sku}'.", slug="unknown-sku", sku=line.sku
            )
        qty = to_base_units(line.qty, item.unit, item.units, field=f"lines.{n}.qty")
        if qty <= 0:
            raise Invalid(f"lines.{n}.qty: hold a positive quantity, not {qty}.")
        loc = None
        if line.location is not None:
            loc = places.get(line.location)
            if loc is None:
                raise NotFound(
                    f"There is no location '{line.location}'.",
                    slug="unknown-location",
                    location=line.location,
                )
        qtys.append(qty)
        if line.lot is not None and not item.lots:
            raise Invalid(
                f"lines.{n}.lot: {item.sku} does not track lots; leave the lot out.",
                slug="not-lot-tracked",
            )
        if item.kind == "bundle":
            for part, per_kit in item.components:
                if qty * per_kit > MAX_QTY:
                    raise Invalid(
                        f"lines.{n}.qty: {qty} kits of {item.sku} need {qty * per_kit} of "
                        f"{part.sku}, more than one hold may take ({MAX_QTY})."
                    )
                needs.append(Need(n, part, qty * per_kit, loc, item.sku))
        else:
            lot = lots.find(conn, tenant, item, line.lot).id if line.lot else None
            needs.append(Need(n, item, qty, loc, None, lot))
    return needs, qtys


@dataclass
class LotStock:
    """The sellable lots of a batch's lot-tracked items at each location, FEFO, decremented as
    holds are granted; a location gives a lot item no more than its sellable lots hold."""

    free: dict[tuple[int, int], list[LotFree]]
    sell_by: dict[int, date]

    def candidates(self, item: Item, location_id: int, lot: int | None) -> list[LotFree]:
        return lots.sellable(self.free.get((item.id, location_id), []), self.sell_by[item.id], lot)

    def views(self, item: Item, places: list[Free], lot: int | None) -> list[Free]:
        """The places as a lot item's need sees them: at most what their sellable lots hold."""
        out = []
        for p in places:
            held = sum(c.available for c in self.candidates(item, p.location_id, lot))
            out.append(Free(p.location_id, p.code, p.zone, p.priority, min(p.available, held)))
        return out


class _Short(Exception):
    def __init__(self, need: Need) -> None:
        self.need = need


def _shortage(
    need: Need,
    needs: list[Need],
    free: dict[int, list[Free]],
    pod_free: dict[tuple[int, date], int],
    day: date,
    lot_stock: LotStock | None = None,
    allowed: Callable[[Free], bool] | None = None,
) -> InsufficientStock:
    """The refusal, stated for everything this request wanted of the short item (counting
    only the places it was `allowed` to take from)."""
    item, loc = need.item, need.location
    same = [n for n in needs if n.item.id == item.id and (n.location == loc if loc else True)]
    if item.kind == "pod":
        available = pod_free[(item.id, day)]
    else:
        places = [p for p in free.get(item.id, []) if not loc or p.location_id == loc.id]
        if allowed and not loc:
            places = [p for p in places if allowed(p)]
        if item.lots and lot_stock is not None:
            places = lot_stock.views(item, places, need.lot)
        available = sum(max(p.available, 0) for p in places)
    problem = InsufficientStock(
        item.sku, sum(n.qty for n in same), max(available, 0), loc.code if loc else None
    )
    if need.parent_sku:
        problem.extra["bundle"] = need.parent_sku
    return problem


def _allocate(
    needs: list[Need],
    free: dict[int, list[Free]],
    pod_free: dict[tuple[int, date], int],
    day: date,
    strategy: str,
    zone: str | None,
    near: allocation.ZoneRank | None = None,
    lot_stock: LotStock | None = None,
    reach: allocation.ZoneReach | None = None,
) -> list[Part]:
    """Take every need from the in-memory figures, or put everything back and refuse."""
    parts: list[Part] = []
    pods: list[tuple[tuple[int, date], int]] = []
    taken: list[tuple[LotFree, int]] = []
    try:
        for need in needs:
            item = need.item
            if item.kind == "digital":
                parts.append(Part(need.line, item, need.qty, None, None, need.parent_sku))
            elif item.kind == "pod":
                key = (item.id, day)
                if pod_free[key] < need.qty and not item.allow_backorder:
                    raise _Short(need)
                pod_free[key] -= need.qty
                pods.append((key, need.qty))
                parts.append(Part(need.line, item, need.qty, None, day, need.parent_sku))
            elif item.lots and lot_stock is not None:
                got = _lot_parts(
                    need, free.get(item.id, []), lot_stock, strategy, zone, near, reach
                )
                for place, lot_free, qty in got:
                    place.available -= qty
                    lot_free.available -= qty
                    taken.append((lot_free, qty))
                    parts.append(
                        Part(need.line, item, qty, place, None, need.parent_sku, lot=lot_free.lot)
                    )
            else:
                places = free.get(item.id, [])
                if need.location:
                    chosen = [p for p in places if p.location_id == need.location.id]
                    fits = chosen and (chosen[0].available >= need.qty or item.allow_backorder)
                    split = [(chosen[0], need.qty)] if fits else None
                else:
                    split = allocation.split(
                        need.qty, places, strategy, zone, item.allow_backorder, near, reach
                    )
                if split is None:
                    raise _Short(need)
                for place, qty in split:
                    short = max(qty - max(place.available, 0), 0)
                    place.available -= qty
                    parts.append(Part(need.line, item, qty, place, None, need.parent_sku, short))
    except _Short as short:
        for part in parts:
            if part.place:
                part.place.available += part.qty
        for key, qty in pods:
            pod_free[key] += qty
        for lot_free, qty in taken:
            lot_free.available += qty
        allowed = (
            (lambda p: reach(zone, p.zone))
            if strategy == "nearest_zone" and zone and reach
            else None
        )
        raise _shortage(short.need, needs, free, pod_free, day, lot_stock, allowed) from None
    return parts


def _lot_parts(
    need: Need,
    places: list[Free],
    lot_stock: LotStock,
    strategy: str,
    zone: str | None,
    near: allocation.ZoneRank | None,
    reach: allocation.ZoneReach | None = None,
) -> list[tuple[Free, LotFree, int]]:
    """A lot item's need: locations chosen as for any item, but each giving at most what its
    sellable lots hold, and within a location the lot that expires first (or the one asked
    for). Nothing is decremented here; _Short when it does not fit."""
    item = need.item
    if need.location:
        places = [p for p in places if p.location_id == need.location.id]
    views = lot_stock.views(item, places, need.lot)
    if need.location:
        split = [(views[0], need.qty)] if views and views[0].available >= need.qty else None
    else:
        split = allocation.split(need.qty, views, strategy, zone, False, near, reach)
    if split is None:
        raise _Short(need)
    real = {p.location_id: p for p in places}
    out = []
    for view, qty in split:
        left = qty
        for candidate in lot_stock.candidates(item, view.location_id, need.lot):
            n = min(left, candidate.available)
            if n > 0:
                out.append((real[view.location_id], candidate, n))
                left -= n
            if left == 0:
                break
        assert left == 0, "a view never shows more than its lots hold"
    return out


def _lines_doc(body: ReservationIn, qtys: list[int], parts: list[Part]) -> list[dict[str, Any]]:
    lines = []
    for n, (line, qty) in enumerate(zip(body.lines, qtys, strict=True)):
        mine = [p for p in parts if p.line == n]
        codes = {p.place.code for p in mine if p.place}
        location = line.location or (codes.pop() if len(codes) == 1 else None)
        lines.append(
            {
                "sku": line.sku,
                "qty": qty,
                "location": location,
                "allocations": [
                    {
                        "sku": p.item.sku,
                        "location": p.place.code if p.place else None,
                        "qty": p.qty,
                        **({"lot": p.lot.code} if p.lot else {}),
                    }
                    | ({"backordered": p.short} if p.short else {})
                    for p in mine
                ],
            }
        )
    return lines


def document(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The reservation as the API shows it; an active hold past its time reads as expired."""
    status = row["status"]
    if status == "active" and row["expires_at"] <= now:
        status = "expired"
    return {
        "id": row["id"],
        "status": status,
        "expires_at": db.iso(row["expires_at"]),
        "created_at": db.iso(row["created_at"]),
        "reference": row["reference"],
        "lines": row["lines"],
    }


def create_batch(conn: Connection, tenant: str, jobs: list[Job], now: datetime) -> list[Answer]:
    """Grant `jobs` in order inside the caller's transaction; one answer per job."""
    settings = tenants.load(conn, tenant)
    answers: list[Answer | None] = [None] * len(jobs)
    keys = [j.key for j in jobs if j.key]
    if keys:
        stored = idempotency.stored_many(conn, tenant, SCOPE, keys)
        for i, job in enumerate(jobs):
            if job.key in stored:
                try:
                    status, body = idempotency.replay(stored[job.key], job.digest)
                except DomainError as error:
                    answers[i] = error
                    continue
                # A stored grant is the document again; a stored refusal is only its answer.
                answers[i] = body if status == 201 else idempotency.Replay(status, body)
    open_jobs = [i for i, a in enumerate(answers) if a is None]
    items = catalog.items_by_sku(
        conn, tenant, {ln.sku for i in open_jobs for ln in jobs[i].body.lines}
    )
    wants_place = any(ln.location for i in open_jobs for ln in jobs[i].body.lines)
    places = catalog.locations_by_code(conn, tenant) if wants_place else {}
    needs: dict[int, list[Need]] = {}
    qtys: dict[int, list[int]] = {}
    for i in open_jobs:
        try:
            settings.check_ttl(jobs[i].body.ttl_seconds)
            needs[i], qtys[i] = _needs(conn, tenant, jobs[i].body, items, places)
        except DomainError as error:
            answers[i] = error
    all_needs = [n for ns in needs.values() for n in ns]
    day = settings.day(now)
    locked = stock.lock(
        conn,
        tenant,
        {n.item.id for n in all_needs if n.item.stocked},
        now,
        ensure={
            (n.item.id, n.location.id)
            for n in all_needs
            if n.item.stocked and n.item.allow_backorder and n.location
        },
    )
    # A backordered item stocked nowhere yet is held (and backordered) at the first location.
    bare = {
        n.item.id
        for n in all_needs
        if n.item.stocked and n.item.allow_backorder and not n.location and not locked[n.item.id]
    }
    if bare and (home := _first_location(conn, tenant, places)):
        more = stock.lock(conn, tenant, bare, now, ensure={(i, home.id) for i in bare})
        locked.update(more)
    pods = stock.lock_pod(
        conn,
        tenant,
        {(n.item.id, day): n.item.capacity_per_day or 0 for n in all_needs if n.item.kind == "pod"},
        now,
    )
    free = {
        item_id: [Free(f.location_id, f.code, f.zone, f.priority, f.available) for f in rows]
        for item_id, rows in locked.items()
    }
    pod_free = {key: p.available for key, p in pods.items()}
    lot_items = {n.item.id: n.item for n in all_needs if n.item.lots}
    lot_stock = None
    if lot_items:
        # Read after stock.lock took the items' balance rows: every lot writer holds them.
        lot_stock = LotStock(
            lots.free_at(conn, tenant, set(lot_items), now),
            {i: model.sell_by(day, it.min_shelf_life_days) for i, it in lot_items.items()},
        )
    granted: dict[int, list[Part]] = {}
    strategies = {i: jobs[i].body.allocation or settings.allocation for i in needs}
    near = reach = None
    if "nearest_zone" in strategies.values():
        from ..fulfilment.dispatch import zone_rank, zone_reach  # the tenant's preferences

        near, reach = zone_rank(conn, tenant), zone_reach(conn, tenant)
    for i in sorted(needs):
        body = jobs[i].body
        try:
            granted[i] = _allocate(
                needs[i], free, pod_free, day, strategies[i], body.zone, near, lot_stock, reach
            )
        except DomainError as error:
            answers[i] = error
    rows = _Rows()
    for i, parts in granted.items():
        ttl = settings.reservation_ttl_seconds or jobs[i].default_ttl
        answers[i] = rows.add(tenant, jobs[i], qtys[i], parts, now, ttl)
    _backorder(conn, tenant, granted, answers, now)
    # The guarded UPDATEs, the ledger, the holds, their lines and the events: one round trip.
    writes = db.Writes(conn)
    outcome = stock.apply(
        conn,
        tenant,
        rows.changes,
        Posting(reason="reserve"),
        now,
        locked=locked,
        pods=pods,
        announce=False,
        writes=writes,
    )
    rows.events += stock.changed_events(tenant, outcome, now, "reserve")
    rows.write(writes)
    writes.flush()
    done = [a for a in answers if a is not None]
    assert len(done) == len(jobs), "every job has its answer"
    for i in open_jobs:
        if key := jobs[i].key:
            record = idempotency.record(done[i], 201)
            idempotency.store(conn, tenant, SCOPE, key, jobs[i].digest, record)
    return done


def _first_location(conn: Connection, tenant: str, places: dict[str, Location]) -> Location | None:
    """The tenant's first location by priority, then code."""
    every = places or catalog.locations_by_code(conn, tenant)
    return min(every.values(), key=lambda p: (p.priority, p.code), default=None)


def _backorder(
    conn: Connection,
    tenant: str,
    granted: dict[int, list[Part]],
    answers: list[Answer | None],
    now: datetime,
) -> None:
    """Units held beyond stock become backorder lines (one per part), with their promised
    dates; the hold's answer lists them. The stock already counts them as held."""
    lines, owners = [], []
    for i, parts in granted.items():
        doc = answers[i]
        assert isinstance(doc, dict)
        for p in parts:
            if p.short and p.location is not None:
                origin = f"{ORIGIN}{doc['id']}"
                lines.append((p.item, p.location, p.short, origin, p.parent_sku or p.item.sku))
                owners.append(doc)
    if not lines:
        return
    from ..fulfilment import backorders  # fulfilment builds on reservations, not the reverse

    for doc, line in zip(owners, backorders.record(conn, tenant, lines, now), strict=True):
        eta = line["eta"].isoformat() if line["eta"] else None
        doc.setdefault("backorders", []).append(line | {"eta": eta})


class _Rows:
    """The rows a batch of grants writes, inserted with one statement per table."""

    def __init__(self) -> None:
        self.reservations: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.changes: list[Change] = []
        self.events: list[dict[str, Any]] = []

    def add(
        self,
        tenant: str,
        job: Job,
        qtys: list[int],
        parts: list[Part],
        now: datetime,
        default_ttl: int,
    ) -> dict[str, Any]:
        body = job.body
        res_id = str(uuid.uuid4())
        expires = now + timedelta(seconds=body.ttl_seconds or default_ttl)
        lines = _lines_doc(body, qtys, parts)
        row: dict[str, Any] = {
            "id": res_id,
            "status": "active",
            "expires_at": expires,
            "created_at": now,
            "reference": body.reference,
            "lines": lines,
        }
        self.reservations.append({"tenant_id": tenant, "updated_at": now, **row})
        self.lines += [
            {
                "tenant_id": tenant,
                "reservation_id": res_id,
                "line_no": n,
                "request_line": p.line,
                "item_id": p.item.id,
                "location_id": p.place.location_id if p.place else None,
                "day": p.day,
                "qty": p.qty,
                "parent_sku": p.parent_sku,
                "active": True,
                "expires_at": expires,
                "lot_id": p.lot.id if p.lot else None,
            }
            for n, p in enumerate(parts)
        ]
        posting = Posting(
            reason="reserve", actor=job.actor, reference=body.reference, reservation_id=res_id
        )
        self.changes += [
            Change(
                p.item,
                {"reserved": p.qty},
                location=p.location,
                day=p.day,
                posting=posting,
                lot=p.lot.id if p.lot else None,
                sale=p.lot is not None,
            )
            for p in parts
            if p.location or p.day
        ]
        self.events.append(
            catalogue.ReservationCreated(
                reservation_id=res_id, lines=lines, expires_at=db.iso(expires)
            ).row(tenant, now)
        )
        return document(row, now)

    def write(self, writes: db.Writes) -> None:
        writes.insert(reservations, self.reservations)
        writes.insert(reservation_lines, self.lines)
        writes.insert(outbox_rows, self.events)
