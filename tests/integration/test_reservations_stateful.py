"""Reservations against a model: Hypothesis drives reserve / commit / release / expire / receive /
ship in any order with a clock it controls, on SQLite and PostgreSQL.

After every step the database must agree with the model: availability per location, the stored
`reserved` equal to the active holds, no state negative, each hold's status, and `onhand check`
clean for the tenant.

The clock starts two days in the past and only moves forward by minutes, so every hold is lapsed
by the wall clock that `onhand check` uses; that only makes its availability check more lenient,
and `reserved` must equal the active lines whatever the time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from onhand import auth, check, db
from onhand.catalog import service as catalog
from onhand.catalog.schemas import ItemIn, LocationIn
from onhand.errors import Conflict, InsufficientStock
from onhand.reservations import lifecycle
from onhand.reservations.granting import Job, create_batch
from onhand.reservations.schemas import ReservationIn
from onhand.stock import movements
from onhand.stock.availability import location_figures
from onhand.stock.schemas import MovementIn
from onhand.tables import STATES, balances, reservations

SKUS = ("A", "B")
LOCATIONS = {"L1": 10, "L2": 20}  # code -> priority; "priority" allocation takes L1 first
TTLS = (1, 30, 120, 600)


@dataclass
class Hold:
    parts: list[tuple[str, str, int]]  # (sku, location, qty)
    expires_at: datetime
    status: str = "active"


class ReservationModel(RuleBasedStateMachine):
    engine: sa.Engine  # set by the test

    holds = Bundle("holds")

    def __init__(self) -> None:
        super().__init__()
        self.tenant = f"t{uuid.uuid4().hex[:12]}"
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        self.on_hand: dict[tuple[str, str], int] = {}
        self.committed: dict[tuple[str, str], int] = {}
        self.model: dict[str, Hold] = {}
        with db.write(self.engine) as conn:
            auth.ensure_tenant(conn, self.tenant)
            for code, priority in LOCATIONS.items():
                catalog.create_location(
                    conn, self.tenant, LocationIn(code=code, name=code, priority=priority)
                )
            for sku in SKUS:
                catalog.create_item(conn, self.tenant, ItemIn(sku=sku, name=sku))
            self.item_ids = {sku: catalog.item(conn, self.tenant, sku).id for sku in SKUS}

    # ---- the model ---------------------------------------------------------------------------

    def held(self, *, lapsed_too: bool) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for h in self.model.values():
            if h.status == "active" and (lapsed_too or h.expires_at > self.now):
                for sku, loc, qty in h.parts:
                    out[(sku, loc)] = out.get((sku, loc), 0) + qty
        return out

    def free(self) -> dict[tuple[str, str], int]:
        held = self.held(lapsed_too=False)
        return {
            key: self.on_hand[key] - self.committed.get(key, 0) - held.get(key, 0)
            for key in self.on_hand
        }

    def places(self, sku: str) -> list[str]:
        """Locations that have a balance row for the SKU, in allocation ("priority") order."""
        return sorted(
            (loc for s, loc in self.on_hand if s == sku), key=lambda loc: (LOCATIONS[loc], loc)
        )

    def grant(
        self, lines: list[tuple[str, int, str | None]], free: dict[tuple[str, str], int]
    ) -> tuple[list[list[tuple[str, str, int]]] | None, str]:
        """Greedy, line by line, against `free` (changed only on success): allocations per line,
        or None and the SKU that was short."""
        trial = dict(free)
        taken: list[list[tuple[str, str, int]]] = []
        for sku, qty, loc in lines:
            if loc is not None:
                if (sku, loc) not in trial or trial[(sku, loc)] < qty:
                    return None, sku
                trial[(sku, loc)] -= qty
                taken.append([(sku, loc, qty)])
                continue
            left, parts = qty, []
            for place in self.places(sku):
                take = min(left, max(trial[(sku, place)], 0))
                if take:
                    trial[(sku, place)] -= take
                    parts.append((sku, place, take))
                    left -= take
                if not left:
                    break
            if left:
                return None, sku
            taken.append(parts)
        free.update(trial)
        return taken, ""

    # ---- rules -------------------------------------------------------------------------------

    @initialize(stock=st.lists(st.integers(0, 15), min_size=4, max_size=4))
    def first_receipts(self, stock):
        """Opening stock per (sku, location); 0 leaves the location without a balance row."""
        places = [(sku, loc) for sku in SKUS for loc in LOCATIONS]
        for (sku, loc), qty in zip(places, stock, strict=True):
            if qty:
                self.receive(sku, loc, qty)

    @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(list(LOCATIONS)), qty=st.integers(1, 20))
    def receive(self, sku, loc, qty):
        with db.write(self.engine) as conn:
            movements.post(
                conn,
                self.tenant,
                MovementIn(type="receipt", sku=sku, location=loc, qty=qty),
                "test",
                self.now,
            )
        self.on_hand[(sku, loc)] = self.on_hand.get((sku, loc), 0) + qty

    @rule(sku=st.sampled_from(SKUS), loc=st.sampled_from(list(LOCATIONS)), qty=st.integers(1, 10))
    def ship(self, sku, loc, qty):
        fits = self.free().get((sku, loc), 0) >= qty and (sku, loc) in self.on_hand
        try:
            with db.write(self.engine) as conn:
                movements.post(
                    conn,
                    self.tenant,
                    MovementIn(type="ship", sku=sku, location=loc, qty=qty),
                    "test",
                    self.now,
                )
        except InsufficientStock:
            assert not fits, f"ship {qty} {sku} at {loc} refused, model has {self.free()}"
            return
        assert fits, f"ship {qty} {sku} at {loc} allowed, model has {self.free()}"
        self.on_hand[(sku, loc)] -= qty

    @rule(
        target=holds,
        jobs=st.lists(
            st.tuples(
                st.lists(
                    st.tuples(
                        st.sampled_from(SKUS),
                        st.integers(1, 5),
                        st.one_of(st.none(), st.sampled_from(list(LOCATIONS))),
                    ),
                    min_size=1,
                    max_size=3,
                ),
                st.sampled_from(TTLS),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def reserve(self, jobs):
        batch = [
            Job(
                ReservationIn.model_validate(
                    {
                        "lines": [{"sku": s, "qty": q, "location": loc} for s, q, loc in lines],
                        "ttl_seconds": ttl,
                        "allocation": "priority",
                    }
                ),
                "test",
            )
            for lines, ttl in jobs
        ]
        with db.write(self.engine) as conn:
            answers = create_batch(conn, self.tenant, batch, self.now)
        free = self.free()
        granted = []
        for (lines, ttl), doc in zip(jobs, answers, strict=True):
            taken, short = self.grant(lines, free)
            if taken is None:
                assert isinstance(doc, InsufficientStock), (lines, doc)
                assert doc.extra["sku"] == short, (lines, doc.extra)
                continue
            assert isinstance(doc, dict), (
                f"{lines} refused: {doc!r}; model free before the batch: {self.free()}"
            )
            got = [
                [(a["sku"], a["location"], a["qty"]) for a in ln["allocations"]]
                for ln in doc["lines"]
            ]
            assert got == taken
            assert doc["expires_at"] == db.iso(self.now + timedelta(seconds=ttl))
            self.model[doc["id"]] = Hold(
                [p for parts in taken for p in parts], self.now + timedelta(seconds=ttl)
            )
            granted.append(doc["id"])
        return multiple(*granted)

    @rule(res_id=holds)
    def commit(self, res_id):
        hold = self.model[res_id]
        lapsed = hold.expires_at <= self.now
        try:
            with db.write(self.engine) as conn:
                doc = lifecycle.commit(conn, self.tenant, res_id, "test", self.now)
        except Conflict:
            assert hold.status in ("released", "expired") or (hold.status == "active" and lapsed)
            return
        assert hold.status == "committed" or (hold.status == "active" and not lapsed), hold
        assert doc["status"] == "committed"
        if hold.status == "active":
            for sku, loc, qty in hold.parts:
                self.committed[(sku, loc)] = self.committed.get((sku, loc), 0) + qty
            hold.status = "committed"

    @rule(res_id=holds)
    def release(self, res_id):
        hold = self.model[res_id]
        try:
            with db.write(self.engine) as conn:
                doc = lifecycle.release(conn, self.tenant, res_id, "test", self.now)
        except Conflict:
            assert hold.status == "committed"
            return
        assert hold.status != "committed"
        if hold.status == "active":
            hold.status = "expired" if hold.expires_at <= self.now else "released"
        assert doc["status"] == hold.status

    @rule()
    def expire(self):
        """What the sweeper does, at the model's time: end every lapsed active hold."""
        for res_id, hold in self.model.items():
            if hold.status == "active" and hold.expires_at <= self.now:
                with db.write(self.engine) as conn:
                    doc = lifecycle.release(conn, self.tenant, res_id, "sweeper", self.now)
                assert doc["status"] == "expired"
                hold.status = "expired"

    @rule(seconds=st.sampled_from([1, 5, 29, 31, 119, 121, 599, 601]))
    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)

    @rule(offset=st.sampled_from([-1, 0, 0, 1]))
    def advance_to_an_expiry(self, offset):
        """Step to just before, exactly at, or just after the next active hold's expiry."""
        upcoming = [
            h.expires_at
            for h in self.model.values()
            if h.status == "active" and h.expires_at + timedelta(seconds=offset) > self.now
        ]
        if upcoming:
            self.now = min(upcoming) + timedelta(seconds=offset)

    # ---- what must hold after every step ---------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self):
        free = self.free()
        live = self.held(lapsed_too=False)
        active = self.held(lapsed_too=True)
        with db.read(self.engine) as conn:
            figures = location_figures(conn, self.tenant, list(self.item_ids.values()), self.now)
            rows = conn.execute(
                sa.select(balances).where(balances.c.tenant_id == self.tenant)
            ).all()
            statuses = dict(
                conn.execute(
                    sa.select(reservations.c.id, reservations.c.status).where(
                        reservations.c.tenant_id == self.tenant
                    )
                ).all()
            )
            findings = [
                f.what
                for f in check.run(conn)
                if f"tenant {self.tenant} " in f.what or f.invariant == 5
            ]
        sku_of = {i: s for s, i in self.item_ids.items()}
        seen = {}
        for item_id, places in figures.items():
            for p in places:
                key = (sku_of[item_id], p["location"])
                seen[key] = (p["available"], p["on_hand"], p["reserved"], p["committed"])
        want = {
            key: (free[key], self.on_hand[key], live.get(key, 0), self.committed.get(key, 0))
            for key in self.on_hand
        }
        assert seen == want, "(available, on_hand, reserved, committed) per (sku, location)"
        for r in rows:
            assert all(getattr(r, s) >= 0 for s in STATES), f"negative state in {r}"
            key = (sku_of[r.item_id], next(c for c in LOCATIONS if self.loc_id(c) == r.location_id))
            assert r.reserved == active.get(key, 0), f"{key}: reserved {r.reserved} != active holds"
        assert statuses == {i: h.status for i, h in self.model.items()}
        assert findings == []

    def loc_id(self, code: str) -> int:
        if not hasattr(self, "_loc_ids"):
            with db.read(self.engine) as conn:
                self._loc_ids = {c: catalog.location(conn, self.tenant, c).id for c in LOCATIONS}
        return self._loc_ids[code]

    def teardown(self) -> None:
        """Leave nothing active behind for other tests' sweepers."""
        for res_id, hold in self.model.items():
            if hold.status == "active":
                with db.write(self.engine) as conn:
                    lifecycle.release(conn, self.tenant, res_id, "test", self.now)


def test_reservations_follow_the_model(engine):
    machine = type("Machine", (ReservationModel,), {"engine": engine})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
