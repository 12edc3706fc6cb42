"""Random sequences of movements against the service layer and a plain in-memory model.

After every step the balances equal the model, `onhand check` finds nothing for the tenant,
and a movement the model refuses is refused by the service with InsufficientStock and
changes nothing at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conftest import PG_ADMIN_URL, need
from onhand import auth, check, db, schema
from onhand.catalog import service as catalog
from onhand.catalog.schemas import ItemIn, LocationIn
from onhand.errors import InsufficientStock
from onhand.stock import movements
from onhand.stock.schemas import MovementIn
from onhand.tables import STATES, balances, items, ledger, locations, outbox
from onhand.tables import movements as movement_rows

SKUS = ("BOOK", "MUG")
LOCATIONS = ("WH1", "WH2", "WH3")
Key = tuple[str, str]
Figures = dict[str, int]

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

skus = st.sampled_from(SKUS)
places = st.sampled_from(LOCATIONS)
quantities = st.integers(min_value=1, max_value=30)


def available(f: Figures) -> int:
    return f["on_hand"] - f["damaged"] - f["quality_control"] - f["safety_stock"]


def zero() -> Figures:
    return {s: 0 for s in STATES}


def plus(f: Figures, **deltas: int) -> Figures:
    return {s: f[s] + deltas.get(s, 0) for s in f}


def stock_rows(engine: sa.Engine, tenant: str) -> tuple:
    """What a movement can write for a tenant: balances, ledger, movements, outbox events."""
    with db.read(engine) as conn:
        return (
            sorted(
                tuple(r)
                for r in conn.execute(sa.select(balances).where(balances.c.tenant_id == tenant))
            ),
            *(
                conn.execute(
                    sa.select(sa.func.count(), sa.func.max(t.c.id)).where(t.c.tenant_id == tenant)
                ).one()
                for t in (ledger, movement_rows, outbox)
            ),
        )


def ledger_machine(engine: sa.Engine) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.tenant = f"t{uuid.uuid4().hex[:12]}"
            with db.write(engine) as conn:
                auth.ensure_tenant(conn, self.tenant)
                for code in LOCATIONS:
                    catalog.create_location(conn, self.tenant, LocationIn(code=code, name=code))
                for sku in SKUS:
                    catalog.create_item(conn, self.tenant, ItemIn(sku=sku, name=sku))
            self.model: dict[Key, Figures] = {(s, loc): zero() for s in SKUS for loc in LOCATIONS}

        # ---- the one way to post, checked against the model's verdict -----------------------

        def post(self, body: dict, after: dict[Key, Figures] | None) -> None:
            """Post `body`; `after` is the model's new figures, or None if it must be refused."""
            before = stock_rows(engine, self.tenant) if after is None else None
            try:
                with db.write(engine) as conn:
                    movements.post(conn, self.tenant, MovementIn(**body), "model", db.utcnow())
            except InsufficientStock as refused:
                assert after is None, f"{body} was refused, the model accepts it: {refused.detail}"
                assert refused.extra["sku"] == body["sku"]
                assert stock_rows(engine, self.tenant) == before, f"refused {body} changed rows"
                return
            assert after is not None, f"{body} was accepted, the model refuses it"
            self.model.update(after)

        def one(self, body: dict, key: Key, ok: bool, change: Callable[[Figures], Figures]) -> None:
            self.post(body, {key: change(self.model[key])} if ok else None)

        # ---- rules ----------------------------------------------------------------------

        @rule(sku=skus, loc=places, q=quantities)
        def receipt(self, sku, loc, q):
            self.one(
                {"type": "receipt", "sku": sku, "location": loc, "qty": q},
                (sku, loc),
                True,
                lambda f: plus(f, on_hand=q),
            )

        @rule(sku=skus, loc=places, q=st.integers(-30, 30).filter(bool))
        def adjustment(self, sku, loc, q):
            f = self.model[sku, loc]
            self.one(
                {"type": "adjustment", "sku": sku, "location": loc, "qty": q},
                (sku, loc),
                q > 0 or available(f) >= -q,
                lambda f: plus(f, on_hand=q),
            )

        @rule(
            sku=skus,
            loc=places,
            q=quantities,
            src=st.sampled_from(["available", "quality_control"]),
        )
        def damage(self, sku, loc, q, src):
            f = self.model[sku, loc]
            if src == "available":
                ok, change = available(f) >= q, (lambda f: plus(f, damaged=q))
            else:
                ok, change = (
                    f["quality_control"] >= q,
                    (lambda f: plus(f, quality_control=-q, damaged=q)),
                )
            self.one(
                {"type": "damage", "sku": sku, "location": loc, "qty": q, "from_state": src},
                (sku, loc),
                ok,
                change,
            )

        @rule(sku=skus, loc=places, q=quantities, src=st.sampled_from(["available", "damaged"]))
        def quality_hold(self, sku, loc, q, src):
            f = self.model[sku, loc]
            if src == "available":
                ok, change = available(f) >= q, (lambda f: plus(f, quality_control=q))
            else:
                ok, change = f["damaged"] >= q, (lambda f: plus(f, damaged=-q, quality_control=q))
            self.one(
                {"type": "quality_hold", "sku": sku, "location": loc, "qty": q, "from_state": src},
                (sku, loc),
                ok,
                change,
            )

        @rule(sku=skus, loc=places, q=quantities, dst=st.sampled_from(["available", "damaged"]))
        def quality_release(self, sku, loc, q, dst):
            f = self.model[sku, loc]
            extra = {"damaged": q} if dst == "damaged" else {}
            self.one(
                {"type": "quality_release", "sku": sku, "location": loc, "qty": q, "to_state": dst},
                (sku, loc),
                f["quality_control"] >= q,
                lambda f: plus(f, quality_control=-q, **extra),
            )

        @rule(
            sku=skus,
            loc=places,
            q=quantities,
            src=st.sampled_from(["damaged", "available", "quality_control"]),
        )
        def write_off(self, sku, loc, q, src):
            f = self.model[sku, loc]
            if src == "available":
                ok, change = available(f) >= q, (lambda f: plus(f, on_hand=-q))
            else:
                ok, change = f[src] >= q, (lambda f: plus(f, on_hand=-q, **{src: -q}))
            self.one(
                {"type": "write_off", "sku": sku, "location": loc, "qty": q, "from_state": src},
                (sku, loc),
                ok,
                change,
            )

        @rule(sku=skus, loc=places, q=quantities)
        def ship(self, sku, loc, q):
            f = self.model[sku, loc]
            self.one(
                {"type": "ship", "sku": sku, "location": loc, "qty": q},
                (sku, loc),
                available(f) >= q,
                lambda f: plus(f, on_hand=-q),
            )

        @rule(sku=skus, loc=places, q=quantities, dst=st.sampled_from(["available", "damaged"]))
        def customer_return(self, sku, loc, q, dst):
            extra = {"damaged": q} if dst == "damaged" else {}
            self.one(
                {"type": "return", "sku": sku, "location": loc, "qty": q, "to_state": dst},
                (sku, loc),
                True,
                lambda f: plus(f, on_hand=q, **extra),
            )

        @rule(sku=skus, route=st.permutations(LOCATIONS), q=quantities, in_transit=st.booleans())
        def transfer(self, sku, route, q, in_transit):
            src, dst = route[0], route[1]
            ok = available(self.model[sku, src]) >= q
            arrive = {"in_transit": q} if in_transit else {"on_hand": q}
            after = (
                {
                    (sku, src): plus(self.model[sku, src], on_hand=-q),
                    (sku, dst): plus(self.model[sku, dst], **arrive),
                }
                if ok
                else None
            )
            self.post(
                {
                    "type": "transfer",
                    "sku": sku,
                    "location": src,
                    "to": dst,
                    "qty": q,
                    "in_transit": in_transit,
                },
                after,
            )

        @rule(sku=skus, loc=places, q=quantities)
        def transfer_receive(self, sku, loc, q):
            f = self.model[sku, loc]
            self.one(
                {"type": "transfer_receive", "sku": sku, "location": loc, "qty": q},
                (sku, loc),
                f["in_transit"] >= q,
                lambda f: plus(f, in_transit=-q, on_hand=q),
            )

        @rule(sku=skus, loc=places, counted=st.integers(0, 60))
        def count(self, sku, loc, counted):
            f = self.model[sku, loc]
            variance = counted - f["on_hand"]
            self.one(
                {"type": "count", "sku": sku, "location": loc, "counted": counted},
                (sku, loc),
                variance >= 0 or available(f) >= -variance,
                lambda f: plus(f, on_hand=variance),
            )

        @rule(sku=skus, loc=places, level=st.integers(0, 30))
        def safety_stock(self, sku, loc, level):
            f = self.model[sku, loc]
            raise_by = level - f["safety_stock"]
            self.one(
                {"type": "safety_stock", "sku": sku, "location": loc, "qty": level},
                (sku, loc),
                raise_by <= 0 or available(f) >= raise_by,
                lambda f: plus(f, safety_stock=raise_by),
            )

        # ---- after every step ----------------------------------------------------------------

        @invariant()
        def balances_equal_the_model_and_the_invariants_hold(self):
            with db.read(engine) as conn:
                rows = conn.execute(
                    sa.select(balances, items.c.sku, locations.c.code)
                    .join(items, items.c.id == balances.c.item_id)
                    .join(locations, locations.c.id == balances.c.location_id)
                    .where(balances.c.tenant_id == self.tenant)
                ).all()
                findings = [f.what for f in check.run(conn) if f"tenant {self.tenant} " in f.what]
            actual = {(r.sku, r.code): {s: int(getattr(r, s)) for s in STATES} for r in rows}
            for key, figures in self.model.items():
                assert actual.get(key, zero()) == figures, key
            assert set(actual) <= set(self.model)
            assert findings == []

    return LedgerMachine


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request, tmp_path_factory) -> Iterator[sa.Engine]:
    """A database of this module's own: `onhand check` scans every tenant after every step,
    so its cost must not grow with what the rest of the suite wrote."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('stateful') / 'onhand.db'}")
        schema.upgrade(engine)
        yield engine
        engine.dispose()
        return
    with db.scratch_database(need("PostgreSQL", PG_ADMIN_URL, 5432), "onhand_stateful") as url:
        engine = db.make_engine(url)
        try:
            schema.upgrade(engine)
            yield engine
        finally:
            engine.dispose()


def test_random_movements_keep_balances_ledger_and_model_in_step(engine):
    run_state_machine_as_test(ledger_machine(engine), settings=SETTINGS)
