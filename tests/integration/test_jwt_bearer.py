"""Bearer JWTs from an identity provider: a JWKS served by the test on 127.0.0.1, keys made here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from apikit import assert_problem
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from conftest import make_token
from onhand.app import create_app
from onhand.settings import Settings

ISSUER = "https://id.example.com/"
AUDIENCE = "onhand-api"


class Provider:
    """A JWKS endpoint with keys generated per test; `hits` counts fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.hits = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                provider.hits += 1
                body = json.dumps(
                    {"keys": [provider.public_jwk(k) for k in provider.keys]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.add("rsa-1", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.add("ec-1", ec.generate_private_key(ec.SECP256R1()))

    def add(self, kid: str, key: Any) -> None:
        self.keys[kid] = key

    def public_jwk(self, kid: str) -> dict[str, Any]:
        key = self.keys[kid]
        algo = (
            jwt.algorithms.RSAAlgorithm
            if isinstance(key, rsa.RSAPrivateKey)
            else jwt.algorithms.ECAlgorithm
        )
        doc = json.loads(algo.to_jwk(key.public_key()))
        return {**doc, "kid": kid, "use": "sig"}

    def token(self, kid: str = "rsa-1", key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-42",
            "iat": now,
            "exp": now + 300,
            "scope": "admin",
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        signer = key or self.keys[kid]
        alg = "RS256" if isinstance(signer, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(body, signer, algorithm=alg, headers={"kid": kid})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.stop()


@pytest.fixture
def idp_client(engine, provider):
    def make(**settings: Any) -> TestClient:
        values = {
            "database_url": str(engine.url),
            "run_jobs": False,
            "jwt_jwks_url": provider.url,
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "allow_private_networks": "127.0.0.0/8",
            **settings,
        }
        return TestClient(create_app(Settings(**values), engine))

    return make


def call(client: TestClient, method: str, path: str, token: str, **kw: Any):
    return client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


def test_a_valid_jwt_is_a_caller_of_its_tenant_with_its_scopes(idp_client, provider, tenant):
    with idp_client() as c:
        admin = provider.token(onhand_tenant=tenant)
        r = call(c, "POST", f"/v1/{tenant}/locations", admin, json={"code": "WH1", "name": "Main"})
        assert r.status_code == 201, r.text
        assert call(c, "GET", f"/v1/{tenant}/locations/WH1", admin).status_code == 200
        es = provider.token("ec-1", onhand_tenant=tenant, scope="public storefront")
        assert call(c, "GET", f"/v1/{tenant}/availability/NONE", es).status_code == 404
        assert_problem(call(c, "GET", f"/v1/{tenant}/locations", es), 403)
        listed = provider.token(onhand_tenant=tenant, scope=["public"])
        assert call(c, "GET", f"/v1/{tenant}/availability/NONE", listed).status_code == 404
        assert provider.hits == 1, "the JWKS is fetched once and cached"


@pytest.mark.parametrize(
    "claims, status",
    [
        ({"iss": "https://evil.example.com/"}, 401),
        ({"aud": "another-api"}, 401),
        ({"exp": int(time.time()) - 3600}, 401),
        ({"exp": None}, 401),
        ({"onhand_tenant": None}, 403),
        ({"scope": "root superuser"}, 403),
    ],
    ids=["issuer", "audience", "expired", "no-expiry", "no-tenant", "no-scope"],
)
def test_a_jwt_with_wrong_claims_is_refused(
    idp_client, provider, tenant, tenant_state, claims, status
):
    before = tenant_state()
    with idp_client() as c:
        token = provider.token(**{"onhand_tenant": tenant, **claims})
        r = call(c, "POST", f"/v1/{tenant}/locations", token, json={"code": "WH1", "name": "Main"})
    assert_problem(r, status)
    assert tenant_state() == before


def test_a_jwt_of_another_tenant_is_403(idp_client, provider, tenant):
    with idp_client() as c:
        token = provider.token(onhand_tenant=f"{tenant}-other")
        assert_problem(call(c, "GET", f"/v1/{tenant}/locations", token), 403)


def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """Made by hand: PyJWT itself refuses to sign with a public key as the secret."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = part(json.dumps(claims).encode())
    mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(mac)}"


def test_forged_signatures_and_algorithms_are_refused(idp_client, provider, tenant):
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 300,
        "scope": "admin",
        "onhand_tenant": tenant,
    }
    public_pem = (
        provider.keys["rsa-1"]
        .public_key()
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )
    forged = [
        provider.token(key=impostor, onhand_tenant=tenant),  # right kid, wrong key
        provider.token(kid="unknown-kid", key=impostor, onhand_tenant=tenant),
        _hs256(claims, public_pem),  # the public key used as an HMAC secret
        jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"}),
        "a.b.c",
    ]
    with idp_client() as c:
        for token in forged:
            assert_problem(call(c, "GET", f"/v1/{tenant}/locations", token), 401)


def test_a_new_signing_key_is_fetched_when_a_token_names_it(idp_client, provider, tenant):
    with idp_client(jwt_jwks_cache_seconds=3600) as c:
        assert (
            call(
                c, "GET", f"/v1/{tenant}/locations", provider.token(onhand_tenant=tenant)
            ).status_code
            == 200
        )
        provider.add("rsa-2", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        rotated = provider.token("rsa-2", onhand_tenant=tenant)
        # Within 10 s of the last fetch an unknown kid does not trigger another one.
        assert_problem(call(c, "GET", f"/v1/{tenant}/locations", rotated), 401)
        c.app.state.jwks.fetched -= 11
        assert call(c, "GET", f"/v1/{tenant}/locations", rotated).status_code == 200
        assert provider.hits == 2


def test_the_jwks_is_fetched_through_the_network_guard(idp_client, provider, tenant):
    with idp_client(allow_private_networks="") as c:
        r = call(c, "GET", f"/v1/{tenant}/locations", provider.token(onhand_tenant=tenant))
    assert_problem(r, 503, "identity-provider-unavailable")
    assert provider.hits == 0


def test_onhand_tokens_keep_working_beside_jwts(idp_client, engine, tenant):
    with idp_client() as c:
        assert (
            call(
                c, "GET", f"/v1/{tenant}/locations", make_token(engine, tenant, "admin")
            ).status_code
            == 200
        )


def test_without_a_jwks_url_a_jwt_is_401(engine, provider, tenant):
    app = create_app(Settings(database_url=str(engine.url), run_jobs=False), engine)
    with TestClient(app) as c:
        token = provider.token(onhand_tenant=tenant, jti=str(uuid.uuid4()))
        assert_problem(call(c, "GET", f"/v1/{tenant}/locations", token), 401)
