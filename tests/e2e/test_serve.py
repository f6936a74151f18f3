"""``suture serve`` as an operator runs it: a real process, real sockets, a clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

SUTURE = [sys.executable, "-m", "suture"]


def wait_for(pattern: str, process: subprocess.Popen[str]) -> re.Match[str]:
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if found := re.search(pattern, line):
            return found
    raise AssertionError(f"{pattern!r} never printed; output: {''.join(seen)}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, int]]:
    env = {
        **os.environ,
        "SUTURE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SUTURE_ERP_OUTBOX_DIR": str(tmp_path / "outbox"),
        "COLUMNS": "200",
    }
    env.pop("SUTURE_NATS_URL", None)
    process = subprocess.Popen(
        [*SUTURE, "serve", "--port", "0", "--mllp-port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        http = int(wait_for(r"HTTP service on http://127\.0\.0\.1:(\d+)", process)[1])
        mllp = int(wait_for(r"MLLP listener on 127\.0\.0\.1:(\d+)", process)[1])
        yield process, http, mllp
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_serve_answers_health_readiness_metrics_and_docs_and_stops_on_sigterm(
    server: tuple[subprocess.Popen[str], int, int],
) -> None:
    process, http, _ = server
    with httpx.Client(base_url=f"http://127.0.0.1:{http}") as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["status"] == "ready"
        assert "suture_inbox_messages" in client.get("/metrics").text
        assert client.get("/openapi.json").json()["info"]["title"] == "Suture"
        assert client.get("/docs").status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
