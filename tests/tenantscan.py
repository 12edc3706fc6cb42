"""Every SQL statement the test suite makes onhand emit, checked for its tenant.

conftest.py installs `record` as a `before_cursor_execute` listener on every engine. Each
statement is attributed to the innermost onhand source file on the call stack; a statement that
touches a tenant table (one with a `tenant_id` column, or `tenants` itself) must restrict each
such table to a tenant: `t.tenant_id = <value>` / `IN (...)`, or `t.tenant_id = u.tenant_id`
with `u` restricted. INSERTs must set `tenant_id`. At the end of the session conftest fails the
run when `offenders()` is not empty. On SQLite it also refuses an onhand write outside
`db.write` (see `Recorder`).

Statements that come from the tests themselves (no onhand frame on the stack) are not onhand's
queries and are not checked. The exceptions below work on every tenant by design.
"""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import onhand

ONHAND = str(Path(onhand.__file__).resolve().parent) + "/"

# onhand files or `file:function`s (relative to src/onhand) whose statements may span tenants.
CROSS_TENANT: dict[str, str] = {
    "migrations/": "schema and data migrations rewrite whole tables",
    "schema.py": "runs the migrations",
    "check.py": "`onhand check` scans every tenant for broken invariants and cross-tenant links",
    "events/dispatcher.py": "the outbox dispatcher delivers every tenant's events in order",
    "events/tail.py": "the outbox tail follows the one outbox of all tenants",
    "events/feed.py": "reads the shared outbox by id for the dispatcher and the live hub",
    "events/metrics.py": "Prometheus gauges sum over all tenants",
    "events/webhook_delivery.py": "the webhook sender works through every tenant's queue",
    "reservations/sweeper.py": "the expiry sweeper releases lapsed holds of every tenant",
    "reservations/lifecycle.py:expire_due": "the sweeper's query: lapsed holds of every tenant",
    "stock/recall.py:expire_due": "the lot expiry job finds the tenants with lots to announce",
    "fulfilment/backorders.py:tenants_with_open": "the backorder job finds the tenants to serve",
    "cache/reconcile.py": "reconciliation walks every tenant, then each tenant's items",
    "auth.py:verify": "a bearer token is found by its id before its tenant is known; the route"
    " guard then compares the token's tenant with the path's",
    "auth.py:_note_use": "records a token's last use by its id, as verify finds it",
    "events/alerts.py:seed": "the alert sink starts from the head of the shared outbox",
    "channels/jobs.py:due": "the channel sync job finds due channels of every tenant",
    "channels/jobs.py:take_queue": "the channel push job drains the queue of every tenant",
    "channels/metrics.py:last_good": "the Prometheus gauge of sync ages covers every tenant",
    "counts/metrics.py:shares": "the Prometheus gauge of count accuracy covers every tenant",
    "counts/jobs.py:generate_all": "the daily count job finds the tenants to serve",
    "web/reports/tiles.py:refresh": "the console-tiles job refreshes every tenant's tiles",
    "auth.py:list_tokens": "`onhand tokens list` is the operator's view of every tenant's tokens",
    "auth.py:revoke_token": "`onhand tokens revoke ID` names a token by its id, in any tenant",
}

ALLOWED = CROSS_TENANT

_KEYWORDS = {
    "where", "join", "on", "left", "right", "inner", "outer", "full", "cross", "group", "order",
    "limit", "offset", "set", "values", "using", "union", "returning", "for", "having",
    "window", "select", "default", "natural", "lateral", "as", "except", "intersect",
}  # fmt: skip
_REF = re.compile(r"\b(FROM|JOIN|UPDATE|INTO)\s+", re.I)
_TABLE = re.compile(r'"?(\w+)"?')
_ALIAS = re.compile(r'\s+(?:AS\s+)?"?(\w+)"?', re.I)
_COMMA = re.compile(r"\s*,\s*")
_COLUMN = r'"?(\w+)"?\."?(tenant_id|id)"?'
# `x.key = <value>` or `x.key IN (...)`, the value not being another table's column.
_FILTER = re.compile(_COLUMN + r'\s*(?:=|IN\b)\s*(?!"?\w+"?\."?\w+"?)', re.I)
_BARE = re.compile(r'(?<![\w."])"?tenant_id"?\s*(?:=|IN\b)\s*(?!"?\w+"?\."?\w+"?)', re.I)
_LINK = re.compile(_COLUMN + r"\s*=\s*" + _COLUMN, re.I)
_INTO = re.compile(r'INTO\s+"?\w+"?\s*\(([^)]*)\)', re.I)


