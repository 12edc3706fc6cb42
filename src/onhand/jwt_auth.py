"""Bearer JWTs from an external identity provider, as an alternative to onhand's own tokens.

On when `ONHAND_JWT_JWKS_URL` is set. A token is accepted when its signature verifies with a
key of that JWKS (fetched through netguard, cached for `jwt_jwks_cache_seconds`, fetched again
early when a token names an unknown key id, at most every 10 s), its algorithm is one of
`jwt_algorithms`, `iss` equals `jwt_issuer`, `aud` contains `jwt_audience`, and it has not
expired. The tenant comes from the claim `jwt_tenant_claim`, the scopes from `jwt_scope_claim`
(a space-separated string as OAuth writes it, or a list); names other than onhand's scopes
are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from . import netguard
from .auth import SCOPES, Caller
from .errors import Forbidden, Unauthorized, Unavailable
from .settings import Settings

log = logging.getLogger(__name__)
REFETCH_AFTER = 10.0  # seconds between fetches prompted by an unknown key id
LEEWAY = 30  # seconds of clock skew tolerated on exp/nbf/iat


class IdentityProviderUnavailable(Unavailable):
    slug, title = "identity-provider-unavailable", "Service unavailable"


class Jwks:
    """The provider's signing keys, cached."""

    def __init__(self, settings: Settings) -> None:
        assert settings.jwt_jwks_url
        self.url = settings.jwt_jwks_url
        self.allowed = netguard.parse_networks(settings.allow_private_networks)
        self.ttl = settings.jwt_jwks_cache_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        if time.monotonic() - self.fetched > self.ttl or (
            kid not in self.keys and time.monotonic() - self.fetched > REFETCH_AFTER
        ):
            async with self._lock:
                if time.monotonic() - self.fetched > min(self.ttl, REFETCH_AFTER):
                    await self._fetch()
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        if kid is None or kid not in self.keys:
            raise Unauthorized(
                "The token is signed with a key the identity provider does not list."
            )
        return self.keys[kid]

    async def _fetch(self) -> None:
        try:
            async with netguard.client(self.allowed, timeout=5.0) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                found = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, netguard.BlockedUrl, ValueError, jwt.PyJWTError) as exc:
            log.warning("JWKS at %s unavailable: %s", self.url, exc)
            if not self.keys:
                raise IdentityProviderUnavailable(
                    "The identity provider's keys cannot be fetched; retry shortly."
                ) from None
            return  # keep the keys we had
        self.keys = {k.key_id: k for k in found.keys if k.key_id}
        if not self.keys and found.keys:
            self.keys = {"": found.keys[0]}
        self.fetched = time.monotonic()


def _jwks(app: Any) -> Jwks:
    state = app.state
    if getattr(state, "jwks", None) is None:
        state.jwks = Jwks(state.settings)
    return state.jwks


async def verify(app: Any, token: str) -> Caller:
    settings: Settings = app.state.settings
    if not settings.jwt_jwks_url:
        raise Unauthorized("The bearer token is not an onhand token.")
    if not settings.jwt_issuer or not settings.jwt_audience:
        log.error("JWT bearer tokens need ONHAND_JWT_ISSUER and ONHAND_JWT_AUDIENCE")
        raise Unauthorized("This server does not accept JWT bearer tokens (not configured).")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("The bearer token is not a valid JWT.") from None
    key = await _jwks(app).key(header.get("kid"))
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=settings.jwt_algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The JWT has expired.") from None
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"The JWT is not accepted: {exc}.") from None
    tenant = claims.get(settings.jwt_tenant_claim)
    if not isinstance(tenant, str) or not tenant:
        raise Forbidden(f"The JWT has no '{settings.jwt_tenant_claim}' claim naming a tenant.")
    raw = claims.get(settings.jwt_scope_claim, "")
    names = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    scopes = frozenset(str(n) for n in names) & set(SCOPES)
    if not scopes:
        raise Forbidden(f"The JWT grants no onhand scope ({', '.join(SCOPES)}).")
    subject = str(claims.get("sub") or claims.get("jti") or "unknown")
    return Caller(tenant, scopes, subject, subject, kind="jwt")
