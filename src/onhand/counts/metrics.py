"""Prometheus: cycle-count accuracy per tenant over the last 30 days, from the database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from .. import db
from ..events.metrics import COLLECTOR
from ..metrics import database_collector
from .tables import count_tasks

log = logging.getLogger(__name__)
WINDOW = timedelta(days=30)


def shares(engine: Engine) -> list[tuple[str, int, int]]:
    """(tenant, counts, counts within tolerance) of the last 30 days, every tenant."""
    t = count_tasks
    within = sa.func.sum(sa.case((t.c.within, 1), else_=0))
    with db.read(engine) as conn:
        rows = conn.execute(
            sa.select(t.c.tenant_id, sa.func.count(), within)
            .where(t.c.counted_at >= db.utcnow() - WINDOW, t.c.within.is_not(None))
            .group_by(t.c.tenant_id)
        ).all()
    return [(r[0], int(r[1]), int(r[2] or 0)) for r in rows]


class _Accuracy(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "onhand_count_accuracy_ratio",
            "Share of cycle counts within tolerance over the last 30 days",
            labels=["tenant"],
        )
        if COLLECTOR.engine is not None:
            try:
                for tenant, counted, within in shares(COLLECTOR.engine):
                    family.add_metric([tenant], within / counted)
            except Exception:  # noqa: BLE001  (a scrape must answer while the database is away)
                log.warning("count accuracy could not be read", exc_info=True)
        yield family


database_collector(_Accuracy())
