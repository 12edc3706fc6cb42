"""One logging path: standard-library and structlog records, one format, the configured level."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# A fresh process per case: logging is process-wide. The app configures logging from its
# Settings; then a standard-library logger (as most modules use), a structlog logger and
# uvicorn's logger each write below and at the configured level.
SCRIPT = """
import logging, structlog
from onhand.app import create_app
from onhand.settings import Settings

create_app(Settings(run_jobs=False))  # the rest from ONHAND_* variables
keeper = logging.getLogger("onhand.cache.keeper")
keeper.warning("availability cache reconciliation failed (%s)", "connection refused")
keeper.info("availability cache: rebuilding")
structlog.get_logger("onhand.reservations.batcher").warning("batch failed", size=3)
structlog.get_logger("onhand.reservations.batcher").debug("batch sizes", sizes=[1, 2])
logging.getLogger("uvicorn.error").warning("uvicorn speaking")
"""


def run(**env: str) -> list[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONHAND_")}
    environment["ONHAND_DATABASE_URL"] = "sqlite:///./never-opened.db"  # no query is made
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == ""
    return done.stderr.splitlines()


def test_json_lines_at_the_configured_level():
    lines = [json.loads(line) for line in run(ONHAND_LOG_FORMAT="json", ONHAND_LOG_LEVEL="warning")]
    assert [(r["logger"], r["level"], r["event"]) for r in lines] == [
        (
            "onhand.cache.keeper",
            "warning",
            "availability cache reconciliation failed (connection refused)",
        ),
        ("onhand.reservations.batcher", "warning", "batch failed"),
        ("uvicorn.error", "warning", "uvicorn speaking"),
    ]
    assert lines[1]["size"] == 3
    assert all(r["timestamp"].endswith("Z") for r in lines)


def test_lower_level_lets_info_and_debug_through():
    events = [
        json.loads(line)["event"]
        for line in run(ONHAND_LOG_FORMAT="json", ONHAND_LOG_LEVEL="debug")
    ]
    assert events == [
        "availability cache reconciliation failed (connection refused)",
        "availability cache: rebuilding",
        "batch failed",
        "batch sizes",
        "uvicorn speaking",
    ]


def test_console_format_is_the_default():
    lines = run(ONHAND_LOG_LEVEL="info")
    assert len(lines) == 4, lines
    assert not any(line.startswith("{") for line in lines)
    first = lines[0]
    assert "[warning" in first and "[onhand.cache.keeper]" in first
    assert "availability cache reconciliation failed (connection refused)" in first
    assert "size=3" in lines[2]


REQUEST_LINE = """
import logging
from onhand.app import create_app
from onhand.settings import Settings

create_app(Settings(run_jobs=False))
logging.getLogger("uvicorn.error").info(
    '%s - "WebSocket %s" [accepted]',
    "127.0.0.1:5000",
    "/v1/acme/ws?access_token=onh_57eaf545dd3c_GHiWIFRXyFmTfTVKdMBZ7ms&last_event_id=4",
)
logging.getLogger("onhand.events").warning("refused onh_0123456789ab_SecretPartOfTheToken")
"""


def test_tokens_in_request_lines_and_messages_are_redacted():
    for fmt in ("console", "json"):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ONHAND_")}
        done = subprocess.run(
            [sys.executable, "-c", REQUEST_LINE],
            env={
                **environment,
                "ONHAND_DATABASE_URL": "sqlite:///./never-opened.db",
                "ONHAND_LOG_FORMAT": fmt,
                "ONHAND_LOG_LEVEL": "info",
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        log = done.stderr
        assert "GHiWIFRXyFmTfTVKdMBZ7ms" not in log and "SecretPartOfTheToken" not in log, log
        assert "access_token=***&last_event_id=4" in log, log
        assert "onh_0123456789ab_***" in log, log
