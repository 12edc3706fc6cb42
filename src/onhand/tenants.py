"""Per-tenant settings: time zone (for print-on-demand days), hold lifetime and its limits,
allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from . import db, tenancy
from .errors import Invalid, NotFound
from .tables import tenants

STRATEGIES = ("priority", "most_stock", "nearest_zone")
# A hold lives at most a day and is extended at most 5 times unless the tenant says otherwise:
# a storefront token must not be able to lock an item's stock away for a week.
MAX_TTL_SECONDS = 24 * 3600
MAX_EXTENSIONS = 5


@dataclass(frozen=True)
class TenantSettings:
    timezone: str = "UTC"
    reservation_ttl_seconds: int | None = None
    allocation: str = "priority"
    max_reservation_ttl_seconds: int = MAX_TTL_SECONDS
    max_reservation_extensions: int = MAX_EXTENSIONS

    def check_ttl(self, ttl_seconds: int | None) -> None:
        """Refuse a hold lifetime above the tenant's maximum."""
        if ttl_seconds is not None and ttl_seconds > self.max_reservation_ttl_seconds:
            raise Invalid(
                f"ttl_seconds: at most {self.max_reservation_ttl_seconds} (this tenant's "
                f"max_reservation_ttl_seconds); {ttl_seconds} asked.",
                slug="ttl-too-long",
            )

    def day(self, now: datetime) -> date:
        """The tenant's calendar day at `now` (print-on-demand capacity refills per day)."""
        return now.astimezone(ZoneInfo(self.timezone)).date()


class SettingsPatch(BaseModel):
    timezone: str | None = Field(default=None, examples=["Europe/Berlin"])
    reservation_ttl_seconds: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    allocation: str | None = Field(default=None, examples=list(STRATEGIES))
    max_reservation_ttl_seconds: int | None = Field(default=None, ge=60, le=7 * 24 * 3600)
    max_reservation_extensions: int | None = Field(default=None, ge=0, le=1000)


# Read by every batch of holds: built once (see db.fetch).
_SETTINGS = tenancy.select(sa.bindparam("tenant"), tenants, tenants.c.timezone, tenants.c.settings)


def load(conn: Connection, tenant: str) -> TenantSettings:
    found = db.fetch(conn, _SETTINGS, {"tenant": tenant})
    if not found:
        raise NotFound(f"There is no tenant '{tenant}'.", slug="unknown-tenant")
    row = found[0]
    extra = row.settings or {}
    return TenantSettings(
        row.timezone,
        extra.get("reservation_ttl_seconds"),
        extra.get("allocation", "priority"),
        extra.get("max_reservation_ttl_seconds") or MAX_TTL_SECONDS,
        extra.get("max_reservation_extensions", MAX_EXTENSIONS),
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
    default_ttl: int | None = values.get("reservation_ttl_seconds", current.reservation_ttl_seconds)
    max_ttl: int = values.get("max_reservation_ttl_seconds") or current.max_reservation_ttl_seconds
    extensions = values.get("max_reservation_extensions")
    if (default_ttl or 0) > max_ttl:
        raise Invalid("reservation_ttl_seconds cannot exceed max_reservation_ttl_seconds.")
    extra = {
        "reservation_ttl_seconds": default_ttl,
        "allocation": values.get("allocation") or current.allocation,
        "max_reservation_ttl_seconds": max_ttl,
        "max_reservation_extensions": current.max_reservation_extensions
        if extensions is None
        else extensions,
    }
    conn.execute(
        tenancy.update(tenant, tenants).values(
            timezone=values.get("timezone") or current.timezone, settings=extra
        )
    )
    return load(conn, tenant)
