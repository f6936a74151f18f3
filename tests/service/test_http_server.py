"""The HTTP service's own server (uvicorn in a thread): its log lines are Suture's."""

from __future__ import annotations

import logging
import socket

import pytest
from fastapi import FastAPI

from suture.entrypoints.api.server import HttpThread


def test_the_servers_own_warnings_go_through_the_structured_log_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """uvicorn's default logging config gave its loggers a plain handler of their own and cut
    them off from the root (``WARNING:  Invalid HTTP request received.`` among JSON lines)."""
    caplog.set_level(logging.INFO)
    server = HttpThread(FastAPI(), "127.0.0.1", 0)
    port = server.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            while connection.recv(65536):
                pass
    finally:
        server.stop()

    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("uvicorn.error", "WARNING", "Invalid HTTP request received.")
    ]
