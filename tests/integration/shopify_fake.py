"""A fake Shopify Admin GraphQL API on a real socket, for the channel tests and the benchmark.

Every request is parsed and validated against Shopify's real 2026-04 schema (from
<repo>/../shared/shopify/), so a query real Shopify would refuse is refused here too, and
executed by graphql-core against an in-memory store. Around it, the rules that matter for
inventory sync: the leaky bucket (THROTTLED answers that are not executed), `@idempotent`
keys with replay and parameter mismatch, `changeFromQuantity` checks, all-or-none batches of at
most 250, revoked tokens (401 with Shopify's string error), injected 5xx, and answers lost
after the change was applied.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    build_schema,
    execute,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)

# <repo>/../shared/shopify beside a checkout; a worktree one level deeper looks one further up.
REPO = Path(__file__).resolve().parents[2]
SHARED = next(
    (
        p / "shared" / "shopify"
        for p in (REPO.parent, REPO.parent.parent)
        if (p / "shared" / "shopify").is_dir()
    ),
    REPO.parent / "shared" / "shopify",
)
VERSION = "2026-04"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MAX_QUERY_COST = 1000
IDEMPOTENT = ("inventorySetQuantities", "inventoryAdjustQuantities")


@lru_cache
def schema(version: str = VERSION) -> GraphQLSchema:
    path = SHARED / f"admin-{version}.graphql.gz"
    return build_schema(gzip.decompress(path.read_bytes()).decode(), assume_valid=True)


_ids = itertools.count(1000)


@dataclass
class Level:
    available: int


@dataclass
class InventoryItem:
    id: str
    tracked: bool = True
    mutable: bool = True  # False: a Shopify-native bundle (NON_MUTABLE_INVENTORY_ITEM)
    levels: dict[str, Level] = field(default_factory=dict)


@dataclass
class Store:
    """One shop: its variants, inventory, orders, bucket, and the faults to inject."""

    name: str
    token: str
    maximum: float = 2000.0
    restore: float = 100.0
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, InventoryItem] = field(default_factory=dict)
    order_list: list[dict[str, Any]] = field(default_factory=list)
    # Faults: HTTP statuses to answer next; answers to drop after applying; levels that
    # change (a sale at Shopify) just before the next write checks them.
    fail_next: list[int] = field(default_factory=list)
    lose_next: int = 0
    bump_before_write: dict[tuple[str, str], int] = field(default_factory=dict)
    # Run once each, after a read of inventory levels is answered and before the answer
    # leaves (buyers checking out while the figures are on their way).
    after_levels_read: list[Callable[[], None]] = field(default_factory=list)
    # What happened, for the assertions.
    calls: int = 0
    throttled: int = 0
    points: float = 0.0
    writes: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    keys: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.bucket = self.maximum
        self.at = time.monotonic()

    # ---- set-up ------------------------------------------------------------------------

    def add_variant(
        self,
        sku: str | None,
        levels: dict[str, int],
        *,
        barcode: str | None = None,
        tracked: bool = True,
        mutable: bool = True,
    ) -> dict[str, str]:
        n = next(_ids)
        variant = f"gid://shopify/ProductVariant/{n}"
        item = f"gid://shopify/InventoryItem/{n}"
        self.variants[variant] = {"id": variant, "sku": sku, "barcode": barcode, "item": item}
        self.items[item] = InventoryItem(
            item, tracked, mutable, {loc: Level(q) for loc, q in levels.items()}
        )
        return {"variant": variant, "inventory_item": item}

    def available(self, item: str, location: str) -> int | None:
        level = self.items[item].levels.get(location)
        return None if level is None else level.available

    def add_order(self, lines: list[tuple[str, int]], cancelled: bool = False) -> dict[str, Any]:
        """An order (variant, qty per line), as both the webhook and the Orders query show it."""
        n = next(_ids)
        order = {
            "id": f"gid://shopify/Order/{n}",
            "name": f"#{n}",
            "cancelledAt": "2026-12-01T10:00:00Z" if cancelled else None,
            "updatedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lines": [
                {"id": f"gid://shopify/LineItem/{next(_ids)}", "variant": v, "qty": q}
                for v, q in lines
            ],
        }
        self.order_list.append(order)
        return order

    def sell(self, variant: str, qty: int, location: str) -> dict[str, Any] | None:
        """A buyer's checkout at the store: the order, if the location has `qty` available
        (Shopify refuses to oversell a tracked item); its webhook is the caller's to send."""
        with self.lock:
            level = self.items[self.variants[variant]["item"]].levels[location]
            if level.available < qty:
                return None
            level.available -= qty
            return self.add_order([(variant, qty)])

    def webhook_body(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(order["id"].rsplit("/", 1)[1]),
            "admin_graphql_api_id": order["id"],
            "name": order["name"],
            "cancelled_at": order["cancelledAt"],
            "line_items": [
                {
                    "id": int(li["id"].rsplit("/", 1)[1]),
                    "admin_graphql_api_id": li["id"],
                    "variant_id": int(li["variant"].rsplit("/", 1)[1]),
                    "sku": self.variants[li["variant"]]["sku"],
                    "quantity": li["qty"],
                }
                for li in order["lines"]
            ],
        }

    # ---- the bucket ----------------------------------------------------------------------

    def _level(self) -> float:
        now = time.monotonic()
        self.bucket = min(self.maximum, self.bucket + self.restore * (now - self.at))
        self.at = now
        return self.bucket

    def throttle_status(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": int(self._level()),
            "restoreRate": self.restore,
        }

    # ---- resolvers (graphql-core calls attributes of the root value with the arguments) --

    def _variant(self, v: dict[str, Any]) -> dict[str, Any]:
        item = self.items[v["item"]]
        return {
            "__typename": "ProductVariant",
            "id": v["id"],
            "sku": v["sku"],
            "barcode": v["barcode"],
            "inventoryItem": self._item(item),
        }

    def _item(self, item: InventoryItem) -> dict[str, Any]:
        def level(_info: Any, locationId: str, **_: Any) -> dict[str, Any] | None:  # noqa: N803
            lv = item.levels.get(locationId)
            if lv is None:
                return None
            return {
                "quantities": lambda _i, names, **_k: [
                    {"name": n, "quantity": lv.available} for n in names if n == "available"
                ]
            }

        return {
            "__typename": "InventoryItem",
            "id": item.id,
            "tracked": item.tracked,
            "inventoryLevel": level,
        }

    @staticmethod
    def _page(nodes: list[Any], first: int | None, after: str | None) -> dict[str, Any]:
        start = int(after) if after else 0
        size = first or 50
        chunk = nodes[start : start + size]
        more = start + size < len(nodes)
        return {
            "nodes": chunk,
            "pageInfo": {
                "hasNextPage": more,
                "hasPreviousPage": start > 0,
                "endCursor": str(start + size) if chunk else None,
                "startCursor": None,
            },
        }

    def productVariants(
        self, _info: Any, first: int | None = None, after: str | None = None, **_: Any
    ) -> dict[str, Any]:  # noqa: N802
        return self._page([self._variant(v) for v in self.variants.values()], first, after)

    def nodes(self, _info: Any, ids: list[str]) -> list[Any]:
        out: list[Any] = []
        for gid in ids:
            if gid in self.variants:
                out.append(self._variant(self.variants[gid]))
            elif gid in self.items:
                out.append(self._item(self.items[gid]))
            else:
                out.append(None)
        return out

    def orders(
        self,
        _info: Any,
        first: int | None = None,
        after: str | None = None,
        query: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        since = None
        if query:
            m = re.match(r"updated_at:>='([^']+)'", query)
            since = m.group(1) if m else None
        chosen = [o for o in self.order_list if since is None or o["updatedAt"] >= since[:19] + "Z"]
        nodes = [
            {
                "id": o["id"],
                "name": o["name"],
                "cancelledAt": o["cancelledAt"],
                "updatedAt": o["updatedAt"],
                "lineItems": lambda _i, first=None, lines=o["lines"], **_k: {
                    "nodes": [
                        {
                            "id": li["id"],
                            "sku": self.variants[li["variant"]]["sku"],
                            "quantity": li["qty"],
                            "variant": {"id": li["variant"]},
                        }
                        for li in lines[: first or 50]
                    ]
                },
            }
            for o in chosen
        ]
        return self._page(nodes, first, after)

    def inventorySetQuantities(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        return self._write(input, input.get("quantities"), "quantities", set_=True)

    def inventoryAdjustQuantities(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: N802, A002
        return self._write(input, input.get("changes"), "changes", set_=False)

    def _write(self, input_: dict[str, Any], rows: Any, name: str, set_: bool) -> dict[str, Any]:
        rows = rows or []
        if len(rows) > 250:
            raise GraphQLError(
                f"The input array size of {len(rows)} is greater than the maximum allowed of 250."
            )
        if input_.get("name") not in ("available", "on_hand"):
            return {
                "userErrors": [
                    {
                        "code": "INVALID_NAME",
                        "field": ["input", "name"],
                        "message": "The quantity name must be available or on_hand.",
                    }
                ]
            }
        for (item, loc), delta in list(self.bump_before_write.items()):
            if item in self.items and loc in self.items[item].levels:
                self.items[item].levels[loc].available += delta
            del self.bump_before_write[(item, loc)]
        errors = []
        for i, row in enumerate(rows):
            path = ["input", name, str(i)]
            if "changeFromQuantity" not in row:
                raise GraphQLError(
                    "changeFromQuantity must be given for every quantity "
                    "(an explicit null skips the check)."
                )
            item = self.items.get(row["inventoryItemId"])
            if item is None:
                errors.append(
                    (
                        "INVALID_INVENTORY_ITEM",
                        path + ["inventoryItemId"],
                        "The specified inventory item could not be found.",
                    )
                )
                continue
            if not item.mutable:
                errors.append(
                    (
                        "NON_MUTABLE_INVENTORY_ITEM",
                        path + ["inventoryItemId"],
                        "The inventory item is a bundle and its quantities cannot be changed.",
                    )
                )
                continue
            level = item.levels.get(row["locationId"])
            if level is None:
                errors.append(
                    (
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                        path + ["locationId"],
                        "The specified inventory item is not stocked at the location.",
                    )
                )
                continue
            cfq = row["changeFromQuantity"]
            if cfq is not None and cfq != level.available:
                errors.append(
                    (
                        "CHANGE_FROM_QUANTITY_STALE",
                        path + ["changeFromQuantity"],
                        "The specified compare quantity does not match the current quantity.",
                    )
                )
        if errors:
            return {"userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors]}
        for row in rows:
            level = self.items[row["inventoryItemId"]].levels[row["locationId"]]
            level.available = row["quantity"] if set_ else level.available + row["delta"]
        self.writes.append({"kind": "set" if set_ else "adjust", "rows": rows})
        return {"userErrors": []}


def query_cost(schema_: GraphQLSchema, op: OperationDefinitionNode, variables: dict) -> int:
    """Shopify's rule of thumb: an object is 1, a connection 2 + first × its node, a mutation 10."""
    if op.operation.value == "mutation":
        return 10

    def arg(node: FieldNode, name: str) -> Any:
        for a in node.arguments or ():
            if a.name.value == name:
                return value_from_ast_untyped(a.value, variables)
        return None

    def cost(selections: Any, parent: Any) -> int:
        total = 0
        for sel in selections.selections:
            if isinstance(sel, InlineFragmentNode):
                total += cost(sel.selection_set, schema_.get_type(sel.type_condition.name.value))
                continue
            if not isinstance(sel, FieldNode) or sel.name.value.startswith("__"):
                continue
            definition = parent.fields[sel.name.value]
            named = get_named_type(definition.type)
            if is_leaf_type(named) or sel.selection_set is None:
                continue
            inner = cost(sel.selection_set, named)
            if named.name.endswith("Connection"):
                total += 2 + (arg(sel, "first") or arg(sel, "last") or 1) * max(inner - 1, 1)
            elif sel.name.value == "nodes" and arg(sel, "ids") is not None:
                total += 1 + len(arg(sel, "ids")) * inner
            else:
                total += 1 + inner
        return total

    return cost(op.selection_set, schema_.query_type)


class FakeShopify:
    """Stores at http://127.0.0.1:PORT/<store>/admin/api/2026-04/graphql.json."""

    def __init__(self) -> None:
        self.stores: dict[str, Store] = {}
        schema()  # load once (about 2 s) before the first request
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    status, body, lose = fake.handle(self.path, self.headers, raw)
                except Exception as exc:  # noqa: BLE001  (a bug in the fake shows as a 500)
                    status, body, lose = 500, {"errors": f"fake failed: {exc!r}"}, False
                if lose:  # applied, but the answer never reaches the client
                    self.close_connection = True
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_store(self, name: str, token: str | None = None, **kw: Any) -> Store:
        store = Store(name, token or f"shpat_{name}_0123456789abcdef", **kw)
        self.stores[name] = store
        return store

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}/admin/api/{VERSION}/graphql.json"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, Any, bool]:
        m = re.fullmatch(rf"/([^/]+)/admin/api/{VERSION}/graphql\.json", path)
        store = self.stores.get(m.group(1)) if m else None
        if store is None:
            return 404, {"errors": "Not Found"}, False
        with store.lock:
            store.calls += 1
            if headers.get("X-Shopify-Access-Token") != store.token:
                store.refused.append("token")
                return 401, {"errors": INVALID_TOKEN}, False
            if store.fail_next:
                return store.fail_next.pop(0), {"errors": "Internal Server Error"}, False
            try:
                request = json.loads(raw)
                doc = parse(request["query"])
            except (ValueError, KeyError, GraphQLError) as exc:
                return 400, {"errors": [{"message": f"bad request: {exc}"}]}, False
            variables = request.get("variables") or {}
            problems = validate(schema(), doc)
            if problems:
                store.refused.append(problems[0].message)
                return 200, {"errors": [e.formatted for e in problems]}, False
            op = next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))
            missing = _missing_idempotency(op)
            if missing:
                store.refused.append(missing)
                return (
                    200,
                    {"errors": [{"message": missing, "extensions": {"code": "BAD_REQUEST"}}]},
                    False,
                )
            cost = query_cost(schema(), op, variables)
            if cost > MAX_QUERY_COST:
                return (
                    200,
                    {
                        "errors": [
                            {
                                "message": f"Query cost is {cost}, which exceeds the "
                                "single query max cost limit (1000).",
                                "extensions": {"code": "MAX_COST_EXCEEDED"},
                            }
                        ]
                    },
                    False,
                )
            if store._level() < cost:
                store.throttled += 1
                return (
                    200,
                    {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": {
                            "cost": {
                                "requestedQueryCost": cost,
                                "actualQueryCost": None,
                                "throttleStatus": store.throttle_status(),
                            }
                        },
                    },
                    False,
                )
            store.bucket -= cost
            store.points += cost
            key = _idempotency_key(op, variables)
            fingerprint = hashlib.sha256(
                json.dumps(variables.get("input"), sort_keys=True).encode()
            ).hexdigest()
            if key and key in store.keys:
                seen, answer = store.keys[key]
                if seen != fingerprint:
                    field_name = op.selection_set.selections[0].name.value  # type: ignore[attr-defined]
                    answer = {
                        field_name: {
                            "userErrors": [
                                {
                                    "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                                    "field": None,
                                    "message": "The key was used with other parameters.",
                                }
                            ]
                        }
                    }
                body = {"data": answer}
            else:
                result = execute(schema(), doc, root_value=store, variable_values=variables)
                body = {"data": result.data}
                if result.errors:
                    body["errors"] = [e.formatted for e in result.errors]
                elif key:
                    store.keys[key] = (fingerprint, result.data)
            body["extensions"] = {
                "cost": {
                    "requestedQueryCost": cost,
                    "actualQueryCost": cost,
                    "throttleStatus": store.throttle_status(),
                }
            }
            if op.operation.value == "query" and "inventoryLevel" in request["query"]:
                while store.after_levels_read:
                    store.after_levels_read.pop(0)()
            if store.lose_next and op.operation.value == "mutation":
                store.lose_next -= 1
                return 200, body, True
            return 200, body, False


def _directive_key(node: FieldNode) -> Any:
    for d in node.directives or ():
        if d.name.value == "idempotent":
            return d
    return None


def _missing_idempotency(op: OperationDefinitionNode) -> str | None:
    for sel in op.selection_set.selections:
        if isinstance(sel, FieldNode) and sel.name.value in IDEMPOTENT and not _directive_key(sel):
            return (
                f"{sel.name.value} requires the @idempotent directive with a key as of "
                f"API version {VERSION}."
            )
    return None


def _idempotency_key(op: OperationDefinitionNode, variables: dict) -> str | None:
    for sel in op.selection_set.selections:
        if isinstance(sel, FieldNode) and (d := _directive_key(sel)):
            return str(value_from_ast_untyped(d.arguments[0].value, variables))
    return None
