"""The `onhand` command as a user runs it: a real process on a throwaway SQLite file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from onhand import auth, db, schema
from onhand.app import create_app
from onhand.settings import Settings


def onhand(db_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m onhand.cli …` against `db_file`, from an empty working directory."""
    env = {
        **os.environ,
        "ONHAND_DATABASE_URL": f"sqlite:///{db_file}",
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "TERM": "dumb",
    }
    return subprocess.run(
        [sys.executable, "-m", "onhand.cli", *args],
        env=env,
        cwd=db_file.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


class Client:
    """The HTTP API, in-process, on the same SQLite file the commands use."""

    def __init__(self, db_file: Path) -> None:
        self.engine = db.make_engine(f"sqlite:///{db_file}")
        app = create_app(Settings(database_url=str(self.engine.url), run_jobs=False), self.engine)
        self.http = TestClient(app).__enter__()

    def call(self, method: str, path: str, token: str, **kw):
        auth._cache.clear()  # the commands run in another process: never trust a cached token
        return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)

    def close(self) -> None:
        self.http.__exit__(None, None, None)
        self.engine.dispose()


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "onhand.db"


@pytest.fixture
def migrated(db_file: Path) -> Path:
    """A database file with the current schema and nothing else."""
    schema.upgrade(engine := db.make_engine(f"sqlite:///{db_file}"))
    engine.dispose()
    return db_file


@pytest.fixture
def api_on(db_file: Path) -> Iterator[Client]:
    schema.upgrade(engine := db.make_engine(f"sqlite:///{db_file}"))
    engine.dispose()
    client = Client(db_file)
    yield client
    client.close()


@pytest.fixture(scope="module")
def stocked_file(tmp_path_factory) -> Path:
    """A database with a tenant, stock and a movement of each common kind (built once)."""
    path = tmp_path_factory.mktemp("stocked") / "onhand.db"
    engine = db.make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    client = Client(path)
    with db.write(client.engine) as conn:
        token = auth.create_token(conn, "acme", ["admin"]).token
    for path_, body in (
        ("/v1/acme/locations", {"code": "WH1", "name": "Main"}),
        ("/v1/acme/items", {"sku": "BOOK-1", "name": "Dune"}),
        ("/v1/acme/movements", {"type": "receipt", "sku": "BOOK-1", "location": "WH1", "qty": 10}),
        ("/v1/acme/movements", {"type": "damage", "sku": "BOOK-1", "location": "WH1", "qty": 2}),
        ("/v1/acme/movements", {"type": "ship", "sku": "BOOK-1", "location": "WH1", "qty": 3}),
    ):
        assert client.call("POST", path_, token, json=body).status_code == 201
    client.close()
    return path


