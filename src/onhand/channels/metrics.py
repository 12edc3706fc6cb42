"""Prometheus metrics of channel syncs."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

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

_last_good: dict[tuple[str, str], float] = {}


def good_sync(tenant: str, channel: str) -> None:
    _last_good[(tenant, channel)] = time.time()


class _SinceGood(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "onhand_channel_seconds_since_good_sync",
            "Seconds since the channel's last succeeded or partial sync (this process)",
            labels=["tenant", "channel"],
        )
        now = time.time()
        for (tenant, channel), at in list(_last_good.items()):
            family.add_metric([tenant, channel], now - at)
        yield family


REGISTRY.register(_SinceGood())