class Scanner:
    """Knows the tenant tables; `problems(sql)` lists the tenant tables a statement leaves open."""

    def __init__(self, tenant_tables: set[str]) -> None:
        self.tenant_tables = tenant_tables

    @staticmethod
    def key(table: str) -> str:
        return "id" if table == "tenants" else "tenant_id"

    def references(self, sql: str) -> list[tuple[str, str, int]]:
        """(table, alias, position) of each tenant table named after FROM, JOIN, UPDATE, INTO."""
        refs = []
        for m in _REF.finditer(sql):
            pos = m.end()
            while (t := _TABLE.match(sql, pos)) and t.group(1).lower() not in _KEYWORDS:
                table, pos = t.group(1), t.end()
                a = _ALIAS.match(sql, pos)
                alias = table
                if a and a.group(1).lower() not in _KEYWORDS:
                    alias, pos = a.group(1), a.end()
                if table in self.tenant_tables:
                    refs.append((table, alias, m.start()))
                comma = _COMMA.match(sql, pos)
                if m.group(1).upper() != "FROM" or not comma:
                    break
                pos = comma.end()
        return refs

    def problems(self, sql: str) -> list[str]:
        refs = self.references(sql)
        head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
        if not refs or head in {"CREATE", "ALTER", "DROP", "PRAGMA"}:
            return []
        tables = {alias: table for table, alias, _ in refs}
        is_key = lambda alias, col: alias in tables and col.lower() == self.key(tables[alias])  # noqa: E731
        scoped: set[str] = set()
        for table, alias, pos in refs:
            into = _INTO.match(sql, pos)
            if into and re.search(rf'(?<!\w)"?{self.key(table)}"?(?!\w)', into.group(1)):
                scoped.add(alias)
        scoped |= {a for a, col in _FILTER.findall(sql) if is_key(a, col)}
        # An unqualified `tenant_id = …` scopes the nearest table named before it.
        for m in _BARE.finditer(sql):
            before = [r for r in refs if r[2] < m.start()]
            if before:
                scoped.add(max(before, key=lambda r: r[2])[1])
        links = [(a, b) for a, ca, b, cb in _LINK.findall(sql) if is_key(a, ca) and is_key(b, cb)]
        changed = True
        while changed:
            changed = False
            for a, b in links:
                if (a in scoped) != (b in scoped):
                    scoped |= {a, b}
                    changed = True
        return sorted({t if a == t else f"{t} as {a}" for t, a, _ in refs if a not in scoped})


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.I)


class Recorder:
    """Collects the unscoped statements of a test session, by onhand file and statement.

    It also collects SQLite writes made in a read transaction (one begun DEFERRED, outside
    `db.write`): once another connection has committed since that transaction's first read,
    SQLite refuses the write at once with SQLITE_BUSY, whatever the busy timeout, and the
    request answers 503.
    """

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.statements = 0
        self.checked = 0
        self.found: Counter[tuple[str, str, str]] = Counter()
        self._seen: dict[str, list[str]] = {}
        self.deferred_writes: Counter[str] = Counter()

    def origin(self) -> str | None:
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(ONHAND):
                return f"{name[len(ONHAND) :]}:{frame.f_code.co_name}"
            frame = frame.f_back
        return None

    def record(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.statements += 1
        where = self.origin()
        if where is None:
            return
        if (
            conn.dialect.name == "sqlite"
            and _WRITE.match(statement)
            and not conn.get_execution_options().get("write")
            and not where.startswith(("migrations/", "schema.py"))
        ):
            self.deferred_writes[f"{where}: {' '.join(statement.split())[:120]}"] += 1
        if any(where.startswith(p) for p in ALLOWED):
            return
        self.checked += 1
        problems = self._seen.get(statement)
        if problems is None:
            problems = self._seen[statement] = self.scanner.problems(statement)
        if problems:
            entry = (where, ", ".join(problems), " ".join(statement.split())[:300])
            if entry not in self.found and (log := os.environ.get("TENANTSCAN_LOG")):
                with open(log, "a") as f:  # as they are found, for a long run's watcher
                    f.write(f"{where}: {entry[1]}: {entry[2]}\n")
            self.found[entry] += 1

    def offenders(self) -> list[str]:
        return [
            f"{where}: {tables} not scoped ({n}x): {sql}"
            for (where, tables, sql), n in sorted(self.found.items())
        ] + [
            f"{what}: a SQLite write outside db.write ({n}x)"
            for what, n in sorted(self.deferred_writes.items())
        ]