def copy_db(source: Path, target: Path) -> Path:
    """Copy a SQLite database with its write-ahead log, if one is left."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


def test_migrate_creates_the_schema(db_file):
    done = onhand(db_file, "migrate")
    assert done.returncode == 0, done.stderr
    assert schema.head() in done.stdout
    engine = db.make_engine(f"sqlite:///{db_file}")
    assert {"tenants", "tokens", "items", "balances", "ledger"} <= set(
        sa.inspect(engine).get_table_names()
    )
    assert schema.current(engine) == schema.head()
    engine.dispose()


def test_tokens_create_prints_a_working_token_as_the_last_line(migrated):
    db_file = migrated
    done = onhand(
        db_file,
        "tokens",
        "create",
        "--tenant",
        "acme",
        "--scope",
        "admin",
        "--scope",
        "storefront",
        "--name",
        "ops",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("onh_")
    client = Client(db_file)
    try:
        with db.read(client.engine) as conn:
            [row] = auth.list_tokens(conn, "acme")
        assert (row["id"], sorted(row["scopes"]), row["name"]) == (
            token.split("_")[1],
            ["admin", "storefront"],
            "ops",
        )
        r = client.call("POST", "/v1/acme/locations", token, json={"code": "WH1", "name": "Main"})
        assert r.status_code == 201
        assert client.call("GET", "/v1/acme/locations/WH1", token).status_code == 200
        assert client.call("GET", "/v1/other/locations", token).status_code == 403
    finally:
        client.close()


def test_tokens_create_refuses_an_unknown_scope(migrated):
    done = onhand(migrated, "tokens", "create", "--tenant", "acme", "--scope", "root")
    assert done.returncode != 0
    assert "onh_" not in done.stdout
    assert "root" in done.stdout + done.stderr


def test_tokens_list_and_revoke(api_on, db_file):
    with db.write(api_on.engine) as conn:
        keep = auth.create_token(conn, "acme", ["admin"], name="keeper")
        drop = auth.create_token(conn, "acme", ["storefront"], name="leaver")
        other = auth.create_token(conn, "globex", ["admin"], name="theirs")
    assert api_on.call("GET", "/v1/acme/availability/X", drop.token).status_code == 404

    revoked = onhand(db_file, "tokens", "revoke", drop.id)
    assert revoked.returncode == 0, revoked.stderr
    assert api_on.call("GET", "/v1/acme/availability/X", drop.token).status_code == 401
    assert api_on.call("GET", "/v1/acme/items", keep.token).status_code == 200

    mine = onhand(db_file, "tokens", "list", "--tenant", "acme")
    assert mine.returncode == 0, mine.stderr
    assert keep.id in mine.stdout and drop.id in mine.stdout and other.id not in mine.stdout
    assert "storefront" in mine.stdout and "keeper" in mine.stdout
    for t in (keep, drop):
        assert t.token.split("_", 2)[2] not in mine.stdout, "a secret must never be shown"
    [drop_line] = [line for line in mine.stdout.splitlines() if drop.id in line]
    [keep_line] = [line for line in mine.stdout.splitlines() if keep.id in line]
    when = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"
    assert len(re.findall(when, keep_line)) == 2, "created and last used"
    assert len(re.findall(when, drop_line)) == 3, "created, last used and revoked"
    assert "never" in keep_line, "no expiry"

    twice = onhand(db_file, "tokens", "revoke", drop.id)
    assert twice.returncode == 1
    assert drop.id in twice.stdout + twice.stderr


def test_check_passes_on_a_good_database(stocked_file, tmp_path):
    copy = copy_db(stocked_file, tmp_path / "good.db")
    done = onhand(copy, "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "invariants hold" in done.stdout


CORRUPTIONS = {
    "a balance that is not the sum of its ledger": (
        "UPDATE balances SET on_hand = on_hand + 5",
        "ledger sums to",
    ),
    "more kept back than there is": (
        "UPDATE balances SET safety_stock = on_hand + 3",
        "available is -",
    ),
}


@pytest.mark.parametrize("sql, report", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_check_fails_with_a_report_when_an_invariant_is_broken(stocked_file, tmp_path, sql, report):
    copy = copy_db(stocked_file, tmp_path / "bad.db")
    engine = db.make_engine(f"sqlite:///{copy}")
    with db.write(engine) as conn:
        assert conn.execute(sa.text(sql)).rowcount == 1
    engine.dispose()
    done = onhand(copy, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "problems found" in done.stdout
    assert report in done.stdout


# ---- which database, and never a new one by accident -------------------------------------

# Every command that opens the database, with arguments that make it do so.
COMMANDS = [
    ("check",),
    ("tokens", "create", "--tenant", "acme", "--scope", "admin"),
    ("tokens", "list"),
    ("tokens", "revoke", "abc123"),
    ("plan", "--tenant", "acme"),
    ("reconcile",),
    ("counts", "generate", "--tenant", "acme"),
    ("rma", "list", "--tenant", "acme"),
]


def run_cli(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONHAND_DATABASE_URL": url, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("ONHAND_REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "onhand.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_command_in_a_folder_without_a_database_fails_clearly_and_creates_none(tmp_path, args):
    # `check` ran twice: the second run used to find the empty file the first one left.
    for _ in range(2 if args[0] == "check" else 1):
        done = run_cli("sqlite:///./onhand.db", tmp_path, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr[-2000:]
        lines = done.stderr.splitlines()
        assert lines[0] == "database: sqlite:///./onhand.db", done.stderr
        assert f"there is no database at {tmp_path / 'onhand.db'}" in done.stderr
        assert "onhand migrate" in done.stderr
        assert "onh_" not in done.stdout
        assert not list(tmp_path.iterdir()), "no database file may be created"


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_every_command_names_its_database_with_the_password_hidden(tmp_path, args):
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/nowhere"
    done = run_cli(url, tmp_path, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert done.stderr.splitlines()[0] == (
        "database: postgresql+psycopg://postgres:***@127.0.0.1:1/nowhere"
    )
    assert "cannot open the database" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]


def test_check_on_an_empty_sqlite_file_exits_1(db_file):
    db_file.touch()
    done = onhand(db_file, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "has no onhand schema" in done.stderr
    assert "invariants hold" not in done.stdout
    assert "Traceback" not in done.stderr


def test_check_on_an_unmigrated_postgres_database_exits_1(tmp_path):
    from conftest import PG_ADMIN_URL, need

    with db.scratch_database(need("PostgreSQL", PG_ADMIN_URL, 5432), "onhand_cli") as url:
        done = run_cli(url, tmp_path, "check")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "has no onhand schema" in done.stderr
        assert "invariants hold" not in done.stdout
        engine = db.make_engine(url)
        assert sa.inspect(engine).get_table_names() == [], "check must not create tables"
        engine.dispose()


def test_check_on_an_older_schema_says_to_migrate(db_file):
    engine = db.make_engine(f"sqlite:///{db_file}")
    schema.upgrade(engine, "0001")
    engine.dispose()
    done = onhand(db_file, "check")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "is at schema 0001" in done.stderr and "onhand migrate" in done.stderr


def test_migrate_and_tokens_name_the_database(db_file):
    migrated = onhand(db_file, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stderr.splitlines()[0] == f"database: sqlite:///{db_file}"
    made = onhand(db_file, "tokens", "create", "--tenant", "acme", "--scope", "admin")
    assert made.returncode == 0, made.stderr
    assert made.stderr.splitlines()[0] == f"database: sqlite:///{db_file}"
    assert made.stdout.strip().splitlines()[-1].startswith("onh_")


def test_counts_and_returns_from_the_command_line(stocked_file, tmp_path):
    db_file = copy_db(stocked_file, tmp_path / "onhand.db")
    made = onhand(db_file, "counts", "generate", "--tenant", "acme", "--on", "2026-12-01")
    assert made.returncode == 0, made.stderr
    assert re.search(r"\d+ count tasks made for 1 tenant", made.stdout), made.stdout
    listed = onhand(db_file, "counts", "tasks", "--tenant", "acme")
    assert listed.returncode == 0, listed.stderr
    created = int(re.search(r"(\d+) count tasks", made.stdout).group(1))
    assert listed.stdout.count("BOOK-1") == created  # shown with no expected figure
    assert onhand(db_file, "counts", "accuracy", "--tenant", "acme").returncode == 0
    client = Client(db_file)
    with db.write(client.engine) as conn:
        token = auth.create_token(conn, "acme", ["admin"]).token
    r = client.call(
        "POST",
        "/v1/acme/rma",
        token,
        json={"location": "WH1", "lines": [{"sku": "BOOK-1", "qty": 1, "reason": "torn"}]},
    )
    assert r.status_code == 201, r.text
    client.close()
    shown = onhand(db_file, "rma", "list", "--tenant", "acme")
    assert shown.returncode == 0, shown.stderr
    assert "BOOK-1" in shown.stdout and "requested" in shown.stdout


def test_lots_from_the_command_line(migrated, tmp_path):
    client = Client(migrated)
    with db.write(client.engine) as conn:
        token = auth.create_token(conn, "acme", ["admin"]).token
    soon = (date.today() + timedelta(days=3)).isoformat()
    for path_, body in (
        ("/v1/acme/locations", {"code": "WH1", "name": "Main"}),
        ("/v1/acme/items", {"sku": "MILK", "name": "Milk", "tracking": "lot"}),
        (
            "/v1/acme/movements",
            {
                "type": "receipt",
                "sku": "MILK",
                "location": "WH1",
                "qty": 12,
                "lot": {"code": "L-7", "expires_on": soon},
            },
        ),
    ):
        r = client.call("POST", path_, token, json=body)
        assert r.status_code == 201, r.text
    client.close()
    listed = onhand(migrated, "lots", "expiring", "--tenant", "acme", "--days", "7")
    assert listed.returncode == 0, listed.stderr
    assert "L-7" in listed.stdout and soon in listed.stdout
    traced = onhand(migrated, "lots", "trace", "MILK", "L-7", "--tenant", "acme")
    assert traced.returncode == 0, traced.stderr
    assert json.loads(traced.stdout)["totals"]["on_hand"] == 12
    refused = onhand(migrated, "lots", "trace", "MILK", "NOPE", "--tenant", "acme")
    assert refused.returncode == 2 and "NOPE" in refused.stderr
    done = onhand(migrated, "lots", "recall", "MILK", "L-7", "--tenant", "acme", "--yes")
    assert done.returncode == 0, done.stderr
    assert "12 units into quality control" in done.stdout
    again = onhand(migrated, "lots", "recall", "MILK", "L-7", "--tenant", "acme", "--yes")
    assert again.returncode == 2 and "recalled already" in again.stderr


@pytest.mark.parametrize(
    ("given", "url", "cpus", "expected"),
    [
        ("auto", "sqlite:///./onhand.db", 8, 1),  # SQLite's writers take the file in turn
        ("auto", "postgresql+psycopg://db/onhand", 2, 2),
        ("auto", "postgresql+psycopg://db/onhand", 1, 1),
        ("auto", "postgresql+psycopg://db/onhand", 32, 4),  # each worker has its own pool
        ("3", "sqlite:///./onhand.db", 8, 3),  # a number is taken as given
    ],
)
def test_serve_defaults_to_auto_workers_one_per_cpu_on_postgres(
    monkeypatch, given, url, cpus, expected
):
    from onhand import cli

    monkeypatch.setattr(cli.os, "cpu_count", lambda: cpus)
    assert cli.worker_count(given, url) == expected


@pytest.mark.parametrize("given", ["0", "65", "two", "-1"])
def test_serve_refuses_a_worker_count_it_cannot_run(tmp_path, given):
    result = onhand(tmp_path / "onhand.db", "serve", "--workers", given)
    assert result.returncode == 2 and "give a number from 1 to 64, or auto" in result.stderr
    assert not (tmp_path / "onhand.db").exists()
