"""Per-tenant planning settings, kept in their own row so that other tenant settings
(which `onhand.tenants` rewrites as a whole) never clobber them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection

from .. import db, tenancy
from .schemas import PlanSettingsPatch
from .tables import planning_settings


@dataclass(frozen=True)
class PlanSettings:
    service_level: float = 0.95  # cycle service level: P(no stock-out in a cycle)
    ordering_cost: Decimal = Decimal("25")  # cost of placing one order line
    holding_rate: float = 0.25  # yearly holding cost as a share of the unit price
    history_days: int = 182  # demand history the forecast learns from
    horizon_days: int = 56  # forecast horizon (the mean rate carries on past it)
    review_days: int = 7  # how often the plan is run and orders go out
    default_lead_time_days: float = 14.0  # for items without a supplier

    def document(self) -> dict[str, Any]:
        return asdict(self) | {"ordering_cost": str(self.ordering_cost)}


def _ensure(conn: Connection, tenant: str) -> None:
    conn.execute(
        db.insert(conn, planning_settings)
        .values(
            tenant_id=tenant,
            settings={},
            last_po_number=0,
            updated_at=db.utcnow(),
        )
        .on_conflict_do_nothing()
    )


def load(conn: Connection, tenant: str) -> PlanSettings:
    stored = (
        conn.execute(
            tenancy.select(tenant, planning_settings, planning_settings.c.settings)
        ).scalar()
        or {}
    )
    known = {f.name: f.type for f in fields(PlanSettings)}
    values = {k: v for k, v in stored.items() if k in known and v is not None}
    if "ordering_cost" in values:
        values["ordering_cost"] = Decimal(values["ordering_cost"])
    return replace(PlanSettings(), **values)


def update(conn: Connection, tenant: str, patch: PlanSettingsPatch) -> PlanSettings:
    _ensure(conn, tenant)
    current = load(conn, tenant)
    changes = {k: v for k, v in patch.model_dump(exclude_unset=True).items() if v is not None}
    merged = replace(current, **changes)
    stored = asdict(merged) | {"ordering_cost": str(merged.ordering_cost)}
    conn.execute(
        tenancy.update(tenant, planning_settings).values(settings=stored, updated_at=db.utcnow())
    )
    return merged


def next_po_number(conn: Connection, tenant: str) -> int:
    """The tenant's next purchase-order number; the row lock serialises concurrent writers."""
    _ensure(conn, tenant)
    return int(
        conn.execute(
            tenancy.update(tenant, planning_settings)
            .values(last_po_number=planning_settings.c.last_po_number + 1)
            .returning(planning_settings.c.last_po_number)
        ).scalar_one()
    )
