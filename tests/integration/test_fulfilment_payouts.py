"""Picker payouts from confirmed pick lines: brackets, the accuracy rule, exact amounts, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from apikit import assert_problem
from fulfilmentkit import item, location, put, receive, sell

from onhand import db
from onhand.fulfilment import picking

BRACKETS = {
    "currency": "GBP",
    "brackets": [
        {"up_to": 20, "rate": "0.10"},
        {"up_to": 40, "rate": "0.12"},
        {"up_to": None, "rate": "0.15"},
    ],
    "max_error_rate": "0.05",
}


def _pick(api, engine, tenant, plan: dict[str, tuple[int, int, int]]) -> None:
    """plan: picker -> (full lines, short lines, wrong scans)."""
    location(api, "BIN", zone="north")
    item(api, "BOX")
    total = sum(a + b for a, b, _ in plan.values())
    receive(api, "BOX", "BIN", total * 2)
    events = [
        {"id": f"e{i}", "sku": "BOX", "qty": 2, "location": "BIN", "ship": True}
        for i in range(total)
    ]
    assert sell(api, "app", *events)["counts"] == {"applied": total}
    lines = api.post("/waves", json={"group_by": "zone"}).json()["waves"][0]["lines"]
    tasks = iter(ln["id"] for ln in lines)
    with db.write(engine) as conn:
        for picker, (full, short, wrong) in plan.items():
            now = db.utcnow()
            for _ in range(wrong):
                picking.confirm(conn, tenant, lines[0]["id"], picker, "NOT-A-BOX", 2, now)
            for _ in range(full):
                picking.confirm(conn, tenant, next(tasks), picker, "BOX", 2, now)
            for _ in range(short):
                picking.confirm(conn, tenant, next(tasks), picker, "BOX", 1, now)


def test_payouts_per_bracket_with_exact_amounts_and_the_accuracy_rule(api, engine, tenant):
    assert put(api, "/payouts/brackets", json=BRACKETS).status_code == 200
    plan = {
        "ann": (45, 0, 0),  # 20 x 0.10 + 20 x 0.12 + 5 x 0.15
        "bob": (28, 1, 1),  # 2 errors in 30 scans: 6.7% -> every line at 0.10
        "carl": (24, 1, 0),  # 1 in 25: 4% -> graduated
        "dan": (38, 2, 0),  # 2 in 40: exactly 5%, not under it -> every line at 0.10
    }
    _pick(api, engine, tenant, plan)
    today = date.today().isoformat()
    doc = api.get("/payouts", params={"period": today}).json()
    assert doc["currency"] == "GBP"
    got = {p["picker"]: p for p in doc["pickers"]}
    assert {k: v["amount"] for k, v in got.items()} == {
        "ann": "5.15",
        "bob": "2.90",
        "carl": "2.60",
        "dan": "4.00",
    }
    assert got["ann"]["days"][0]["bracket"] == 3 and got["ann"]["days"][0]["accurate"]
    assert got["bob"]["lines"] == 29 and got["bob"]["errors"] == 2
    assert not got["dan"]["days"][0]["accurate"] and got["dan"]["days"][0]["rate"] == "0.10"
    assert doc["total"] == "14.65"
    month = api.get("/payouts", params={"period": today[:7]}).json()
    assert month["total"] == "14.65"


def test_payouts_export_as_csv(api, engine, tenant):
    put(api, "/payouts/brackets", json=BRACKETS)
    _pick(api, engine, tenant, {"ann": (3, 0, 0)})
    r = api.get("/payouts", params={"period": date.today().isoformat(), "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows == [
        {
            "picker": "ann",
            "day": date.today().isoformat(),
            "lines": "3",
            "errors": "0",
            "accuracy": "1.0000",
            "accurate": "yes",
            "bracket": "1",
            "rate": "0.10",
            "amount": "0.30",
            "currency": "GBP",
        }
    ]


def test_bad_brackets_and_periods_are_problems(api, tenant_state):
    before = tenant_state()
    assert_problem(api.get("/payouts", params={"period": "2026-12"}), 404, "no-brackets")
    closed = BRACKETS | {"brackets": [{"up_to": 20, "rate": "0.10"}]}
    assert_problem(put(api, "/payouts/brackets", json=closed), 422)
    downwards = BRACKETS | {
        "brackets": [
            {"up_to": 40, "rate": "0.1"},
            {"up_to": 20, "rate": "0.1"},
            {"up_to": None, "rate": "0.2"},
        ]
    }
    assert_problem(put(api, "/payouts/brackets", json=downwards), 422)
    assert_problem(put(api, "/payouts/brackets", json=BRACKETS | {"currency": "pounds"}), 422)
    assert tenant_state() == before
    put(api, "/payouts/brackets", json=BRACKETS)
    assert_problem(api.get("/payouts", params={"period": "last week"}), 422)
    assert api.get("/payouts/brackets").json()["brackets"][0] == {"up_to": 20, "rate": "0.10"}


def test_the_payouts_command_prints_the_same_csv(api, engine, tenant):
    import os
    import subprocess
    import sys

    put(api, "/payouts/brackets", json=BRACKETS)
    _pick(api, engine, tenant, {"ann": (2, 1, 0)})
    today = date.today().isoformat()
    env = {**os.environ, "ONHAND_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    done = subprocess.run(
        [sys.executable, "-m", "onhand.cli", "payouts", "--tenant", tenant, "--period", today],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    expected = api.get("/payouts", params={"period": today, "format": "csv"}).text
    assert done.stdout.splitlines() == expected.splitlines() and "ann" in expected
    bad = subprocess.run(
        [sys.executable, "-m", "onhand.cli", "payouts", "--tenant", tenant, "--period", "soon"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "period 'soon'" in bad.stderr
