"""``suture status`` reports the lag of the workers' stream consumer, read from a real NATS.

DESIGN.md §8: with NATS configured, the backlog is in two places: work pending in the database
(the oldest pending work's age) and messages the consumer has not delivered or not had
acknowledged. Each test has a stream of its own, deleted at the end.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from suture.adapters.nats.lag import consumer_lag
from suture.adapters.nats.stream import NatsEventStream, StreamError, StreamSettings
from suture.entrypoints.cli import app
from suture.eventlog.envelope import Envelope
from suture.services.messagebus import MessageBus
from suture.services.status import ConsumerLag


@pytest.fixture
def settings(nats_url: str) -> Iterator[StreamSettings]:
    """A stream of this test alone, with the consumer name ``suture worker`` uses."""
    tag = uuid4().hex[:12]
    settings = StreamSettings(
        url=nats_url, stream=f"STATUS_{tag}", subject_prefix=f"status_{tag}.events"
    )
    yield settings

    async def delete() -> None:
        stream = await NatsEventStream.connect(settings)
        try:
            await stream.delete()
        finally:
            await stream.close()

    asyncio.run(delete())


def envelopes(count: int) -> list[Envelope]:
    bus = MessageBus(lambda: None, {})  # type: ignore[arg-type, return-value]  # envelopes only
    return [
        bus.envelope("test.status.seen", {"n": n}, idempotency_key=uuid4().hex,
                     correlation_id="STATUS")
        for n in range(count)
    ]  # fmt: skip


def deliver(settings: StreamSettings, published: int, fetched: int) -> None:
    """Publish ``published`` messages and fetch ``fetched`` of them without acknowledging."""

    async def run() -> None:
        stream = await NatsEventStream.connect(settings)
        try:
            await stream.publish(envelopes(published))
            if fetched:
                assert len(await stream.fetch(fetched, timeout=5)) == fetched
        finally:
            await stream.close()

    asyncio.run(run())


def test_consumer_lag_counts_undelivered_and_unacknowledged_messages(
    settings: StreamSettings,
) -> None:
    deliver(settings, published=3, fetched=1)

    lag = consumer_lag(settings)

    assert lag == ConsumerLag(
        stream=settings.stream, consumer=settings.consumer, pending=2, ack_pending=1,
        redelivered=0,
    )  # fmt: skip


def test_consumer_lag_of_a_consumer_no_worker_created_says_so(nats_url: str) -> None:
    missing = StreamSettings(url=nats_url, stream=f"NONE_{uuid4().hex[:12]}")

    lag = consumer_lag(missing)

    assert (lag.pending, lag.error) == (
        None, "no such stream or consumer (no worker has run yet)",
    )  # fmt: skip


def test_status_json_reports_the_consumer_lag(
    settings: StreamSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(settings, published=2, fetched=0)
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'status.db'}")
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("SUTURE_NATS_URL", settings.url)
    monkeypatch.setenv("SUTURE_NATS_STREAM", settings.stream)
    monkeypatch.setenv("SUTURE_NATS_SUBJECT_PREFIX", settings.subject_prefix)

    result = CliRunner().invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["backbone"]["consumer"] == {
        "stream": settings.stream, "consumer": "suture-workers", "pending": 2,
        "ack_pending": 0, "redelivered": 0, "error": None,
    }  # fmt: skip


def test_a_worker_that_cannot_reach_nats_at_start_gives_up_saying_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """nats-py, told to reconnect for ever, retried a refused first connection for ever and
    logged a traceback at ERROR each time: a mistyped SUTURE_NATS_URL hung the worker."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = StreamSettings(url=f"nats://127.0.0.1:{port}", connect_deadline=timedelta(seconds=3))

    with pytest.raises(StreamError) as refused:
        asyncio.run(NatsEventStream.connect(settings))

    assert refused.value.field == "connect"
    assert refused.value.reason.startswith(
        "no server accepted a connection within 3 s: ConnectionRefusedError: "
    )
    tried = [r for r in caplog.records if r.name.startswith("nats") or r.name == "suture.nats"]
    assert tried, "each refused attempt is logged"
    assert {(r.name, r.levelno, r.exc_info) for r in tried} == {
        ("suture.nats", logging.WARNING, None)
    }


def test_the_worker_command_names_the_setting_without_its_password_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'worker.db'}")
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("SUTURE_NATS_URL", f"nats://ops:s3cret@127.0.0.1:{port}")
    monkeypatch.setenv("COLUMNS", "300")
    short = functools.partial(StreamSettings, connect_deadline=timedelta(seconds=1))
    monkeypatch.setattr("suture.bootstrap.StreamSettings", short)

    result = CliRunner().invoke(app, ["worker"])

    assert result.exit_code == 2
    assert (
        f"worker: SUTURE_NATS_URL (nats://***@127.0.0.1:{port}): connect: no server accepted"
        in result.output
    )
    assert "s3cret" not in result.output
