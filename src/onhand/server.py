"""`onhand serve`'s HTTP server: uvicorn, with a shutdown that never waits on open streams.

uvicorn stops by waiting for every open response to finish, and an event stream never
finishes: a dashboard left open kept the server from stopping. Here the first SIGTERM or
Ctrl-C also ends every SSE and WebSocket stream (clients reconnect with Last-Event-ID), so the
server drains in well under a second; a second signal stops at once. The process then exits 0
without re-raising the signal (no KeyboardInterrupt traceback on Ctrl-C).
"""

from __future__ import annotations

import asyncio
from types import FrameType

import uvicorn

from .events import hub

# The longest a stop waits for responses that are still running (streams end at once).
GRACEFUL_SECONDS = 5


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


def run(host: str, port: int, *, workers: int, log_level: str) -> None:
    config = uvicorn.Config(
        "onhand.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = Server(config)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        # Each worker process builds its own app (engine, hub, group commit, jobs).
        Multiprocess(config, target=server.run, sockets=[config.bind_socket()]).run()
    else:
        server.run()

