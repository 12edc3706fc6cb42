"""The stock model's formulas as SQL: generated from stock/model.py, never spelled out again.

`available_expr` is the read (one row, or many in a bulk query), `guarded_update` the write
that checks and changes in one statement (DESIGN.md §3); both use the same lapsed-holds sum.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from ..tables import balances, lot_balances, lots, reservation_lines
from . import model

Now = datetime | sa.BindParameter[datetime]


def lapsed_reserved(now: Now, table: sa.Table = balances) -> sa.ScalarSelect:
    """Units still counted in `reserved` by holds whose time ran out (correlated to `table`)."""
    rl = reservation_lines
    place = (
        rl.c.location_id == table.c.location_id
        if table is balances
        else sa.and_(rl.c.location_id.is_(None), rl.c.day == table.c.day)
    )
    return (
        sa.select(sa.cast(sa.func.coalesce(sa.func.sum(rl.c.qty), 0), sa.BigInteger))
        .where(
            rl.c.tenant_id == table.c.tenant_id,
            rl.c.item_id == table.c.item_id,
            place,
            rl.c.active,
            rl.c.expires_at <= now,
        )
        .scalar_subquery()
    )


def free_view(table: sa.Table, now: Now, after: model.Getter | None = None) -> model.Getter:
    """A getter for states as availability sees them: lapsed holds left out of `reserved`."""
    get = after or (lambda s: table.c[s])
    lapsed = lapsed_reserved(now, table)
    return lambda s: get(s) - lapsed if s == "reserved" else get(s)


def available_expr(now: datetime) -> sa.ColumnElement:
    """A balance row's `available`, lapsed holds counted free."""
    return model.available(free_view(balances, now))


def delta_param(state: str) -> sa.BindParameter:
    return sa.bindparam(f"d_{state}", type_=sa.BigInteger)


def guarded_update(
    table: sa.Table,
    states: tuple[str, ...],
    g: model.Guard,
    capacity: bool = False,
) -> sa.Update:
    """One UPDATE (run with executemany on SQLite) that changes `states` of a row only if `g`
    holds after.

    Rows are named by bind parameters (`t`, `i`, and `l` or `on_day`), deltas by `d_<state>`,
    the moment by `now`; a print-on-demand row takes its capacity as `cap`. Built once per
    shape and kept: a batch pays for the parameters only.
    """
    return _guarded_update(table, states, g, capacity)


@lru_cache(maxsize=512)
def _guarded_update(
    table: sa.Table, states: tuple[str, ...], g: model.Guard, capacity: bool
) -> sa.Update:
    now = sa.bindparam("now", type_=balances.c.updated_at.type)

    def after(s: str) -> Any:
        return table.c[s] + delta_param(s) if s in states else table.c[s]

    where = [table.c.tenant_id == sa.bindparam("t"), table.c.item_id == sa.bindparam("i")]
    if table is balances:
        where.append(table.c.location_id == sa.bindparam("l"))
    else:
        where.append(table.c.day == sa.bindparam("on_day"))
    cap = sa.bindparam("cap", type_=sa.BigInteger) if capacity else None
    where += model.conditions(g, after, free_view(table, now, after), capacity=cap)
    values: dict[str, Any] = {s: after(s) for s in states}
    if table is balances:
        values["updated_at"] = now
    return table.update().where(*where).values(**values)


def guarded_update_many(states: tuple[str, ...], g: model.Guard) -> sa.Update:
    """PostgreSQL: `guarded_update` of many balance rows in one statement.

    The rows and their deltas come as arrays side by side (`i`, `l`, `d_<state>`, unnested
    into `v`), with `t` and `now`; each row is checked by the same conditions against its own
    deltas, and the statement changes as many rows as passed. Built once per shape.
    """
    return _guarded_update_many(states, g)


