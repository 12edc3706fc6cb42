"""Inventory policy: the normal distribution, safety stock, EOQ and order suggestions."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onhand.planning.policy import (
    economic_order_quantity,
    fill_rate_k,
    lead_time_demand_std,
    min_max,
    normal_cdf,
    normal_loss,
    normal_quantile,
    order_up_to_level,
    reorder_point,
    safety_stock,
    suggest_orders,
)


def test_normal_quantile_matches_the_standard_library() -> None:
    p = np.concatenate([np.linspace(1e-6, 1 - 1e-6, 997), [0.01, 0.02425, 0.5, 0.975]])
    expected = np.array([NormalDist().inv_cdf(float(x)) for x in p])
    np.testing.assert_allclose(normal_quantile(p), expected, atol=1e-8)
    with pytest.raises(ValueError):
        normal_quantile([0.0, 0.5])


def test_normal_cdf_matches_erfc_in_the_centre_and_the_tails() -> None:
    x = np.linspace(-8, 8, 1601)
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(normal_cdf(x), expected, rtol=2e-7, atol=1e-300)


def test_safety_stock_matches_a_hand_computation() -> None:
    # d = 10/day, σ_d = 3, L = 4 days, σ_L = 1 day, 95 % cycle service.
    sigma_dl = math.sqrt(4 * 3**2 + 10**2 * 1**2)
    assert float(lead_time_demand_std(10, 3, 4, 1)) == pytest.approx(sigma_dl)
    expected = NormalDist().inv_cdf(0.95) * sigma_dl
    assert float(safety_stock(10, 3, 4, 1, 0.95)) == pytest.approx(expected, rel=1e-7)
    assert float(reorder_point(10, 4, expected)) == pytest.approx(40 + expected)


def test_safety_stock_grows_with_the_service_level_and_is_vectorised() -> None:
    levels = np.array([0.5, 0.8, 0.9, 0.95, 0.99])
    ss = safety_stock(np.full(5, 10.0), 3.0, 4.0, 0.0, levels)
    assert ss[0] == pytest.approx(0.0, abs=1e-9)
    assert np.all(np.diff(ss) > 0)


@given(st.floats(1, 1e6), st.floats(0.01, 1e3), st.floats(0.01, 1e3))
def test_eoq_is_the_square_root_formula(demand: float, order_cost: float, holding: float) -> None:
    got = float(economic_order_quantity(demand, order_cost, holding))
    assert got == pytest.approx(math.sqrt(2 * demand * order_cost / holding))


def test_eoq_is_zero_without_demand() -> None:
    np.testing.assert_array_equal(economic_order_quantity([0, -5], 50, 2), [0, 0])


def test_fill_rate_k_solves_the_loss_equation() -> None:
    k = fill_rate_k(0.99, 100, 20)  # G(k) = 0.01 · 100 / 20 = 0.05
    assert float(normal_loss(k)) == pytest.approx(0.05, rel=1e-6)
    assert float(k) == pytest.approx(1.2554, abs=1e-3)  # the textbook table value


@settings(max_examples=60)
@given(st.floats(0.5, 0.999), st.floats(0.5, 0.999), st.floats(1, 500), st.floats(0.5, 100))
def test_fill_rate_k_falls_when_the_target_drops(
    a: float, b: float, q: float, sigma: float
) -> None:
    high, low = max(a, b), min(a, b)
    k_high, k_low = fill_rate_k([high, low], q, sigma)
    assert k_low <= k_high + 1e-9


def test_order_up_to_and_min_max() -> None:
    level = order_up_to_level(10, 3, 4, 7, 0, 0.95)
    expected = 10 * 11 + NormalDist().inv_cdf(0.95) * math.sqrt(11 * 9)
    assert float(level) == pytest.approx(expected, rel=1e-7)
    low, high = min_max([30, 40], [100, 50])
    np.testing.assert_array_equal(low, [30, 40])
    np.testing.assert_array_equal(high, [130, 90])


def test_no_order_while_the_inventory_position_is_above_the_reorder_point() -> None:
    forecast = np.full((2, 14), 10.0)
    out = suggest_orders(
        forecast, [2.0, 2.0], on_hand=[500, 20], lead_time=5, on_order=[0, 0], reserved=[0, 0]
    )
    assert out.quantity[0] == 0 and out.risk[0] == "low" and not out.urgent[0]
    assert out.quantity[1] > 0
    assert out.lead_time_demand[1] == pytest.approx(50)


def test_days_of_cover_urgency_and_risk() -> None:
    forecast = np.full((3, 10), 10.0)
    # lead-time demand 40; safety stock 1.645 · sqrt(4 · 1²) ≈ 3.3
    out = suggest_orders(
        forecast,
        [1.0] * 3,
        on_hand=[25, 42, 300],
        reserved=[5, 0, 0],
        on_order=[0, 0, 0],
        lead_time=[4, 4, 4],
        service_level=0.95,
    )
    np.testing.assert_allclose(out.days_of_cover, [2.0, 4.2, 30.0])
    np.testing.assert_array_equal(out.urgent, [True, False, False])
    assert list(out.risk) == ["high", "medium", "low"]


@settings(max_examples=150)
@given(
    on_hand=st.integers(0, 2000),
    on_order=st.integers(0, 500),
    reserved=st.integers(0, 300),
    rate=st.floats(0, 80),
    lead=st.integers(0, 30),
    moq=st.integers(0, 500),
    pack=st.integers(1, 48),
    lot=st.floats(0, 1000),
)
def test_order_quantities_honour_moq_and_pack_size(
    on_hand: int,
    on_order: int,
    reserved: int,
    rate: float,
    lead: int,
    moq: int,
    pack: int,
    lot: float,
) -> None:
    forecast = np.full((1, 14), rate)
    out = suggest_orders(
        forecast,
        [rate**0.5],
        on_hand=[on_hand],
        on_order=[on_order],
        reserved=[reserved],
        lead_time=[lead],
        moq=[moq],
        pack_size=[pack],
        lot_size=[lot],
    )
    qty = int(out.quantity[0])
    position = on_hand + on_order - reserved
    if position > out.reorder_point[0] or position >= out.order_up_to[0]:
        assert qty == 0  # above the reorder point, or nothing to restore (no demand)
    else:
        assert qty >= moq and qty % pack == 0
        assert position + qty >= out.order_up_to[0] - 1e-6  # the order restores the target
        assert qty - pack < max(out.order_up_to[0] - position, moq)  # and not a pack more


def test_fill_rate_targets_change_the_safety_stock() -> None:
    forecast = np.full((2, 14), 20.0)
    loose = suggest_orders(
        forecast, [6.0, 6.0], on_hand=0, lead_time=5, lot_size=[200, 200], fill_rate=[0.9, 0.9]
    )
    tight = suggest_orders(
        forecast, [6.0, 6.0], on_hand=0, lead_time=5, lot_size=[200, 200], fill_rate=[0.999, 0.999]
    )
    assert np.all(tight.safety_stock > loose.safety_stock)
