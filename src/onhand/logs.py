"""One logging path: structlog renders every record, from structlog and the standard library.

Modules log either with `structlog.get_logger()` or `logging.getLogger(__name__)`; both end in
one handler on the root logger whose formatter is structlog's, so every line has the same
shape (time, level, logger, event and fields), honours `ONHAND_LOG_LEVEL`, and is one JSON
object per line when `ONHAND_LOG_FORMAT=json`. Tracebacks are plain (no local variables: they
may hold tokens).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

FORMATS = ("console", "json")
# Libraries that install their own handlers; their records go through ours instead.
_ADOPTED = ("uvicorn", "uvicorn.error", "uvicorn.access")
# Libraries that log every request at info, URL included (a webhook URL may carry a secret).
_QUIET = ("httpx", "httpcore")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (test runners swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


_handler: logging.Handler | None = None

# Secrets that reach a log line inside a URL or a message: an event stream's or WebSocket's
# `?access_token=` (uvicorn logs the whole request line) and onhand tokens themselves. The
# token's public prefix stays, so an operator can still tell which token it was.
_SECRETS = (
    (re.compile(r"(token=)[^&\s\"']+"), r"\1***"),  # access_token= too
    (re.compile(r"\b(onh_[0-9a-f]{12}_)[A-Za-z0-9_-]+"), r"\1***"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in event.items()}


def level_number(level: str) -> int:
    return logging.getLevelNamesMapping().get(level.upper(), logging.INFO)


def configure(level: str = "info", fmt: str = "console", stream: TextIO | None = None) -> None:
    """Route structlog and standard-library logging through one structlog formatter."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if fmt == "json":
        tail: list[Any] = [structlog.processors.format_exc_info]
        renderer = structlog.processors.JSONRenderer()
    else:
        tail = []
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *tail,
            _redact,
            renderer,
        ],
    )
    global _handler
    handler = logging.StreamHandler(stream) if stream else _Stderr()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    if _handler is not None:  # configured again (one app per test): replace ours only
        root.removeHandler(_handler)
    root.addHandler(handler)
    _handler = handler
    root.setLevel(level_number(level))
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, level_number(level)))
    for name in _ADOPTED:
        adopted = logging.getLogger(name)
        adopted.handlers = []
        adopted.propagate = True
        adopted.setLevel(logging.NOTSET)
