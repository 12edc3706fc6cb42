"""The stock model without a database: the availability formula, the guard's decisions, and
how a hold is split over locations. The same definitions generate the SQL (stock/sql.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql

from onhand.reservations import allocation
from onhand.stock import model
from onhand.stock.model import Free, Guard
from onhand.stock.sql import available_expr, guarded_update
from onhand.tables import balances

SHELF = {
    "on_hand": 100,
    "reserved": 10,
    "committed": 5,
    "damaged": 3,
    "quality_control": 2,
    "safety_stock": 4,
    "incoming": 50,
    "in_transit": 7,
}


# ---- the availability formula ---------------------------------------------------------------


def test_available_is_on_hand_less_everything_held():
    assert model.available(SHELF.__getitem__) == 100 - 10 - 5 - 3 - 2 - 4


def test_incoming_and_in_transit_are_not_available():
    more = SHELF | {"incoming": 10_000, "in_transit": 10_000}
    assert model.available(more.__getitem__) == model.available(SHELF.__getitem__)


def test_lapsed_holds_count_as_free():
    row = model.Figures(1, 1, "WH1", None, 1, dict(SHELF), lapsed=6)
    assert row.available == 76 + 6
    assert row.value("reserved") == 4 and row.states["reserved"] == 10


def test_the_sql_formula_is_the_same_formula():
    compiled = str(available_expr(model_now()).compile(dialect=postgresql.dialect()))
    for state in model.HELD:
        assert f"balances.{state}" in compiled
    assert "incoming" not in compiled and "in_transit" not in compiled
    assert "reservation_lines.expires_at <=" in compiled


def test_pod_capacity_left():
    assert model.pod_available(200, {"reserved": 30, "committed": 50}.__getitem__) == 120


def test_net_effect_of_a_change():
    assert model.net({"reserved": 3}, model.available) == -3
    assert model.net({"reserved": -3, "committed": 3}, model.available) == 0
    assert model.net({"on_hand": 5, "damaged": 5}, model.available) == 0
    assert model.net({"on_hand": -2, "damaged": -2}, model.physical) == 0


# ---- the guard's decisions ------------------------------------------------------------------


def test_a_hold_is_checked_against_available():
    g = model.guard({"reserved": 76}, allow_backorder=False)
    assert g == Guard(floors=(), available=True, physical=False)
    assert model.admits(g, SHELF, {"reserved": 76})
    assert not model.admits(g, SHELF, {"reserved": 77})


def test_lapsed_holds_let_a_hold_through():
    g = model.guard({"reserved": 80}, allow_backorder=False)
    assert not model.admits(g, SHELF, {"reserved": 80})
    assert model.admits(g, SHELF, {"reserved": 80}, lapsed=4)


def test_a_state_never_goes_negative():
    g = model.guard({"damaged": -4, "on_hand": -4}, allow_backorder=False)
    assert g.floors == ("on_hand", "damaged")
    assert not g.available, "writing off damaged stock takes nothing from available"
    assert model.admits(g, SHELF, {"damaged": -3, "on_hand": -3})
    assert not model.admits(g, SHELF, {"damaged": -4, "on_hand": -4})


def test_moving_held_units_along_is_not_a_sale():
    g = model.guard({"reserved": -10, "committed": 10}, allow_backorder=False, sells=False)
    assert g == Guard(floors=("reserved",), available=False, physical=False)
    oversold = SHELF | {"on_hand": 0}
    assert model.admits(g, oversold, {"reserved": -10, "committed": 10})


def test_receiving_needs_no_check():
    g = model.guard({"on_hand": 5}, allow_backorder=False)
    assert g == Guard(floors=(), available=False, physical=False)
    assert model.admits(g, {s: 0 for s in model.STATES}, {"on_hand": 5})


def test_backorders_promise_past_stock_but_never_ship_what_is_not_there():
    hold = model.guard({"reserved": 1_000}, allow_backorder=True)
    assert model.admits(hold, SHELF, {"reserved": 1_000})
    ship = model.guard({"on_hand": -96}, allow_backorder=True)
    assert ship.physical
    assert model.admits(ship, SHELF, {"on_hand": -95})  # 100 − 3 damaged − 2 in QC
    assert not model.admits(ship, SHELF, {"on_hand": -96})


def test_pod_guard_checks_capacity():
    g = model.guard({"reserved": 5}, allow_backorder=False)
    booked = {"reserved": 190, "committed": 5}
    assert model.admits(g, booked, {"reserved": 5}, capacity=200)
    assert not model.admits(g, booked, {"reserved": 6}, capacity=200)
    assert model.admits(g, booked, {"reserved": 6}, capacity=200, lapsed=1)


def test_the_guarded_update_carries_the_same_conditions():
    g = model.guard({"reserved": 1}, allow_backorder=False)
    stmt = guarded_update(balances, ("reserved",), g)
    where = str(stmt.compile(dialect=postgresql.dialect()))
    assert "balances.reserved + %(d_reserved)s" in where
    assert "balances.on_hand -" in where and ">= %(param_" in where


# ---- allocation -----------------------------------------------------------------------------


def places() -> list[Free]:
    return [
        Free(1, "WH-A", "east", 2, 5),
        Free(2, "WH-B", "west", 1, 3),
        Free(3, "WH-C", "west", 3, 10),
    ]


def taken(split):
    return None if split is None else [(p.code, q) for p, q in split]


def test_priority_takes_the_lowest_priority_number_first():
    assert taken(allocation.split(6, places(), "priority", None, False)) == [
        ("WH-B", 3),
        ("WH-A", 3),
    ]


def test_most_stock_takes_the_fullest_location_first():
    assert taken(allocation.split(12, places(), "most_stock", None, False)) == [
        ("WH-C", 10),
        ("WH-A", 2),
    ]


def test_nearest_zone_prefers_the_buyers_zone():
    assert taken(allocation.split(4, places(), "nearest_zone", "east", False)) == [
        ("WH-A", 4),
    ]
    assert taken(allocation.split(12, places(), "nearest_zone", "west", False)) == [
        ("WH-B", 3),
        ("WH-C", 9),
    ]


def test_a_hold_that_does_not_fit_is_refused_whole():
    assert allocation.split(19, places(), "priority", None, False) is None


def test_a_backordered_item_puts_what_is_missing_on_the_first_place():
    assert taken(allocation.split(25, places(), "priority", None, True)) == [
        ("WH-B", 10),
        ("WH-A", 5),
        ("WH-C", 10),
    ]


def test_negative_figures_give_nothing():
    short = [Free(1, "WH-A", None, 1, -4), Free(2, "WH-B", None, 2, 2)]
    assert taken(allocation.split(2, short, "priority", None, False)) == [("WH-B", 2)]


def model_now() -> datetime:
    return datetime(2026, 12, 1, tzinfo=UTC)
