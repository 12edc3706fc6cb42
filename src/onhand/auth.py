"""Bearer tokens, scopes and the tenant guard.

A token reads `onh_<id>_<secret>`. Only a SHA-256 of the secret is stored: the secret is
32 random bytes, so a slow password hash would add latency without adding safety. A token may
expire; its last use is written at most once a minute, never on every request. Bearer JWTs
from an identity provider are an alternative when `ONHAND_JWT_JWKS_URL` is set (jwt_auth.py).

Scopes nest: `admin` ⊃ `storefront` ⊃ `public`; `sync` stands alone. `public` callers (the
token a web page embeds) and, when configured, `storefront` callers are rate limited per
client address (ratelimit.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Connection, Engine
from starlette.requests import HTTPConnection

from . import db, tenancy
from .errors import Forbidden, Invalid, NotFound, Unauthorized
from .tables import tenants, tokens

log = logging.getLogger(__name__)
SCOPES = ("admin", "storefront", "public", "sync")
# What each scope may do: a storefront token can do what a public one can, admin everything.
GRANTS = {
    "admin": frozenset(SCOPES),
    "storefront": frozenset({"storefront", "public"}),
    "public": frozenset({"public"}),
    "sync": frozenset({"sync"}),
}
# How long a verified token is trusted without asking the database again (revocation delay).
CACHE_SECONDS = 5.0
# Last use is recorded at most this often per token (not a write per request).
LAST_USE_EVERY = timedelta(seconds=60)
# Where the middleware that authenticates before the body leaves the caller (preauth.py).
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
SCOPE_ATTRIBUTE = "onhand_scope"  # set on an endpoint by `scoped`
STATE_KEY = "onhand_caller"
# Where a `scoped` route leaves its caller once the scope is checked: (scope, Caller).
AUTHORISED_KEY = "onhand_authorised"


@dataclass(frozen=True)
class Caller:
    tenant: str
    scopes: frozenset[str]
    token_id: str
    name: str
    kind: str = "token"  # or "jwt"

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name or self.token_id}"

    def may(self, scope: str) -> bool:
        return any(scope in GRANTS.get(s, ()) for s in self.scopes)

    @property
    def rate_class(self) -> str | None:
        """Which rate limit applies: None for admin and sync callers."""
        if self.may("admin") or self.may("sync") and not self.may("public"):
            return None
        return "storefront" if self.may("storefront") else "public"


@dataclass(frozen=True)
class NewToken:
    id: str
    tenant: str
    scopes: list[str]
    token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def ensure_tenant(conn: Connection, tenant: str, name: str | None = None) -> bool:
    """Create the tenant if it does not exist; True when it was created."""
    if not tenant or len(tenant) > 64 or not all(c.isalnum() or c in "-_" for c in tenant):
        raise Invalid("A tenant id is 1-64 letters, digits, '-' or '_'.")
    stmt = (
        db.insert(conn, tenants)
        .values(id=tenant, name=name or tenant, settings={}, created_at=db.utcnow())
        .on_conflict_do_nothing()
        .returning(tenants.c.id)
    )
    return conn.execute(stmt).first() is not None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """`90d`, `12h`, `30m`, `2w`, `45s` as a duration."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([smhdw])\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise Invalid(f"'{text}' is not a duration: use a number and a unit, e.g. 90d, 12h, 30m.")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def create_token(
    conn: Connection,
    tenant: str,
    scopes: list[str],
    name: str = "",
    expires_in: timedelta | None = None,
) -> NewToken:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(f"Scopes must be chosen from {', '.join(SCOPES)}; got {scopes}.")
    ensure_tenant(conn, tenant)
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = db.utcnow()
    conn.execute(
        tokens.insert().values(
            id=token_id,
            tenant_id=tenant,
            name=name,
            scopes=sorted(set(scopes)),
            secret_hash=_hash(secret),
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
        )
    )
    return NewToken(token_id, tenant, sorted(set(scopes)), f"onh_{token_id}_{secret}")


def list_tokens(conn: Connection, tenant: str | None = None) -> list[dict[str, Any]]:
    stmt = sa.select(
        tokens.c.id,
        tokens.c.tenant_id,
        tokens.c.name,
        tokens.c.scopes,
        tokens.c.created_at,
        tokens.c.expires_at,
        tokens.c.last_used_at,
        tokens.c.revoked_at,
    ).order_by(tokens.c.created_at)
    if tenant:
        stmt = stmt.where(tenancy.of(tenant, tokens))
    return [dict(r._mapping) for r in conn.execute(stmt)]


def revoke_token(conn: Connection, given: str) -> str:
    """Revoke by id, by a unique prefix of it (as `tokens list` shows), or by the whole token;
    returns the id."""
    wanted = given.strip()
    if wanted.startswith("onh_"):
        wanted = wanted.split("_", 2)[1] if wanted.count("_") >= 2 else wanted[4:]
    if len(wanted) < 4 or not all(c in "0123456789abcdef" for c in wanted.lower()):
        raise Invalid(
            "Give a token id, or at least its first 4 characters, as `tokens list` shows."
        )
    matches = (
        conn.execute(
            sa.select(tokens.c.id)
            .where(tokens.c.id.startswith(wanted.lower(), autoescape=True))
            .where(tokens.c.revoked_at.is_(None))
        )
        .scalars()
        .all()
    )
    if not matches:
        raise NotFound(f"No active token with an id starting {wanted}.")
    if len(matches) > 1:
        raise Invalid(f"{len(matches)} active tokens start with {wanted}: give more of the id.")
    conn.execute(tokens.update().where(tokens.c.id == matches[0]).values(revoked_at=db.utcnow()))
    _cache.clear()
    return str(matches[0])


