"""A ``suture worker`` whose database is down backs off instead of spinning.

The loops of the worker (``adapters/nats/worker.py``) run against a real NATS JetStream and a
PostgreSQL URL nothing listens on: every round of the sweep and of the relay is refused. Each
loop must report each failure once, with its attempt number, and wait a capped exponential
backoff before the next. ``rand`` is fixed at the top of the jitter's range, so the waits are
exactly the policy's ceilings and the test does not depend on timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from nats_worker import build_bus, stream_settings

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.nats.stream import NatsEventStream, StreamSettings
from suture.adapters.nats.worker import WorkerOptions, run_worker
from suture.eventlog.retry import Jitter, LoopFailure, RetryPolicy
from suture.services.relay import OutboxRelay

MS = timedelta(milliseconds=1)
BACKOFF = RetryPolicy(base_delay=10 * MS, max_delay=40 * MS, jitter=Jitter.EQUAL)
ROUNDS = 5


@pytest.fixture
def settings(nats_url: str) -> Iterator[StreamSettings]:
    settings = stream_settings(nats_url, uuid4().hex[:12])
    yield settings

    async def delete() -> None:
        stream = await NatsEventStream.connect(settings)
        try:
            await stream.delete()
        finally:
            await stream.close()

    asyncio.run(delete())


def run_until_each_loop_failed(
    database_url: str, settings: StreamSettings, rounds: int
) -> list[LoopFailure]:
    engine = create_engine(database_url)
    bus = build_bus(engine, f"effect-{uuid4().hex[:10]}")
    failures: list[LoopFailure] = []

    async def main() -> None:
        stream = await NatsEventStream.connect(settings)
        stop = asyncio.Event()

        def failed(failure: LoopFailure) -> None:
            failures.append(failure)
            if all(attempts(failures, loop)[rounds - 1 :] for loop in ("sweep", "relay")):
                stop.set()

        try:
            await run_worker(
                bus,
                stream,
                stop,
                relay=OutboxRelay(bus.uow),
                options=WorkerOptions(backoff=BACKOFF),
                on_error=failed,
                rand=lambda: 1.0,
            )
        finally:
            await stream.close()
            engine.dispose()

    asyncio.run(main())
    return failures


def attempts(failures: list[LoopFailure], loop: str) -> list[tuple[int, timedelta]]:
    return [(f.attempt, f.delay) for f in failures if f.loop == loop]


def test_worker_loops_back_off_exponentially_while_the_database_refuses_connections(
    unreachable_database_url: str, settings: StreamSettings
) -> None:
    failures = run_until_each_loop_failed(unreachable_database_url, settings, ROUNDS)

    expected = [(1, 10 * MS), (2, 20 * MS), (3, 40 * MS), (4, 40 * MS), (5, 40 * MS)]
    assert attempts(failures, "sweep")[:ROUNDS] == expected
    assert attempts(failures, "relay")[:ROUNDS] == expected


def test_worker_failures_name_the_refusal_without_the_database_password(
    unreachable_database_url: str, settings: StreamSettings
) -> None:
    failures = run_until_each_loop_failed(unreachable_database_url, settings, 1)

    assert {type(f.error) for f in failures} == {StorageError}
    assert all("Connection refused" in str(f.error) for f in failures)
    assert not [f for f in failures if "s3cret-pw" in str(f.error)]
