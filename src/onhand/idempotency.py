"""Idempotency-Key: a write retried with the same key applies once and returns the first answer.

The answer is stored in the same transaction as the write, so either both happen or neither.
Two racing requests with one key: the second insert of the key fails, its transaction (and its
write) rolls back, and it returns the answer the first one stored.

A stored answer is an HTTP replay record, (status, body) as it was sent: so this module asks
problems.py, the one place that knows, how a domain error is answered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from . import db, problems, tenancy
from .errors import DomainError, Invalid
from .tables import idempotency_keys

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Replay:
    """A stored answer sent again as it was (a refusal whose error object is long gone)."""

    status: int
    body: Any


def record(outcome: Any, status: int) -> Answer:
    """What to store for `outcome`: a document with `status`, or an error as it is answered."""
    if isinstance(outcome, DomainError):
        return problems.status_for(outcome), problems.document(outcome)
    if isinstance(outcome, Replay):
        return outcome.status, outcome.body
    return status, outcome


def fingerprint(payload: Any) -> str:
    data = json.dumps(jsonable_encoder(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


def stored_many(conn: Connection, tenant: str, scope: str, keys: list[str]) -> dict[str, Any]:
    rows = conn.execute(
        tenancy.select(tenant, idempotency_keys).where(
            idempotency_keys.c.scope == scope, idempotency_keys.c.key.in_(keys)
        )
    )
    return {r.key: r for r in rows}


def replay(row: Any, digest: str) -> Answer:
    """The stored answer, if the retried request is the same as the first."""
    if row.request_hash != digest:
        raise Invalid(
            f"Idempotency-Key '{row.key}' was used before with a different request body.",
            slug="idempotency-key-reused",
        )
    return row.status_code, row.body


def store(conn: Connection, tenant: str, scope: str, key: str, digest: str, answer: Answer) -> None:
    conn.execute(
        tenancy.insert(tenant, idempotency_keys).values(
            scope=scope,
            key=key,
            request_hash=digest,
            status_code=answer[0],
            body=jsonable_encoder(answer[1]),
            created_at=db.utcnow(),
        )
    )


def _stored(conn: Connection, tenant: str, scope: str, key: str, digest: str) -> Answer | None:
    row = stored_many(conn, tenant, scope, [key]).get(key)
    return None if row is None else replay(row, digest)


def run(
    engine: Engine,
    tenant: str,
    scope: str,
    key: str | None,
    payload: Any,
    write: Callable[[Connection], Answer],
) -> Answer:
    """Run `write` in a transaction, at most once per (tenant, scope, key)."""
    if key is None:
        with db.write(engine) as conn:
            status, body = write(conn)
            return status, jsonable_encoder(body)
    if len(key) > 200:
        raise Invalid("An Idempotency-Key is at most 200 characters.")
    digest = fingerprint(payload)
    with db.read(engine) as conn:
        found = _stored(conn, tenant, scope, key, digest)
    if found:
        return found
    try:
        with db.write(engine) as conn:
            status, body = write(conn)
            body = jsonable_encoder(body)
            store(conn, tenant, scope, key, digest, (status, body))
            return status, body
    except IntegrityError:
        with db.read(engine) as conn:
            found = _stored(conn, tenant, scope, key, digest)
        if found is None:
            raise
        return found
