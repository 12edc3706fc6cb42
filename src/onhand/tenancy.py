"""Tenant scoping in one place: statements on a tenant table are built with the tenant first.

Every tenant table has a `tenant_id` column (the `tenants` table itself is keyed by `id`).
Instead of a hand-written `table.c.tenant_id == tenant` in every query, services build their
statements here, so a query on a tenant table cannot be written without its tenant:

    tenancy.select(tenant, items, items.c.id, items.c.sku).where(items.c.sku == sku)
    tenancy.update(tenant, items).where(items.c.id == item_id).values(active=False)
    tenancy.delete(tenant, webhooks).where(webhooks.c.id == hook_id)
    tenancy.insert(tenant, locations).values(code="WH1", name="Main")

A joined tenant table is scoped too, in its join condition with `on` (or with `of`):

    tenancy.select(tenant, balances, balances.c.on_hand, locations.c.code)
        .join(locations, tenancy.on(tenant, locations, locations.c.id == balances.c.location_id))

The test suite records every SQL statement and fails on one that touches a tenant table
without its tenant (tests/tenantscan.py); the few cross-tenant jobs are listed there.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import FromClause

# A tenant's id, or a bound parameter for it in a statement built once (`db.fetch`).
Tenant = str | sa.BindParameter[Any]

__all__ = ["column", "delete", "insert", "is_tenant_table", "of", "on", "select", "update"]


def column(table: FromClause) -> sa.ColumnElement[Any]:
    """The column that names a row's tenant: `tenant_id`, or `id` on the tenants table."""
    columns = table.c
    if "tenant_id" in columns:
        return columns.tenant_id
    if getattr(table, "name", None) == "tenants":
        return columns.id
    raise TypeError(f"{getattr(table, 'name', table)!r} is not a tenant table")


def is_tenant_table(table: FromClause) -> bool:
    return "tenant_id" in table.c or getattr(table, "name", None) == "tenants"


def of(tenant: Tenant, *tables: FromClause) -> sa.ColumnElement[bool]:
    """The condition that rows of every one of `tables` belong to `tenant`."""
    if not tables:
        raise TypeError("of() needs at least one table")
    return sa.and_(*(column(t) == tenant for t in tables))


def on(
    tenant: Tenant, table: FromClause, onclause: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """A join condition that also keeps the joined `table` to `tenant` (outer joins too)."""
    return sa.and_(onclause, column(table) == tenant)


def select(tenant: Tenant, table: FromClause, *columns: Any) -> sa.Select[Any]:
    """SELECT `columns` (all of `table` when none) FROM `table`, only `tenant`'s rows."""
    return sa.select(*(columns or (table,))).select_from(table).where(column(table) == tenant)


def update(tenant: str, table: sa.Table) -> sa.Update:
    """UPDATE `table` restricted to `tenant`'s rows; add `.where(...)` and `.values(...)`."""
    return table.update().where(column(table) == tenant)


def delete(tenant: str, table: sa.Table) -> sa.Delete:
    """DELETE FROM `table` restricted to `tenant`'s rows; add `.where(...)`."""
    return table.delete().where(column(table) == tenant)


def insert(tenant: str, table: sa.Table) -> sa.Insert:
    """INSERT INTO `table` with the row's tenant already set; add `.values(...)`."""
    return table.insert().values(tenant_id=tenant)