@lru_cache(maxsize=512)
def _guarded_update_many(states: tuple[str, ...], g: model.Guard) -> sa.Update:
    b = balances
    now = sa.bindparam("now", type_=b.c.updated_at.type)
    names = ("i", "l", *(f"d_{s}" for s in states))
    arrays = [sa.bindparam(n, type_=ARRAY(sa.BigInteger)) for n in names]
    v = (
        sa.func.unnest(*arrays)
        .table_valued(*(sa.column(n, sa.BigInteger) for n in names))
        .render_derived(name="v")
    )

    def after(s: str) -> Any:
        return b.c[s] + v.c[f"d_{s}"] if s in states else b.c[s]

    where = [
        b.c.tenant_id == sa.bindparam("t"),
        # Said twice: as the join, and as a key range the planner takes the rows by (without
        # it, it scanned every balance row of the tenant to join 64 of them).
        b.c.item_id == sa.any_(arrays[0]),
        b.c.item_id == v.c.i,
        b.c.location_id == v.c.l,
    ]
    where += model.conditions(g, after, free_view(b, now, after))
    values: dict[str, Any] = {s: after(s) for s in states}
    values["updated_at"] = now
    return b.update().where(*where).values(**values)


# ---- per-lot rows (lot-tracked items) -----------------------------------------------------


def lot_lapsed_reserved(now: Now) -> sa.ScalarSelect:
    """Units of lapsed holds still counted in a lot row's `reserved` (correlated to it)."""
    rl, lb = reservation_lines, lot_balances
    return (
        sa.select(sa.cast(sa.func.coalesce(sa.func.sum(rl.c.qty), 0), sa.BigInteger))
        .where(
            rl.c.tenant_id == lb.c.tenant_id,
            rl.c.item_id == lb.c.item_id,
            rl.c.location_id == lb.c.location_id,
            rl.c.active,
            rl.c.expires_at <= now,
            rl.c.lot_id == lb.c.lot_id,
        )
        .scalar_subquery()
    )


def lot_sellable(sell_by: date | sa.BindParameter[date]) -> sa.ColumnElement[bool]:
    """The lot row's lot may still be sold: not recalled, and expiring on `sell_by` or later."""
    return sa.exists().where(
        lots.c.tenant_id == lot_balances.c.tenant_id,
        lots.c.id == lot_balances.c.lot_id,
        lots.c.recalled_at.is_(None),
        sa.or_(lots.c.expires_on.is_(None), lots.c.expires_on >= sell_by),
    )


def lot_available_expr(now: datetime) -> sa.ColumnElement:
    """A lot row's `available` (what it could give a buyer), lapsed holds counted free."""
    lapsed = lot_lapsed_reserved(now)
    return model.available(
        lambda s: lot_balances.c[s] - lapsed if s == "reserved" else lot_balances.c[s]
    )


def lot_guarded_update(states: tuple[str, ...], g: model.Guard, sale: bool) -> sa.Update:
    """The guarded UPDATE of lot rows (bind parameters `t`, `i`, `l`, `lot`, `d_<state>`,
    `now`, and `sell_by` for a sale): states it lowers stay >= 0, a change that lowers the
    lot's availability keeps it >= 0 (a lot never backorders), and a sale needs the lot to be
    sellable on the day. Built once per shape."""
    return _lot_guarded_update(states, g, sale)


@lru_cache(maxsize=256)
def _lot_guarded_update(states: tuple[str, ...], g: model.Guard, sale: bool) -> sa.Update:
    lb = lot_balances
    now = sa.bindparam("now", type_=lb.c.updated_at.type)

    def after(s: str) -> Any:
        return lb.c[s] + delta_param(s) if s in states else lb.c[s]

    lapsed = lot_lapsed_reserved(now)

    def free_after(s: str) -> Any:
        return after(s) - lapsed if s == "reserved" else after(s)

    where = [
        lb.c.tenant_id == sa.bindparam("t"),
        lb.c.item_id == sa.bindparam("i"),
        lb.c.location_id == sa.bindparam("l"),
        lb.c.lot_id == sa.bindparam("lot"),
        *model.conditions(g, after, free_after),
    ]
    if sale:
        where.append(lot_sellable(sa.bindparam("sell_by", type_=lots.c.expires_on.type)))
    values: dict[str, Any] = {s: after(s) for s in states}
    values["updated_at"] = now
    return lb.update().where(*where).values(**values)
