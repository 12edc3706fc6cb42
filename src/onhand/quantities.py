"""Quantities are integers in an item's base unit; decimal input converts exactly or not at all."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

from .problems import Invalid


def _keep(value: Any) -> int | str:
    if isinstance(value, bool):
        raise ValueError("a quantity is a number, not true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # The shortest repr of a JSON number is what the client wrote: 2.5 stays 2.5 exactly.
        return repr(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("a quantity is an integer in base units, or a string such as '2.5 kg'")


# An integer in base units, or a string like "12", "2.5 kg" to be converted with the item's units.
QtyInput = Annotated[int | str, BeforeValidator(_keep)]


def to_base_units(value: int | str, unit: str, units: dict[str, int], *, field: str = "qty") -> int:
    """Convert `value` to an integer count of the base unit, refusing anything inexact."""
    if isinstance(value, int):
        return value
    number, _, unit_name = value.partition(" ")
    unit_name = unit_name.strip()
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise Invalid(f"{field}: '{value}' is not a number.") from None
    if not amount.is_finite():
        raise Invalid(f"{field}: '{value}' is not a finite number.")
    factor = 1
    if unit_name and unit_name != unit:
        if unit_name not in units:
            known = ", ".join([unit, *units]) or unit
            raise Invalid(f"{field}: unknown unit '{unit_name}' (this item takes {known}).")
        factor = units[unit_name]
    base = amount * factor
    if base != base.to_integral_value():
        raise Invalid(
            f"{field}: {value} is {base} {unit}, not a whole number of {unit} (the base unit)."
        )
    return int(base)