_cache: dict[str, tuple[float, Caller]] = {}
_cache_lock = threading.Lock()


def verify(engine: Engine, bearer: str) -> Caller:
    """The token's caller, from the short-lived cache or the database."""
    hit = _cached(bearer)
    if hit:
        return hit
    parts = bearer.split("_", 2)
    if len(parts) != 3 or parts[0] != "onh" or not parts[1].isalnum():
        raise Unauthorized("The bearer token is not an onhand token.")
    with db.read(engine) as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == parts[1])).first()
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.secret_hash, _hash(parts[2]))
    ):
        raise Unauthorized("The bearer token is unknown or revoked.")
    now = db.utcnow()
    trust = CACHE_SECONDS
    if row.expires_at is not None:
        left = (row.expires_at - now).total_seconds()
        if left <= 0:
            raise Unauthorized(f"The bearer token expired at {db.iso(row.expires_at)}.")
        trust = min(trust, left)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_EVERY:
        _note_use(engine, row.id, now)
    caller = Caller(row.tenant_id, frozenset(row.scopes), row.id, row.name)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[bearer] = (time.monotonic() + trust, caller)
    return caller


def _note_use(engine: Engine, token_id: str, now: datetime) -> None:
    """Record the last use; one conditional UPDATE a minute per token, whichever process."""
    cutoff = now - LAST_USE_EVERY
    try:
        with db.write(engine) as conn:
            conn.execute(
                tokens.update()
                .where(
                    tokens.c.id == token_id,
                    sa.or_(tokens.c.last_used_at.is_(None), tokens.c.last_used_at <= cutoff),
                )
                .values(last_used_at=now)
            )
    except sa.exc.SQLAlchemyError as exc:  # a busy database must not refuse the request
        log.info("could not record the use of token %s (%s)", token_id, exc)


def _cached(bearer: str) -> Caller | None:
    with _cache_lock:
        hit = _cache.get(bearer)
    return hit[1] if hit and hit[0] > time.monotonic() else None


def _bearer(request: HTTPConnection, allow_query: bool = False) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        return bearer.strip()
    if allow_query and request.query_params.get("access_token"):
        return request.query_params["access_token"]
    raise Unauthorized("Send 'Authorization: Bearer <token>'.")


async def identify(conn: HTTPConnection, tenant: str, *, allow_query: bool = False) -> Caller:
    """The verified caller of a request, checked to belong to `tenant` (no scope check)."""
    known = conn.scope.get("state", {}).get(STATE_KEY)
    caller: Caller
    if isinstance(known, Caller):
        caller = known
    else:
        bearer = _bearer(conn, allow_query)
        if not bearer.startswith("onh_") and bearer.count(".") == 2:
            from . import jwt_auth

            caller = await jwt_auth.verify(conn.app, bearer)
        else:
            # A cached token costs no thread hop; a miss asks the database from a thread.
            cached = _cached(bearer)
            if cached is None:
                cached = await asyncio.to_thread(verify, conn.app.state.engine, bearer)
            caller = cached
    if caller.tenant != tenant:
        raise Forbidden(f"This token belongs to another tenant, not '{tenant}'.")
    return caller


async def authenticate(
    conn: HTTPConnection, tenant: str, scope: str, *, allow_query: bool = False
) -> Caller:
    """The caller of a request or WebSocket, checked for tenant, scope and rate limit."""
    from . import ratelimit

    caller = await identify(conn, tenant, allow_query=allow_query)
    if not caller.may(scope):
        raise Forbidden(f"This token lacks the '{scope}' scope.")
    await ratelimit.check(conn, caller)
    return caller


def require(scope: str) -> Callable[[Request, str], Awaitable[Caller]]:
    """FastAPI dependency: the caller of `/v1/{tenant}/…` with `scope` (admin has all)."""

    async def dependency(request: Request, tenant: str) -> Caller:
        return await authenticate(request, tenant, scope)

    dependency.__name__ = f"require_{scope}"
    return dependency


def scoped(scope: str) -> Callable[[Endpoint], Endpoint]:
    """Marks a route's endpoint as needing `scope`, the check of `require` without a dependency.

    Its route (edge.StrictJSONRoute) authenticates the caller before FastAPI reads the body or
    solves a parameter, as `require` would before validating them, and the endpoint takes the
    caller with `authorised`. A dependency costs FastAPI about 0.1 ms of CPU per request to solve
    (measured on the hold route, 0.40 -> 0.28 ms for the whole request without it): worth it
    only on the busiest routes.
    """

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, SCOPE_ATTRIBUTE, scope)
        return endpoint

    return mark


def authorised(request: HTTPConnection, scope: str) -> Caller:
    """The caller a `scoped(scope)` route checked; a route without that check is a bug."""
    found = request.scope.get("state", {}).get(AUTHORISED_KEY)
    if found is None or found[0] != scope:
        raise RuntimeError(f"this endpoint needs @scoped({scope!r}) on a StrictJSONRoute")
    caller: Caller = found[1]
    return caller
