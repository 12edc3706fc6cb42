"""The demo suppliers helper and the `onhand plan` command."""

from __future__ import annotations

from planningkit import clean, daily_sales, moves, shop
from typer.testing import CliRunner

from onhand import cli, db
from onhand.planning.sample import add_demo_suppliers
from onhand.settings import get_settings


def test_demo_suppliers_are_added_once_and_missing_skus_skipped(api, engine, tenant):
    shop(api, skus=("BOOK-DUNE", "COFFEE-SPICE-ROAST"))
    with db.write(engine) as conn:
        first = add_demo_suppliers(conn, tenant)
    with db.write(engine) as conn:
        again = add_demo_suppliers(conn, tenant)
    assert first["suppliers"] >= 2 and again == {"suppliers": 0, "links": 0}
    dune = api.get("/items/BOOK-DUNE/suppliers").json()["suppliers"]
    assert len(dune) >= 1 and sum(s["preferred"] for s in dune) == 1
    assert first["links"] == len(dune) + len(
        api.get("/items/COFFEE-SPICE-ROAST/suppliers").json()["suppliers"]
    )
    assert clean(engine, tenant) == []


def test_the_plan_command_prints_the_suggestions(api, engine, tenant, database_url, monkeypatch):
    if not database_url.startswith("sqlite"):
        return  # one database is enough for the command's wiring
    shop(api, skus=("A",))
    moves(engine, tenant, daily_sales("A", "WH1", 150, 10, 14))
    monkeypatch.setenv("ONHAND_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "120")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(cli.app, ["plan", "--tenant", tenant, "--orders"])
        assert done.exit_code == 0, done.output
        assert "1 to order" in done.output and "(no supplier)" in done.output
        assert "1 lines have no supplier" in done.output
        missing = CliRunner().invoke(cli.app, ["plan", "--tenant", "no-such"])
        assert missing.exit_code == 1 and "There is no tenant" in missing.output
    finally:
        get_settings.cache_clear()
