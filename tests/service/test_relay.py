"""The outbox relay and the stream worker's sweep through a real unit of work on SQLite.

The stream itself is a list here (``publish`` appends); the real NATS JetStream is in
``tests/integration/test_nats_relay.py``. Time is fixed: the relay's monotonic clock and the
bus's clock are the tests' own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db import eventlog_tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.stream_work import sweep
from suture.services.unit_of_work import UnitOfWork

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Stream:
    """A stand-in for JetStream: what was published, in order."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def publish(self, envelopes: Sequence[Envelope]) -> None:
        self.ids.extend(str(envelope.id) for envelope in envelopes)


@pytest.fixture
def engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "suture.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def noop(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """Succeeds; the tracking row is the effect."""


def bus_on(engine: sa.Engine, clock: Clock) -> MessageBus:
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine), {"noop": noop}, {"test.*": ["noop"]}, clock=clock
    )


def publish(bus: MessageBus, count: int) -> list[str]:
    envelopes = [
        bus.envelope("test.relay.happened", {}, idempotency_key=uuid4().hex, correlation_id="R")
        for _ in range(count)
    ]
    with bus.uow() as uow:
        for envelope in envelopes:
            bus.publish(uow, envelope)
        uow.commit()
    return [str(envelope.id) for envelope in envelopes]


def test_the_relay_publishes_each_event_once_in_log_order(engine: sa.Engine) -> None:
    bus, stream = bus_on(engine, Clock()), Stream()
    relay = OutboxRelay(bus.uow)
    ids = publish(bus, 5)

    counts = [relay.run_once(stream.publish, limit=3) for _ in range(3)]

    assert (counts, stream.ids) == ([3, 2, 0], ids)


def test_a_failed_publication_marks_nothing_and_the_next_run_publishes_the_batch(
    engine: sa.Engine,
) -> None:
    bus, stream = bus_on(engine, Clock()), Stream()
    relay = OutboxRelay(bus.uow)
    ids = publish(bus, 3)

    def unreachable(envelopes: Sequence[Envelope]) -> None:
        raise ConnectionError

    with pytest.raises(ConnectionError):
        relay.run_once(unreachable)
    again = relay.run_once(stream.publish)

    assert (again, stream.ids) == (3, ids)


def test_the_horizon_moves_below_published_events_only_once_they_have_settled(
    engine: sa.Engine,
) -> None:
    bus, stream, seconds = bus_on(engine, Clock()), Stream(), [0.0]
    relay = OutboxRelay(bus.uow, settle=timedelta(seconds=30), monotonic=lambda: seconds[0])
    publish(bus, 3)
    relay.run_once(stream.publish)
    publish(bus, 3)
    seconds[0] = 1.0
    relay.run_once(stream.publish)
    before = relay.horizon

    seconds[0] = 31.0
    relay.run_once(stream.publish)

    assert (before, relay.horizon) == (0, 3)


def test_a_full_scan_finds_an_unpublished_event_below_the_horizon(engine: sa.Engine) -> None:
    bus, stream, seconds = bus_on(engine, Clock()), Stream(), [0.0]
    relay = OutboxRelay(
        bus.uow,
        settle=timedelta(0),
        full_scan_every=timedelta(minutes=5),
        monotonic=lambda: seconds[0],
    )
    first, *_ = publish(bus, 3)
    relay.run_once(stream.publish)
    publish(bus, 1)
    seconds[0] = 1.0  # a wide scan, from the horizon: only those move it
    relay.run_once(stream.publish)  # the horizon is now above the first three
    with engine.begin() as connection:  # as if the first had committed after the horizon moved
        p = eventlog_tables.event_publications
        connection.execute(sa.delete(p).where(p.c.event_id == first))

    seconds[0] = 60.0
    in_window = relay.run_once(stream.publish)
    seconds[0] = 301.0
    full_scan = relay.run_once(stream.publish)

    assert (relay.horizon, in_window, full_scan, stream.ids[-1]) == (3, 0, 1, first)


def test_the_sweep_leaves_first_deliveries_to_the_stream_until_they_are_stale(
    engine: sa.Engine,
) -> None:
    clock = Clock()
    bus = bus_on(engine, clock)
    publish(bus, 2)
    OutboxRelay(bus.uow, clock=clock).run_once(Stream().publish)

    clock.now = START + timedelta(seconds=10)
    early = sweep(bus, 100, stale_after=timedelta(seconds=30))
    clock.now = START + timedelta(seconds=31)
    stale = sweep(bus, 100, stale_after=timedelta(seconds=30))

    assert (early, stale) == (0, 2)


def test_the_sweep_takes_work_made_due_after_its_event_was_published(engine: sa.Engine) -> None:
    clock = Clock()
    bus = bus_on(engine, clock)
    (event_id,) = publish(bus, 1)
    OutboxRelay(bus.uow, clock=clock).run_once(Stream().publish)
    clock.now = START + timedelta(seconds=5)
    with bus.uow() as uow:  # a failed attempt, due again now: after the publication
        uow.events.record_failure(
            "noop",
            event_id,
            at=clock.now,
            error_kind="transient",
            error="E",
            next_attempt_at=clock.now,
        )
        uow.commit()

    swept = sweep(bus, 100, stale_after=timedelta(minutes=10))

    with bus.uow() as uow:
        assert (swept, [p.handler for p in uow.events.processed_of(event_id)]) == (1, ["noop"])


def test_between_wide_scans_the_relay_reads_on_from_its_tail_and_a_wide_scan_finds_late_events(
    engine: sa.Engine,
) -> None:
    bus, stream, seconds = bus_on(engine, Clock()), Stream(), [0.0]
    relay = OutboxRelay(bus.uow, wide_scan_every=timedelta(seconds=1), monotonic=lambda: seconds[0])
    first, *_ = publish(bus, 3)
    relay.run_once(stream.publish)
    with engine.begin() as connection:  # as if the first had committed below the relay's tail
        p = eventlog_tables.event_publications
        connection.execute(sa.delete(p).where(p.c.event_id == first))
    (later,) = publish(bus, 1)

    from_tail = relay.run_once(stream.publish)
    seconds[0] = 1.0
    wide = relay.run_once(stream.publish)

    assert (from_tail, wide, stream.ids[-2:]) == (1, 1, [later, first])
