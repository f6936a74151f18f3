"""``suture serve`` as an operator runs it: a real process, real sockets, a clean stop."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
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


def test_serve_watch_takes_dropped_files_by_content_and_moves_them_after_commit(
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    env = {
        **os.environ,
        "SUTURE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SUTURE_ERP_OUTBOX_DIR": str(tmp_path / "outbox"),
        "COLUMNS": "200",
    }
    env.pop("SUTURE_NATS_URL", None)
    process = subprocess.Popen(
        [*SUTURE, "serve", "--no-http", "--no-mllp", "--watch", str(drop),
         "--watch-interval", "0.1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(r"drop folder .* watched", process)
        (drop / "usage.csv").write_bytes(b"item,quantity\nG-44,2\n")
        (drop / "order.edi").write_bytes(
            b"ISA*00*          *00*          *ZZ*NOBODY         *ZZ*GENHOSP        "
            b"*250301*1200*U*00401*000000001*0*P*>~GS*PR*NOBODY*GENHOSP*20250301*1200*1*X*004010~"
            b"ST*855*0001~BAK*00*AC*PO-1*20250227~SE*3*0001~GE*1*1~IEA*1*000000001~"
        )
        taken = {
            wait_for(r"drop folder: (\S+) \((\w+)\) -> (\w+)", process).groups() for _ in range(2)
        }
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()

    assert taken == {("usage.csv", "csv", "processed"), ("order.edi", "x12", "failed")}
    assert (drop / "processed" / "usage.csv").exists()
    assert (drop / "failed" / "order.edi").exists()


def test_a_storage_error_while_serving_is_a_structured_log_line(tmp_path: Path) -> None:
    """The dispatcher's "storage error, retrying" was printed as wrapped plain text among
    ``SUTURE_LOG_FORMAT=json`` lines, which a log pipeline cannot parse."""
    database = tmp_path / "locked.db"
    env = {
        **os.environ,
        "SUTURE_DATABASE_URL": f"sqlite:///{database}",
        "SUTURE_ERP_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SUTURE_LOG_FORMAT": "json",
    }
    env.pop("SUTURE_NATS_URL", None)
    process = subprocess.Popen(
        [*SUTURE, "serve", "--port", "0", "--no-mllp", "--poll-interval", "0.05"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(r"the embedded dispatcher is running", process)
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # longer than the busy timeout: the dispatcher fails
        time.sleep(7)
        lock.execute("ROLLBACK")
        lock.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)

    lines = [json.loads(line) for line in stderr.splitlines()]  # every line is one JSON object
    retried = [line for line in lines if line["event"].startswith("storage error, retrying")]
    assert retried, stderr
    assert {(line["level"], line["logger"]) for line in retried} == {("warning", "suture.serve")}
