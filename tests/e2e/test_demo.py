"""The sample tenant: `onhand demo` loads a year of realistic history that keeps every invariant."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from onhand import check, db, demo, schema
from onhand.app import create_app
from onhand.catalog import service as catalog
from onhand.settings import Settings
from onhand.stock.availability import availability
from onhand.tables import items, ledger, locations, movements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
    schema.upgrade(engine)
    assert demo.load(engine, progress=None) is True
    yield engine
    engine.dispose()


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with db.read(engine) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_the_catalogue_has_every_kind_of_item(demo_engine):
    with db.read(demo_engine) as conn:
        kinds = dict(
            conn.execute(
                sa.select(items.c.kind, sa.func.count())
                .where(items.c.tenant_id == "demo")
                .group_by(items.c.kind)
            ).all()
        )
        trilogy = catalog.get_item(conn, "demo", "PACK:DUNE-TRILOGY")
        coffee = catalog.get_item(conn, "demo", "COFFEE-SPICE-ROAST")
        bins = (
            conn.execute(
                sa.select(locations.c.code).where(
                    locations.c.tenant_id == "demo", locations.c.parent_id.is_not(None)
                )
            )
            .scalars()
            .all()
        )
        zones = set(
            conn.execute(
                sa.select(locations.c.zone).where(locations.c.tenant_id == "demo")
            ).scalars()
        )
    assert kinds["physical"] >= 10
    assert {"digital", "licensed", "pod", "bundle"} <= set(kinds)
    assert [c["sku"] for c in trilogy["components"]] == [
        "BOOK-DUNE",
        "BOOK-DUNE-MESSIAH",
        "BOOK-CHILDREN-OF-DUNE",
    ]
    assert coffee["unit"] == "g" and coffee["units"] == {"kg": 1000}
    assert len(bins) >= 4 and {"north", "south"} <= zones


def test_the_ledger_holds_at_least_300_days_of_history(demo_engine):
    with db.read(demo_engine) as conn:
        first, last = conn.execute(
            sa.select(sa.func.min(ledger.c.created_at), sa.func.max(ledger.c.created_at)).where(
                ledger.c.tenant_id == "demo"
            )
        ).one()
        days = (
            conn.execute(
                sa.select(ledger.c.created_at).where(
                    ledger.c.tenant_id == "demo", ledger.c.reason == "ship"
                )
            )
            .scalars()
            .all()
        )
        types = set(
            conn.execute(
                sa.select(movements.c.type).where(movements.c.tenant_id == "demo")
            ).scalars()
        )
    assert last - first >= timedelta(days=300)
    assert len({d.date() for d in days}) >= 300
    assert {"receipt", "ship", "damage", "count", "transfer"} <= types


def test_dune_can_be_sold(demo_engine):
    with db.read(demo_engine) as conn:
        doc = availability(conn, "demo", catalog.item(conn, "demo", "BOOK-DUNE"), db.utcnow())
    assert doc["available"] > 0


def test_loading_again_is_a_no_op(demo_engine):
    before = _count(demo_engine, ledger), _count(demo_engine, items)
    assert demo.load(demo_engine, progress=None) is False
    assert (_count(demo_engine, ledger), _count(demo_engine, items)) == before


def test_every_invariant_holds_after_loading(demo_engine):
    with db.read(demo_engine) as conn:
        assert check.run(conn) == []


def _token(label: str, output: str) -> str:
    found = re.search(rf"{label} token\s+(onh_\S+)", output)
    assert found, f"no {label} token in:\n{output}"
    return found.group(1)


def test_onhand_demo_prints_tokens_that_work(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "ONHAND_DATABASE_URL": url, "COLUMNS": "250"}
    done = subprocess.run(
        [sys.executable, "-m", "onhand.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shop, admin = _token("storefront", done.stdout), _token("admin", done.stdout)
    page = _token("public", done.stdout)

    engine = db.make_engine(url)
    try:
        app = create_app(Settings(database_url=url, run_jobs=False), engine)
        with TestClient(app) as client:
            as_shop = {"Authorization": f"Bearer {shop}"}
            as_admin = {"Authorization": f"Bearer {admin}"}
            dune = client.get("/v1/demo/availability/BOOK-DUNE", headers=as_shop)
            assert dune.status_code == 200 and dune.json()["available"] > 0
            bundles = client.get("/v1/demo/items", params={"kind": "bundle"}, headers=as_admin)
            assert [i["sku"] for i in bundles.json()["items"]] == ["PACK:DUNE-TRILOGY"]
            assert client.get("/v1/demo/items", headers=as_shop).status_code == 403
            as_page = {"Authorization": f"Bearer {page}"}
            assert client.get("/v1/demo/availability/BOOK-DUNE", headers=as_page).status_code == 200
            hold = {"lines": [{"sku": "BOOK-DUNE", "qty": 1}]}
            assert (
                client.post("/v1/demo/reservations", json=hold, headers=as_page).status_code == 403
            )
            assert (
                client.get("/v1/demo/availability/BOOK-DUNE", headers=as_page).json()["available"]
                == dune.json()["available"]
            )
    finally:
        engine.dispose()
