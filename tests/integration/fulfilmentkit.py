"""Set-up helpers shared by the fulfilment tests: locations, items and stock through the API."""

from __future__ import annotations

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
