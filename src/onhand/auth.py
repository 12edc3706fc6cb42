"""Bearer tokens, scopes and the tenant guard.

A token reads `onh_<id>_<secret>`. Only a SHA-256 of the secret is stored: the secret is
32 random bytes, so a slow password hash would add latency without adding safety.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.engine import Connection, Engine
from starlette.requests import HTTPConnection

from . import db
from .problems import Forbidden, Invalid, NotFound, Unauthorized
from .tables import tenants, tokens

SCOPES = ("admin", "storefront", "sync")
# How long a verified token is trusted without asking the database again (revocation delay).
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Caller:
    tenant: str
    scopes: frozenset[str]
    token_id: str
    name: str

    @property
    def actor(self) -> str:
        return f"token:{self.name or self.token_id}"


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


def create_token(conn: Connection, tenant: str, scopes: list[str], name: str = "") -> NewToken:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise Invalid(f"Scopes must be chosen from {', '.join(SCOPES)}; got {scopes}.")
    ensure_tenant(conn, tenant)
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    conn.execute(
        tokens.insert().values(
            id=token_id,
            tenant_id=tenant,
            name=name,
            scopes=sorted(set(scopes)),
            secret_hash=_hash(secret),
            created_at=db.utcnow(),
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
        tokens.c.revoked_at,
    ).order_by(tokens.c.created_at)
    if tenant:
        stmt = stmt.where(tokens.c.tenant_id == tenant)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def revoke_token(conn: Connection, token_id: str) -> None:
    done = conn.execute(
        tokens.update()
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=db.utcnow())
    )
    if done.rowcount == 0:
        raise NotFound(f"No active token with id {token_id}.")
    _cache.clear()


_cache: dict[str, tuple[float, Caller]] = {}
_cache_lock = threading.Lock()


def verify(engine: Engine, bearer: str) -> Caller:
    """The token's caller, from the short-lived cache or the database."""
    hit = _cached(bearer)
    if hit:
        return hit
    parts = bearer.split("_", 2)
    if len(parts) != 3 or parts[0] != "onh":
        raise Unauthorized("The bearer token is not an onhand token.")
    with db.read(engine) as conn:
        row = conn.execute(sa.select(tokens).where(tokens.c.id == parts[1])).first()
    if (
        row is None
        or row.revoked_at is not None
        or not hmac.compare_digest(row.secret_hash, _hash(parts[2]))
    ):
        raise Unauthorized("The bearer token is unknown or revoked.")
    caller = Caller(row.tenant_id, frozenset(row.scopes), row.id, row.name)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[bearer] = (time.monotonic() + CACHE_SECONDS, caller)
    return caller


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


def _authorise(caller: Caller, tenant: str, scope: str) -> Caller:
    if caller.tenant != tenant:
        raise Forbidden(f"This token belongs to another tenant, not '{tenant}'.")
    if "admin" not in caller.scopes and scope not in caller.scopes:
        raise Forbidden(f"This token lacks the '{scope}' scope.")
    return caller


async def authenticate(
    conn: HTTPConnection, tenant: str, scope: str, *, allow_query: bool = False
) -> Caller:
    """The caller of a request or WebSocket, checked for tenant and scope."""
    bearer = _bearer(conn, allow_query)
    # A cached token costs no thread hop; a miss asks the database from a worker thread.
    caller = _cached(bearer)
    if caller is None:
        caller = await asyncio.to_thread(verify, conn.app.state.engine, bearer)
    return _authorise(caller, tenant, scope)


def require(scope: str) -> Callable[[Request, str], Awaitable[Caller]]:
    """FastAPI dependency: the caller of `/v1/{tenant}/…` with `scope` (admin has all)."""

    async def dependency(request: Request, tenant: str) -> Caller:
        return await authenticate(request, tenant, scope)

    dependency.__name__ = f"require_{scope}"
    return dependency
