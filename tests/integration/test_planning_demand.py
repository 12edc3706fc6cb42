"""Demand history from a hand-built ledger: what counts as demand, and which days were
stock-out days (available zero at the end of the day), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from planningkit import clean, days_ago, move, sell_committed, ship_committed, shop
from sqlalchemy import event

from onhand import db
from onhand.catalog import service as catalog
from onhand.planning import demand


def test_demand_and_stock_out_days_are_read_from_the_ledger(api, engine, tenant):
    shop(api, skus=("A", "BOOK-2"), codes=("WH1", "WH2"))
    a = {"sku": "A", "location": "WH1"}
    move(engine, tenant, days_ago(10, 9), type="receipt", qty=5, **a)
    move(engine, tenant, days_ago(10), type="ship", qty=2, **a)  # 3 left
    move(engine, tenant, days_ago(9), type="ship", qty=3, **a)  # sold out
    move(engine, tenant, days_ago(7, 9), type="receipt", qty=10, **a)
    sell_committed(engine, tenant, "A", "WH1", 4, days_ago(7))  # a checkout: 6 free
    move(engine, tenant, days_ago(6), type="ship", qty=1, **a)  # 5 free
    move(engine, tenant, days_ago(5), type="damage", qty=5, **a)  # nothing sellable
    move(engine, tenant, days_ago(4), type="return", qty=2, **a)  # 2 free, not demand
    move(engine, tenant, days_ago(3), type="transfer", qty=1, to="WH2", **a)
    move(engine, tenant, datetime.now(UTC), type="receipt", qty=3, **a)  # today: not in history

    with db.read(engine) as conn:
        planned = demand.series(conn, tenant)
        statements: list[str] = []

        def count(*args) -> None:
            statements.append(args[2])

        event.listen(conn, "before_cursor_execute", count)
        hist = demand.history(conn, tenant, planned, 12)
        event.remove(conn, "before_cursor_execute", count)
        ids = {catalog.location(conn, tenant, c).id: c for c in ("WH1", "WH2")}
        item_a = catalog.item(conn, tenant, "A").id

    assert len(statements) == 1, "one GROUP BY query for every series and day"
    rows = {
        ids[int(loc)]: k
        for k, (i, loc) in enumerate(zip(planned.item_ids, planned.location_ids, strict=True))
        if i == item_a
    }
    wh1, wh2 = rows["WH1"], rows["WH2"]
    assert len(planned) == 2, "BOOK-2 never had stock anywhere, so it has no series"
    #                 12 11 10  9  8  7  6  5  4  3  2  1 days ago
    assert hist.qty[wh1].tolist() == [0, 0, 2, 3, 0, 4, 1, 0, 0, 0, 0, 0]
    assert hist.available[wh1].tolist() == [0, 0, 3, 0, 0, 6, 5, 0, 2, 1, 1, 1]
    assert hist.stockout[wh1].tolist() == [
        True,
        True,
        False,
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
    ]
    assert hist.qty[wh2].sum() == 0
    assert hist.stockout[wh2].tolist() == [True] * 9 + [False] * 3
    assert hist.start == days_ago(12).date()
    assert clean(engine, tenant) == []


def test_shipping_a_committed_sale_is_not_counted_twice(api, engine, tenant):
    shop(api, skus=("A",))
    move(engine, tenant, days_ago(3, 9), type="receipt", sku="A", location="WH1", qty=10)
    sale = sell_committed(engine, tenant, "A", "WH1", 2, days_ago(3))
    ship_committed(engine, tenant, sale, days_ago(2))  # the warehouse ships it the next day
    with db.read(engine) as conn:
        hist = demand.history(conn, tenant, demand.series(conn, tenant), 3)
    assert hist.qty.tolist() == [[2, 0, 0]]
    assert hist.available.tolist() == [[8, 8, 8]]
    assert clean(engine, tenant) == []


def test_items_far_apart_in_id_are_read_in_separate_groups(api, engine, tenant):
    """PostgreSQL reads the history per block of 1,024 item ids: items in different
    blocks (and one with no sales in between) each get their own days right."""
    shop(api, skus=("A",), codes=("WH1",))
    if not db.is_sqlite(engine):
        with db.write(engine) as conn:
            first = catalog.item(conn, tenant, "A").id
            conn.execute(sa.text(f"ALTER SEQUENCE items_id_seq RESTART WITH {first + 3000}"))
    shop(api, skus=("B", "C"), codes=())
    for sku, qty in (("A", 2), ("C", 5)):
        move(engine, tenant, days_ago(4, 9), type="receipt", sku=sku, location="WH1", qty=20)
        move(engine, tenant, days_ago(2), type="ship", sku=sku, location="WH1", qty=qty)
    move(engine, tenant, days_ago(4, 9), type="receipt", sku="B", location="WH1", qty=1)
    with db.read(engine) as conn:
        planned = demand.series(conn, tenant)
        hist = demand.history(conn, tenant, planned, 4)
        ids = [catalog.item(conn, tenant, s).id for s in ("A", "B", "C")]
    if not db.is_sqlite(engine):
        assert ids[1] // demand.BUCKET != ids[0] // demand.BUCKET  # really two groups
    assert planned.item_ids.tolist() == ids
    assert hist.qty.tolist() == [[0, 0, 2, 0], [0, 0, 0, 0], [0, 0, 5, 0]]
    assert hist.available.tolist() == [[20, 20, 18, 18], [1, 1, 1, 1], [20, 20, 15, 15]]
    assert clean(engine, tenant) == []


def test_stock_beyond_two_billion_units_is_not_read_as_a_stock_out(api, engine, tenant):
    """The end-of-day figures are kept as int32 (half the memory of a million series): a
    figure beyond its range is clipped, never wrapped round to a negative stock-out."""
    shop(api, skus=("A",))
    big = 3 * 10**9
    move(engine, tenant, days_ago(3, 9), type="receipt", sku="A", location="WH1", qty=big)
    move(engine, tenant, days_ago(2), type="ship", sku="A", location="WH1", qty=big - 5)
    with db.read(engine) as conn:
        hist = demand.history(conn, tenant, demand.series(conn, tenant), 3)
    assert hist.available.dtype == "int32"
    assert hist.available.tolist() == [[2**31 - 1, 5, 5]]
    assert hist.stockout.tolist() == [[False, False, False]]
    assert clean(engine, tenant) == []
