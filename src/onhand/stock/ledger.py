"""One change of one (item, location), for callers that post a single step (tests, tools).

A thin form of `stock.apply`: the same lock, guard and ledger rows, and no event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from .kernel import apply
from .model import Change, Item, Location, Posting

__all__ = ["Posting", "change"]


def change(
    conn: Connection,
    tenant: str,
    item: Item,
    loc: Location,
    deltas: dict[str, int],
    posting: Posting,
    now: datetime,
    *,
    check_available: bool = True,
    record_zero: bool = False,
) -> None:
    """Apply `deltas` (state -> signed quantity) or raise InsufficientStock and change nothing."""
    apply(
        conn,
        tenant,
        [Change(item, deltas, location=loc, sells=check_available, record_zero=record_zero)],
        posting,
        now,
        announce=False,
    )
