"""The event log store on SQLite and PostgreSQL: outbox, work items, tracking, attempts, replay.

Every test runs on both databases (the ``engine`` fixture). Tests share one PostgreSQL schema per
session, so each names its own handlers and business keys (random hex) and looks only at those.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import uuid7
from suture.services.event_store import IN_PROGRESS, AlreadyProcessedError, Lag, WorkStatus

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def event(
    at: datetime = AT,
    *,
    key: str | None = None,
    correlation: str = "PO-1",
    trace: str = "trace-1",
    event_type: str = "test.thing.happened",
    payload: dict[str, Any] | None = None,
) -> Envelope:
    return Envelope(
        id=uuid7(at),
        type=event_type,
        schema_version=1,
        occurred_at=at,
        recorded_at=at,
        source_system="epic",
        source_facility="fac-1",
        trace_id=trace,
        correlation_id=correlation,
        causation_id=None,
        idempotency_key=key or uuid4().hex,
        payload={"amount": Decimal("1.50"), "n": 7} if payload is None else payload,
    )


@pytest.fixture
def names() -> tuple[str, str]:
    tag = uuid4().hex[:10]
    return f"first-{tag}", f"second-{tag}"


def append(uow: UowFactory, envelope: Envelope, handlers: tuple[str, ...]) -> bool:
    with uow() as u:
        appended = u.events.append(envelope, handlers)
        u.commit()
    return appended


# --- the log ---------------------------------------------------------------------------------


def test_an_appended_event_reads_back_equal_with_decimal_strings_exact(uow: UowFactory) -> None:
    payload = {"amount": Decimal("0.0001"), "big": 10**30, "text": "Ünïcode ✓", "list": [None]}
    original = event(payload=payload)

    append(uow, original, ())
    with uow() as u:
        stored = u.events.get(str(original.id))

    assert stored == original
    assert stored is not None
    assert stored.payload["amount"] == "0.0001"


def test_the_same_idempotency_key_is_appended_once_with_its_work(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    key = uuid4().hex
    first, again = event(key=key), event(key=key)

    results = (append(uow, first, names), append(uow, again, names))
    with uow() as u:
        stored = (u.events.get(str(first.id)), u.events.get(str(again.id)))
        work = [u.events.list_work(handler=name) for name in names]

    assert results == (True, False)
    assert stored == (first, None)
    assert [[item.event_id for item in items] for items in work] == [[str(first.id)]] * 2


def test_events_are_found_by_correlation_id_and_trace_id_in_log_order(uow: UowFactory) -> None:
    correlation, trace = f"PO-{uuid4().hex}", f"trace-{uuid4().hex}"
    later = event(AT + timedelta(seconds=1), correlation=correlation)
    earlier = event(AT, correlation=correlation, trace=trace)
    append(uow, later, ())
    append(uow, earlier, ())

    with uow() as u:
        by_correlation = u.events.by_correlation_id(correlation)
        by_trace = u.events.by_trace_id(trace)

    assert (by_correlation, by_trace) == ([later, earlier], [earlier])


def test_events_between_pages_a_time_range_of_one_type_in_log_order(uow: UowFactory) -> None:
    kind = f"test.range{uuid4().hex[:8]}.happened"
    inside = [event(AT + timedelta(minutes=i), event_type=kind) for i in range(3)]
    outside = event(AT + timedelta(hours=1), event_type=kind)
    for each in [*inside, outside]:
        append(uow, each, ())

    with uow() as u:
        first = u.events.events_between(AT, AT + timedelta(hours=1), event_type=kind, limit=2)
        rest = u.events.events_between(
            AT, AT + timedelta(hours=1), event_type=kind, after_position=first[-1][0]
        )

    assert [e for _, e in first + rest] == inside


# --- claiming and completing -----------------------------------------------------------------


def test_claim_takes_due_pending_work_in_log_order_and_leases_it(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    due = [event(AT), event(AT + timedelta(seconds=1))]
    future = event(AT + timedelta(hours=1))
    for each in [*due, future]:
        append(uow, each, (handler,))
    lease = AT + timedelta(minutes=5)

    with uow() as u:
        claimed = u.events.claim_due(AT + timedelta(minutes=1), 10, handlers=[handler],
                                     lease_until=lease)  # fmt: skip
        u.commit()
    with uow() as u:
        again = u.events.claim_due(AT + timedelta(minutes=1), 10, handlers=[handler])
        leased = u.events.lock_work(handler, str(due[0].id))

    assert [item.event_id for item in claimed] == [str(e.id) for e in due]
    assert again == []
    assert leased is not None
    assert leased.next_attempt_at == lease


def test_complete_writes_the_tracking_row_and_removes_the_work(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler, other = names
    original = event()
    append(uow, original, names)
    event_id = str(original.id)

    with uow() as u:
        u.events.complete(handler, event_id, AT)
        u.commit()
    with uow() as u:
        state = (
            u.events.lock_work(handler, event_id),
            u.events.is_processed(handler, event_id),
            [p.handler for p in u.events.processed_of(event_id)],
            [w.handler for w in u.events.work_of(event_id)],
        )

    assert state == (None, True, [handler], [other])


def test_completing_twice_raises_already_processed_and_leaves_the_transaction_usable(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    original = event()
    append(uow, original, (handler,))
    with uow() as u:
        u.events.complete(handler, str(original.id), AT)
        u.commit()

    with uow() as u:
        with pytest.raises(AlreadyProcessedError):
            u.events.complete(handler, str(original.id), AT)
        still_usable = u.events.get(str(original.id))

    assert still_usable == original


# --- failures, parking, retry ----------------------------------------------------------------


def claim(uow: UowFactory, handler: str, envelope: Envelope) -> None:
    with uow() as u:
        u.events.claim_attempts([(handler, str(envelope.id))], AT, AT + timedelta(minutes=1))
        u.commit()


def test_a_claim_counts_the_attempt_leases_the_item_and_marks_it_in_progress(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    original = event()
    append(uow, original, (handler,))

    claim(uow, handler, original)
    with uow() as u:
        item = u.events.lock_work(handler, str(original.id))

    assert item is not None
    assert (item.status, item.attempts, item.next_attempt_at, item.updated_at,
            item.last_error) == (
        WorkStatus.PENDING, 1, AT + timedelta(minutes=1), AT, IN_PROGRESS,
    )  # fmt: skip


def test_a_failure_logs_the_attempt_its_claim_counted_and_schedules_it(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    original = event()
    append(uow, original, (handler,))
    later = AT + timedelta(seconds=3)
    claim(uow, handler, original)

    with uow() as u:
        item = u.events.record_failure(
            handler, str(original.id), at=AT, error_kind="transient", error="boom",
            next_attempt_at=later,
        )  # fmt: skip
        u.commit()
    with uow() as u:
        attempts = [(a.handler, a.attempt, a.error_kind, a.outcome, a.error)
                    for a in u.events.attempts_of(str(original.id))]  # fmt: skip

    assert (item.status, item.attempts, item.next_attempt_at, item.last_error) == (
        WorkStatus.PENDING,
        1,
        later,
        "boom",
    )
    assert attempts == [(handler, 1, "transient", "retry", "boom")]


def test_dead_letter_then_retry_makes_the_work_due_with_a_fresh_budget(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    original = event()
    append(uow, original, (handler,))
    claim(uow, handler, original)
    with uow() as u:
        dead = u.events.dead_letter(
            handler, str(original.id), at=AT, error_kind="permanent", error="bad"
        )
        u.commit()
    with uow() as u:
        retried = u.events.retry(handler, str(original.id), AT + timedelta(hours=1))
        u.commit()

    assert (dead.status, dead.attempts) == (WorkStatus.DEAD, 1)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.next_attempt_at) == (
        WorkStatus.PENDING,
        0,
        AT + timedelta(hours=1),
    )


def test_parked_work_spends_no_attempt_waits_for_its_dependency_and_redrive_makes_it_due(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    dependency = f"item:LOC-{uuid4().hex}"
    parked, unrelated = event(), event()
    append(uow, parked, (handler,))
    append(uow, unrelated, (handler,))
    claim(uow, handler, parked)  # parking gives the claim's count back
    with uow() as u:
        item = u.events.park(handler, str(parked.id), at=AT, dependency=dependency, error="x")
        u.events.park(handler, str(unrelated.id), at=AT, dependency="item:other", error="x")
        u.commit()
    with uow() as u:
        claimable = u.events.claim_due(AT + timedelta(days=1), 10, handlers=[handler])
    with uow() as u:
        redriven = u.events.redrive(dependency, AT + timedelta(hours=2))
        u.commit()

    assert (item.status, item.attempts, item.parked_on) == (WorkStatus.PARKED, 0, dependency)
    assert claimable == []
    assert [(w.event_id, w.status, w.parked_on, w.next_attempt_at) for w in redriven] == [
        (str(parked.id), WorkStatus.PENDING, None, AT + timedelta(hours=2))
    ]


def test_requeue_recreates_work_only_for_handlers_that_have_not_processed_the_event(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    done, missing = names
    original = event()
    append(uow, original, (done,))
    with uow() as u:
        u.events.complete(done, str(original.id), AT)
        u.commit()

    with uow() as u:
        requeued = u.events.requeue(str(original.id), [done, missing], AT)
        u.commit()
    with uow() as u:
        work = [(w.handler, w.status) for w in u.events.work_of(str(original.id))]

    assert requeued == [missing]
    assert work == [(missing, WorkStatus.PENDING)]


def test_counts_list_and_lag_describe_the_work(uow: UowFactory, names: tuple[str, str]) -> None:
    handler = names[0]
    events = [event(AT + timedelta(seconds=i)) for i in range(3)]
    for each in events:
        append(uow, each, (handler,))
    with uow() as u:
        u.events.dead_letter(handler, str(events[0].id), at=AT, error_kind="permanent", error="x")
        u.commit()

    with uow() as u:
        counts = u.events.counts()[handler]
        dead = u.events.list_work(status=WorkStatus.DEAD, handler=handler)
        page = u.events.list_work(handler=handler, limit=1, after=(dead[0].event_position, handler))
        lag = u.events.lag(handlers=[handler])

    assert counts == {WorkStatus.PENDING: 2, WorkStatus.PARKED: 0, WorkStatus.DEAD: 1}
    assert [w.event_id for w in dead + page] == [str(events[0].id), str(events[1].id)]
    assert lag == Lag(2, AT + timedelta(seconds=1))
    assert lag.age(AT + timedelta(seconds=11)) == timedelta(seconds=10)


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


@pytest.mark.postgres
def test_two_workers_claiming_at_once_on_postgresql_never_take_the_same_item(
    postgres_engine: sa.Engine, names: tuple[str, str]
) -> None:
    handler = names[0]
    uow: UowFactory = lambda: SqlAlchemyUnitOfWork(postgres_engine)  # noqa: E731
    for index in range(200):
        append(uow, event(AT + timedelta(microseconds=index)), (handler,))
    second = create_engine(postgres_engine.url.render_as_string(hide_password=False))
    engines = [postgres_engine, second]
    claimed: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(index: int) -> None:
        barrier.wait()
        while True:
            with SqlAlchemyUnitOfWork(engines[index]) as u:
                items = u.events.claim_due(AT + timedelta(days=1), 7, handlers=[handler])
                for item in items:
                    u.events.complete(item.handler, item.event_id, AT)
                u.commit()
            if not items:
                return
            claimed[index].extend(item.event_id for item in items)

    try:
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        second.dispose()

    assert len(claimed[0]) + len(claimed[1]) == 200
    assert set(claimed[0]).isdisjoint(claimed[1])
    assert all(claimed)


def test_claim_due_of_counts_and_leases_the_due_work_of_the_events_named(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler, other = names
    fresh, marked, not_due, not_named = event(), event(), event(), event()
    for each in (fresh, marked, not_due, not_named):
        append(uow, each, (handler, other))
    claim(uow, handler, marked)  # its worker "died": the mark stays
    later = AT + timedelta(hours=1)
    with uow() as u:
        u.events.record_failure(
            handler, str(not_due.id), at=AT, error_kind="transient", error="down",
            next_attempt_at=later + timedelta(hours=1),
        )  # fmt: skip
        u.commit()

    with uow() as u:
        taken = u.events.claim_due_of(
            [str(marked.id), str(not_due.id), str(fresh.id), str(marked.id)],
            handlers=[handler], now=later, lease_until=later + timedelta(minutes=1),
        )  # fmt: skip
        u.commit()
    with uow() as u:
        stored = [u.events.lock_work(handler, str(e.id)) for e in (fresh, marked, not_named)]
        untouched = u.events.lock_work(other, str(fresh.id))
        nothing = u.events.claim_due_of([], handlers=[handler], now=later, lease_until=later)

    assert [(w.event_id, w.attempts, w.last_error) for w in taken] == [
        (str(fresh.id), 0, None), (str(marked.id), 1, IN_PROGRESS),
    ]  # fmt: skip
    assert [(w.attempts, w.next_attempt_at, w.last_error) for w in stored if w] == [
        (1, later + timedelta(minutes=1), IN_PROGRESS),
        (1, AT + timedelta(minutes=1), IN_PROGRESS),
        (0, not_named.recorded_at, None),
    ]
    assert untouched is not None
    assert (untouched.attempts, untouched.last_error) == (0, None)
    assert nothing == []


def test_claim_counted_counts_and_leases_fresh_items_and_returns_marked_ones_unchanged(
    uow: UowFactory, names: tuple[str, str]
) -> None:
    handler = names[0]
    fresh, marked = event(), event()
    append(uow, fresh, (handler,))
    append(uow, marked, (handler,))
    claim(uow, handler, marked)  # its worker "died": the mark stays
    later = AT + timedelta(hours=1)

    with uow() as u:
        taken = u.events.claim_counted(
            later, 10, handlers=[handler], lease_until=later + timedelta(minutes=1)
        )
        u.commit()
    with uow() as u:
        stored = [u.events.lock_work(handler, str(e.id)) for e in (fresh, marked)]

    assert [(w.event_id, w.attempts, w.last_error) for w in taken] == [
        (str(fresh.id), 0, None), (str(marked.id), 1, IN_PROGRESS),
    ]  # fmt: skip
    assert [(w.attempts, w.next_attempt_at, w.last_error) for w in stored if w] == [
        (1, later + timedelta(minutes=1), IN_PROGRESS),
        (1, AT + timedelta(minutes=1), IN_PROGRESS),
    ]
