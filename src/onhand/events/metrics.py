"""Event metrics: counters kept by the workers, and figures read from the database per scrape.

The scrape-time collector runs three small indexed queries (sink cursors, alert counts per
tenant, dead letters per tenant); it never scans balances.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import db
from ..metrics import database_collector
from ..tables import outbox

log = logging.getLogger(__name__)

PUBLISHED = Counter("onhand_events_published_total", "Outbox events delivered, by sink", ["sink"])
SINK_FAILURES = Counter(
    "onhand_event_sink_failures_total",
    "Failed delivery attempts of an event batch, by sink",
    ["sink"],
)
APPLY_SECONDS = Histogram(
    "onhand_event_cursor_commit_seconds",
    "Time to apply a batch and advance a sink's cursor",
    ["sink"],
)
WEBHOOK_FAILURES = Counter("onhand_webhook_failures_total", "Webhook attempts that failed")
WEBHOOK_DEAD = Counter(
    "onhand_webhook_dead_letters_total", "Webhook deliveries given up after the last attempt"
)
LIVE_SUBSCRIBERS = Gauge(
    "onhand_live_subscribers",
    "Open SSE and WebSocket subscriptions",
    multiprocess_mode="livesum",  # with several workers: the sum over the running ones
)
LIVE_DROPPED = Counter("onhand_live_dropped_total", "Subscribers dropped for reading too slowly")


class DatabaseCollector:
    """Outbox lag per sink, and per tenant the items out, low and below their reorder point."""

    def __init__(self) -> None:
        self.engine: Engine | None = None

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        if self.engine is None:
            return
        try:
            yield from self._collect(self.engine)
        except SQLAlchemyError as exc:  # a scrape must never fail because the database is busy
            log.warning("metrics: database figures unavailable (%s)", exc)

    def _collect(self, engine: Engine) -> Iterator[Metric]:
        from .tables import event_cursors, item_alert_state, webhook_deliveries

        lag_rows = GaugeMetricFamily(
            "onhand_outbox_lag_rows", "Outbox rows not yet delivered, by sink", labels=["sink"]
        )
        lag_age = GaugeMetricFamily(
            "onhand_outbox_lag_seconds",
            "Age of the oldest undelivered outbox row, by sink",
            labels=["sink"],
        )
        items = {
            name: GaugeMetricFamily(f"onhand_items_{name}", help_, labels=["tenant"])
            for name, help_ in (
                ("out", "Items with nothing available"),
                ("low", "Items at or below their low-stock threshold"),
                ("below_reorder_point", "Items at or below their reorder point"),
            )
        }
        lots_of = {
            name: GaugeMetricFamily(f"onhand_lots_{name}", help_, labels=["tenant"])
            for name, help_ in (
                ("expiring", "Lots with stock within their item's expiry warning (UTC day)"),
                ("expired_units", "Units on hand in lots past their expiry date (UTC day)"),
                ("recalled_units", "Units on hand in recalled lots"),
            )
        }
        dead = GaugeMetricFamily(
            "onhand_webhook_dead_letters",
            "Webhook deliveries in the dead-letter state",
            labels=["tenant"],
        )
        now = db.utcnow()
        with db.read(engine) as conn:
            head = int(conn.execute(sa.select(sa.func.max(outbox.c.id))).scalar() or 0)
            for sink, last in conn.execute(
                sa.select(event_cursors.c.sink, event_cursors.c.last_id)
            ):
                lag_rows.add_metric([sink], max(head - int(last), 0))
                oldest = conn.execute(
                    sa.select(outbox.c.created_at)
                    .where(outbox.c.id > last)
                    .order_by(outbox.c.id)
                    .limit(1)
                ).scalar()
                lag_age.add_metric([sink], (now - oldest).total_seconds() if oldest else 0.0)
            s = item_alert_state
            flag = lambda c: sa.func.sum(sa.case((c, 1), else_=0))  # noqa: E731
            for tenant, out, low, reorder in conn.execute(
                sa.select(
                    s.c.tenant_id, flag(s.c.out), flag(s.c.low), flag(s.c.below_reorder)
                ).group_by(s.c.tenant_id)
            ):
                items["out"].add_metric([tenant], int(out or 0))
                items["low"].add_metric([tenant], int(low or 0))
                items["below_reorder_point"].add_metric([tenant], int(reorder or 0))
            d = webhook_deliveries
            for tenant, count in conn.execute(
                sa.select(d.c.tenant_id, sa.func.count())
                .where(d.c.status == "dead")
                .group_by(d.c.tenant_id)
            ):
                dead.add_metric([tenant], int(count))
            self._lots(conn, now.date(), lots_of)
        yield from (lag_rows, lag_age, *items.values(), *lots_of.values(), dead)

    @staticmethod
    def _lots(conn: Any, today: dt.date, gauges: dict[str, GaugeMetricFamily]) -> None:
        """Per tenant: lots about to expire, and units still on hand in expired or recalled
        lots (to be written off or returned)."""
        from ..stock.recall import DEFAULT_WARNING_DAYS
        from ..tables import items, lot_balances, lots

        rows = conn.execute(
            sa.select(
                lots.c.tenant_id,
                lots.c.expires_on,
                lots.c.recalled_at,
                items.c.expiry_warning_days,
                sa.func.sum(lot_balances.c.on_hand),
            )
            .join(
                lot_balances,
                sa.and_(
                    lot_balances.c.tenant_id == lots.c.tenant_id,
                    lot_balances.c.lot_id == lots.c.id,
                ),
            )
            .join(
                items,
                sa.and_(items.c.tenant_id == lots.c.tenant_id, items.c.id == lots.c.item_id),
            )
            .group_by(
                lots.c.tenant_id,
                lots.c.id,
                lots.c.expires_on,
                lots.c.recalled_at,
                items.c.expiry_warning_days,
            )
            .having(sa.func.sum(lot_balances.c.on_hand) > 0)
        )
        totals: dict[str, dict[str, int]] = {}
        for tenant, expires_on, recalled_at, warn, units in rows:
            t = totals.setdefault(tenant, dict.fromkeys(gauges, 0))
            if recalled_at is not None:
                t["recalled_units"] += int(units)
            elif expires_on is not None and expires_on < today:
                t["expired_units"] += int(units)
            elif expires_on is not None and (expires_on - today).days <= (
                DEFAULT_WARNING_DAYS if warn is None else warn
            ):
                t["expiring"] += 1
        for tenant, figures in sorted(totals.items()):
            for name, value in figures.items():
                gauges[name].add_metric([tenant], value)


COLLECTOR = DatabaseCollector()
database_collector(COLLECTOR)
