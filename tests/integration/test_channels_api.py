"""Channels API: validation, scopes, secrets at rest and rotation, alerts by email."""

# ruff: noqa: F811  (pytest fixtures imported from channelkit are parameters here)
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from apikit import assert_problem
from channelkit import (  # noqa: F401  (fixtures)
    PARTNER_LOC,
    SHOP_LOC,
    add_channel,
    fake,
    inbox,
    shop,
    stocked,
    sync_all,
    sync_one,
    unique,
)
from cryptography.fernet import Fernet

from conftest import Api, make_token
from onhand import db, schema
from onhand.channels import secrets
from onhand.channels.tables import channels
from onhand.tables import outbox


def _body(fake, store, **extra):
    return {
        "code": "occ",
        "provider": "shopify",
        "role": "store",
        "shop": f"{store.name}.myshopify.com",
        "access_token": store.token,
        "api_url": fake.url(store.name),
        "locations": [{"location": "WH1", "channel_location": SHOP_LOC}],
        **extra,
    }


def test_bad_channels_are_refused_and_change_nothing(shop, fake, tenant_state):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {})
    before = tenant_state()
    for bad, status in (
        ({"role": "market"}, 422),
        ({"api_url": "http://169.254.169.254/latest/meta-data"}, 422),
        ({"api_url": "ftp://example.com/graphql"}, 422),
        ({"locations": [{"location": "NOPE", "channel_location": SHOP_LOC}]}, 422),
        ({"locations": [{"location": "WH1", "channel_location": "Location 1"}]}, 422),
        ({"alert_emails": ["not an address"]}, 422),
        ({"sync_interval_minutes": 0}, 422),
    ):
        assert_problem(shop.post("/channels", json=_body(fake, store, **bad)), status)
    assert_problem(
        shop.post("/channels", json=_body(fake, store, role="partner", locations=[])), 422
    )
    assert tenant_state() == before
    assert shop.post("/channels", json=_body(fake, store)).status_code == 201
    assert_problem(shop.post("/channels", json=_body(fake, store)), 409)
    assert_problem(shop.get("/channels/none"), 404)
    assert_problem(shop.post("/channels/none/sync"), 404)
    assert_problem(shop.get("/sync-runs/none"), 404)
    assert_problem(
        shop.post(
            "/channels/occ/mappings",
            json={"mappings": [{"sku": "MISSING", "variant": "gid://shopify/ProductVariant/1"}]},
        ),
        422,
    )


def test_default_api_url_and_patch(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {})
    body = _body(fake, store)
    body.pop("api_url")
    made = shop.post("/channels", json=body).json()
    assert made["api_url"] == f"https://{store.name}.myshopify.com/admin/api/2026-04/graphql.json"
    assert made["status"] == "never" and made["last_sync"] is None
    patched = shop.patch(
        "/channels/occ",
        json={"enabled": False, "sync_interval_minutes": 15, "api_url": fake.url(store.name)},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["enabled"], patched.json()["sync_interval_minutes"]) == (False, 15)
    assert shop.post("/sync").json()["runs"] == []  # disabled channels are not synced


def test_scopes(shop, fake, engine, tenant):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {})
    shop.post("/channels", json=_body(fake, store))
    syncer = Api(shop.client, tenant, make_token(engine, tenant, "sync"))
    storefront = Api(shop.client, tenant, make_token(engine, tenant, "storefront"))
    assert syncer.post("/channels/occ/sync").status_code == 202
    assert syncer.get("/sync-runs").status_code == 200
    assert_problem(syncer.post("/channels", json=_body(fake, store, code="x")), 403)
    assert_problem(storefront.post("/sync"), 403)
    assert_problem(storefront.get("/channels"), 403)
    other = Api(shop.client, "elsewhere", make_token(engine, "elsewhere", "admin"))
    assert_problem(other.get(f"/v1/{tenant}/channels"), 403)


def test_credentials_are_encrypted_at_rest_and_never_returned(shop, fake, engine, tenant):
    store = fake.add_store(unique("occ"), token="shpat_" + "s3cr3t" * 6 + "wxyz")
    stocked(shop, ["WH1"], {})
    made = shop.post("/channels", json=_body(fake, store, webhook_secret="whsec-very-secret-1"))
    for doc in (made.json(), shop.get("/channels/occ").json(), shop.get("/channels").json()):
        text = str(doc)
        assert store.token not in text and "whsec-very-secret-1" not in text
    assert made.json()["access_token"] == "…wxyz"
    with db.read(engine) as conn:
        row = conn.execute(sa.select(channels).where(channels.c.tenant_id == tenant)).one()
    assert store.token not in str(tuple(row)) and "whsec-very-secret-1" not in str(tuple(row))
    if engine.dialect.name == "sqlite":
        # Read by a child process: closing a descriptor of the database file in this process
        # would drop every SQLite lock it holds on it (POSIX locks belong to the process).
        path = Path(engine.url.database)
        files = [str(p) for p in path.parent.glob(path.name + "*")]
        raw = subprocess.run(["cat", *files], capture_output=True, check=True).stdout
        assert store.token.encode() not in raw and b"whsec-very-secret-1" not in raw


