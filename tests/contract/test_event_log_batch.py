"""The event log store's batch operations, on SQLite and PostgreSQL (``MessageBus.process_many``).

Each test names its own handlers (random hex), as ``test_event_log.py`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import uuid7
from suture.services.event_store import AlreadyProcessedError

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def event(at: datetime = AT) -> Envelope:
    return Envelope(
        id=uuid7(at), type="test.thing.happened", schema_version=1, occurred_at=at,
        recorded_at=at, source_system="epic", source_facility="fac-1", trace_id="trace-1",
        correlation_id="PO-1", causation_id=None, idempotency_key=uuid4().hex, payload={"n": 1},
    )  # fmt: skip


@pytest.fixture
def handler() -> str:
    return f"batch-{uuid4().hex[:10]}"


def appended(uow: UowFactory, handler: str, count: int) -> list[Envelope]:
    events = [event(AT + timedelta(seconds=i)) for i in range(count)]
    with uow() as u:
        for each in events:
            u.events.append(each, (handler,))
        u.commit()
    return events


def test_lock_many_returns_the_items_still_to_do_in_log_order(
    uow: UowFactory, handler: str
) -> None:
    first, second, third = appended(uow, handler, 3)
    with uow() as u:
        u.events.complete(handler, str(second.id), AT)
        u.commit()

    with uow() as u:
        items = u.events.lock_many(
            [(handler, str(third.id)), (handler, str(second.id)), (handler, str(first.id)),
             (handler, "no-such-event")]
        )  # fmt: skip

    assert [item.event_id for item in items] == [str(first.id), str(third.id)]


def test_complete_many_writes_the_tracking_rows_and_removes_the_work(
    uow: UowFactory, handler: str
) -> None:
    events = appended(uow, handler, 3)
    keys = [(handler, str(e.id)) for e in events]

    with uow() as u:
        u.events.complete_many(keys[:2], AT)
        u.commit()
    with uow() as u:
        tracked = u.events.processed_among(keys)
        left = [w.event_id for w in u.events.list_work(handler=handler)]

    assert (tracked, left) == (set(keys[:2]), [str(events[2].id)])


def test_complete_many_refuses_a_batch_with_an_item_done_already(
    uow: UowFactory, handler: str
) -> None:
    events = appended(uow, handler, 2)
    keys = [(handler, str(e.id)) for e in events]
    with uow() as u:
        u.events.complete(*keys[1], AT)
        u.commit()

    with uow() as u, pytest.raises(AlreadyProcessedError):
        u.events.complete_many(keys, AT)


def test_get_many_reads_a_batch_of_events_by_id(uow: UowFactory, handler: str) -> None:
    events = appended(uow, handler, 3)

    with uow() as u:
        found = u.events.get_many([str(e.id) for e in events] + ["no-such-event"])

    assert found == {str(e.id): e for e in events}


def fail_inside_a_savepoint(u: SqlAlchemyUnitOfWork, envelope: Envelope, handler: str) -> None:
    with u.savepoint():
        u.events.append(envelope, (handler,))
        raise RuntimeError("handler failed")


def test_a_savepoint_takes_back_only_the_writes_made_inside_it(
    uow: UowFactory, handler: str
) -> None:
    kept, taken_back = event(), event()

    with uow() as u:
        u.events.append(kept, (handler,))
        with pytest.raises(RuntimeError):
            fail_inside_a_savepoint(u, taken_back, handler)
        u.commit()
    with uow() as u:
        stored = (u.events.get(str(kept.id)), u.events.get(str(taken_back.id)))

    assert stored == (kept, None)


# --- appending a batch (``MessageBus.publish_many``) ------------------------------------------


def test_append_many_appends_each_key_once_and_work_only_for_the_events_appended(
    uow: UowFactory, handler: str
) -> None:
    (stored,) = appended(uow, handler, 1)
    fresh, again = event(AT + timedelta(seconds=1)), event(AT + timedelta(seconds=2))
    twin = replace(fresh, id=uuid7(AT + timedelta(seconds=3)))  # same key as ``fresh``
    restated = replace(stored, id=uuid7(AT + timedelta(seconds=4)))  # key already in the log

    with uow() as u:
        result = u.events.append_many(
            [(fresh, (handler,)), (twin, (handler,)), (restated, (handler,)), (again, (handler,))]
        )
        u.commit()
    with uow() as u:
        found = {str(e.id): u.events.get(str(e.id)) is not None
                 for e in (fresh, twin, restated, again)}  # fmt: skip
        work = [w.event_id for w in u.events.list_work(handler=handler)]

    assert [str(e.id) for e in result] == [str(fresh.id), str(again.id)]
    assert found == {str(fresh.id): True, str(twin.id): False, str(restated.id): False,
                     str(again.id): True}  # fmt: skip
    assert work == [str(stored.id), str(fresh.id), str(again.id)]


def test_append_many_keeps_every_envelope_field_and_the_order_of_the_log(
    uow: UowFactory, handler: str
) -> None:
    cause = event()
    batch = [
        replace(event(AT + timedelta(seconds=i)), causation_id=cause.id, trace_id=f"trace-{i}")
        for i in range(3)
    ]

    with uow() as u:
        u.events.append_many([(e, (handler, handler)) for e in batch])
        u.commit()
    with uow() as u:
        stored = [u.events.get(str(e.id)) for e in batch]
        positions = [u.events.position_of(str(e.id)) for e in batch]
        work = [(w.handler, w.event_id) for w in u.events.list_work(handler=handler)]

    assert stored == batch
    assert positions == sorted(positions)
    assert work == [(handler, str(e.id)) for e in batch]


def test_append_many_of_nothing_appends_nothing(uow: UowFactory) -> None:
    with uow() as u:
        assert u.events.append_many([]) == []


@pytest.mark.parametrize("size", [3, 12], ids=["a-few", "a-batch"])
def test_a_batch_appended_again_appends_nothing_and_no_work(
    uow: UowFactory, handler: str, size: int
) -> None:
    (stored,) = appended(uow, handler, 1)
    batch = [event(AT + timedelta(seconds=i)) for i in range(1, size + 1)]
    restated = replace(stored, id=uuid7(AT + timedelta(seconds=99)))  # key already in the log
    twin = replace(batch[0], id=uuid7(AT + timedelta(seconds=98)))  # same key as batch[0]
    entries = [(e, (handler,)) for e in [*batch, restated, twin]]

    with uow() as u:
        first = u.events.append_many(entries)
        u.commit()
    with uow() as u:
        second = u.events.append_many(entries)  # the same envelopes: already in the log
        u.commit()
    with uow() as u:
        work = [w.event_id for w in u.events.list_work(handler=handler)]
        positions = [u.events.position_of(str(e.id)) for e in batch]

    assert ([str(e.id) for e in first], second) == ([str(e.id) for e in batch], [])
    assert work == [str(stored.id), *(str(e.id) for e in batch)]
    assert positions == sorted(positions)
