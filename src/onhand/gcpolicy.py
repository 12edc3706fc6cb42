"""The garbage collector of a serving process, tuned once the app has started.

A hold request allocates a few hundred short-lived objects (the body, its model, the answer,
SQLAlchemy's rows), so CPython's default first-generation threshold of 700 allocations runs a
collection every few requests, and each older-generation pass walks everything the process
built at start-up (routes, models, the OpenAPI document, SQLAlchemy's tables): objects that
live as long as the process. `tune` moves those into the permanent generation (`gc.freeze`),
which no collection scans, and lets the young generation grow to 20,000 allocations before it
is collected. Reference counting still frees acyclic garbage at once; only cycles wait longer.

Measured with bench/http_holds.py (one worker, 64 connections, one hot SKU, PostgreSQL):
docs/performance.md#the-garbage-collector.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # CPython's default is 700


def tune() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
