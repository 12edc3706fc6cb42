"""The Shopify Admin GraphQL client: the only code that talks to a Shopify store.

It knows the protocol: cursor paging (at most 250 a page), `inventorySetQuantities` and
`inventoryAdjustQuantities` with `changeFromQuantity` and a field-level `@idempotent(key:)`,
the cost-based rate limit (throttle.py), retries with backoff and jitter on 429, 5xx and
transport failures (reusing the idempotency key, since the first attempt may have been
applied), and which answers mean the store cannot be used at all (`StoreRefused`).
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .. import netguard
from .throttle import Bucket, bucket_for

API_VERSION = "2026-04"
PAGE = 250  # Shopify's largest page and the most quantities one mutation may carry
LEVEL_CHUNK = 100  # inventory items per levels read (keeps one query far below 1,000 points


class ShopifyError(Exception):
    """A request Shopify answered with an error; the message is safe to show the owner."""


class StoreRefused(ShopifyError):
    """The store cannot be used until its owner acts (token, bill, lock, address)."""


REFUSALS = {
    401: "Shopify refused the access token (401): it was revoked or mistyped. Create a new "
    "Admin API access token in the store's app settings and PATCH the channel with it.",
    402: "The Shopify store is frozen for an unpaid bill (402): settle the bill in the "
    "store's admin, then sync again.",
    403: "The access token lacks a permission (403): give the app the read_inventory, "
    "write_inventory, read_products and read_orders scopes.",
    404: "Shopify has no Admin API at this address (404): check the shop domain, api_url "
    "and that the API version is 2026-04 or later.",
    423: "The Shopify store is locked (423), usually after repeated access errors or a "
    "shop closure: contact Shopify support, then sync again.",
}


def default_api_url(shop: str) -> str:
    return f"https://{shop}/admin/api/{API_VERSION}/graphql.json"


@dataclass
class Quantity:
    """One quantity to set (or, for adjustments, a delta) at one location."""

    inventory_item: str
    location: str
    value: int  # the quantity to set, or the delta to apply
    change_from: int | None  # Shopify's current quantity, as last read


@dataclass
class Outcome:
    quantity: Quantity
    status: str  # ok, unchanged, failed, skipped, or stale (an adjustment not sent)
    error: str | None = None
    before: int | None = None


@dataclass
class Stats:
    calls: int = 0
    points: float = 0.0
    throttled: int = 0
    retries: int = 0
    writes: int = 0
    mutations_by_op: dict[str, int] = field(default_factory=dict)


Reader = Callable[[list[Quantity]], Awaitable[dict[tuple[str, str], int | None]]]

VARIANT_FIELDS = "id sku barcode inventoryItem { id tracked }"
VARIANTS_PAGE = f"""
query VariantsPage($first: Int!, $after: String) {{
  productVariants(first: $first, after: $after) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {VARIANT_FIELDS} }}
  }}
}}"""
VARIANTS_BY_ID = f"""
query Variants($ids: [ID!]!) {{
  nodes(ids: $ids) {{ ... on ProductVariant {{ {VARIANT_FIELDS} }} }}
}}"""
LEVELS = """
query Levels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      tracked
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
    }
  }
}"""
SET = """
mutation SetAvailable($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    userErrors { code field message }
  }
}"""
ADJUST = """
mutation AdjustAvailable($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    userErrors { code field message }
  }
}"""
ORDERS = """
query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      cancelledAt
      updatedAt
      lineItems(first: 20) { nodes { id sku quantity variant { id } } }
    }
  }
}"""
# Points each operation is expected to cost until Shopify has told us (requestedQueryCost).
FIRST_GUESS = {"VariantsPage": 520, "Variants": 300, "Levels": 450, "Orders": 500}
SKIPPED_CODES = {"NON_MUTABLE_INVENTORY_ITEM"}
MAX_THROTTLED = 20  # THROTTLED answers to one request before giving up on it


class Client:
    def __init__(
        self,
        api_url: str,
        access_token: str,
        allowed: tuple[netguard.Network, ...] = (),
        *,
        timeout: float = 10.0,
        attempts: int = 5,
        backoff: float = 0.5,
        bucket: Bucket | None = None,
    ) -> None:
        self.api_url = api_url
        self._token = access_token
        self.http = netguard.client(allowed, timeout=timeout)
        self.attempts = attempts
        self.backoff = backoff
        self.bucket = bucket or bucket_for(api_url)
        self.stats = Stats()
        self._costs: dict[str, float] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # ---- one request ---------------------------------------------------------------------

    def _pause(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), 30.0)
            except ValueError:
                pass
        return min(self.backoff * 2 ** (attempt - 1), 10.0) * (0.5 + random.random())

    async def call(self, op: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The `data` of one GraphQL request; the same request (and idempotency key, which
        lives in `variables`) is sent again after a transport failure, 429 or 5xx."""
        attempt = throttled = 0
        while True:
            taken = self._costs.get(op, FIRST_GUESS.get(op, 10.0))
            await self.bucket.take(taken)
            attempt += 1
            try:
                answer = await self.http.post(
                    self.api_url,
                    json={"query": query, "variables": variables},
                    headers={"X-Shopify-Access-Token": self._token},
                )
            except netguard.BlockedUrl as exc:
                raise StoreRefused(f"onhand may not call this store's address: {exc}") from None
            except httpx.TransportError as exc:
                self.stats.calls += 1
                self.bucket.give_back(taken)  # the query never ran: it cost no points
                if attempt >= self.attempts:
                    raise StoreRefused(
                        f"The store stayed unreachable after {attempt} attempts "
                        f"({type(exc).__name__}): check the shop domain and that the store "
                        "is online, then sync again."
                    ) from None
                self.stats.retries += 1
                await asyncio.sleep(self._pause(attempt))
                continue
            self.stats.calls += 1
            status = answer.status_code
            if status in REFUSALS or status >= 500:
                # Refused or failed before the query ran, so it cost no points; left taken,
                # retries of one failing request would drain the estimate and wait for nothing.
                self.bucket.give_back(taken)
            if status in REFUSALS:
                raise StoreRefused(REFUSALS[status])
            if status == 429 or status >= 500:
                if attempt >= self.attempts:
                    raise StoreRefused(
                        f"Shopify kept answering {status} after {attempt} attempts: the store "
                        "is overloaded or down; the next sync will try again."
                    )
                self.stats.retries += 1
                await asyncio.sleep(self._pause(attempt, answer.headers.get("retry-after")))
                continue
            try:
                body = answer.json()
            except ValueError:
                raise ShopifyError(f"Shopify answered {status} without JSON.") from None
            cost = (body.get("extensions") or {}).get("cost") or {}
            if cost.get("throttleStatus"):
                self.bucket.observe(cost["throttleStatus"])
            if cost.get("requestedQueryCost") is not None:
                self._costs[op] = float(cost["requestedQueryCost"])
            self.stats.points += float(cost.get("actualQueryCost") or 0)
            errors = body.get("errors")
            if isinstance(errors, str):
                raise (
                    StoreRefused(REFUSALS[401])
                    if "access token" in errors
                    else ShopifyError(errors)
                )
            if errors:
                codes = [(e.get("extensions") or {}).get("code") for e in errors]
                if "THROTTLED" in codes:
                    # Not executed: wait until the bucket has refilled enough, then resend.
                    self.stats.throttled += 1
                    throttled += 1
                    wanted = float(cost.get("requestedQueryCost") or self._costs.get(op, 50.0))
                    if wanted > self.bucket.maximum or throttled > MAX_THROTTLED:
                        raise ShopifyError(
                            f"Shopify kept throttling a request of {wanted:.0f} points "
                            f"(bucket of {self.bucket.maximum:.0f})."
                        )
                    attempt -= 1
                    await asyncio.sleep(max(self.bucket.wait_for(wanted), 0.25))
                    continue
                raise ShopifyError("; ".join(str(e.get("message")) for e in errors))
            return body.get("data") or {}

    # ---- reads ---------------------------------------------------------------------------

    async def variants(self) -> list[dict[str, Any]]:
        """Every variant of the store, 250 a page."""
        out: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            data = await self.call("VariantsPage", VARIANTS_PAGE, {"first": PAGE, "after": after})
            page = data["productVariants"]
            out.extend(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    async def variants_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), PAGE):
            data = await self.call("Variants", VARIANTS_BY_ID, {"ids": ids[start : start + PAGE]})
            found.update({n["id"]: n for n in data["nodes"] if n and n.get("id")})
        return found

    async def levels(self, items: list[str], location: str) -> dict[str, dict[str, Any]]:
        """Per inventory item: {"tracked", "available"} at one location (available None when
        the item is not stocked there)."""
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(items), LEVEL_CHUNK):
            chunk = items[start : start + LEVEL_CHUNK]
            data = await self.call("Levels", LEVELS, {"ids": chunk, "location": location})
            for node in data["nodes"]:
                if not node or not node.get("id"):
                    continue
                level = node.get("inventoryLevel")
                quantities = {q["name"]: q["quantity"] for q in (level or {}).get("quantities", [])}
                out[node["id"]] = {
                    "tracked": node.get("tracked", True),
                    "available": quantities.get("available") if level else None,
                }
        return out

    async def orders(self, since: str | None) -> list[dict[str, Any]]:
        """Orders updated since an ISO instant (all pages), oldest first."""
        out: list[dict[str, Any]] = []
        after: str | None = None
        query = f"updated_at:>='{since}'" if since else None
        while True:
            data = await self.call("Orders", ORDERS, {"first": 20, "after": after, "query": query})
            page = data["orders"]
            out.extend(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return out
            after = page["pageInfo"]["endCursor"]

    # ---- writes --------------------------------------------------------------------------

    async def set_available(
        self, quantities: list[Quantity], reread: Reader, reference: str
    ) -> list[Outcome]:
        return await self._write("set", quantities, reread, reference)

    async def adjust_available(
        self,
        changes: list[Quantity],
        reread: Reader,
        reference: str,
        key: str | None = None,
    ) -> list[Outcome]:
        return await self._write("adjust", changes, reread, reference, key)

    async def _write(
        self,
        kind: str,
        quantities: list[Quantity],
        reread: Reader,
        reference: str,
        key: str | None = None,
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(quantities), PAGE):
            outcomes += await self._write_batch(
                kind, quantities[start : start + PAGE], reread, reference, key
            )
        return outcomes

    async def _write_batch(
        self,
        kind: str,
        batch: list[Quantity],
        reread: Reader,
        reference: str,
        key: str | None,
    ) -> list[Outcome]:
        """Write a batch (all or none at Shopify); an item Shopify refuses is dropped and the
        rest resent without it. On a stale `changeFromQuantity` the batch is re-read: a set is
        resent from the new figures, while an adjustment whose figure moved comes back
        `stale` (with the new figure in `before`), since its delta was worked out from the old
        one; the rest is resent."""
        done: list[Outcome] = []
        before = {id(q): q.change_from for q in batch}
        stale_rounds = 0
        while batch:
            op, query, field_name = (
                ("SetAvailable", SET, "inventorySetQuantities")
                if kind == "set"
                else ("AdjustAvailable", ADJUST, "inventoryAdjustQuantities")
            )
            variables = {
                "input": _input(kind, batch, reference),
                # A new request gets a new key; `call` resends the same one on a lost answer.
                "key": key or str(uuid.uuid4()),
            }
            key = None
            data = await self.call(op, query, variables)
            self.stats.writes += 1
            self.stats.mutations_by_op[op] = self.stats.mutations_by_op.get(op, 0) + 1
            errors = (data.get(field_name) or {}).get("userErrors") or []
            if not errors:
                return done + [Outcome(q, "ok", before=before[id(q)]) for q in batch]
            stale = [e for e in errors if e.get("code") == "CHANGE_FROM_QUANTITY_STALE"]
            if stale and stale_rounds < 5:
                stale_rounds += 1
                current = await reread(batch)
                kept = []
                for q in batch:
                    now = current.get((q.inventory_item, q.location), q.change_from)
                    if kind == "adjust" and now != q.change_from:
                        done.append(Outcome(q, "stale", before=now))
                        continue
                    before[id(q)] = now
                    if kind == "set" and now == q.value:
                        done.append(Outcome(q, "unchanged", before=now))
                        continue
                    q.change_from = now
                    kept.append(q)
                batch = kept
                continue
            culprits = {_index(e) for e in errors} - {None}
            if not culprits:
                message = "; ".join(str(e.get("message")) for e in errors)
                return done + [Outcome(q, "failed", message, before[id(q)]) for q in batch]
            kept = []
            for i, q in enumerate(batch):
                error = next((e for e in errors if _index(e) == i), None)
                if error is None:
                    kept.append(q)
                    continue
                status = "skipped" if error.get("code") in SKIPPED_CODES else "failed"
                message = f"{error.get('code')}: {error.get('message')}"
                done.append(Outcome(q, status, message, before[id(q)]))
            batch = kept
        return done


def _input(kind: str, batch: list[Quantity], reference: str) -> dict[str, Any]:
    if kind == "set":
        return {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": reference,
            "quantities": [
                {
                    "inventoryItemId": q.inventory_item,
                    "locationId": q.location,
                    "quantity": q.value,
                    "changeFromQuantity": q.change_from,
                }
                for q in batch
            ],
        }
    return {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": reference,
        "changes": [
            {
                "inventoryItemId": q.inventory_item,
                "locationId": q.location,
                "delta": q.value,
                "changeFromQuantity": q.change_from,
            }
            for q in batch
        ],
    }


def _index(error: dict[str, Any]) -> int | None:
    """Which quantity a user error is about: field ["input", "quantities", "3", …]."""
    path = error.get("field") or []
    for i, part in enumerate(path[:-1]):
        if part in ("quantities", "changes"):
            try:
                return int(path[i + 1])
            except (TypeError, ValueError):
                return None
    return None
