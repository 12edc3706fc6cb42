"""`onhand serve`'s HTTP server: uvicorn, with a shutdown that never waits on open streams.

uvicorn stops by waiting for every open response to finish, and an event stream never
finishes: a dashboard left open kept the server from stopping. Here the first SIGTERM or
Ctrl-C also ends every SSE and WebSocket stream (clients reconnect with Last-Event-ID), so the
server drains in well under a second; a second signal stops at once. The process then exits 0
without re-raising the signal (no KeyboardInterrupt traceback on Ctrl-C). With `--workers`
above 1, uvicorn's own supervisor runs the workers and streams end after the grace period;
their Prometheus counters share a directory made for the run (metrics.py), removed at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from types import FrameType
from typing import Any

import uvicorn

from .events import hub
from .metrics import MULTIPROCESS_DIR

APP = "onhand.app:create_served_app"
# The longest a stop waits for responses that are still running (streams end at once).
GRACEFUL_SECONDS = 5
# An idle keep-alive connection is closed by the client or the proxy in front, not by us: a
# server that closes first races the client's next request on that connection, which then
# fails without an answer (seen with httpx, whose idle limit equals uvicorn's default of 5 s).
# 75 s outlasts common clients and load balancers (60 s).
KEEP_ALIVE_SECONDS = 75
# How long a stop lets WebSockets send their own close before uvicorn closes them.
STREAMS_SECONDS = 1.0


class Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:  # a second signal, whichever: stop without waiting
            self.force_exit = True
            return
        super().handle_exit(sig, frame)
        # uvicorn would raise the signal again after a clean stop; the stop *is* the answer.
        self._captured_signals.clear()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_soon_threadsafe(hub.close_all)

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        # uvicorn begins by closing every WebSocket itself (code 1012, "service restart"). A
        # stream told to end by the signal (1001, "the server is stopping", after what was
        # queued) may not have had its turn yet on a busy machine: give those a moment first.
        hub.close_all()
        loop = asyncio.get_running_loop()
        until = loop.time() + STREAMS_SECONDS
        while loop.time() < until and any(
            type(c).__module__.startswith("uvicorn.protocols.websockets")
            for c in self.server_state.connections
        ):
            await asyncio.sleep(0.01)
        await super().shutdown(sockets)


def run(host: str, port: int, *, workers: int, log_level: str) -> None:
    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "log_level": log_level,
        "log_config": None,  # uvicorn's records go through onhand's structlog handler (logs.py)
        "access_log": False,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    if workers > 1:
        # uvicorn's supervisor starts plain uvicorn servers in its worker processes; each builds
        # its own app (engine, hub, group commit, jobs), and streams end after the grace period.
        # The workers are new interpreters: they inherit the metrics directory from here.
        made = not os.environ.get(MULTIPROCESS_DIR)  # an operator's own directory is kept
        if made:
            os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="onhand-metrics-")
        try:
            uvicorn.run(APP, **options)
        finally:
            if made:
                shutil.rmtree(os.environ.pop(MULTIPROCESS_DIR), ignore_errors=True)
        return
    Server(uvicorn.Config(APP, **options)).run()
