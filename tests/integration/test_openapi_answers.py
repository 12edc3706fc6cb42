"""The success answers in /openapi.json are the ones the API really gives.

A day of a shop is run through the API (catalogue, movements, holds, suppliers, a plan,
purchase orders, fulfilment, webhooks, a channel, the console's reports), and every 2xx JSON
answer is validated against the schema the document declares for that operation and status,
strictly: a property the answer has and the schema does not name is a failure too, so the
documented names are the real ones. Every documented operation with a JSON success answer
must be met at least once, bar the few listed with the reason they are not.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs
import pytest
from channelkit import SECRET_KEY, SHOP_LOC, finished, signed, unique
from fastapi.testclient import TestClient
from planningkit import daily_sales, moves
from pydantic import BaseModel
from shopify_fake import FakeShopify

from conftest import Api, make_token
from onhand.apidocs import _routes
from onhand.app import create_app
from onhand.settings import Settings

# Operations the scenario does not reach, and why (each is covered by its own tests).
UNREACHED = {
    # A redelivery needs a delivery, which needs the dispatcher (test_events_webhooks.py).
    ("post", "/v1/{tenant}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"),
}


@dataclass
class Recorder:
    api: Api
    seen: list[tuple[str, str, int, Any]] = field(default_factory=list)

    def __call__(self, method: str, template: str, status: int = 200, **kw: Any) -> Any:
        path = template.format(**kw.pop("ids", {}))
        r = self.api.request(method.upper(), path, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text[:400])
        body = (
            r.json() if r.headers.get("content-type", "").startswith("application/json") else None
        )
        self.seen.append((method.lower(), f"/v1/{{tenant}}{template}", r.status_code, body))
        return body


@pytest.fixture(scope="module")
def fake():
    server = FakeShopify()
    yield server
    server.stop()


@pytest.fixture
def shop_api(engine, tenant):
    """An app that stores channel credentials and may call the fake Shopify on 127.0.0.1."""
    settings = Settings(
        database_url=str(engine.url),
        run_jobs=False,
        secret_key=SECRET_KEY,
        allow_private_networks="127.0.0.0/8",
    )
    with TestClient(create_app(settings, engine)) as client:
        yield Api(client, tenant, make_token(engine, tenant, "admin"))


def run_scenario(call: Recorder, engine: Any, tenant: str, fake: FakeShopify) -> None:
    """One shop's day through the API, every answer recorded (four weeks of sales before it
    are written straight to the ledger, so the plan has something to suggest)."""
    call("post", "/locations", 201, json={"code": "WH", "name": "Main", "zone": "north"})
    for code, prio in (("A-01", 1), ("A-02", 2)):
        body = {"code": code, "name": code, "parent": "WH", "zone": "north", "priority": prio}
        call("post", "/locations", 201, json=body)
    call("post", "/locations", 201, json={"code": "S-01", "name": "South", "zone": "south"})
    call("get", "/locations")
    call("get", "/locations/{code}", ids={"code": "A-01"})
    call("patch", "/locations/{code}", ids={"code": "S-01"}, json={"priority": 50})
    item = {"sku": "BOOK", "name": "Book", "unit_cost": "4.20", "low_stock_threshold": 5}
    call("post", "/items", 201, json={**item, "barcode": "978000000001", "reorder_point": 10})
    call("post", "/items", 201, json={"sku": "PEN", "name": "Pen", "unit_cost": "0.80"})
    call("post", "/items", 201, json={"sku": "EBOOK", "name": "E-book", "kind": "digital"})
    call("post", "/items", 201, json={"sku": "INK", "name": "Ink", "low_stock_threshold": 50})
    call("post", "/items", 201, json={"sku": "MUG", "name": "Mug", "allow_backorder": True})
    kit = {"sku": "PACK:SET", "name": "Set", "kind": "bundle"}
    kit["components"] = [{"sku": "BOOK", "qty": 1}, {"sku": "PEN", "qty": 2}]
    call("post", "/items", 201, json=kit)
    call("get", "/items")
    call("get", "/items/{sku}", ids={"sku": "PACK:SET"})
    call("patch", "/items/{sku}", ids={"sku": "BOOK"}, json={"name": "The book"})
    call("get", "/settings")
    call("patch", "/settings", json={"timezone": "Europe/London"})

    for sku, where, qty in (("BOOK", "A-01", 40), ("PEN", "A-02", 100), ("BOOK", "S-01", 6)):
        move = {"type": "receipt", "sku": sku, "location": where, "qty": qty, "unit_cost": "1"}
        call("post", "/movements", 201, json=move)
    call(
        "post",
        "/movements",
        201,
        json={"type": "damage", "sku": "PEN", "location": "A-02", "qty": 1},
    )
    transfer = {"type": "transfer", "sku": "BOOK", "location": "A-01", "to": "S-01"}
    call("post", "/movements", 201, json={**transfer, "qty": 2})
    # Four weeks of sales: BOOK (bought from ACME below) and INK (from no one) run low.
    moves(
        engine,
        tenant,
        daily_sales("BOOK", "A-01", 84, 3, 28) + daily_sales("INK", "A-02", 90, 3, 28),
    )
    call("get", "/availability/{sku}", ids={"sku": "BOOK"})
    call("get", "/availability/{sku}", ids={"sku": "EBOOK"})
    call("get", "/availability/{sku}", ids={"sku": "PACK:SET"})
    call("get", "/availability", params={"sku": "BOOK"})
    call("get", "/availability", params={"skus": "BOOK,PEN"})
    call("get", "/ledger", params={"sku": "BOOK", "limit": 3})
    call("get", "/locations/{code}/balances", ids={"code": "A-01"})

    hold = {"lines": [{"sku": "PACK:SET", "qty": 1}, {"sku": "BOOK", "qty": 2}]}
    res = call("post", "/reservations", 201, json=hold)
    ids = {"res_id": res["id"]}
    call("get", "/reservations")
    call("get", "/reservations/{res_id}", ids=ids)
    call("post", "/reservations/{res_id}/extend", ids=ids, json={"ttl_seconds": 600})
    call("post", "/reservations/{res_id}/commit", ids=ids)
    call("post", "/reservations/{res_id}/ship", ids=ids)
    other = call("post", "/reservations", 201, json={"lines": [{"sku": "PEN", "qty": 1}]})
    call("post", "/reservations/{res_id}/release", ids={"res_id": other["id"]})
    # A hold beyond stock of a backordered item: its backorder lines, then released.
    ahead = call("post", "/reservations", 201, json={"lines": [{"sku": "MUG", "qty": 2}]})
    assert ahead["backorders"][0]["qty"] == 2, ahead
    call("get", "/reservations/{res_id}", ids={"res_id": ahead["id"]})
    call("post", "/reservations/{res_id}/release", ids={"res_id": ahead["id"]})
    call("get", "/console/holds")
    call("post", "/reservations", 201, json={"lines": [{"sku": "PEN", "qty": 1}]})
    call("get", "/console/holds")

    supplier = {"code": "ACME", "name": "Acme", "lead_time_days": 5, "email": "po@acme.test"}
    call("post", "/suppliers", 201, json=supplier)
    call("get", "/suppliers")
    call("get", "/suppliers/{code}", ids={"code": "ACME"})
    call("patch", "/suppliers/{code}", ids={"code": "ACME"}, json={"moq": 10})
    link = {"supplier": "ACME", "price": "3.10", "pack_size": 12, "preferred": True}
    call("post", "/items/{sku}/suppliers", 201, ids={"sku": "BOOK"}, json=link)
    call("get", "/items/{sku}/suppliers", ids={"sku": "BOOK"})
    patch = {"supplier_sku": "AC-BOOK"}
    call("patch", "/items/{sku}/suppliers/{code}", ids={"sku": "BOOK", "code": "ACME"}, json=patch)
    call("get", "/plan/settings")
    call("patch", "/plan/settings", json={"service_level": 0.9})
    call("get", "/console/plan")
    call("post", "/plan")
    call("get", "/plan")
    call("get", "/console/plan")
    call("get", "/plan/suggestions")
    call("get", "/items/{sku}/forecast", ids={"sku": "BOOK"}, params={"days": 3})
    call("post", "/plan/purchase-orders", 201, json={})
    order = {
        "supplier": "ACME",
        "location": "A-01",
        "lines": [{"sku": "BOOK", "qty": 24, "unit_price": "3.10"}],
    }
    po = call("post", "/purchase-orders", 201, json=order)
    ids = {"po_id": po["id"]}
    call("get", "/purchase-orders")
    call("get", "/purchase-orders/{po_id}", ids=ids)
    call("patch", "/purchase-orders/{po_id}", ids=ids, json={"notes": "ring first"})
    call("post", "/purchase-orders/{po_id}/approve", ids=ids)
    call("post", "/purchase-orders/{po_id}/send", ids=ids)
    receipt = {"lines": [{"sku": "BOOK", "qty": 10}]}
    call("post", "/purchase-orders/{po_id}/receipts", 201, ids=ids, json=receipt)
    call("get", "/suppliers/{code}/performance", ids={"code": "ACME"})
    draft = call("post", "/purchase-orders", 201, json=order)
    call("post", "/purchase-orders/{po_id}/cancel", ids={"po_id": draft["id"]})
    call("get", "/valuation")
    call("get", "/valuation", params={"method": "average", "group_by": "item"})
    call("get", "/valuation/abc")
    call("post", "/items/{sku}/suppliers", 201, ids={"sku": "PEN"}, json={"supplier": "ACME"})
    call("delete", "/items/{sku}/suppliers/{code}", 204, ids={"sku": "PEN", "code": "ACME"})

    # Fulfilment: sales from an app become pick tasks, waves, shipments; a backorder.
    call("get", "/policies/dispatch-preferences")
    prefs = {"zone_priorities": {"north": 1, "south": 2}, "substitutes": {"BOOK": ["PEN"]}}
    call("put", "/policies/dispatch-preferences", json=prefs)
    sale = {"id": "o-1", "sku": "PEN", "qty": 2, "location": "A-02", "ship": True}
    short = {"id": "o-2", "sku": "BOOK", "qty": 500, "location": "A-01", "ship": True}
    over = {"id": "o-3", "sku": "MUG", "qty": 4, "location": "A-02", "ship": True}
    call("post", "/consumption", json={"source": "app", "events": [sale, short, over]})
    call("get", "/backorders")
    call("get", "/availability", params={"sku": "BOOK", "qty": 500})
    call(
        "post",
        "/movements",
        201,
        json={"type": "receipt", "sku": "MUG", "location": "A-02", "qty": 10},
    )
    call("post", "/backorders/allocate")
    call("get", "/pick-tasks")
    waves = call("post", "/waves", 201, json={"group_by": "zone"})
    wave = waves["waves"][0]
    call("get", "/waves")
    call("get", "/waves/{wave_id}", ids={"wave_id": wave["id"]})
    for line in wave["lines"]:
        scan = {"picker": "ann", "scan": line["sku"], "qty": line["qty"]}
        call("post", "/pick-tasks/{task_id}/confirm", ids={"task_id": line["id"]}, json=scan)
    call("post", "/waves/{wave_id}/ship", ids={"wave_id": wave["id"]})
    call("get", "/putaway", params={"sku": "PEN"})
    brackets = {
        "currency": "EUR",
        "brackets": [{"up_to": 100, "rate": "0.10"}, {"up_to": None, "rate": "0.12"}],
    }
    call("put", "/payouts/brackets", json=brackets)
    call("get", "/payouts/brackets")
    today = datetime.now(UTC).date()
    call("get", "/payouts", params={"period": f"{today - timedelta(days=7)}..{today}"})

    hook = {"url": "https://hooks.example.com/onhand", "types": ["stock.changed"]}
    made = call("post", "/webhooks", 201, json=hook)
    call("get", "/webhooks")
    call("get", "/webhooks/{webhook_id}/deliveries", ids={"webhook_id": made["id"]})

    # A Shopify store (the fake on 127.0.0.1) that sells BOOK from its one location.
    store = fake.add_store(unique("occ"))
    variant = store.add_variant("BOOK", {SHOP_LOC: 3})["variant"]
    channel = {
        "code": "occ",
        "provider": "shopify",
        "role": "store",
        "shop": f"{store.name}.myshopify.com",
        "access_token": store.token,
        "webhook_secret": f"whsec-{store.name}",
        "api_url": fake.url(store.name),
        "locations": [{"location": "A-01", "channel_location": SHOP_LOC}],
    }
    call("post", "/channels", 201, json=channel)
    call("get", "/channels")
    call("get", "/channels/{code}", ids={"code": "occ"})
    call("patch", "/channels/{code}", ids={"code": "occ"}, json={"sync_interval_minutes": 30})
    mapping = {"mappings": [{"sku": "BOOK", "variant": variant}]}
    call("post", "/channels/{code}/mappings", 201, ids={"code": "occ"}, json=mapping)
    call("post", "/channels/{code}/mappings/match", ids={"code": "occ"})
    call("get", "/channels/{code}/mappings", ids={"code": "occ"})
    run = call("post", "/channels/{code}/sync", 202, ids={"code": "occ"})
    finished(call.api, run["id"])
    call("get", "/sync-runs/{run_id}", ids={"run_id": run["id"]})
    for started in call("post", "/sync", 202)["runs"]:
        finished(call.api, started["id"])
    call("get", "/sync-runs")
    order = store.webhook_body(store.add_order([(variant, 1)]))
    raw, headers = signed(store, order, "w-1")
    r = call.api.client.post(f"/v1/{tenant}/channels/occ/webhooks", content=raw, headers=headers)
    assert r.status_code == 200, r.text
    call.seen.append(("post", "/v1/{tenant}/channels/{code}/webhooks", 200, r.json()))

    # A lot-tracked item: lots on receipt, FEFO holds, the per-lot breakdown, a recall.
    milk = {"sku": "MILK", "name": "Milk", "tracking": "lot", "min_shelf_life_days": 1}
    call("post", "/items", 201, json=milk)
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    for code, qty in (("L1", 6), ("L2", 4)):
        lot = {"code": code, "expires_on": soon, "supplier": "DAIRY"}
        move = {"type": "receipt", "sku": "MILK", "location": "A-01", "qty": qty, "lot": lot}
        call("post", "/movements", 201, json=move)
    held = call("post", "/reservations", 201, json={"lines": [{"sku": "MILK", "qty": 2}]})
    call("get", "/reservations/{res_id}", ids={"res_id": held["id"]})
    call("get", "/availability/{sku}", ids={"sku": "MILK"})
    call("get", "/lots/expiring", params={"days": 7})
    call("post", "/lots/{sku}/{lot}/recall", 200, ids={"sku": "MILK", "lot": "L1"}, json={})
    call("get", "/lots/{sku}/{lot}/trace", ids={"sku": "MILK", "lot": "L2"})
    call("get", "/ledger", params={"sku": "MILK"})

    call("get", "/console/tiles/returns")
    call("get", "/console/tiles/cover")
    call("get", "/console/history", params={"sku": "BOOK", "limit": 5})
    call("get", "/console/items/{sku}/series", ids={"sku": "BOOK"}, params={"days": 7})
    call("get", "/console/valuation/series", params={"months": 2})
    call("get", "/console/alerts")


def _strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` wherever it names properties and says
    nothing about others: an undocumented property of an answer fails validation."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _success_schema(spec: dict, method: str, path: str, status: int) -> dict | None:
    response = spec["paths"][path][method]["responses"].get(str(status))
    assert response is not None, f"{method.upper()} {path} answers {status}, not documented"
    content = response.get("content", {}).get("application/json")
    return None if content is None else content["schema"]


def test_every_success_answer_matches_its_documented_schema(shop_api, engine, fake):
    shop_api_engine = engine
    spec = shop_api.client.get("/openapi.json").json()
    call = Recorder(shop_api)
    run_scenario(call, shop_api_engine, shop_api.tenant, fake)
    if os.environ.get("ONHAND_DUMP_ANSWERS"):
        with open(os.environ["ONHAND_DUMP_ANSWERS"], "w") as out:
            json.dump(call.seen, out, indent=1, default=str)
    components = {"components": _strict(copy.deepcopy(spec["components"]))}
    failures = []
    for method, path, status, body in call.seen:
        schema = _success_schema(spec, method, path, status)
        if body is None:
            continue
        assert schema is not None, f"{method.upper()} {path} answers JSON it does not document"
        validator = jsonschema_rs.Draft202012Validator({**_strict(schema), **components})
        for error in validator.iter_errors(body):
            where = "/".join(str(p) for p in error.instance_path)
            failures.append(f"{method.upper()} {path} {status} at {where or '.'}: {error.message}")
    assert not failures, "\n".join(failures[:40])

    met = {(m, p) for m, p, _, _ in call.seen}
    # A route with a response_model has its answers validated (and cut to the model) by
    # FastAPI itself on every request.
    validated = {
        (method.lower(), path)
        for path, route in _routes(shop_api.client.app.routes)
        if isinstance(route.response_model, type) and issubclass(route.response_model, BaseModel)
        for method in route.methods or ()
    }
    documented = {
        (m, p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if p.startswith("/v1/")
        and any(
            s.startswith("2") and "application/json" in r.get("content", {})
            for s, r in op["responses"].items()
        )
    }
    left = documented - met - UNREACHED - validated
    assert not left, sorted(left)
