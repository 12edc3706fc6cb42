"""Free ports for the servers a test starts, a separate range for each pytest-xdist worker.

A port the kernel picks (bind to port 0) is free only until the socket closes: another worker
could be handed the same number before this worker's server binds it, and a test would then
talk to a server of another test. Each worker takes ports from its own 1,000 between 20000
and Linux's ephemeral range (32768 and up), which the kernel never hands out by itself.
"""

from __future__ import annotations

import itertools
import os
import socket

SPAN = 1_000
RANGES = (32_768 - 20_000) // SPAN  # 12 workers before two share a range
_next = itertools.count()


def free_port() -> int:
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    base = 20_000 + (worker % RANGES) * SPAN
    for _ in range(SPAN):
        port = base + next(_next) % SPAN
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken, or still closing
            return port
    raise RuntimeError(f"no free port in {base}-{base + SPAN - 1}")
