"""A flash sale while holds lapse: every buyer gets 201 or 409, never an error.

Holds on a sold-out SKU reach their expiry while group-commit batches keep reserving it, and
at that moment the real sweeper expires them, or all their owners commit or extend them at
once, a few milliseconds before the expiry. A batch must decide from the same view its
guarded UPDATE has, and a commit or extension must be decided under the same locks as the
batches (issue 14, item 1): then no batch is refused as a whole, no lapsed hold is both
given to a buyer and kept by its owner, and `onhand check` stays clean.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from test_group_commit import findings_for, held_by_reference, stock_up

from onhand import db
from onhand.errors import Conflict, DomainError, InsufficientStock
from onhand.reservations import lifecycle
from onhand.reservations.batcher import GroupCommit
from onhand.reservations.granting import Job, create_batch
from onhand.reservations.schemas import ReservationIn
from onhand.tables import reservations

HOLDS = 30  # the whole stock, held by holds that lapse together
ROUNDS = 3
BUYERS = 24


def hold_everything(engine, tenant: str, sku: str) -> tuple[list[str], datetime]:
    """HOLDS one-unit holds with a one-second TTL; their ids and their common expiry."""
    body = ReservationIn.model_validate({"lines": [{"sku": sku, "qty": 1}], "ttl_seconds": 1})
    with db.write(engine) as conn:
        answers = create_batch(
            conn, tenant, [Job(body, "early") for _ in range(HOLDS)], db.utcnow()
        )
    assert [type(a) for a in answers] == [dict] * HOLDS, answers
    ids = [a["id"] for a in answers]
    with db.read(engine) as conn:
        expires = conn.execute(
            sa.select(sa.func.max(reservations.c.expires_at)).where(
                reservations.c.tenant_id == tenant, reservations.c.id.in_(ids)
            )
        ).scalar_one()
    return ids, expires


def sleep_until(moment: datetime) -> None:
    time.sleep(max((moment - db.utcnow()).total_seconds(), 0))


def act_at_expiry(engine, tenant: str, mode: str, ids: list[str], expires: datetime) -> None:
    """The owners (or the sweeper) act on the holds right at their expiry."""
    if mode == "sweep":
        sleep_until(expires)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            lifecycle.expire_due(engine, limit=3)  # many small sweeps: many chances to race
        return
    before = expires - timedelta(milliseconds=3)
    barrier = threading.Barrier(len(ids))

    def one(res_id: str) -> None:
        barrier.wait()
        sleep_until(before)  # all owners at once, just inside the hold's time
        try:
            with db.write(engine) as conn:  # what the route runs
                if mode == "commit":
                    lifecycle.commit(conn, tenant, res_id, "owner")
                else:
                    lifecycle.extend(conn, tenant, res_id, 60)
        except DomainError:
            pass  # too late: the hold had lapsed

    threads = [threading.Thread(target=one, args=(r,)) for r in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


@dataclass(frozen=True)
class Raised:
    """An exception `submit` raised, kept apart from the errors it answers with."""

    error: Exception


async def buy_around(gc: GroupCommit, tenant: str, sku: str, expires: datetime) -> list:
    """BUYERS clients submitting one-unit holds back to back from just before the expiry."""
    sleep = (expires - db.utcnow()).total_seconds() - 0.05
    await asyncio.sleep(max(sleep, 0))
    stop = time.monotonic() + 0.6
    body = ReservationIn.model_validate({"lines": [{"sku": sku, "qty": 1}], "reference": "buyer"})
    outcomes: list = []

    async def client() -> None:
        while time.monotonic() < stop:
            try:
                outcomes.append(await gc.submit(tenant, Job(body, "buyer")))
            except Exception as exc:  # noqa: BLE001 -- the failure under test
                outcomes.append(Raised(exc))

    await asyncio.gather(*(client() for _ in range(BUYERS)))
    return outcomes


@pytest.mark.parametrize("mode", ["sweep", "commit", "extend"])
def test_holds_lapsing_during_a_flash_sale_never_fail_a_buyer(engine, tenant, mode):
    skus = {f"HOT{n}": HOLDS for n in range(ROUNDS)}
    stock_up(engine, tenant, **skus)
    gc = GroupCommit(engine)
    outcomes = []
    for sku in skus:
        ids, expires = hold_everything(engine, tenant, sku)
        actor = threading.Thread(target=act_at_expiry, args=(engine, tenant, mode, ids, expires))
        actor.start()
        outcomes += asyncio.run(asyncio.wait_for(buy_around(gc, tenant, sku, expires), 60))
        actor.join(60)
    # A grant (the document) or a refusal answered 409; anything else, or a raise, is an error.
    errors = [o for o in outcomes if not isinstance(o, dict | InsufficientStock | Conflict)]
    assert errors == [], f"{len(errors)} of {len(outcomes)} buyers got an error: {errors[:3]}"
    granted = sum(1 for o in outcomes if isinstance(o, dict))
    assert len(outcomes) > 0
    # Nothing oversold: granted buyers hold at most what lapsed, and the books add up.
    assert held_by_reference(engine, tenant).get("buyer", 0) == granted <= HOLDS * ROUNDS
    assert findings_for(engine, tenant) == []
