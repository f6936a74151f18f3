"""A ``suture worker`` for the NATS integration tests, and the helpers those tests share.

Run as a script (``python nats_worker.py DB_URL NATS_URL TAG HANDLER``), it builds its own bus
whose one handler records an effect per event, then runs the production worker loop
(:func:`suture.adapters.nats.worker.run_worker`) with a relay until SIGTERM, printing ``ready``
once it consumes and a JSON line of its statistics when it stops. Production wiring is not
involved: ``bootstrap`` wires only Suture's own handlers.

An effect is a new event (``test.effect.recorded``, correlated to its cause), so an effect
applied twice would show as two events: counting them proves "exactly once".
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import scratch_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.nats.stream import NatsEventStream, StreamSettings
from suture.adapters.nats.worker import WorkerOptions, run_worker
from suture.eventlog.envelope import Envelope
from suture.eventlog.retry import RetryPolicy
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.unit_of_work import UnitOfWork

TRIGGER = "test.nats.happened"
EFFECT = "test.effect.recorded"


class PoisonError(RuntimeError):
    """What the failing handler raises (transient to the retry policy, so it is retried)."""


def record_effect(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    context.emit(EFFECT, {"of": str(envelope.id)}, idempotency_key=uuid4().hex)


def fail(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    raise PoisonError("poison")


def build_bus(
    engine: sa.Engine, handler: str, *, failing: bool = False, retry: RetryPolicy | None = None
) -> MessageBus:
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {handler: fail if failing else record_effect},
        {TRIGGER: [handler]},
        retry=retry,
    )


def fresh_schema(postgres_url: str) -> AbstractContextManager[str]:
    """The URL of a new schema migrated to head, dropped at the end: the relay publishes every
    unpublished event of its database, so each test gets a log of its own."""
    return scratch_schema(postgres_url, "suture_nats")


def stream_settings(nats_url: str, tag: str) -> StreamSettings:
    """A stream, subjects and consumer of this test alone (streams may not share subjects)."""
    return StreamSettings(
        url=nats_url, stream=f"TEST_{tag}", subject_prefix=f"test_{tag}.events", consumer="workers"
    )


def publish_events(
    bus: MessageBus, count: int, correlation: str, facilities: tuple[str | None, ...] = (None,)
) -> list[Envelope]:
    """``count`` trigger events in one transaction, spread over ``facilities``."""
    envelopes = [
        bus.envelope(
            TRIGGER,
            {"n": index},
            idempotency_key=uuid4().hex,
            correlation_id=correlation,
            occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
            source_facility=facilities[index % len(facilities)],
        )
        for index in range(count)
    ]
    with bus.uow() as uow:
        for envelope in envelopes:
            bus.publish(uow, envelope)
        uow.commit()
    return envelopes


def effects_of(bus: MessageBus, correlation: str) -> list[str]:
    """The cause of each recorded effect of the business key, one entry per effect."""
    with bus.uow() as uow:
        found = uow.events.by_correlation_id(correlation, limit=1_000_000)
    return [e.payload["of"] for e in found if e.type == EFFECT]


async def _main(database_url: str, nats_url: str, tag: str, handler: str) -> None:
    engine = create_engine(database_url)
    bus = build_bus(engine, handler)
    stream = await NatsEventStream.connect(stream_settings(nats_url, tag))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    relay = OutboxRelay(bus.uow)
    # The sweep must not compete here: every item is to come through the stream.
    options = WorkerOptions(batch=25, stale_after=timedelta(minutes=10))
    print("ready", flush=True)
    try:
        stats = await run_worker(bus, stream, stop, relay=relay, options=options)
    finally:
        await stream.close()
        engine.dispose()
    print(json.dumps(asdict(stats)), flush=True)


if __name__ == "__main__":
    asyncio.run(_main(*sys.argv[1:5]))
