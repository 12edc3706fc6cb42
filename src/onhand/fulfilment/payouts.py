"""Picker payouts: brackets of lines a day, an accuracy condition, exact decimal amounts.

For each picker and day (the tenant's calendar day):
  lines    = pick lines confirmed (full or short)
  errors   = short picks + wrong items scanned
  error rate = errors / (lines + wrong scans); the accuracy condition holds when it is
             strictly under the tenant's max_error_rate
  amount   = graduated: each line is paid the rate of the bracket it falls in (lines 1–200
             at the first rate, 201–400 at the second, …); when the accuracy condition
             fails, every line of the day is paid the first bracket's rate.
A period's amount is the sum of its days. Decimal arithmetic throughout: no rounding.
"""

from __future__ import annotations

import csv
import io
import re
from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import db, tenancy, tenants
from ..errors import Invalid, NotFound
from .schemas import BracketsIn
from .tables import payout_brackets, pick_confirmations


def save(conn: Connection, tenant: str, body: BracketsIn) -> dict[str, Any]:
    ends = [b.up_to for b in body.brackets]
    if any(e is None for e in ends[:-1]):
        raise Invalid("Only the last bracket may be open-ended (up_to: null).")
    bounded = [e for e in ends if e is not None]
    if bounded != sorted(bounded) or len(set(bounded)) != len(bounded):
        raise Invalid("Brackets go upwards: each up_to larger than the one before.")
    if ends[-1] is not None:
        raise Invalid("The last bracket is open-ended (up_to: null), so every line is paid.")
    doc = [{"up_to": b.up_to, "rate": str(b.rate)} for b in body.brackets]
    now = db.utcnow()
    values = {"currency": body.currency, "brackets": doc, "max_error_rate": body.max_error_rate}
    stmt = db.insert(conn, payout_brackets).values(tenant_id=tenant, updated_at=now, **values)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["tenant_id"], set_=values | {"updated_at": now})
    )
    return load(conn, tenant)


def load(conn: Connection, tenant: str) -> dict[str, Any]:
    row = conn.execute(
        sa.select(payout_brackets).where(tenancy.of(tenant, payout_brackets))
    ).first()
    if row is None:
        raise NotFound(
            "No payout brackets are set; PUT /payouts/brackets first.", slug="no-brackets"
        )
    return {
        "currency": row.currency,
        "brackets": row.brackets,
        "max_error_rate": str(Decimal(row.max_error_rate).normalize()),
    }


def day_pay(lines: int, errors: int, attempts: int, config: dict[str, Any]) -> dict[str, Any]:
    """One picker's day: accuracy, bracket reached and the exact amount."""
    brackets = [(b["up_to"], Decimal(b["rate"])) for b in config["brackets"]]
    rate_of_errors = Decimal(errors) / Decimal(attempts) if attempts else Decimal(0)
    accurate = rate_of_errors < Decimal(config["max_error_rate"])
    amount, start, reached = Decimal(0), 0, 0
    for index, (up_to, rate) in enumerate(brackets):
        if lines <= start:
            break
        end = lines if up_to is None else min(lines, up_to)
        amount += (end - start) * (rate if accurate else brackets[0][1])
        reached, start = index, end
    return {
        "lines": lines,
        "errors": errors,
        "accuracy": str((1 - rate_of_errors).quantize(Decimal("0.0001"))),
        "accurate": accurate,
        "bracket": reached + 1 if lines else None,
        "rate": str(brackets[reached][1] if accurate else brackets[0][1]),
        "amount": str(amount),
    }


PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def parse_period(text: str) -> tuple[date, date]:
    """`2026-12-01` (a day), `2026-12` (a month) or `2026-12-01..2026-12-15`: first and
    last day, inclusive."""
    try:
        if ".." in text:
            a, b = text.split("..", 1)
            first, last = date.fromisoformat(a), date.fromisoformat(b)
        else:
            m = PERIOD.match(text)
            if not m:
                raise ValueError
            y, mo, d = int(m[1]), int(m[2]), m[3]
            if d:
                first = last = date(y, mo, int(d))
            else:
                first, last = date(y, mo, 1), date(y, mo, monthrange(y, mo)[1])
    except ValueError:
        raise Invalid(
            f"period '{text[:40]}' is not a day (2026-12-01), a month (2026-12) "
            "or a range (2026-12-01..2026-12-15)."
        ) from None
    if last < first or (last - first).days > 366:
        raise Invalid("A period runs forwards and covers at most a year.")
    return first, last


def report(conn: Connection, tenant: str, period: str) -> dict[str, Any]:
    first, last = parse_period(period)
    config = load(conn, tenant)
    zone = ZoneInfo(tenants.load(conn, tenant).timezone)
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    c = pick_confirmations.c
    rows = conn.execute(
        sa.select(c.picker, c.outcome, c.at).where(c.tenant_id == tenant, c.at >= start, c.at < end)
    ).all()
    tally: dict[tuple[str, date], dict[str, int]] = {}
    for r in rows:
        t = tally.setdefault(
            (r.picker, r.at.astimezone(zone).date()), {"ok": 0, "short": 0, "wrong": 0}
        )
        t[r.outcome] += 1
    pickers: dict[str, dict[str, Any]] = {}
    for (picker, day), t in sorted(tally.items()):
        lines = t["ok"] + t["short"]
        pay = day_pay(lines, t["short"] + t["wrong"], lines + t["wrong"], config)
        entry = pickers.setdefault(
            picker, {"picker": picker, "lines": 0, "errors": 0, "amount": Decimal(0), "days": []}
        )
        entry["lines"] += lines
        entry["errors"] += pay["errors"]
        entry["amount"] += Decimal(pay["amount"])
        entry["days"].append({"day": day.isoformat(), **pay})
    out = []
    for entry in pickers.values():
        out.append(entry | {"amount": str(entry["amount"])})
    return {
        "period": period,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "currency": config["currency"],
        "brackets": config["brackets"],
        "max_error_rate": config["max_error_rate"],
        "pickers": out,
        "total": str(sum((Decimal(p["amount"]) for p in out), Decimal(0))),
    }


def to_csv(doc: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "picker",
            "day",
            "lines",
            "errors",
            "accuracy",
            "accurate",
            "bracket",
            "rate",
            "amount",
            "currency",
        ]
    )
    for p in doc["pickers"]:
        for d in p["days"]:
            writer.writerow(
                [
                    p["picker"],
                    d["day"],
                    d["lines"],
                    d["errors"],
                    d["accuracy"],
                    "yes" if d["accurate"] else "no",
                    d["bracket"] or "",
                    d["rate"],
                    d["amount"],
                    doc["currency"],
                ]
            )
    return buffer.getvalue()
