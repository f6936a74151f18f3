"""A stream worker's batch, ``MessageBus.process_due``, and the lease of ``run_once``.

``process_due`` reads the due work of delivered events and runs it in one transaction: exactly
the pending, due items of those events for the bus's handlers, once; a redelivery finds
nothing. ``run_once`` leases only the items that failed, before its batch commits, so they wait
for their retry time; the items done are gone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.retry import RetryPolicy
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.stream_work import process_delivered
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
def uow(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[], UnitOfWork]]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        if envelope.payload.get("fail"):
            raise ConnectionError("downstream unavailable")
        self.seen.append(str(envelope.id))


def make_bus(uow: Callable[[], UnitOfWork], handler: Recorder, now: list[datetime]) -> MessageBus:
    return MessageBus(
        uow, {"record": handler}, {"test.thing.*": ["record"]},
        retry=RetryPolicy(max_attempts=3), clock=lambda: now[0], rand=lambda: 0.5,
    )  # fmt: skip


def publish(bus: MessageBus, *payloads: dict[str, bool]) -> list[Envelope]:
    envelopes = [
        bus.envelope("test.thing.happened", dict(p), idempotency_key=uuid4().hex,
                     correlation_id="PO-1")
        for p in payloads
    ]  # fmt: skip
    with bus.uow() as u:
        bus.publish_many(u, envelopes)
        u.commit()
    return envelopes


def test_process_due_runs_the_due_work_of_the_events_given_once(
    uow: Callable[[], UnitOfWork],
) -> None:
    handler, now = Recorder(), [AT]
    bus = make_bus(uow, handler, now)
    first, second, third = publish(bus, {}, {}, {})

    ran = process_delivered(bus, [str(third.id), str(first.id)])

    assert ran == 2
    assert handler.seen == [str(first.id), str(third.id)]
    assert process_delivered(bus, [str(first.id), str(third.id)]) == 0  # a redelivery
    assert process_delivered(bus, []) == 0
    assert bus.run_once() == 1
    assert handler.seen[-1] == str(second.id)


def test_process_due_leaves_work_that_is_not_due_to_its_time(
    uow: Callable[[], UnitOfWork],
) -> None:
    handler, now = Recorder(), [AT]
    bus = make_bus(uow, handler, now)
    (failing,) = publish(bus, {"fail": True})
    assert process_delivered(bus, [str(failing.id)]) == 1  # failed: retry scheduled

    assert process_delivered(bus, [str(failing.id)]) == 0
    with bus.uow() as u:
        (item,) = u.events.work_of(str(failing.id))
    assert item.attempts == 1
    assert item.next_attempt_at > AT


def test_run_once_leases_nothing_it_completes_and_schedules_what_failed(
    uow: Callable[[], UnitOfWork],
) -> None:
    handler, now = Recorder(), [AT]
    bus = make_bus(uow, handler, now)
    done, failing = publish(bus, {}, {"fail": True})

    assert bus.run_once() == 2

    with bus.uow() as u:
        assert u.events.work_of(str(done.id)) == []
        (item,) = u.events.work_of(str(failing.id))
    assert item.attempts == 1
    assert AT < item.next_attempt_at < AT + timedelta(minutes=1)  # its retry, not the lease
    assert bus.run_once() == 0
