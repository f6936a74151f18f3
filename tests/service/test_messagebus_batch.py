"""The bus runs claimed work as one batch: one transaction, a failure taken back alone.

The same guarantees as one item at a time (``test_messagebus.py``): effects, new events and the
tracking row of an item commit together; a failing handler's writes are taken back while the
rest of its batch commits, and its attempt is recorded; a crash loses the batch whole, and the
work comes back. Effects here are events the handlers publish (counted per cause) and usage rows.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.inventory import UsageRecord
from suture.eventlog.envelope import Envelope
from suture.eventlog.retry import RetryPolicy
from suture.services.event_store import WorkStatus
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus, Processing
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
EFFECT = "test.effect.recorded"
HANDLER = "record_effect"


class Crash(BaseException):
    """Stands for the process dying mid-batch: not an ``Exception``, so no attempt is recorded."""


@pytest.fixture
def uow(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[], UnitOfWork]]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


def record_effect(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """Writes a usage row and publishes an effect event; fails or crashes when told to."""
    uow.usage.add(
        UsageRecord(id=f"U-{envelope.id}", facility_id="fac-1", location_id="loc-1",
                    item_id="item-1", quantity=Decimal(1), uom="EA", used_at=AT)
    )  # fmt: skip
    context.emit(EFFECT, {"of": str(envelope.id)}, idempotency_key=uuid4().hex)
    if envelope.payload.get("fail"):
        raise ConnectionError("downstream unavailable")
    if envelope.payload.get("crash"):
        raise Crash


def make_bus(uow: Callable[[], UnitOfWork]) -> MessageBus:
    return MessageBus(
        uow, {HANDLER: record_effect}, {"test.thing.*": [HANDLER]},
        retry=RetryPolicy(max_attempts=3), clock=lambda: AT, rand=lambda: 0.5,
    )  # fmt: skip


def publish(bus: MessageBus, *payloads: dict[str, bool]) -> list[Envelope]:
    envelopes = [
        bus.envelope(
            "test.thing.happened", dict(p), idempotency_key=uuid4().hex, correlation_id="PO-1"
        )
        for p in payloads
    ]
    with bus.uow() as u:
        for envelope in envelopes:
            bus.publish(u, envelope)
        u.commit()
    return envelopes


def effects(bus: MessageBus, cause: Envelope) -> list[Envelope]:
    with bus.uow() as u:
        return [e for e in u.events.by_correlation_id("PO-1")
                if e.type == EFFECT and e.payload["of"] == str(cause.id)]  # fmt: skip


def state(bus: MessageBus, cause: Envelope) -> tuple[int, bool, bool]:
    """(effect events, usage row written, tracking row written) of one cause."""
    with bus.uow() as u:
        used = u.usage.get(f"U-{cause.id}") is not None
        tracked = u.events.is_processed(HANDLER, str(cause.id))
    return len(effects(bus, cause)), used, tracked


def test_a_failing_item_in_a_batch_leaves_the_others_effects_and_records_its_attempt(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    first, failing, last = publish(bus, {}, {"fail": True}, {})

    taken = bus.run_once(10)
    with bus.uow() as u:
        work = u.events.lock_work(HANDLER, str(failing.id))
        attempts = [(a.attempt, a.outcome) for a in u.events.attempts_of(str(failing.id))]

    assert taken == 3
    assert [state(bus, e) for e in (first, failing, last)] == [
        (1, True, True), (0, False, False), (1, True, True),
    ]  # fmt: skip
    assert work is not None
    assert (work.status, work.attempts, work.next_attempt_at) == (
        WorkStatus.PENDING, 1, AT + timedelta(seconds=1),
    )  # fmt: skip
    assert attempts == [(1, "retry")]


def test_events_a_handler_publishes_inside_a_batch_are_appended_with_their_cause(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    causes = publish(bus, {}, {}, {"fail": True}, {})

    bus.run_once(10)

    found = [[(e.causation_id, e.trace_id, e.correlation_id) for e in effects(bus, c)]
             for c in causes]  # fmt: skip
    assert found == [[(c.id, c.trace_id, "PO-1")] if not c.payload else [] for c in causes]


def test_a_crash_mid_batch_loses_the_batch_whole_and_its_work_comes_back_after_the_lease(
    uow: Callable[[], UnitOfWork],
) -> None:
    now = [AT]
    bus = MessageBus(
        uow, {HANDLER: record_effect}, {"test.thing.*": [HANDLER]},
        retry=RetryPolicy(max_attempts=3), clock=lambda: now[0], rand=lambda: 0.5,
    )  # fmt: skip
    first, crashing = publish(bus, {}, {"crash": True})

    with pytest.raises(Crash):
        bus.run_once(10)
    lost = [state(bus, e) for e in (first, crashing)]
    with bus.uow() as u:  # the process restarts with the handler fixed
        u.events.discard(HANDLER, str(crashing.id))
        u.commit()
    during_lease = bus.run_once(10)
    now[0] = AT + timedelta(minutes=1)
    again = bus.run_once(10)

    assert lost == [(0, False, False), (0, False, False)]
    assert (during_lease, again, state(bus, first)) == (0, 1, (1, True, True))


def test_process_many_reports_each_item_and_runs_each_once(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    ok, failing = publish(bus, {}, {"fail": True})
    keys = [(HANDLER, str(ok.id)), (HANDLER, str(failing.id)), (HANDLER, "no-such-event")]

    first = bus.process_many(keys)
    second = bus.process_many(keys)

    assert first == [Processing.DONE, Processing.RETRY, Processing.SKIPPED]
    assert second == [Processing.SKIPPED, Processing.RETRY, Processing.SKIPPED]
    assert (state(bus, ok), state(bus, failing)) == ((1, True, True), (0, False, False))
