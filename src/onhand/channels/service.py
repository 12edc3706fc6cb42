"""Channels: create, change, read. Credentials go in encrypted and never come out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import MultiFernet
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from .. import db, netguard, tenancy
from ..errors import Conflict, Invalid, NotFound
from ..tables import locations as locations_table
from . import secrets
from .schemas import ChannelIn, ChannelLocation, ChannelPatch
from .shopify import default_api_url
from .tables import channels, sync_runs


@dataclass(frozen=True)
class Channel:
    """A channel as the sync uses it, with its credentials decrypted."""

    id: int
    tenant: str
    code: str
    role: str
    shop: str
    api_url: str
    access_token: str
    webhook_secret: str | None
    locations: tuple[tuple[str, str], ...]  # (onhand location code, Shopify location gid)
    alert_emails: tuple[str, ...]
    enabled: bool
    sync_interval_minutes: int
    min_shelf_life_days: int | None = None

    def __repr__(self) -> str:  # never print the credentials
        return f"Channel({self.tenant}/{self.code}, {self.role}, {self.shop})"


def _check_api_url(url: str, allowed: tuple[netguard.Network, ...]) -> None:
    try:
        netguard.check_url(url, allowed)
    except netguard.BlockedUrl as exc:
        raise Invalid(f"api_url: {exc}", field="api_url") from None


def _check_locations(conn: Connection, tenant: str, given: list[ChannelLocation]) -> list[dict]:
    codes = {
        r.code
        for r in conn.execute(
            sa.select(locations_table.c.code).where(
                tenancy.of(tenant, locations_table),
                locations_table.c.code.in_({g.location for g in given}),
            )
        )
    }
    missing = sorted({g.location for g in given} - codes)
    if missing:
        raise Invalid(f"Unknown onhand location(s): {', '.join(missing)}. Create them first.")
    pairs = [{"location": g.location, "channel_location": g.channel_location} for g in given]
    if len({(p["location"], p["channel_location"]) for p in pairs}) != len(pairs):
        raise Invalid("A location pair is listed twice.")
    return pairs


def create(
    conn: Connection,
    tenant: str,
    body: ChannelIn,
    ring: MultiFernet,
    allowed: tuple[netguard.Network, ...],
) -> dict[str, Any]:
    api_url = body.api_url or default_api_url(body.shop)
    _check_api_url(api_url, allowed)
    pairs = _check_locations(conn, tenant, body.locations)
    if body.role == "partner" and not pairs:
        raise Invalid("A partner channel needs the onhand location that holds its stock.")
    now = db.utcnow()
    try:
        with conn.begin_nested():
            conn.execute(
                channels.insert().values(
                    tenant_id=tenant,
                    code=body.code,
                    provider=body.provider,
                    role=body.role,
                    shop=body.shop,
                    api_url=api_url,
                    access_token_enc=secrets.encrypt(ring, body.access_token),
                    access_token_hint=secrets.hint(body.access_token),
                    webhook_secret_enc=(
                        secrets.encrypt(ring, body.webhook_secret) if body.webhook_secret else None
                    ),
                    locations=pairs,
                    sync_interval_minutes=body.sync_interval_minutes,
                    enabled=body.enabled,
                    alert_emails=list(body.alert_emails),
                    min_shelf_life_days=body.min_shelf_life_days,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise Conflict(
            f"A channel with code '{body.code}' exists already.", slug="duplicate"
        ) from None
    return get(conn, tenant, body.code)


def update(
    conn: Connection,
    tenant: str,
    code: str,
    patch: ChannelPatch,
    ring: MultiFernet,
    allowed: tuple[netguard.Network, ...],
) -> dict[str, Any]:
    row = row_of(conn, tenant, code)
    given = patch.model_dump(exclude_unset=True)
    values: dict[str, Any] = {"updated_at": db.utcnow()}
    for name in ("shop", "sync_interval_minutes", "enabled", "alert_emails"):
        if name in given and given[name] is not None:
            values[name] = given[name]
    if "min_shelf_life_days" in given:  # null clears it
        values["min_shelf_life_days"] = given["min_shelf_life_days"]
    if "api_url" in given or "shop" in given:
        api_url = patch.api_url or default_api_url(values.get("shop", row.shop))
        _check_api_url(api_url, allowed)
        values["api_url"] = api_url
    if patch.access_token:
        values["access_token_enc"] = secrets.encrypt(ring, patch.access_token)
        values["access_token_hint"] = secrets.hint(patch.access_token)
        values["alerted_error"] = None
    if patch.webhook_secret:
        values["webhook_secret_enc"] = secrets.encrypt(ring, patch.webhook_secret)
    if patch.locations is not None:
        values["locations"] = _check_locations(conn, tenant, patch.locations)
        if row.role == "partner" and not values["locations"]:
            raise Invalid("A partner channel needs the onhand location that holds its stock.")
    conn.execute(
        channels.update()
        .where(tenancy.of(tenant, channels), channels.c.id == row.id)
        .values(**values)
    )
    return get(conn, tenant, code)


def row_of(conn: Connection, tenant: str, code: str) -> Row:
    row = conn.execute(
        sa.select(channels).where(tenancy.of(tenant, channels), channels.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"No channel '{code}'.")
    return row


def channel(row: Row, ring: MultiFernet) -> Channel:
    return Channel(
        id=row.id,
        tenant=row.tenant_id,
        code=row.code,
        role=row.role,
        shop=row.shop,
        api_url=row.api_url,
        access_token=secrets.decrypt(ring, row.access_token_enc),
        webhook_secret=(
            secrets.decrypt(ring, row.webhook_secret_enc) if row.webhook_secret_enc else None
        ),
        locations=tuple((p["location"], p["channel_location"]) for p in row.locations),
        alert_emails=tuple(row.alert_emails),
        enabled=row.enabled,
        sync_interval_minutes=row.sync_interval_minutes,
        min_shelf_life_days=row.min_shelf_life_days,
    )


def _status(runs: list[Row]) -> str:
    finished = [r for r in runs if r.status != "running"]
    if not finished:
        return "never"
    return {"succeeded": "healthy", "partial": "warning"}.get(finished[0].status, "failed")


def _out(row: Row, runs: list[Row]) -> dict[str, Any]:
    from .runs import run_out

    return {
        "code": row.code,
        "provider": row.provider,
        "role": row.role,
        "shop": row.shop,
        "api_url": row.api_url,
        "access_token": "…" + row.access_token_hint,
        "webhook_secret": "…" if row.webhook_secret_enc else None,
        "locations": row.locations,
        "sync_interval_minutes": row.sync_interval_minutes,
        "enabled": row.enabled,
        "alert_emails": row.alert_emails,
        "min_shelf_life_days": row.min_shelf_life_days,
        "status": _status(runs),
        "last_sync": run_out(runs[0], row.code) if runs else None,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _recent_runs(conn: Connection, tenant: str, ids: list[int]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {i: [] for i in ids}
    if not ids:
        return out
    ranked = (
        sa.select(
            sync_runs,
            sa.func.row_number()
            .over(partition_by=sync_runs.c.channel_id, order_by=sync_runs.c.started_at.desc())
            .label("n"),
        )
        .where(tenancy.of(tenant, sync_runs), sync_runs.c.channel_id.in_(ids))
        .subquery()
    )
    for r in conn.execute(sa.select(ranked).where(ranked.c.n <= 2).order_by(ranked.c.n)):
        out[r.channel_id].append(r)
    return out


def get(conn: Connection, tenant: str, code: str) -> dict[str, Any]:
    row = row_of(conn, tenant, code)
    return _out(row, _recent_runs(conn, tenant, [row.id])[row.id])


def list_all(conn: Connection, tenant: str) -> list[dict[str, Any]]:
    rows = list(
        conn.execute(
            sa.select(channels).where(tenancy.of(tenant, channels)).order_by(channels.c.code)
        )
    )
    runs = _recent_runs(conn, tenant, [r.id for r in rows])
    return [_out(r, runs[r.id]) for r in rows]
