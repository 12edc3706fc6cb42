"""`onhand channels add|list|sync|runs` and `onhand secrets rotate`.

The channel services (SQLAlchemy, pydantic, httpx) are imported by the commands that use
them, not at the top: every `onhand` command imports this module (see cli.py).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..cli_database import open_database
from ..errors import DomainError

if TYPE_CHECKING:
    from . import sync

channels_app = typer.Typer(help="Shopify stores and partner stores.", no_args_is_help=True)
secrets_app = typer.Typer(help="Encrypted channel credentials.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _context() -> sync.Context:
    from ..settings import get_settings
    from . import sync

    try:
        return sync.Context.of(open_database(), get_settings())
    except DomainError as exc:
        raise _fail(exc.detail) from None


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]{message}[/]")
    return typer.Exit(2)


@channels_app.command("add")
def add(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    code: Annotated[str, typer.Option(help="Short name of the channel, e.g. occ")],
    role: Annotated[str, typer.Option(help="store (onhand pushes) or partner (onhand reads)")],
    shop: Annotated[str, typer.Option(help="The shop domain, e.g. occ.myshopify.com")],
    access_token: Annotated[
        str, typer.Option(envvar="ONHAND_CHANNEL_TOKEN", help="Admin API access token")
    ],
    location: Annotated[
        list[str],
        typer.Option(help="onhand-location=gid://shopify/Location/N; repeat for several"),
    ],
    webhook_secret: Annotated[str | None, typer.Option(help="The app's webhook secret")] = None,
    api_url: Annotated[str | None, typer.Option(help="Another Admin API address")] = None,
    interval: Annotated[int, typer.Option(help="Minutes between scheduled syncs")] = 60,
    alert_email: Annotated[list[str] | None, typer.Option(help="Who hears of failures")] = None,
) -> None:
    """Connect a store (the token is read from ONHAND_CHANNEL_TOKEN if not given)."""
    from pydantic import ValidationError

    from .. import db
    from . import service
    from .schemas import ChannelIn

    ctx = _context()
    pairs = []
    for spec in location:
        onhand_code, sep, gid = spec.partition("=")
        if not sep:
            raise _fail(f"--location takes onhand-code=gid://shopify/Location/N, not {spec!r}")
        pairs.append({"location": onhand_code, "channel_location": gid})
    try:
        body = ChannelIn(
            code=code,
            role=role,  # type: ignore[arg-type]
            shop=shop,
            access_token=access_token,
            webhook_secret=webhook_secret,
            api_url=api_url,
            locations=pairs,  # type: ignore[arg-type]
            sync_interval_minutes=interval,
            alert_emails=alert_email or [],
        )
        with db.write(ctx.engine) as conn:
            created = service.create(conn, tenant, body, ctx.ring, ctx.allowed)
    except ValidationError as exc:
        raise _fail(f"invalid channel: {exc.errors()[0]['msg']}") from None
    except DomainError as exc:
        raise _fail(exc.detail) from None
    out.print(f"channel {created['code']} ({created['role']}, {created['shop']}) added")


@channels_app.command("list")
def list_channels(tenant: Annotated[str, typer.Option(help="Tenant id")]) -> None:
    """Channels with their status and last sync."""
    from .. import db
    from . import service

    ctx = _context()
    with db.read(ctx.engine) as conn:
        rows = service.list_all(conn, tenant)
    table = Table("code", "role", "shop", "enabled", "every", "status", "last sync")
    for c in rows:
        last = c["last_sync"]
        table.add_row(
            c["code"],
            c["role"],
            c["shop"],
            "yes" if c["enabled"] else "no",
            f"{c['sync_interval_minutes']} min",
            c["status"],
            f"{last['status']} {last['started_at']:%Y-%m-%d %H:%M}" if last else "",
        )
    out.print(table)


@channels_app.command("sync")
def sync_command(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    channel: Annotated[str | None, typer.Option(help="Only this channel (default: all)")] = None,
) -> None:
    """Sync now and wait for the end: partners first, then stores. Exit 1 if a run failed."""
    import asyncio

    import sqlalchemy as sa

    from .. import db, tenancy
    from . import runs, sync
    from .tables import channels

    ctx = _context()
    with db.read(ctx.engine) as conn:
        stmt = sa.select(channels).where(tenancy.of(tenant, channels), channels.c.enabled)
        if channel:
            stmt = sa.select(channels).where(
                tenancy.of(tenant, channels), channels.c.code == channel
            )
        rows = list(conn.execute(stmt))
    if not rows:
        raise _fail("no such channel" if channel else "no enabled channels")
    started = sync.start_runs(ctx.engine, tenant, [r.id for r in rows], "manual")
    roles = {r.id: (r.role, r.code) for r in rows}
    new = [(run.channel_id, roles[run.channel_id][0], run.id) for run, fresh in started if fresh]
    for run, fresh in started:
        if not fresh:
            out.print(f"{roles[run.channel_id][1]}: a sync is running already ({run.id})")
    asyncio.run(sync.run_in_order(ctx, tenant, new))
    failed = False
    with db.read(ctx.engine) as conn:
        for _, _, run_id in new:
            run = runs.get_run(conn, tenant, run_id)
            failed |= run["status"] == "failed"
            out.print(
                f"{run['channel']}: {run['status']} - {run['items_ok']} written, "
                f"{run['items_unchanged']} unchanged, {run['items_failed']} failed, "
                f"{run['items_skipped']} skipped" + (f" - {run['error']}" if run["error"] else ""),
                highlight=False,
            )
    if failed:
        raise typer.Exit(1)


@channels_app.command("runs")
def runs_command(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Sync history, newest first."""
    from .. import db
    from . import runs

    ctx = _context()
    with db.read(ctx.engine) as conn:
        rows = runs.list_runs(conn, tenant, channel, limit)
    if as_json:
        print(json.dumps({"runs": rows}, default=str))
        return
    table = Table("started", "channel", "trigger", "status", "ok", "same", "failed", "skipped")
    for r in rows:
        table.add_row(
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
            r["channel"],
            r["trigger"],
            r["status"],
            *(str(r[k]) for k in runs.COUNTS),
        )
    out.print(table)


@secrets_app.command("rotate")
def rotate() -> None:
    """Re-encrypt every channel credential with the first key of ONHAND_SECRET_KEY."""
    import sqlalchemy as sa

    from .. import db
    from . import secrets
    from .tables import channels

    ctx = _context()
    count = 0
    with db.write(ctx.engine) as conn:
        for row in conn.execute(
            sa.select(channels.c.id, channels.c.access_token_enc, channels.c.webhook_secret_enc)
        ).all():
            values = {"access_token_enc": secrets.rotate(ctx.ring, row.access_token_enc)}
            if row.webhook_secret_enc:
                values["webhook_secret_enc"] = secrets.rotate(ctx.ring, row.webhook_secret_enc)
            conn.execute(channels.update().where(channels.c.id == row.id).values(**values))
            count += 1
    out.print(f"re-encrypted the credentials of {count} channels with the first key")
