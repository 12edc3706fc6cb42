"""Stock: the only package that writes balances, print-on-demand bookings and the ledger.

Everything goes through `apply` (stock/kernel.py); `lock` reads the figures a caller decides
from, under the same locks the guard will see. `stock.model` holds the plain values and
formulas and imports nothing else, so tables.py and every feature can use it; the kernel is
loaded on first use (it needs the tables).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import Change, Posting

if TYPE_CHECKING:
    from .kernel import GrantRefused, apply, changed_events, emit_changed, lock, lock_pod

__all__ = [
    "Change",
    "GrantRefused",
    "Posting",
    "apply",
    "changed_events",
    "emit_changed",
    "lock",
    "lock_pod",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import kernel

        return getattr(kernel, name)
    raise AttributeError(name)
