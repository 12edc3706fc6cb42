"""Prometheus metrics of channel syncs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from .. import db
from ..events.metrics import COLLECTOR
from ..metrics import database_collector
from .tables import channels, sync_runs

log = logging.getLogger(__name__)

RUNS = Counter(
    "onhand_channel_sync_runs", "Channel sync runs by outcome", ["tenant", "channel", "status"]
)
ITEMS = Counter(
    "onhand_channel_sync_items",
    "Items of channel sync runs by outcome",
    ["tenant", "channel", "status"],
)
CALLS = Counter("onhand_channel_shopify_calls", "Requests sent to Shopify", ["tenant", "channel"])
THROTTLED = Counter(
    "onhand_channel_shopify_throttled", "THROTTLED answers from Shopify", ["tenant", "channel"]
)


def last_good(engine: Engine) -> list[tuple[str, str, datetime]]:
    """(tenant, channel code, when its last succeeded or partial run finished), every tenant."""
    r = sync_runs
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(channels.c.tenant_id, channels.c.code, sa.func.max(r.c.finished_at))
            .join(r, (r.c.channel_id == channels.c.id) & (r.c.tenant_id == channels.c.tenant_id))
            .where(r.c.status.in_(("succeeded", "partial")))
            .group_by(channels.c.tenant_id, channels.c.code)
        ).all()
    return [(t, c, at) for t, c, at in rows if at is not None]


class _SinceGood(Collector):
    """From the database, so every process reports every channel, whoever ran its syncs."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "onhand_channel_seconds_since_good_sync",
            "Seconds since the channel's last succeeded or partial sync",
            labels=["tenant", "channel"],
        )
        engine = COLLECTOR.engine  # the app's database, as for the other database gauges
        if engine is not None:
            now = db.utcnow()
            try:
                for tenant, channel, at in last_good(engine):
                    family.add_metric([tenant, channel], (now - at).total_seconds())
            except Exception:  # noqa: BLE001  (a scrape must answer while the database is away)
                log.warning("channel sync ages could not be read", exc_info=True)
        yield family


database_collector(_SinceGood())