def test_without_a_key_a_key_file_is_made_beside_the_sqlite_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    ring = secrets.keyring(None, url)
    key_file = tmp_path / "shop.db.secret-key"
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    token = secrets.encrypt(ring, "shpat_abc")
    assert secrets.decrypt(secrets.keyring(None, url), token) == "shpat_abc"  # same key later
    with pytest.raises(secrets.SecretKeyMissing):
        secrets.keyring(None, "postgresql+psycopg://u@h/db")


def test_rotation_re_encrypts_under_the_new_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'rot.db'}"
    engine = db.make_engine(url)
    schema.upgrade(engine)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = {**os.environ, "ONHAND_DATABASE_URL": url, "ONHAND_ALLOW_PRIVATE_NETWORKS": "127.0.0.0/8"}

    def cli(*args: str, key: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "onhand.cli", *args],
            env={**env, "ONHAND_SECRET_KEY": key, "ONHAND_CHANNEL_TOKEN": "shpat_rotate_me_1234"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    subprocess.run(
        [
            sys.executable,
            "-m",
            "onhand.cli",
            "tokens",
            "create",
            "--tenant",
            "rot",
            "--scope",
            "admin",
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    with db.write(engine) as conn:
        from onhand.catalog import service as catalog
        from onhand.catalog.schemas import LocationIn

        catalog.create_location(conn, "rot", LocationIn(code="WH1", name="Main"))
    added = cli(
        "channels",
        "add",
        "--tenant",
        "rot",
        "--code",
        "occ",
        "--role",
        "store",
        "--shop",
        "rot.myshopify.com",
        "--location",
        f"WH1={SHOP_LOC}",
        key=old,
    )
    assert added.returncode == 0, added.stderr + added.stdout
    listed = cli("channels", "list", "--tenant", "rot", key=old)
    assert "occ" in listed.stdout and "shpat_rotate_me_1234" not in listed.stdout
    assert cli("secrets", "rotate", key=f"{new},{old}").returncode == 0
    with db.read(engine) as conn:
        stored = conn.execute(sa.select(channels.c.access_token_enc)).scalar_one()
    assert secrets.decrypt(secrets.keyring(new, url), stored) == "shpat_rotate_me_1234"
    with pytest.raises(secrets.SecretKeyMissing):
        secrets.decrypt(secrets.keyring(old, url), stored)
    engine.dispose()


def test_a_revoked_partner_is_mailed_once_and_the_others_carry_on(shop, fake, inbox, engine):
    mailbox, _ = inbox
    good, bad = fake.add_store(unique("good")), fake.add_store(unique("bad"))
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1", "P1", "P2"], {"BEANS-1": {"WH1": 1}})
    good.add_variant("BEANS-1", {PARTNER_LOC: 4})
    bad.add_variant("BEANS-1", {PARTNER_LOC: 6})
    sold = store.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(shop, fake, good, "good", "partner", [("P1", PARTNER_LOC)])
    add_channel(shop, fake, bad, "bad", "partner", [("P2", PARTNER_LOC)])
    add_channel(shop, fake, store, "occ", "store", [(c, SHOP_LOC) for c in ("WH1", "P1", "P2")])
    for code in ("good", "bad", "occ"):
        shop.post(f"/channels/{code}/mappings/match")
    bad.token = "shpat_rotated_by_the_partner"  # the partner revoked our token
    runs = {r["channel"]: r for r in sync_all(shop)}
    assert runs["bad"]["status"] == "failed" and "401" in runs["bad"]["error"]
    assert "access token" in runs["bad"]["error"]
    assert runs["good"]["status"] == runs["occ"]["status"] == "succeeded"
    assert store.available(sold["inventory_item"], SHOP_LOC) == 5  # WH1 + the good partner
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "ops@example.com" and "bad" in mail["Subject"]
    assert f"{bad.name}.myshopify.com" in mail.get_payload() and "PATCH" in mail.get_payload()
    with db.read(engine) as conn:
        events = conn.execute(
            sa.select(outbox.c.payload).where(
                outbox.c.tenant_id == shop.tenant, outbox.c.type == "channel.sync_failed"
            )
        ).all()
    assert [e.payload["channel"] for e in events] == ["bad"]

    assert sync_one(shop, "bad")["status"] == "failed"
    assert len(mailbox.messages) == 1  # the same failure is not mailed again
    shop.patch("/channels/bad", json={"access_token": bad.token})
    assert sync_one(shop, "bad")["status"] == "succeeded"  # recovered
    assert shop.get("/channels/bad").json()["status"] == "healthy"
    bad.token = "shpat_revoked_again"
    assert sync_one(shop, "bad")["status"] == "failed"
    assert len(mailbox.messages) == 2  # a new failure after recovery is mailed


def test_an_unreachable_store_fails_the_run_with_a_clear_message(shop, fake):
    store = fake.add_store(unique("occ"))
    stocked(shop, ["WH1"], {"BEANS-1": {"WH1": 1}})
    store.add_variant("BEANS-1", {SHOP_LOC: 0})
    add_channel(shop, fake, store, "occ", "store", [("WH1", SHOP_LOC)])
    shop.post("/channels/occ/mappings/match")
    store.fail_next = [503] * 10
    run = sync_one(shop, "occ")
    assert run["status"] == "failed" and "503" in run["error"]
    store.fail_next = [402]
    assert "unpaid" in sync_one(shop, "occ")["error"]
    store.fail_next = [423]
    assert "locked" in sync_one(shop, "occ")["error"]
