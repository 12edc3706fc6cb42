"""Only stock/ writes balances, lot balances, pod bookings and the ledger (DESIGN.md §5)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "onhand"
TABLES = r"(?:balances|lot_balances|pod_bookings|ledger)"
WRITES = re.compile(
    rf"\b{TABLES}\.(?:update|insert|delete)\(|"
    rf"(?:insert|bulk_insert)\(\s*(?:conn,\s*)?{TABLES}\b|"
    rf"(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+{TABLES}\b",
    re.IGNORECASE,
)


def test_nothing_outside_stock_writes_balances_bookings_or_the_ledger():
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("stock", "migrations"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if WRITES.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def test_the_scan_sees_a_write():
    assert WRITES.search("conn.execute(balances.update().where(x))")
    assert WRITES.search("db.bulk_insert(conn, ledger, rows)")
    assert WRITES.search("writes.insert(ledger, rows)")
    assert WRITES.search('"UPDATE pod_bookings SET reserved = 0"')
    assert not WRITES.search("sa.select(balances).where(balances.c.tenant_id == t)")
