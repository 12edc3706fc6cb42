"""The `onhand` command.

Start-up time: every command, even `onhand --help`, pays for what this module and the command
modules import at their top. Importing the services there (FastAPI through `auth`, Alembic
through `schema`, SQLAlchemy, NumPy through planning, the channel services) made
`import onhand.cli` take 1.2-1.3 s and `onhand --help` 1.4-1.6 s on an idle 2-CPU machine;
with only the standard library, typer, rich and tiny onhand modules (`errors`) at the tops,
they take 0.13 s and 0.5 s. Each command imports the services it drives in its body, and
`main()` the settings and logging. Typer reads the command signatures at start: a name used in
a signature must stay importable at module level.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .cache.commands import reconcile_command
from .channels.commands import channels_app, secrets_app
from .cli_database import open_database
from .counts.commands import counts_app
from .errors import Invalid, NotFound
from .fulfilment.commands import payouts_command
from .planning.commands import forecast_command
from .planning.plan_command import plan_command
from .returns.commands import rma_app
from .stock.lot_commands import lots_app

app = typer.Typer(
    help="onhand: the inventory backbone. Set ONHAND_DATABASE_URL to use PostgreSQL.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_show_locals=False,
)
tokens_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
err = Console(stderr=True)
out = Console()


@app.command()
def migrate(
    to: Annotated[
        str,
        typer.Option(
            help="Target revision ('head', or e.g. '0001'); lower than the current one downgrades"
        ),
    ] = "head",
) -> None:
    """Create or upgrade the database schema (ONHAND_DATABASE_URL, default ./onhand.db)."""
    from . import schema

    engine = open_database(create=True, schema_mode="any")
    before = schema.current(engine)
    target = schema.head() if to == "head" else to
    if before and target != before and to != "head" and _is_older(target, before):
        schema.downgrade(engine, target)
    else:
        schema.upgrade(engine, target)
    out.print(
        f"schema at [bold]{schema.current(engine)}[/] (was {before or 'empty'}) "
        f"on {engine.url.render_as_string(hide_password=True)}"
    )


def _is_older(target: str, current: str) -> bool:
    return target == "base" or target < current


def serve_app(
    host: str, port: int, *, workers: int = 1, demo_banner: list[str] | None = None
) -> None:
    from . import server
    from .settings import get_settings

    settings = get_settings()
    if demo_banner is None:  # the demo has opened (and migrated) the database already
        open_database(create=True, schema_mode="upgrade", pool_size=1).dispose()
    for line in demo_banner or []:
        out.print(line, soft_wrap=True, highlight=False)
    server.run(host, port, workers=workers, log_level=settings.log_level)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        str,
        typer.Option(
            help="Server processes sharing the database: 1 to 64, or auto (on PostgreSQL one per "
            f"CPU, at most {AUTO_MAX_WORKERS}; on SQLite 1)"
        ),
    ] = "auto",
) -> None:
    """Run the HTTP service and its background jobs (migrates first if needed)."""
    from .settings import get_settings

    serve_app(host, port, workers=worker_count(workers, get_settings().database_url))


# Each worker keeps its own pool of up to 20 PostgreSQL connections; 4 stay under the server's
# default limit of 100 with room for the CLI and other clients.
AUTO_MAX_WORKERS = 4


def worker_count(text: str, database_url: str) -> int:
    """`auto`: one process per CPU on PostgreSQL, where two workers on two CPUs served 12-16 %
    more holds than one (docs/performance.md); one on SQLite, whose writers take the whole
    file in turn, so a second process adds lock waits and no throughput."""
    if text == "auto":
        if database_url.startswith("sqlite"):
            return 1
        return max(1, min(os.cpu_count() or 1, AUTO_MAX_WORKERS))
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise typer.BadParameter(f"'{text}': give a number from 1 to 64, or auto.")
    return int(text)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load the data and stop")] = False,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(help="Origin of a shop page that embeds the badge (repeatable)"),
    ] = None,
) -> None:
    """Load the sample tenant 'demo' (a year of history) and serve it."""
    from . import auth, db
    from . import demo as demo_data
    from .settings import get_settings

    if cors_origin:
        # The served app reads its settings from the environment: add the origins there.
        origins = [*get_settings().cors_origins, *cors_origin]
        os.environ["ONHAND_CORS_ORIGINS"] = json.dumps(list(dict.fromkeys(origins)))
        get_settings.cache_clear()

    engine = open_database(create=True, schema_mode="upgrade")
    created = demo_data.load(engine, progress=err)
    with db.write(engine) as conn:
        admin = auth.create_token(conn, "demo", ["admin"], name="demo admin")
        shop = auth.create_token(conn, "demo", ["storefront"], name="demo storefront")
        page = auth.create_token(conn, "demo", ["public"], name="demo badge")
    base = f"http://{host}:{port}"
    banner = [
        f"[green]demo tenant {'loaded' if created else 'already present'}[/]",
        f"  dashboard        {base}/dashboard#token={admin.token}&tenant=demo",
        f"  API docs         {base}/docs",
        f"  availability     curl -H 'Authorization: Bearer {page.token}' "
        f"{base}/v1/demo/availability/BOOK-DUNE",
        f"  public token     {page.token}  (safe in a web page: availability only)",
        f"  storefront token {shop.token}  (checkout server only: holds)",
        f"  admin token      {admin.token}",
        "  stock badge      paste into a shop page"
        + (f" served from {', '.join(cors_origin)}" if cors_origin else " (see --cors-origin)")
        + ":",
        f'    <script src="{base}/badge.js" data-tenant="demo" data-sku="BOOK-DUNE" '
        f'data-token="{page.token}" async></script>',
    ]
    if no_serve:
        for line in banner:
            out.print(line, soft_wrap=True, highlight=False)
        return
    serve_app(host, port, demo_banner=banner)


@tokens_app.command("create")
def tokens_create(
    tenant: Annotated[str, typer.Option(help="Tenant id (created if new)")],
    scope: Annotated[
        list[str],
        typer.Option(help="admin, storefront, public or sync; repeat for several"),
    ],
    name: Annotated[str, typer.Option(help="A label to recognise the token by")] = "",
    expires_in: Annotated[
        str | None, typer.Option(help="Lifetime, e.g. 90d, 12h, 30m (default: no expiry)")
    ] = None,
) -> None:
    """Print a new bearer token as the last line (it is shown only once)."""
    from . import auth, db

    try:
        lifetime = auth.parse_duration(expires_in) if expires_in else None
    except Invalid as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    engine = open_database(schema_mode="upgrade")  # an existing database only
    try:
        with db.write(engine) as conn:
            token = auth.create_token(conn, tenant, scope, name, lifetime)
    except Invalid as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    until = (
        f", expires {lifetime and (db.utcnow() + lifetime):%Y-%m-%d %H:%M} UTC" if lifetime else ""
    )
    out.print(
        f"token {token.id} for tenant {token.tenant}, scopes {', '.join(token.scopes)}{until}",
        highlight=False,
    )
    print(token.token)


@tokens_app.command("list")
def tokens_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant")] = None,
) -> None:
    """List tokens (ids, scopes, expiry, last use, state; never secrets)."""
    from . import auth, db

    with db.read(open_database()) as conn:
        rows = auth.list_tokens(conn, tenant)
    now = db.utcnow()
    table = Table("id", "tenant", "name", "scopes", "created", "expires", "last used", "revoked")
    for r in rows:
        expires = r["expires_at"]
        table.add_row(
            r["id"],
            r["tenant_id"],
            r["name"],
            ", ".join(r["scopes"]),
            _when(r["created_at"]),
            (_when(expires) + (" (expired)" if expires <= now else "")) if expires else "never",
            _when(r["last_used_at"]) or "never",
            _when(r["revoked_at"]),
        )
    out.print(table, width=max(out.width, 150))  # one line per token, even in a pipe


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[
        str, typer.Argument(help="The token id from 'tokens list', or a unique prefix of it")
    ],
) -> None:
    """Revoke a token; requests with it get 401 within seconds."""
    from . import auth, db

    try:
        with db.write(open_database()) as conn:
            revoked = auth.revoke_token(conn, token_id)
    except (NotFound, Invalid) as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    out.print(f"revoked {revoked}")


@app.command()
def check() -> None:
    """Verify the stock invariants over the whole database; exit 1 with a report if any fails."""
    from . import check as invariants
    from . import db

    with db.read(open_database()) as conn:
        findings = invariants.run(conn)
    if not findings:
        out.print(
            "[green]all invariants hold[/]: no negative state, balances = ledger, "
            "reserved = active holds, lots add up and no expired or recalled lot sold or "
            "available, no cross-tenant rows"
        )
        return
    table = Table("invariant", "finding", title=f"{len(findings)} problems found")
    for f in findings[:500]:
        table.add_row(str(f.invariant), f.what)
    out.print(table)
    raise typer.Exit(1)


# Commands that live beside the code they drive.
app.command("forecast", help="Forecast demand from a CSV of series_id,date,qty.")(forecast_command)
app.command("plan")(plan_command)
app.command("reconcile")(reconcile_command)
app.command("payouts")(payouts_command)
app.add_typer(channels_app, name="channels")
app.add_typer(secrets_app, name="secrets")
app.add_typer(counts_app, name="counts")
app.add_typer(rma_app, name="rma")
app.add_typer(lots_app, name="lots")


def main() -> None:
    # Every command, `--help` included, pays for these (about 0.2 s of the 0.5 s: 0.12 s
    # pydantic-settings, 0.07 s structlog): the settings' log level and format apply to every
    # command.
    from . import logs
    from .settings import get_settings

    settings = get_settings()
    logs.configure(settings.log_level, settings.log_format)
    # Alembic logs "setup plugin …" at info when it is imported. It used to be imported before
    # the logs were configured, so those lines never showed; now a command imports it later.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app()


if __name__ == "__main__":
    main()
