"""Quantities are integers in an item's base unit; decimal input converts exactly or not at all."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any

from pydantic import BeforeValidator

from .errors import Invalid

# The largest quantity one request may name, in base units: far beyond any real movement, and
# small enough that sums of many of them stay inside a 64-bit column on both databases.
MAX_QTY = 10**12
# Digits a decimal quantity may have: enough for any real amount, and a bound on the work.
MAX_DIGITS = 40


def _keep(value: Any) -> int | str:
    if isinstance(value, bool):
        raise ValueError("a quantity is a number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # The shortest repr of a JSON number is what the client wrote: 2.5 stays 2.5 exactly.
        return repr(value)
    if isinstance(value, str) and value.strip():
        number = value.strip().partition(" ")[0]
        # Decimal would read "１２" as 12 and "1_000" as 1000: a number uses ASCII digits only.
        # Other text ("lots") is left to to_base_units, which names the field and the item.
        if "_" in number or not number.isascii():
            raise ValueError(f"'{number[:40]}' is not a number written with the digits 0-9")
        return value.strip()
    raise ValueError("a quantity is an integer in base units, or a string such as '2.5 kg'")


# An integer in base units, or a string like "12", "2.5 kg" to be converted with the item's units.
QtyInput = Annotated[int | str, BeforeValidator(_keep)]


def to_base_units(value: int | str, unit: str, units: dict[str, int], *, field: str = "qty") -> int:
    """Convert `value` to an integer count of the base unit, refusing anything inexact."""
    if isinstance(value, int):
        _in_range(value, field, _short(str(value)))
        return value
    shown = _short(value)
    number, _, unit_name = value.partition(" ")
    unit_name = unit_name.strip()
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise Invalid(f"{field}: '{shown}' is not a number.") from None
    if not amount.is_finite():
        raise Invalid(f"{field}: '{shown}' is not a finite number.")
    factor = 1
    if unit_name and unit_name != unit:
        if unit_name not in units:
            known = ", ".join([unit, *units]) or unit
            raise Invalid(f"{field}: unknown unit '{unit_name[:40]}' (this item takes {known}).")
        factor = units[unit_name]
    _in_range(amount, field, shown)
    _sign, digits, exponent = amount.as_tuple()
    if len(digits) > MAX_DIGITS or exponent < -MAX_DIGITS:  # type: ignore[operator]
        raise Invalid(
            f"{field}: '{shown}' has too many digits (at most {MAX_DIGITS}, "
            f"and at most {MAX_DIGITS} decimal places)."
        )
    # Exact rational arithmetic: Decimal multiplication would round beyond 28 digits.
    base = Fraction(amount) * factor
    if base.denominator != 1:
        raise Invalid(f"{field}: {shown} is not a whole number of {unit} (the base unit).")
    _in_range(base, field, shown)
    return int(base)


def _short(text: str) -> str:
    """The input as quoted back in an error: never the whole of a huge value."""
    return text if len(text) <= 40 else f"{text[:37]}..."


def _in_range(amount: Decimal | Fraction | int, field: str, shown: object) -> None:
    magnitude = amount.copy_abs() if isinstance(amount, Decimal) else max(amount, -amount)  # exact
    if magnitude > MAX_QTY:
        raise Invalid(f"{field}: {shown} is out of range (at most {MAX_QTY:,} base units).")
