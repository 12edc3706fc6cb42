"""Stopping background tasks within a bound, and saying which one would not stop.

A task cancelled while a thread of it waits on the database (SQLite's busy timeout is 30 s)
or on a remote store cannot finish before that call returns. A stop never waits longer than
`within` seconds: it logs the stack of each task still running and lets the process go on
shutting down, so `onhand serve` always exits.
"""

from __future__ import annotations

import asyncio
import io
import logging

log = logging.getLogger(__name__)

STOP_WITHIN = 5.0


async def cancel_all(tasks: list[asyncio.Task], within: float = STOP_WITHIN) -> None:
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    done, pending = await asyncio.wait(tasks, timeout=within)
    for task in done:
        if not task.cancelled():
            task.exception()  # retrieved: a job that had failed was already logged by it
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        log.warning(
            "background task %s did not stop within %.0f s; leaving it behind\n%s",
            task.get_name(),
            within,
            stack.getvalue(),
        )
