"""Tokens expire, show their last use, and are revoked by the prefix `tokens list` shows
(issue 14, item 13)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from apikit import assert_problem

from conftest import Api
from onhand import auth, db
from onhand.tables import tokens


def _token(engine, tenant: str, expires_in: timedelta | None = None) -> auth.NewToken:
    with db.write(engine) as conn:
        return auth.create_token(conn, tenant, ["admin"], "test", expires_in)


def _row(engine, token_id: str) -> sa.Row:
    with db.read(engine) as conn:
        return conn.execute(sa.select(tokens).where(tokens.c.id == token_id)).one()


def _cli(engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "onhand.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_token_past_its_expiry_is_401(api, engine):
    new = _token(engine, api.tenant, timedelta(days=90))
    caller = Api(api.client, api.tenant, new.token)
    assert caller.get("/locations").status_code == 200
    with db.write(engine) as conn:
        conn.execute(
            tokens.update()
            .where(tokens.c.id == new.id)
            .values(expires_at=db.utcnow() - timedelta(seconds=1))
        )
    auth._cache.clear()
    doc = assert_problem(caller.get("/locations"), 401)
    assert "expired" in doc["detail"]


def test_a_cached_token_is_not_trusted_past_its_expiry(api, engine):
    new = _token(engine, api.tenant, timedelta(seconds=1))
    caller = Api(api.client, api.tenant, new.token)
    assert caller.get("/locations").status_code == 200  # verified and cached
    time.sleep(1.2)
    assert_problem(caller.get("/locations"), 401)


def test_last_use_is_written_at_most_once_a_minute(api, engine):
    new = _token(engine, api.tenant)
    assert _row(engine, new.id).last_used_at is None
    caller = Api(api.client, api.tenant, new.token)
    for _ in range(10):
        auth._cache.clear()  # every request asks the database
        assert caller.get("/locations").status_code == 200
    first = _row(engine, new.id).last_used_at
    assert first is not None
    assert _row(engine, new.id).last_used_at == first, "not rewritten within the minute"
    with db.write(engine) as conn:
        conn.execute(
            tokens.update()
            .where(tokens.c.id == new.id)
            .values(last_used_at=first - timedelta(seconds=61))
        )
    auth._cache.clear()
    assert caller.get("/locations").status_code == 200
    assert _row(engine, new.id).last_used_at > first - timedelta(seconds=1)


def test_revoke_by_a_unique_prefix_and_refuse_an_ambiguous_one(api, engine):
    with db.write(engine) as conn:
        for suffix in ("01", "02"):
            conn.execute(
                tokens.insert().values(
                    id=f"c0ffee{api.tenant[1:5]}{suffix}",
                    tenant_id=api.tenant,
                    name="twin",
                    scopes=["admin"],
                    secret_hash="0" * 64,
                    created_at=db.utcnow(),
                )
            )
    shared = f"c0ffee{api.tenant[1:5]}"
    with db.write(engine) as conn, pytest.raises(auth.Invalid, match="2 active tokens"):
        auth.revoke_token(conn, shared)
    with db.write(engine) as conn:
        assert auth.revoke_token(conn, shared + "01") == shared + "01"
    with db.write(engine) as conn:
        assert auth.revoke_token(conn, shared) == shared + "02", "now the prefix is unique"
    with db.write(engine) as conn, pytest.raises(auth.Invalid):
        auth.revoke_token(conn, "c0f")  # too short to be meant


def test_cli_creates_with_expiry_lists_expiry_and_last_use_and_revokes_by_prefix(api, engine):
    made = _cli(
        engine,
        "tokens",
        "create",
        "--tenant",
        api.tenant,
        "--scope",
        "public",
        "--expires-in",
        "90d",
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    token_id = token.split("_")[1]
    expires = _row(engine, token_id).expires_at
    assert timedelta(days=89, hours=23) < expires - db.utcnow() <= timedelta(days=90)
    assert f"{expires:%Y-%m-%d}" in made.stdout

    auth._cache.clear()
    assert Api(api.client, api.tenant, token).get("/availability/NONE").status_code == 404
    listed = _cli(engine, "tokens", "list", "--tenant", api.tenant)
    [line] = [ln for ln in listed.stdout.splitlines() if token_id in ln]
    assert f"{expires:%Y-%m-%d %H:%M}" in line
    assert f"{_row(engine, token_id).last_used_at:%Y-%m-%d %H:%M}" in line

    revoked = _cli(engine, "tokens", "revoke", token_id[:6])
    assert revoked.returncode == 0, revoked.stderr
    assert token_id in revoked.stdout
    auth._cache.clear()
    assert_problem(Api(api.client, api.tenant, token).get("/availability/NONE"), 401)


@pytest.mark.parametrize("bad", ["90", "0d", "ninety days", "5y", "-3d"])
def test_cli_refuses_a_duration_it_cannot_read(api, engine, bad):
    done = _cli(
        engine, "tokens", "create", "--tenant", api.tenant, "--scope", "admin", "--expires-in", bad
    )
    assert done.returncode == 2
    assert "onh_" not in done.stdout and "duration" in done.stderr


def test_durations():
    assert auth.parse_duration("90d") == timedelta(days=90)
    assert auth.parse_duration("12h") == timedelta(hours=12)
    assert auth.parse_duration("30m") == timedelta(minutes=30)
    assert auth.parse_duration("2w") == timedelta(weeks=2)
