"""Structured logs with structlog, for Suture's own events and for the libraries' stdlib logs.

One configuration per process (:func:`configure_logging`, called by the entrypoints once the
settings are read): JSON lines for machines (``SUTURE_LOG_FORMAT=json``) or aligned key=value
lines for people (``console``, the default), on standard error, UTC ISO-8601 timestamps. Logs
of the standard library's ``logging`` (uvicorn, the MLLP listener) go through the same
renderer, so one process writes one format.

PHI (DESIGN.md §6): Suture logs identifiers of its own records (message ids, event ids, route
templates, client ids) and never message content. As a second line of defence,
:func:`drop_content` replaces the value of any key that conventionally carries content
(``raw``, ``body``, ``payload``, ``segment`` ...) with ``"[redacted]"``; a test runs a whole
hospital day through ``suture serve`` and asserts no patient identifier reaches the logs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

#: Keys whose values would be message content, whoever logs them.
CONTENT_KEYS = frozenset(
    {"raw", "body", "payload", "content", "segment", "segments", "message_text", "data"}
)
REDACTED = "[redacted]"

LogFormat = Literal["console", "json"]


def drop_content(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the values of :data:`CONTENT_KEYS` (structlog processor)."""
    for key in CONTENT_KEYS.intersection(event):
        event[key] = REDACTED
    return event


def configure_logging(level: str = "INFO", log_format: LogFormat = "console") -> None:
    """Configure structlog and the stdlib root logger for this process (idempotent)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_content,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a logger then follows a later reconfiguration (a command that configures
        # again, structlog's ``capture_logs`` in tests) for a few microseconds per line.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_suture", False)]:
        root.removeHandler(old)
    handler._suture = True  # type: ignore[attr-defined]  # marks ours, so a second call replaces it
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic", "uvicorn.access", "httpx", "httpx2", "httpcore", "httpcore2", "nats"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
