"""Quantities: integers in the base unit; decimal input converts exactly or not at all."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from onhand.errors import Invalid
from onhand.quantities import MAX_QTY, to_base_units

GRAMS = ("g", {"kg": 1000, "t": 1_000_000})
EACH = ("each", {"dozen": 12, "case": 24})


@given(st.integers(min_value=-MAX_QTY, max_value=MAX_QTY))
def test_integers_pass_through_unchanged(n):
    assert to_base_units(n, *GRAMS) == n
    assert to_base_units(n, *EACH) == n


@given(st.integers(min_value=MAX_QTY + 1) | st.integers(max_value=-MAX_QTY - 1))
def test_integers_beyond_the_limit_are_refused(n):
    with pytest.raises(Invalid):
        to_base_units(n, *GRAMS)


# Decimals as a client writes them: up to 30 significant digits, some with an exponent.
decimals = st.decimals(
    allow_nan=False,
    allow_infinity=False,
    places=None,
    min_value=Decimal("-1e13"),
    max_value=Decimal("1e13"),
).filter(lambda d: len(d.as_tuple().digits) <= 30 and d.as_tuple().exponent >= -30)
units = st.sampled_from([("", 1), ("g", 1), ("kg", 1000), ("t", 1_000_000)])


@given(decimals, units)
@example(Decimal("2.5"), ("kg", 1000))
@example(Decimal("2.5005"), ("kg", 1000))
@example(Decimal("2.50000000000000000000000000001"), ("kg", 1000))
@example(Decimal("0.001"), ("kg", 1000))
@example(Decimal("1E+3"), ("g", 1))
@example(Decimal("-1.5"), ("kg", 1000))
@example(Decimal("1000000000"), ("kg", 1000))
def test_unit_strings_convert_exactly_or_are_refused(amount, unit):
    name, factor = unit
    text = f"{amount} {name}".strip()
    exact = Fraction(amount) * factor
    fits = exact.denominator == 1 and abs(exact) <= MAX_QTY
    if fits:
        assert to_base_units(text, *GRAMS) == exact
    else:
        with pytest.raises(Invalid):
            to_base_units(text, *GRAMS)


@given(decimals, units)
def test_a_result_is_always_the_exact_value(amount, unit):
    name, factor = unit
    try:
        got = to_base_units(f"{amount} {name}".strip(), *GRAMS)
    except Invalid:
        return
    assert got == Fraction(amount) * factor


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2.5 kg", 2500),
        ("2.5  kg", 2500),
        ("12", 12),
        ("12 g", 12),
        ("1e3 g", 1000),
        ("0.000001 t", 1),
        ("-0.25 kg", -250),
        ("1000000 kg", 10**9),
        ("1000000 t", MAX_QTY),
    ],
)
def test_examples_that_convert(text, expected):
    assert to_base_units(text, *GRAMS) == expected


def test_larger_units_of_countable_items():
    assert to_base_units("2 dozen", *EACH) == 24
    assert to_base_units("1.5 case", *EACH) == 36
    with pytest.raises(Invalid):
        to_base_units("0.1 dozen", *EACH)  # 1.2 pieces


@pytest.mark.parametrize(
    "text",
    [
        "2.5005 kg",  # 2500.5 g
        "2.50000000000000000000000000001 kg",  # beyond the 28 digits of Decimal's default context
        "0.5",  # half a gram
        "2.5 lb",  # unknown unit
        "2.5kg",  # not a number followed by a unit
        "abc",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e1000000",  # beyond Decimal's exponent range once multiplied
        "1e-1000000 kg",
        "1e13",  # beyond MAX_QTY
        "1000001 t",
        "9" * 100_000,
        "0." + "0" * 100_000 + "1 kg",
        "2.5 kg extra",
    ],
)
def test_examples_that_are_refused(text):
    with pytest.raises(Invalid) as refused:
        to_base_units(text, *GRAMS)
    assert len(refused.value.detail) < 300, "the message never repeats huge input"


def test_the_message_names_the_field():
    with pytest.raises(Invalid) as refused:
        to_base_units("0.5", *GRAMS, field="counted")
    assert refused.value.detail.startswith("counted:")
