"""Whether FastAPI's own OpenTelemetry middleware runs: only where OpenTelemetry is set up.

FastAPI asks on every request whether a tracer, meter or logger provider is configured, and
each ask reads the environment: about 5 % of a hold's CPU over HTTP (py-spy, 2026-12-01) on a
server that exports nothing. So the question is asked once, when the app is built. An
operator who wants traces sets OpenTelemetry up as usual, through its environment
(`OTEL_…`, `FASTAPI_OTEL_AUTO_CONFIGURE`, `opentelemetry-instrument`) or by installing a
provider before the app is built, and FastAPI's telemetry is then left as it is.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import _logs, metrics, trace

_UNSET = frozenset({"ProxyTracerProvider", "_ProxyMeterProvider", "ProxyLoggerProvider"})


def _configured() -> bool:
    if any(name.startswith(("OTEL_", "FASTAPI_OTEL_")) for name in os.environ):
        return True
    providers = (
        trace.get_tracer_provider(),
        metrics.get_meter_provider(),
        _logs.get_logger_provider(),
    )
    return any(type(p).__name__ not in _UNSET for p in providers)


def config() -> Any:
    """FastAPI's `telemetry` argument: its defaults where OpenTelemetry is set up, else off."""
    if _configured():
        return None
    return {"tracing": False, "metrics": False, "logs": False}
