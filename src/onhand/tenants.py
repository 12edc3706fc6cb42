"""Per-tenant settings: time zone (for print-on-demand days), hold lifetime, allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from . import tenancy
from .problems import Invalid, NotFound
from .tables import tenants

STRATEGIES = ("priority", "most_stock", "nearest_zone")


@dataclass(frozen=True)
class TenantSettings:
    timezone: str = "UTC"
    reservation_ttl_seconds: int | None = None
    allocation: str = "priority"

    def day(self, now: datetime) -> date:
        """The tenant's calendar day at `now` (print-on-demand capacity refills per day)."""
        return now.astimezone(ZoneInfo(self.timezone)).date()


class SettingsPatch(BaseModel):
    timezone: str | None = Field(default=None, examples=["Europe/Berlin"])
    reservation_ttl_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    allocation: str | None = Field(default=None, examples=list(STRATEGIES))


def load(conn: Connection, tenant: str) -> TenantSettings:
    row = conn.execute(
        tenancy.select(tenant, tenants, tenants.c.timezone, tenants.c.settings)
    ).first()
    if row is None:
        raise NotFound(f"There is no tenant '{tenant}'.", slug="unknown-tenant")
    extra = row.settings or {}
    return TenantSettings(
        row.timezone, extra.get("reservation_ttl_seconds"), extra.get("allocation", "priority")
    )


def update(conn: Connection, tenant: str, patch: SettingsPatch) -> TenantSettings:
    current = load(conn, tenant)
    values = patch.model_dump(exclude_unset=True)
    if values.get("timezone"):
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                f"Unknown time zone '{values['timezone']}' (use an IANA name "
                "such as Europe/Berlin)."
            ) from None
    if values.get("allocation") and values["allocation"] not in STRATEGIES:
        raise Invalid(f"allocation is one of {', '.join(STRATEGIES)}.")
    extra = {
        "reservation_ttl_seconds": values.get(
            "reservation_ttl_seconds", current.reservation_ttl_seconds
        ),
        "allocation": values.get("allocation") or current.allocation,
    }
    conn.execute(
        tenancy.update(tenant, tenants).values(
            timezone=values.get("timezone") or current.timezone, settings=extra
        )
    )
    return load(conn, tenant)
