"""Strict input types shared by request bodies and query or path parameters.

Pydantic's lax mode reads `"1_000"` as 1000, `false` as 0, `0` as 1970-01-01 and `"yes"` as
true. A client that sends those has made a mistake, and guessing what it meant books the wrong
thing: these types accept only what the field's own type is written as.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Strict, StrictBool

# Row ids and paging cursors are 64-bit: a larger number is bad input, not a database error.
MAX_ID = 2**63 - 1

_INTEGER = re.compile(r"[+-]?[0-9]{1,20}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def is_decimal(text: str) -> bool:
    """A plain decimal number: ASCII digits, one optional point and exponent, no '_'."""
    return _DECIMAL.fullmatch(text) is not None


def _digits(value: Any) -> Any:
    if isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ValueError("must be a whole number written with the digits 0-9")
        return int(value)
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true/false")
    return value


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    if isinstance(value, str) and not is_decimal(value.strip()):
        raise ValueError("must be a number written with the digits 0-9 and an optional '.'")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


# Query and path integers arrive as text: only ASCII digits (no '_', no '５', no exponent).
Digits = BeforeValidator(_digits)
# Body integers must be JSON integers: not strings, not booleans, not 2.0.
Whole = Annotated[int, Strict()]
# Body numbers: a JSON integer or decimal, never a boolean or a string.
Number = Annotated[float, Strict()]
Flag = StrictBool
# Money and other exact decimals: a JSON number or a plain decimal string such as "12.50".
PlainDecimal = Annotated[Decimal, BeforeValidator(_decimal)]
# A calendar date, in a body or a query: exactly YYYY-MM-DD (no timestamps).
Day = Annotated[date, BeforeValidator(_date)]
