"""The crash-loop guard: a handler that kills its worker every time spends attempts, then dies
in dead letter, and takes no batch-mate with it twice.

A claim counts the attempt and commits before any handler runs; a worker that dies inside the
handler leaves the item marked ``IN_PROGRESS``. Here the death is a ``BaseException`` escaping
``run_once`` (nothing after it runs, as with SIGKILL); ``test_crash_loop.py`` kills real
processes. The clock moves past the claim's lease between "restarts".
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
from suture.domain.exceptions import ExceptionType, subject_of
from suture.eventlog.envelope import Envelope
from suture.eventlog.retry import RetryPolicy
from suture.services.event_store import IN_PROGRESS, WorkStatus
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
HANDLER = "note_thing"
LEASE = timedelta(minutes=1)


class Death(BaseException):
    """The process dying inside the handler: not an ``Exception``, so nothing is recorded."""


@pytest.fixture
def uow(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[], UnitOfWork]]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        return self.now

    def restart(self) -> None:
        """A new worker, once the dead one's lease has run out."""
        self.now += LEASE


def note_thing(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    if envelope.payload.get("poison"):
        raise Death


def make_bus(uow: Callable[[], UnitOfWork], clock: Clock) -> MessageBus:
    return MessageBus(
        uow, {HANDLER: note_thing}, {"test.thing.*": [HANDLER]},
        retry=RetryPolicy(max_attempts=3), clock=clock, lease=LEASE,
    )  # fmt: skip


def publish(bus: MessageBus, *payloads: dict[str, bool]) -> list[str]:
    envelopes = [
        bus.envelope("test.thing.happened", p, idempotency_key=uuid4().hex, correlation_id="X")
        for p in payloads
    ]
    with bus.uow() as u:
        bus.publish_many(u, envelopes)
        u.commit()
    return [str(e.id) for e in envelopes]


def work(bus: MessageBus, event_id: str) -> tuple[object, ...] | str:
    """(status, attempts, last error) of the item, or "done"."""
    with bus.uow() as u:
        item = u.events.lock_work(HANDLER, event_id)
        if item is None:
            return "done" if u.events.is_processed(HANDLER, event_id) else "gone"
    return item.status, item.attempts, item.last_error


def attempts(bus: MessageBus, event_id: str) -> list[tuple[int, str, str]]:
    with bus.uow() as u:
        return [(a.attempt, a.error_kind, a.outcome) for a in u.events.attempts_of(event_id)]


def test_the_claim_spends_the_attempt_before_the_handler_runs(
    uow: Callable[[], UnitOfWork],
) -> None:
    clock = Clock()
    bus = make_bus(uow, clock)
    innocent, poison = publish(bus, {}, {"poison": True})

    with pytest.raises(Death):
        bus.run_once(10)

    assert [work(bus, e) for e in (innocent, poison)] == [
        (WorkStatus.PENDING, 1, IN_PROGRESS), (WorkStatus.PENDING, 1, IN_PROGRESS),
    ]  # fmt: skip
    assert bus.run_once(10) == 0  # leased: no other worker takes them before the lease ends


def test_batch_mates_of_a_death_run_alone_and_the_poison_dead_letters_after_its_attempts(
    uow: Callable[[], UnitOfWork],
) -> None:
    clock = Clock()
    bus = make_bus(uow, clock)
    before, poison, after = publish(bus, {}, {"poison": True}, {})

    deaths = 0
    for _ in range(10):  # the worker is restarted after each death
        try:
            bus.run_once(10)
            break
        except Death:
            deaths += 1
            clock.restart()
    with bus.uow() as u:
        subject = subject_of(event_id=poison, handler=HANDLER)
        opened = [(e.type, e.reason) for e in u.exceptions.find_open_for_subject(subject)]

    assert deaths == 3
    assert [work(bus, e) for e in (before, after)] == ["done", "done"]
    assert work(bus, poison) == (
        WorkStatus.DEAD, 3, "worker died while handling it 3 times (attempt 3)",
    )  # fmt: skip
    assert attempts(bus, poison) == [
        (1, "worker_died", "retry"), (2, "worker_died", "retry"), (3, "worker_died", "dead_letter"),
    ]  # fmt: skip
    assert attempts(bus, after) == [(1, "worker_died", "retry")]
    assert opened == [
        (ExceptionType.HANDLER_FAILED,
         f"{HANDLER} failed: worker died while handling it 3 times; gave up after 3 attempts"),
    ]  # fmt: skip


def test_a_death_then_a_success_leaves_one_logged_attempt_and_no_exception(
    uow: Callable[[], UnitOfWork],
) -> None:
    clock = Clock()
    bus = make_bus(uow, clock)
    deaths = [Death()]

    def dies_once(envelope: Envelope, u: UnitOfWork, context: HandlerContext) -> None:
        if deaths:
            raise deaths.pop()

    flaky = MessageBus(
        uow, {HANDLER: dies_once}, {"test.thing.*": [HANDLER]},
        retry=RetryPolicy(max_attempts=3), clock=clock, lease=LEASE,
    )  # fmt: skip
    (event,) = publish(bus, {})

    with pytest.raises(Death):
        flaky.run_once(10)
    clock.restart()
    taken = flaky.run_once(10)
    with bus.uow() as u:
        opened = u.exceptions.find_open_for_subject(subject_of(event_id=event, handler=HANDLER))

    assert (taken, work(bus, event), opened) == (1, "done", [])
    assert attempts(bus, event) == [(1, "worker_died", "retry")]
