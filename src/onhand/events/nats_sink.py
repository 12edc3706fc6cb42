"""NATS JetStream: each event on `<prefix>.<tenant>.<type>` (prefix `onhand`), de-duplicated by
its id through the Nats-Msg-Id header."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from .dispatcher import Sink
from .feed import Event

log = logging.getLogger(__name__)


def subject(prefix: str, ev: Event) -> str:
    return f"{prefix}.{ev.tenant}.{ev.type}"


async def ensure_stream(js: JetStreamContext, name: str, prefix: str) -> None:
    try:
        await js.stream_info(name)
    except NotFoundError:
        # The duplicate window (2 min by default) is what turns at-least-once into once. Ids
        # are per database: two installations sharing a NATS need their own stream and prefix.
        await js.add_stream(name=name, subjects=[f"{prefix}.>"])


class NatsSink(Sink):
    name = "nats"

    def __init__(
        self, url: str, *, stream: str = "ONHAND", prefix: str = "onhand", ack_timeout: float = 5.0
    ) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.ack_timeout = ack_timeout
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None

    async def _connected(self) -> JetStreamContext:
        if self.nc is None or self.nc.is_closed:
            self.nc = await nats.connect(
                self.url, connect_timeout=2, max_reconnect_attempts=-1, reconnect_time_wait=0.5
            )
            self.js = self.nc.jetstream()
            await ensure_stream(self.js, self.stream, self.prefix)
        assert self.js is not None
        return self.js

    async def deliver(self, events: list[Event]) -> None:
        js = await self._connected()
        # Published in id order on one connection; acks are awaited together.
        acks = [
            await js.publish_async(
                subject(self.prefix, ev), ev.body.encode(), headers={"Nats-Msg-Id": str(ev.id)}
            )
            for ev in events
        ]
        async with asyncio.timeout(self.ack_timeout):  # not wait_for: it can swallow a stop
            await asyncio.gather(*acks)

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()
