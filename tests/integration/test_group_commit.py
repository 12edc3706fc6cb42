"""Group commit (reservations/batcher.py) driven straight from asyncio, on SQLite and PostgreSQL.

Concurrent `submit`s are coalesced into shared transactions that grant in arrival order; every
caller gets its own answer; one bad request never sinks its neighbours; an Idempotency-Key
repeated inside one batch applies once. An answer is the reservation document of a grant or the
domain error of a refusal (the route turns it into HTTP through problems.py).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from onhand import auth, check, db, problems
from onhand.catalog import service as catalog
from onhand.catalog.schemas import ItemIn, LocationIn
from onhand.errors import DomainError, InsufficientStock, Invalid, NotFound
from onhand.reservations import batcher
from onhand.reservations.batcher import GroupCommit
from onhand.reservations.granting import Job
from onhand.reservations.schemas import ReservationIn
from onhand.stock import movements
from onhand.stock.schemas import MovementIn
from onhand.tables import balances, items, reservation_lines, reservations

STOCK = 100


def findings_for(engine, tenant: str) -> list[str]:
    with db.read(engine) as conn:
        return [
            f.what for f in check.run(conn) if f"tenant {tenant} " in f.what or f.invariant == 5
        ]


def stock_up(engine, tenant: str, **skus: int) -> None:
    """One location WH1 and a physical item per keyword, received in the given quantity."""
    with db.write(engine) as conn:
        catalog.create_location(conn, tenant, LocationIn(code="WH1", name="Main"))
        catalog.create_item(conn, tenant, ItemIn(sku="EBOOK", name="e-book", kind="digital"))
        for sku, qty in skus.items():
            catalog.create_item(conn, tenant, ItemIn(sku=sku, name=sku))
            if qty:
                movements.post(
                    conn,
                    tenant,
                    MovementIn(type="receipt", sku=sku, location="WH1", qty=qty),
                    "test",
                    db.utcnow(),
                )


def job(
    sku: str = "HOT",
    qty=1,
    reference: str | None = None,
    key: str | None = None,
    location: str | None = None,
) -> Job:
    body = ReservationIn.model_validate(
        {"lines": [{"sku": sku, "qty": qty, "location": location}], "reference": reference}
    )
    return Job(body, "test", key)


def reserved(engine, tenant: str, sku: str = "HOT") -> int:
    with db.read(engine) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(balances.c.reserved), 0))
                .join(items, items.c.id == balances.c.item_id)
                .where(balances.c.tenant_id == tenant, items.c.sku == sku)
            ).scalar_one()
        )


def held_by_reference(engine, tenant: str) -> dict[str, int]:
    """Per reservation reference, the units its active lines hold."""
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(reservations.c.reference, sa.func.sum(reservation_lines.c.qty))
            .join(
                reservation_lines,
                sa.and_(
                    reservation_lines.c.tenant_id == reservations.c.tenant_id,
                    reservation_lines.c.reservation_id == reservations.c.id,
                ),
            )
            .where(reservations.c.tenant_id == tenant, reservation_lines.c.active)
            .group_by(reservations.c.reference)
        )
        return {ref: int(total) for ref, total in rows}


def granted(answer) -> bool:
    return isinstance(answer, dict)


def is_insufficient(answer) -> bool:
    return isinstance(answer, InsufficientStock) and answer.slug == "insufficient-stock"


async def submit_all(gc: GroupCommit, tenant: str, jobs: list[Job], *, spread: float = 0.0):
    """Submit every job concurrently, in list order; `spread` seconds between arrivals."""

    async def one(n: int, j: Job):
        if spread:
            await asyncio.sleep(spread * n)
        return await gc.submit(tenant, j)

    return await asyncio.gather(*(one(n, j) for n, j in enumerate(jobs)))


# ---- the race for a hot SKU -----------------------------------------------------------------


@pytest.mark.parametrize("max_batch", [256, 16])
def test_200_submits_for_100_units_grant_the_first_100_in_arrival_order(engine, tenant, max_batch):
    stock_up(engine, tenant, HOT=STOCK)
    gc = GroupCommit(engine, max_batch=max_batch)
    jobs = [job(reference=f"job-{n}") for n in range(200)]
    answers = asyncio.run(asyncio.wait_for(submit_all(gc, tenant, jobs), 120))

    won = [n for n, a in enumerate(answers) if granted(a)]
    refused = [n for n, a in enumerate(answers) if is_insufficient(a)]
    assert won == list(range(STOCK)), "the first 100 to arrive are the ones granted"
    assert refused == list(range(STOCK, 200))
    # each caller got its own answer
    assert [answers[n]["reference"] for n in won] == [f"job-{n}" for n in won]
    assert len({answers[n]["id"] for n in won}) == STOCK
    for n in refused:
        assert answers[n].extra["sku"] == "HOT" and answers[n].extra["requested"] == 1
        assert answers[n].extra["available"] == 0
    assert gc.batched_requests == 200
    assert gc.batched_requests / gc.batches > 1, "requests were coalesced"
    if max_batch == 16:
        assert gc.batches >= 200 // 16
    assert reserved(engine, tenant) == STOCK
    assert held_by_reference(engine, tenant) == {f"job-{n}": 1 for n in won}
    assert findings_for(engine, tenant) == []


def test_arrivals_spread_over_several_batches_are_still_granted_in_order(engine, tenant):
    stock_up(engine, tenant, HOT=STOCK)
    gc = GroupCommit(engine)
    jobs = [job(qty=1 + n % 3, reference=f"job-{n}") for n in range(150)]
    answers = asyncio.run(asyncio.wait_for(submit_all(gc, tenant, jobs, spread=0.0005), 120))
    left, expected = STOCK, []
    for n, j in enumerate(jobs):  # arrival order, all or nothing each
        qty = j.body.lines[0].qty
        if qty <= left:
            left -= qty
            expected.append(n)
    won = [n for n, a in enumerate(answers) if granted(a)]
    assert won == expected
    assert all(is_insufficient(a) for n, a in enumerate(answers) if n not in set(won))
    assert reserved(engine, tenant) == STOCK - left
    assert findings_for(engine, tenant) == []


def test_without_group_commit_the_race_still_grants_exactly_the_stock(engine, tenant):
    stock_up(engine, tenant, HOT=STOCK)
    gc = GroupCommit(engine, enabled=False)
    answers = asyncio.run(
        asyncio.wait_for(
            submit_all(gc, tenant, [job(reference=f"job-{n}") for n in range(200)]), 180
        )
    )
    assert sum(granted(a) for a in answers) == STOCK
    assert sum(is_insufficient(a) for a in answers) == 200 - STOCK
    assert reserved(engine, tenant) == STOCK
    assert findings_for(engine, tenant) == []


def test_two_tenants_in_one_batch_each_get_their_own_answers(engine, tenant):
    other = f"t{uuid.uuid4().hex[:12]}"
    with db.write(engine) as conn:
        auth.ensure_tenant(conn, other)
    stock_up(engine, tenant, HOT=3)
    stock_up(engine, other, HOT=5)
    gc = GroupCommit(engine)

    async def race():
        mine = [gc.submit(tenant, job(reference=f"{tenant}-{n}")) for n in range(8)]
        theirs = [gc.submit(other, job(reference=f"{other}-{n}")) for n in range(8)]
        both = await asyncio.gather(*[c for pair in zip(mine, theirs, strict=True) for c in pair])
        return both[0::2], both[1::2]

    mine, theirs = asyncio.run(asyncio.wait_for(race(), 60))
    assert [type(a) for a in mine] == [dict] * 3 + [InsufficientStock] * 5
    assert [type(a) for a in theirs] == [dict] * 5 + [InsufficientStock] * 3
    assert all(a["reference"].startswith(tenant) for a in mine if granted(a))
    assert all(a["reference"].startswith(other) for a in theirs if granted(a))
    assert (reserved(engine, tenant), reserved(engine, other)) == (3, 5)
    assert findings_for(engine, tenant) == [] and findings_for(engine, other) == []


# ---- a bad job among good ones ----------------------------------------------------------------


def test_a_bad_job_in_a_batch_does_not_affect_the_others(engine, tenant):
    stock_up(engine, tenant, HOT=10)
    gc = GroupCommit(engine)
    jobs = [
        job(reference="good-0"),
        job(sku="NOPE", reference="unknown-sku"),
        job(qty=0, reference="zero"),
        job(qty=-2, reference="negative"),
        job(qty="1.5", reference="fraction"),
        job(location="WH9", reference="unknown-location"),
        job(sku="EBOOK", qty=10**30, reference="absurd"),
        job(qty=2, reference="good-1"),
        job(qty=11, reference="too-many"),
        job(qty=3, reference="good-2"),
    ]
    answers = asyncio.run(asyncio.wait_for(submit_all(gc, tenant, jobs), 60))
    by_ref = {j.body.reference: a for j, a in zip(jobs, answers, strict=True)}
    assert gc.batches == 1, "all of them went in one batch"
    assert [granted(by_ref[f"good-{n}"]) for n in range(3)] == [True, True, True]
    assert [by_ref[f"good-{n}"]["reference"] for n in range(3)] == ["good-0", "good-1", "good-2"]
    unknown = by_ref["unknown-sku"]
    assert isinstance(unknown, NotFound) and unknown.slug == "unknown-sku"
    assert isinstance(by_ref["unknown-location"], NotFound)
    for ref in ("zero", "negative", "fraction", "absurd"):
        bad = by_ref[ref]
        assert isinstance(bad, Invalid) and bad.slug == "validation", (ref, bad)
    assert is_insufficient(by_ref["too-many"])
    assert reserved(engine, tenant) == 6
    assert held_by_reference(engine, tenant) == {"good-0": 1, "good-1": 2, "good-2": 3}
    assert findings_for(engine, tenant) == []


def test_a_quantity_that_is_not_a_number_never_joins_a_batch():
    with pytest.raises(ValidationError, match="not a number"):
        job(qty="1_000")


def test_a_job_that_fails_in_the_database_does_not_sink_its_neighbours(engine, tenant, monkeypatch):
    """The batcher retries a failed batch one job per transaction; the neighbours of a job that
    fails there every time still get their own answer (and a granted hold is never reported
    as an error)."""
    stock_up(engine, tenant, HOT=10)
    real = batcher.create_batch

    def poisoned(conn, tenant_, jobs, now):
        if any(j.body.reference == "poison" for j in jobs):
            raise OperationalError("SELECT 1", {}, Exception("simulated database failure"))
        return real(conn, tenant_, jobs, now)

    monkeypatch.setattr(batcher, "create_batch", poisoned)
    gc = GroupCommit(engine)

    async def answer(ref: str):
        try:
            return await gc.submit(tenant, job(reference=ref))
        except Exception as exc:  # noqa: BLE001 -- a raise is kept apart from an error answered
            return ("raised", exc)

    async def race():
        return await asyncio.gather(*(answer(ref) for ref in ("first", "poison", "last")))

    first, poison, last = asyncio.run(asyncio.wait_for(race(), 60))
    held = held_by_reference(engine, tenant)
    # The three land in one batch (submitted before the batch runs); the batch fails, each job
    # is retried alone, and the one that fails there again is answered 503, not raised.
    assert isinstance(poison, DomainError), f"poison raised {poison!r}"
    # (The route answers it as problems.py says, so that is what is checked.)
    poison_doc = problems.document(poison)
    assert problems.status_for(poison) == 503, poison_doc
    assert poison_doc["type"].endswith("/temporarily-unavailable"), poison_doc
    assert granted(first), f"first got {first!r}; holds in the database: {held}"
    assert granted(last), f"last got {last!r}; holds in the database: {held}"
    assert held == {"first": 1, "last": 1}
    assert findings_for(engine, tenant) == []


# ---- Idempotency-Key inside one batch ---------------------------------------------------------


def test_a_key_repeated_within_one_batch_applies_once(engine, tenant):
    stock_up(engine, tenant, HOT=10)
    gc = GroupCommit(engine)
    jobs = [
        job(qty=2, reference="k", key="key-1"),
        job(reference="plain-0"),
        job(qty=2, reference="k", key="key-1"),
        job(qty=2, reference="k", key="key-1"),
        job(qty=1, reference="other", key="key-2"),
        job(qty=3, reference="other", key="key-2"),  # same key, another body
        job(reference="plain-1"),
    ]
    answers = asyncio.run(asyncio.wait_for(submit_all(gc, tenant, jobs), 60))
    k1 = [answers[n] for n in (0, 2, 3)]
    assert all(granted(a) for a in k1) and k1[0] == k1[1] == k1[2], "the same answer each time"
    assert granted(answers[4])
    reused = answers[5]
    assert isinstance(reused, Invalid) and reused.slug == "idempotency-key-reused"
    assert (granted(answers[1]), granted(answers[6])) == (True, True)
    assert {
        answers[1]["id"],
        answers[6]["id"],
        k1[0]["id"],
        answers[4]["id"],
    }.__len__() == 4
    assert held_by_reference(engine, tenant) == {"k": 2, "plain-0": 1, "plain-1": 1, "other": 1}
    assert reserved(engine, tenant) == 5
    with db.read(engine) as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(reservations)
            .where(reservations.c.tenant_id == tenant)
        ).scalar_one()
    assert count == 4

    # a later batch replays the stored answer and applies nothing
    again = asyncio.run(
        asyncio.wait_for(
            submit_all(
                gc, tenant, [job(qty=2, reference="k", key="key-1"), job(reference="plain-2")]
            ),
            60,
        )
    )
    assert again[0] == k1[0] and granted(again[1])
    assert reserved(engine, tenant) == 6
    assert findings_for(engine, tenant) == []
