"""The event catalogue is the one list of event types: the docs show it, the code emits only it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from onhand.events import catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_docs_list_exactly_the_catalogue():
    doc = (ROOT / "docs" / "events.md").read_text()
    shown = doc.split("<!-- catalogue -->\n", 1)[1].split("<!-- /catalogue -->", 1)[0]
    assert shown == catalogue.markdown(), "regenerate the table with catalogue.markdown()"


def test_every_event_type_named_in_the_code_is_in_the_catalogue():
    named = set()
    for path in (ROOT / "src" / "onhand").rglob("*.py"):
        text = path.read_text()
        named |= set(
            re.findall(
                r"\"((?:stock|reservation|backorder|wave|pick|channel|location|rma|lot|inventory\.recall)\.[a-z_]+)\"",
                text,
            )
        )
    assert named <= set(catalogue.BY_TYPE), named - set(catalogue.BY_TYPE)
    for status, event in catalogue.RESERVATION_STATUS.items():
        assert event.type == f"reservation.{status}"


def test_shipped_and_every_alert_are_listed():
    assert {"reservation.shipped", "stock.out", "stock.low", "stock.back_in"} <= set(
        catalogue.BY_TYPE
    )


def test_a_payload_keeps_the_declared_order_and_drops_unnamed_optionals():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    event = catalogue.StockChanged(
        sku="A", location="WH1", available=3, location_available=2, on_hand=5, reason="ship"
    )
    row = event.row("t1", now)
    assert (row["type"], row["sku"], row["location"]) == ("stock.changed", "A", "WH1")
    assert list(row["payload"]) == [
        "sku",
        "location",
        "available",
        "location_available",
        "on_hand",
        "reason",
    ]
    held = catalogue.ReservationCommitted(reservation_id="r1", lines=[]).row("t1", now)
    assert held["payload"] == {"sku": None, "location": None, "reservation_id": "r1", "lines": []}
