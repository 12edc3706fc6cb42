"""Set-up helpers shared by the fulfilment tests: locations, items and stock through the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def location(api: Any, code: str, zone: str | None = None, priority: int = 100, **kw: Any) -> None:
    r = api.post(
        "/locations", json={"code": code, "name": code, "zone": zone, "priority": priority, **kw}
    )
    assert r.status_code == 201, r.text


def item(api: Any, sku: str, **kw: Any) -> None:
    r = api.post("/items", json={"sku": sku, "name": sku, "kind": "physical", **kw})
    assert r.status_code == 201, r.text


def receive(api: Any, sku: str, where: str, qty: int) -> None:
    r = api.post("/movements", json={"type": "receipt", "sku": sku, "location": where, "qty": qty})
    assert r.status_code == 201, r.text


def receive_lot(api: Any, sku: str, where: str, code: str, qty: int, days: int) -> None:
    """A receipt into lot `code`, which expires `days` from today."""
    expires = (date.today() + timedelta(days=days)).isoformat()
    r = api.post(
        "/movements",
        json={
            "type": "receipt",
            "sku": sku,
            "location": where,
            "qty": qty,
            "lot": {"code": code, "expires_on": expires},
        },
    )
    assert r.status_code == 201, r.text


def lots_on_hand(api: Any, sku: str) -> dict[str, int]:
    """On hand per lot code, of the lots that hold stock."""
    doc = api.get(f"/availability/{sku}").json()
    return {lot["lot"]: lot["on_hand"] for lot in doc["lots"]}


def figures(api: Any, sku: str, where: str) -> dict[str, int]:
    doc = api.get(f"/availability/{sku}").json()
    row = next((r for r in doc["locations"] if r["location"] == where), None)
    return row or {"available": 0, "on_hand": 0, "reserved": 0, "committed": 0}


def sell(api: Any, source: str, *events: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/consumption", json={"source": source, "events": list(events)})
    assert r.status_code == 200, r.text
    return r.json()


def put(api: Any, path: str, json: Any) -> Any:
    return api.request("PUT", path, json=json)
