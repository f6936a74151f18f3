"""The relay, the stream and the sweep against a real NATS JetStream and a real PostgreSQL.

DESIGN.md §8: the relay publishes every committed event once per de-duplication window (late
commits included), a republication after a crash has no second effect, a failed handler is
retried by the database sweep until dead letter, and work whose messages were lost is still done.
Each test has a log (PostgreSQL schema) and a stream of its own, deleted at the end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa
from nats_worker import (
    TRIGGER,
    build_bus,
    effects_of,
    fresh_schema,
    publish_events,
    record_effect,
    stream_settings,
)

from suture.adapters.db.engine import create_engine
from suture.adapters.nats.stream import (
    MSG_ID,
    NatsEventStream,
    StreamError,
    StreamSettings,
    subject_of,
)
from suture.adapters.nats.worker import WorkerOptions, WorkerStats, run_worker
from suture.eventlog.envelope import Envelope, to_json
from suture.eventlog.retry import RetryPolicy
from suture.services.event_store import OutboxEvent, WorkStatus
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.postgres


class SimulatedCrashError(Exception):
    """Raised between the stream's acknowledgement and the relay's commit."""


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    with fresh_schema(postgres_url) as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


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


def handler_name() -> str:
    return f"effect-{uuid4().hex[:10]}"


async def relay_all(relay: OutboxRelay, stream: NatsEventStream) -> int:
    """Run the relay until nothing is left, publishing through ``stream``."""
    loop = asyncio.get_running_loop()

    def publish(events: Sequence[OutboxEvent]) -> None:
        asyncio.run_coroutine_threadsafe(stream.publish_stored(events), loop).result()

    total = 0
    while published := await asyncio.to_thread(relay.run_once, publish):
        total += published
    return total


async def work_until(
    bus: MessageBus,
    stream: NatsEventStream,
    done: Callable[[], bool],
    *,
    relay: OutboxRelay | None = None,
    options: WorkerOptions | None = None,
    timeout: float = 60.0,
) -> WorkerStats:
    """Run the worker loop until ``done()`` holds (checked in a thread), then stop it."""
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(bus, stream, stop, relay=relay, options=options))
    deadline = time.monotonic() + timeout
    try:
        while not await asyncio.to_thread(done):
            if worker.done() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
    return await worker


def test_subjects_name_facility_and_type_and_replace_reserved_characters() -> None:
    bus = build_bus(sa.create_engine("sqlite://"), "unused")
    envelopes = [
        bus.envelope(TRIGGER, {}, idempotency_key=key, correlation_id="C", source_facility=f)
        for key, f in (("a", "FAC-1"), ("b", None), ("c", "St. Mary's > *east*"))
    ]

    subjects = [subject_of(envelope, "suture.events") for envelope in envelopes]

    assert subjects == [
        "suture.events.FAC-1.test.nats.happened",
        "suture.events.system.test.nats.happened",
        "suture.events.St__Mary_s____east_.test.nats.happened",
    ]


@pytest.mark.parametrize(
    ("prefix", "event_type"),
    [("suture.events", "test.nats happened"), ("suture events", "test.nats.happened"),
     ("suture.events", "test.nats\r\nPUB x 1")],
)  # fmt: skip
def test_a_subject_with_whitespace_is_refused_naming_the_subject(
    prefix: str, event_type: str
) -> None:
    event = OutboxEvent(id="e", type=event_type, source_facility=None, json=b"{}")

    with pytest.raises(StreamError) as refused:
        subject_of(event, prefix)

    assert refused.value.field == "subject"


def test_the_relay_publishes_each_committed_event_once_with_its_id_as_message_id(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    bus = build_bus(engine, handler_name())
    published = publish_events(bus, 6, f"REL-{uuid4().hex}", facilities=("FAC-1", None))

    async def scenario() -> tuple[int, int, list[tuple[str, str, str]]]:
        stream = await NatsEventStream.connect(settings)
        try:
            relay = OutboxRelay(bus.uow)
            first = await relay_all(relay, stream)
            again = await relay_all(relay, stream)
            messages = await stream.fetch(10, timeout=1.0)
            seen = [(m.subject, m.headers[MSG_ID], m.data.decode()) for m in messages]  # type: ignore[index]
            for message in messages:
                await message.ack()
            return first, again, seen
        finally:
            await stream.close()

    first, again, seen = asyncio.run(scenario())

    prefix = settings.subject_prefix
    assert (first, again) == (6, 0)
    assert sorted((subject, event_id) for subject, event_id, _ in seen) == sorted(
        (subject_of(envelope, prefix), str(envelope.id)) for envelope in published
    )
    # The envelope's JSON, written from the stored row (its payload text copied), byte for byte
    assert {event_id: data for _, event_id, data in seen} == {
        str(envelope.id): to_json(envelope).decode() for envelope in published
    }


def test_publish_counts_what_the_stream_stored_as_new_and_refuses_when_no_stream_listens(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    bus = build_bus(engine, handler_name())
    envelopes = publish_events(bus, 5, f"PUB-{uuid4().hex}")
    elsewhere = StreamSettings(url=settings.url, stream=settings.stream,
                               subject_prefix=f"nowhere_{uuid4().hex[:8]}.events")  # fmt: skip

    async def scenario() -> tuple[int, int, int, str]:
        stream = await NatsEventStream.connect(settings)
        try:
            new = await stream.publish(envelopes[:3])
            again = await stream.publish(envelopes)  # three duplicates, two new
            nothing = await stream.publish([])
            unheard = NatsEventStream(elsewhere, stream._client)  # no stream has its subjects
            with pytest.raises(StreamError) as refused:
                await unheard.publish(envelopes[:1])
            return new, again, nothing, str(refused.value)
        finally:
            await stream.close()

    new, again, nothing, refused = asyncio.run(scenario())

    assert (new, again, nothing) == (3, 2, 0)
    assert "503" in refused


def test_a_republication_after_a_relay_crash_is_dropped_and_applies_no_effect_twice(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    bus = build_bus(engine, handler_name())
    correlation = f"CRASH-{uuid4().hex}"
    published = publish_events(bus, 20, correlation)

    async def scenario() -> tuple[int, int, WorkerStats]:
        stream = await NatsEventStream.connect(settings)
        try:
            loop = asyncio.get_running_loop()

            def publish_then_crash(events: Sequence[OutboxEvent]) -> None:
                asyncio.run_coroutine_threadsafe(stream.publish_stored(events), loop).result()
                raise SimulatedCrashError

            relay = OutboxRelay(bus.uow)
            with pytest.raises(SimulatedCrashError):
                await asyncio.to_thread(relay.run_once, publish_then_crash)
            republished = await relay_all(OutboxRelay(bus.uow), stream)
            in_stream = (await stream.info()).state.messages
            stats = await work_until(
                bus, stream, lambda: len(effects_of(bus, correlation)) >= len(published)
            )
            return republished, in_stream, stats
        finally:
            await stream.close()

    republished, in_stream, stats = asyncio.run(scenario())
    effects = effects_of(bus, correlation)

    assert (republished, in_stream) == (20, 20)
    assert (len(effects), len(set(effects))) == (20, 20)
    assert (stats.acknowledged, stats.from_stream, stats.swept) == (20, 20, 0)


def test_an_event_committed_late_below_a_published_position_is_still_published(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    bus = build_bus(engine, handler_name())
    correlation = f"LATE-{uuid4().hex}"
    late, early = (
        bus.envelope(TRIGGER, {"n": n}, idempotency_key=uuid4().hex, correlation_id=correlation)
        for n in (1, 2)
    )

    async def scenario() -> tuple[list[str], list[str], tuple[int | None, ...]]:
        stream = await NatsEventStream.connect(settings)
        seconds = [0.0]
        try:
            relay = OutboxRelay(bus.uow, monotonic=lambda: seconds[0])
            with bus.uow() as slow:
                bus.publish(slow, late)  # takes the lower position, commits last
                with bus.uow() as fast:
                    bus.publish(fast, early)
                    fast.commit()
                first = await _relayed_ids(relay, stream)
                slow.commit()
            seconds[0] = 1.0  # below the relay's tail: the next wide scan (once a second) finds it
            second = await _relayed_ids(relay, stream)
            with bus.uow() as uow:
                positions = tuple(uow.events.position_of(str(e.id)) for e in (late, early))
            return first, second, positions
        finally:
            await stream.close()

    first, second, (late_position, early_position) = asyncio.run(scenario())

    assert (late_position or 0) < (early_position or 0)
    assert (first, second) == ([str(early.id)], [str(late.id)])


async def _relayed_ids(relay: OutboxRelay, stream: NatsEventStream) -> list[str]:
    sent: list[str] = []
    loop = asyncio.get_running_loop()

    def publish(events: Sequence[OutboxEvent]) -> None:
        asyncio.run_coroutine_threadsafe(stream.publish_stored(events), loop).result()
        sent.extend(event.id for event in events)

    await asyncio.to_thread(relay.run_once, publish)
    return sent


def test_a_failing_handler_is_retried_by_the_sweep_and_dead_lettered_after_max_attempts(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    handler = handler_name()
    retry = RetryPolicy(
        max_attempts=3, base_delay=timedelta(milliseconds=50), max_delay=timedelta(milliseconds=100)
    )
    bus = build_bus(engine, handler, failing=True, retry=retry)
    (event,) = publish_events(bus, 1, f"POISON-{uuid4().hex}")
    event_id = str(event.id)

    def dead() -> bool:
        with bus.uow() as uow:
            return [item.status for item in uow.events.work_of(event_id)] == [WorkStatus.DEAD]

    async def scenario() -> tuple[WorkerStats, int]:
        stream = await NatsEventStream.connect(settings)
        try:
            options = WorkerOptions(sweep_interval=0.05)
            stats = await work_until(bus, stream, dead, relay=OutboxRelay(bus.uow), options=options)
            redelivered = (await stream.consumer_info()).num_redelivered
            return stats, redelivered
        finally:
            await stream.close()

    stats, redelivered = asyncio.run(scenario())
    with bus.uow() as uow:
        attempts = [(a.attempt, a.outcome) for a in uow.events.attempts_of(event_id)]

    assert attempts == [(1, "retry"), (2, "retry"), (3, "dead_letter")]
    assert (stats.from_stream, stats.swept, redelivered) == (1, 2, 0)


def test_work_whose_messages_were_lost_is_done_once_by_the_sweep_when_stale(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    bus = build_bus(engine, handler_name())
    correlation = f"LOST-{uuid4().hex}"
    publish_events(bus, 20, correlation)
    lost = OutboxRelay(bus.uow).run_once(lambda envelopes: None)  # "published", never arrived

    def all_done() -> bool:
        return len(effects_of(bus, correlation)) >= 20

    async def scenario() -> WorkerStats:
        stream = await NatsEventStream.connect(settings)
        try:
            options = WorkerOptions(sweep_interval=0.05, stale_after=timedelta(milliseconds=200))
            return await work_until(bus, stream, all_done, options=options)
        finally:
            await stream.close()

    stats = asyncio.run(scenario())
    effects = effects_of(bus, correlation)

    assert lost == 20
    assert (len(effects), len(set(effects))) == (20, 20)
    assert (stats.from_stream, stats.swept) == (0, 20)


def test_a_worker_that_stops_gives_its_prefetched_batch_back_at_once(
    engine: sa.Engine, settings: StreamSettings
) -> None:
    handler = handler_name()
    correlation = f"PREFETCH-{uuid4().hex}"
    seed = build_bus(engine, handler)
    publish_events(seed, 20, correlation)

    async def scenario() -> tuple[WorkerStats, WorkerStats]:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def record_then_stop(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
            record_effect(envelope, uow, context)
            loop.call_soon_threadsafe(stop.set)  # while the next batch is held, prefetched

        stopping = MessageBus(
            seed.uow, {handler: record_then_stop}, {TRIGGER: [handler]}, clock=seed.clock
        )
        stream = await NatsEventStream.connect(settings)
        try:
            await relay_all(OutboxRelay(seed.uow), stream)
            options = WorkerOptions(batch=5, stale_after=timedelta(minutes=10))
            first = await run_worker(stopping, stream, stop, options=options)
            done = lambda: len(effects_of(seed, correlation)) >= 20  # noqa: E731
            # Well within ack_wait (60 s): held messages would come back only after it.
            rest = await work_until(seed, stream, done, options=options, timeout=30)
            return first, rest
        finally:
            await stream.close()

    first, rest = asyncio.run(scenario())
    effects = effects_of(seed, correlation)

    assert first.acknowledged == 5
    assert (rest.acknowledged, rest.from_stream) == (15, 15)
    assert (len(effects), len(set(effects))) == (20, 20)
