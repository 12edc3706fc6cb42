"""Threshold alerts and Prometheus: stock.low / stock.out / stock.back_in, gauges, rules."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from eventkit import SSEReader, eventually, metric, move, stock_tenant

from conftest import IN_CI, make_token
from onhand import db
from onhand.events.alerts import Level, crossings, level
from onhand.tables import outbox

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"


def test_levels_and_crossings():
    assert level(0, 5, 10) == Level(out=True, low=False, below_reorder=True)
    assert level(3, 5, 10) == Level(out=False, low=True, below_reorder=True)
    assert level(8, 5, 10) == Level(out=False, low=False, below_reorder=True)
    assert level(8, None, None) == Level()
    assert crossings(Level(), level(3, 5, 10)) == [
        ("stock.low", {"crossed": ["low_stock_threshold", "reorder_point"]})
    ]
    assert crossings(level(3, 5, 10), level(2, 5, 10)) == []  # still low: said once
    assert crossings(level(3, 5, 10), level(0, 5, 10)) == [("stock.out", {})]
    assert crossings(level(0, 5, 10), level(20, 5, 10))[0][0] == "stock.back_in"


def test_crossing_thresholds_emits_each_alert_once(server, engine, tenant):
    srv = server()
    token = make_token(engine, tenant, "admin")
    shop = stock_tenant(srv.url, tenant, token, {"A": 20}, low_stock_threshold=5, reorder_point=8)

    def scrape(sample: str, **labels: str) -> float:
        return metric(shop.get(f"{srv.url}/metrics").text, sample, **labels)

    def caught_up() -> bool:
        lag = scrape("onhand_outbox_lag_rows", sink="alerts")
        return lag == 0 and scrape("onhand_outbox_lag_seconds", sink="alerts") == 0.0

    eventually(caught_up)  # the alert sink has delivered every earlier outbox row
    head, published = outbox_head(engine), scrape("onhand_events_published_total", sink="alerts")
    sse = SSEReader(
        f"{srv.url}/v1/{tenant}/events?types=stock.low,stock.out,stock.back_in&access_token={token}"
    )
    try:
        for qty in (10, 6, 1, 3):  # 20 -> 10 -> 4 (low, below reorder) -> 3 -> 0 (out)
            move(shop, "ship", "A", qty)
        move(shop, "receipt", "A", 30)  # back in
        eventually(lambda: len(sse.events) >= 3)
        got = [(e["event"], e["data"]["available"]) for e in sse.events]
        assert got == [("stock.low", 4), ("stock.out", 0), ("stock.back_in", 30)]
        assert sse.events[0]["data"]["crossed"] == ["low_stock_threshold", "reorder_point"]
        move(shop, "ship", "A", 27)  # 3: low again, not out
        sse.wait_for(lambda e: e["event"] == "stock.low" and e["data"]["available"] == 3)
        assert scrape("onhand_items_low", tenant=tenant) == 1.0
        assert scrape("onhand_items_below_reorder_point", tenant=tenant) == 1.0
        assert scrape("onhand_items_out", tenant=tenant) == 0.0
        eventually(caught_up)
        # Every outbox row written since (movements and the alerts themselves) was delivered
        # to the alert sink exactly once.
        delivered = scrape("onhand_events_published_total", sink="alerts") - published
        assert delivered == outbox_head(engine) - head > 0
    finally:
        sse.close()


def outbox_head(engine) -> int:
    with db.read(engine) as conn:
        return int(conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0)


def test_alert_rules_pass_promtool():
    promtool = shutil.which("promtool")
    if promtool is None:
        message = "promtool is missing (Debian package 'prometheus')"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        [promtool, "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
