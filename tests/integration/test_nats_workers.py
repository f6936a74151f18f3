"""Two ``suture worker`` processes share 2,000 events through NATS JetStream on PostgreSQL.

Issue 3, "Done means": real subprocesses (``nats_worker.py``, the production worker loop with a
test bus), one durable pull consumer, both relays running at once. Every event's effect must be
applied exactly once, and both processes must have taken part.
"""

from __future__ import annotations

import asyncio
import json
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from uuid import uuid4

import pytest
from nats_worker import build_bus, effects_of, fresh_schema, publish_events, stream_settings

from suture.adapters.db.engine import create_engine
from suture.adapters.nats.stream import NatsEventStream, StreamSettings

pytestmark = pytest.mark.postgres

EVENTS = 2000
SCRIPT = Path(__file__).with_name("nats_worker.py")


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    with fresh_schema(postgres_url) as url:
        yield url


@pytest.fixture
def settings(nats_url: str) -> Iterator[StreamSettings]:
    """A stream of this test alone, created before the workers start and deleted after."""
    settings = stream_settings(nats_url, uuid4().hex[:12])

    async def with_stream(delete: bool) -> None:
        stream = await NatsEventStream.connect(settings)
        try:
            if delete:
                await stream.delete()
        finally:
            await stream.close()

    asyncio.run(with_stream(delete=False))
    yield settings
    asyncio.run(with_stream(delete=True))


def read_line(stream: IO[str], timeout: float) -> str:
    """The next line of a worker's output, or '' after ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def stop(worker: subprocess.Popen[str]) -> dict[str, Any]:
    """SIGTERM the worker and return the statistics it prints on the way out."""
    worker.send_signal(signal.SIGTERM)
    output, errors = worker.communicate(timeout=60)
    assert worker.returncode == 0, errors
    return dict(json.loads(output.strip().splitlines()[-1]))


def test_two_worker_processes_apply_each_of_2000_effects_exactly_once(
    database_url: str, settings: StreamSettings, nats_url: str
) -> None:
    handler, correlation = f"effect-{uuid4().hex[:10]}", f"SCALE-{uuid4().hex}"
    tag = settings.stream.removeprefix("TEST_")
    command = [sys.executable, str(SCRIPT), database_url, nats_url, tag, handler]
    workers = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    engine = create_engine(database_url)
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert read_line(worker.stdout, 30).strip() == "ready"
        bus = build_bus(engine, handler)
        publish_events(bus, EVENTS, correlation, facilities=("FAC-1", "FAC-2", None))
        deadline = time.monotonic() + 180
        while len(effects_of(bus, correlation)) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
        stats = [stop(worker) for worker in workers]
        effects = effects_of(bus, correlation)
        with bus.uow() as uow:
            lag = uow.events.lag(handlers=[handler])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        engine.dispose()

    taken = [s["from_stream"] for s in stats]
    assert (len(effects), len(set(effects)), lag.pending) == (EVENTS, EVENTS, 0)
    assert (sum(taken), sum(s["swept"] for s in stats)) == (EVENTS, 0)
    assert all(taken), taken
    assert sum(s["published"] for s in stats) >= EVENTS
