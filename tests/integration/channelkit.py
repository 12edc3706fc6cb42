"""Helpers of the channel tests: the fake Shopify, a real SMTP inbox, an app that may reach
127.0.0.1, and a tenant with locations, items and channels."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from shopify_fake import FakeShopify, Store

from conftest import Api, free_port, make_token
from onhand.app import create_app
from onhand.settings import Settings

SECRET_KEY = Fernet.generate_key().decode()
SHOP_LOC = "gid://shopify/Location/1"
PARTNER_LOC = "gid://shopify/Location/77"


class Inbox:
    """aiosmtpd handler: every message delivered to it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeShopify]:
    server = FakeShopify()
    yield server
    server.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, str]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, f"smtp://127.0.0.1:{port}"
    controller.stop()


def channel_settings(engine: sa.Engine, **extra: Any) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        run_jobs=False,
        allow_private_networks="127.0.0.0/8",
        secret_key=SECRET_KEY,
        alert_from="onhand@example.com",
        # Retries of a failing store as a real one would get them, in milliseconds, not seconds.
        **{"channel_retry_seconds": 0.01, **extra},
    )


@pytest.fixture
def shop(engine: sa.Engine, tenant: str, inbox: tuple[Inbox, str]) -> Iterator[Api]:
    """An admin client of a fresh tenant on an app that may call the fake on 127.0.0.1."""
    app = create_app(channel_settings(engine, smtp_url=inbox[1]), engine)
    with TestClient(app) as client:
        yield Api(client, tenant, make_token(engine, tenant, "admin"))


def stocked(api: Api, locations: list[str], items: dict[str, dict[str, int]]) -> None:
    """Locations, and items with on_hand per location: {"BEANS-1": {"WH1": 5}}."""
    for code in locations:
        assert api.post("/locations", json={"code": code, "name": code}).status_code == 201
    for sku, where in items.items():
        r = api.post("/items", json={"sku": sku, "name": sku, "kind": "physical"})
        assert r.status_code == 201, r.text
        for loc, qty in where.items():
            if qty:
                r = api.post(
                    "/movements", json={"type": "receipt", "sku": sku, "location": loc, "qty": qty}
                )
                assert r.status_code == 201, r.text


def add_channel(
    api: Api,
    fake: FakeShopify,
    store: Store,
    code: str,
    role: str,
    pairs: list[tuple[str, str]],
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "code": code,
        "provider": "shopify",
        "role": role,
        "shop": f"{store.name}.myshopify.com",
        "access_token": store.token,
        "webhook_secret": f"whsec-{store.name}",
        "api_url": fake.url(store.name),
        "locations": [{"location": a, "channel_location": b} for a, b in pairs],
        "alert_emails": ["ops@example.com"],
        **extra,
    }
    r = api.post("/channels", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def finished(api: Api, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = api.get(f"/sync-runs/{run_id}").json()
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {timeout} s")


def sync_all(api: Api) -> list[dict[str, Any]]:
    r = api.post("/sync")
    assert r.status_code == 202, r.text
    return [finished(api, run["id"]) for run in r.json()["runs"]]


def sync_one(api: Api, code: str) -> dict[str, Any]:
    r = api.post(f"/channels/{code}/sync")
    assert r.status_code == 202, r.text
    return finished(api, r.json()["id"])


def on_hand(api: Api, sku: str, location: str) -> int:
    doc = api.get(f"/availability/{sku}").json()
    return next((r["on_hand"] for r in doc["locations"] if r["location"] == location), 0)


def signed(
    store: Store,
    body: dict[str, Any],
    webhook_id: str,
    *,
    secret: str | None = None,
    **headers: str,
) -> tuple[bytes, dict[str, str]]:
    """A webhook as Shopify sends it for `store` (its channel's secret is whsec-<store name>):
    the raw body and the headers. `headers` override (X-Shopify-Topic="orders/cancelled")."""
    raw = json.dumps(body).encode()
    key = (secret or f"whsec-{store.name}").encode()
    return raw, {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": base64.b64encode(
            hmac.new(key, raw, hashlib.sha256).digest()
        ).decode(),
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": f"{store.name}.myshopify.com",
        "Content-Type": "application/json",
        **{k.replace("_", "-"): v for k, v in headers.items()},
    }
