"""FastAPI's OpenTelemetry middleware runs only where OpenTelemetry is set up."""

import pytest

from onhand import telemetry


def test_telemetry_is_off_when_nothing_sets_opentelemetry_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(telemetry.os.environ):
        if name.startswith(("OTEL_", "FASTAPI_OTEL_")):
            monkeypatch.delenv(name)
    assert telemetry.config() == {"tracing": False, "metrics": False, "logs": False}


@pytest.mark.parametrize("name", ["OTEL_SERVICE_NAME", "FASTAPI_OTEL_AUTO_CONFIGURE"])
def test_an_opentelemetry_environment_keeps_fastapis_defaults(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "onhand")
    assert telemetry.config() is None
