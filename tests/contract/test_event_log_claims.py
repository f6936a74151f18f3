"""The event log store's claims with their events, on SQLite and PostgreSQL.

``claim_batch``, ``lock_batch`` and ``lock_due`` give each work item with its event and whether
the handler has a tracking row already, read in the query that takes the items (the bus runs a
batch without reading its events or tracking rows again). Each test names its own handlers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db import eventlog_tables as t
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope, from_json, to_json
from suture.eventlog.errors import EnvelopeError
from suture.eventlog.ids import uuid7
from suture.services.event_store import WorkItem

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def event(at: datetime, **payload: object) -> Envelope:
    return Envelope(
        id=uuid7(at), type="test.thing.happened", schema_version=1, occurred_at=at,
        recorded_at=at, source_system="epic", source_facility="fac-1", trace_id="trace-1",
        correlation_id="PO-1", causation_id=None, idempotency_key=uuid4().hex,
        payload={"n": 1, "amount": Decimal("1.50"), **payload},
    )  # fmt: skip


@pytest.fixture
def handler() -> str:
    return f"claims-{uuid4().hex[:10]}"


def appended(uow: UowFactory, handlers: tuple[str, ...], count: int) -> list[Envelope]:
    events = [event(AT + timedelta(seconds=i), n=i) for i in range(count)]
    with uow() as u:
        u.events.append_many([(each, handlers) for each in events])
        u.commit()
    return events


def test_claim_batch_gives_each_item_with_its_event_in_claim_order_unleased(
    uow: UowFactory, handler: str
) -> None:
    events = appended(uow, (handler,), 3)
    with uow() as u:
        claimed = u.events.claim_batch(AT + timedelta(hours=1), 2, handlers=[handler])
        u.commit()

    assert [c.item.event_id for c in claimed] == [str(e.id) for e in events[:2]]
    assert [c.envelope for c in claimed] == events[:2]
    assert [c.processed for c in claimed] == [False, False]
    with uow() as u:  # not leased: still due at the event's recording time
        assert [w.next_attempt_at for w in u.events.work_of(str(events[0].id))] == [AT]


def test_claim_batch_takes_only_due_pending_work_of_the_handlers_named(
    uow: UowFactory, handler: str
) -> None:
    other = f"{handler}-other"
    first, _ = appended(uow, (handler, other), 2)
    with uow() as u:
        claimed = u.events.claim_batch(AT + timedelta(seconds=0.5), 10, handlers=[handler])

    assert [(c.item.handler, c.item.event_id) for c in claimed] == [(handler, str(first.id))]


def test_lock_batch_tells_which_items_have_a_tracking_row(uow: UowFactory, handler: str) -> None:
    first, second = appended(uow, (handler,), 2)
    with uow() as u:  # a tracking row beside a work item: done by a path that did not lock
        u.events.complete_many([(handler, str(first.id))], AT)
        u.commit()
    with uow() as u:
        u._open().execute(
            sa.insert(t.handler_work),
            {"handler": handler, "event_id": str(first.id), "event_position":
             u.events.position_of(str(first.id)), "status": "pending", "attempts": 0,
             "next_attempt_at": AT, "last_error": None, "parked_on": None, "updated_at": AT},
        )  # fmt: skip
        u.commit()

    with uow() as u:
        claimed = u.events.lock_batch(
            [(handler, str(second.id)), (handler, str(first.id)), (handler, "no-such-event")]
        )

    assert [(c.item.event_id, c.processed) for c in claimed] == [
        (str(first.id), True), (str(second.id), False)
    ]  # fmt: skip
    assert [c.envelope for c in claimed] == [first, second]


def claimed(uow: UowFactory, handler: str, count: int) -> list[WorkItem]:
    """``count`` items claimed as the dispatcher claims them, each with its row (PostgreSQL's
    ``ctid``, SQLite's ``rowid``)."""
    with uow() as u:
        items = u.events.claim_counted(
            AT + timedelta(hours=1), count, handlers=[handler],
            lease_until=AT + timedelta(hours=2),
        )  # fmt: skip
        u.commit()
    return items


def key(item: WorkItem) -> tuple[str, str]:
    return item.handler, item.event_id


def rows_of(items: list[WorkItem]) -> dict[tuple[str, str], str]:
    """Where the claim left the items."""
    assert all(i.row is not None for i in items)
    return {key(i): i.row or "" for i in items}


def test_lock_batch_finds_a_claimed_item_at_its_row_or_by_key_once_it_moved(
    uow: UowFactory, handler: str
) -> None:
    events = appended(uow, (handler,), 3)
    items = claimed(uow, handler, 3)
    with uow() as u:  # another version of the second item: its row is no longer where it was
        u.events.claim_attempts([key(items[1])], AT, AT + timedelta(hours=3))
        u.commit()

    with uow() as u:
        found = u.events.lock_batch([key(i) for i in items], rows_of(items))

    assert [c.item.event_id for c in found] == [str(e.id) for e in events]
    assert [c.item.attempts for c in found] == [1, 2, 1]
    assert [c.envelope for c in found] == events


def test_lock_batch_does_not_take_another_item_at_a_row_given(
    uow: UowFactory, handler: str
) -> None:
    appended(uow, (handler,), 2)
    first, second = claimed(uow, handler, 2)
    misplaced = {key(first): rows_of([second])[key(second)]}  # the second's row, for the first

    with uow() as u:
        found = u.events.lock_batch([key(first)], misplaced)

    assert [key(c.item) for c in found] == [key(first)]


def test_complete_many_removes_items_at_their_rows_or_by_key_once_they_moved(
    uow: UowFactory, handler: str
) -> None:
    events = appended(uow, (handler,), 3)
    items = claimed(uow, handler, 3)
    rows = rows_of(items)
    with uow() as u:
        u.events.claim_attempts([key(items[2])], AT, AT + timedelta(hours=3))
        u.commit()
    with uow() as u:
        u.events.complete_many([key(i) for i in items[:2]], AT, rows)
        u.events.complete_many([key(items[2])], AT, rows)  # its row moved: deleted by key
        u.commit()

    with uow() as u:
        assert all(u.events.work_of(str(e.id)) == [] for e in events)
        assert all(u.events.is_processed(handler, str(e.id)) for e in events)


def test_keys_with_quotes_backslashes_commas_and_braces_are_claimed_locked_and_completed(
    uow: UowFactory, handler: str
) -> None:
    # PostgreSQL receives a batch's keys as arrays written out as text (handler_work.TEXT_ARRAY)
    odd = f'{handler} "q" \\ ,{{x}} NULL'
    events = appended(uow, (odd,), 3)
    items = claimed(uow, odd, 3)
    with uow() as u:
        found = u.events.lock_batch([key(i) for i in items], rows_of(items))
        u.events.complete_many([key(c.item) for c in found], AT, rows_of(items))
        u.commit()

    assert [(c.item.handler, c.envelope) for c in found] == [(odd, e) for e in events]
    with uow() as u:
        assert all(u.events.is_processed(odd, str(e.id)) for e in events)
        assert all(u.events.work_of(str(e.id)) == [] for e in events)


def test_lock_due_takes_the_due_pending_work_of_the_events_and_handlers_named(
    uow: UowFactory, handler: str
) -> None:
    other = f"{handler}-other"
    first, second, third = appended(uow, (handler, other), 3)
    with uow() as u:
        u.events.record_failure(
            handler, str(second.id), at=AT, error_kind="transient", error="down",
            next_attempt_at=AT + timedelta(hours=2),
        )  # fmt: skip
        u.commit()

    with uow() as u:
        claimed = u.events.lock_due(
            [str(third.id), str(second.id), str(first.id), str(third.id)],
            handlers=[handler], now=AT + timedelta(hours=1),
        )  # fmt: skip

    assert [(c.item.handler, c.item.event_id) for c in claimed] == [
        (handler, str(first.id)), (handler, str(third.id))
    ]  # fmt: skip
    assert [c.envelope.payload["n"] for c in claimed] == [0, 2]
    with uow() as u:
        assert u.events.lock_due([], handlers=[handler], now=AT) == []
        assert u.events.lock_due([str(first.id)], handlers=[], now=AT) == []


def test_an_event_read_back_equals_the_one_appended(uow: UowFactory, handler: str) -> None:
    (appended_event,) = appended(uow, (handler,), 1)
    with uow() as u:
        assert u.events.get(str(appended_event.id)) == appended_event
        assert u.events.get(str(appended_event.id)).payload["amount"] == "1.50"  # type: ignore[union-attr]


def test_a_stored_payload_with_a_json_fraction_is_refused_not_read_as_a_float(
    uow: UowFactory, handler: str
) -> None:
    (stored,) = appended(uow, (handler,), 1)
    with uow() as u:
        u._open().execute(
            sa.update(t.events).where(t.events.c.id == str(stored.id)).values(payload='{"n":1.5}')
        )
        u.commit()

    with uow() as u, pytest.raises(EnvelopeError) as caught:
        u.events.get(str(stored.id))
    assert caught.value.field == "payload"


def test_unpublished_gives_each_event_as_the_stream_carries_it_the_stored_payload_copied(
    uow: UowFactory, handler: str
) -> None:
    texts = {"note": 'Café «ü» "quoted"\n\t\\ ☃', "nested": {"b": [1, None, True], "a": "x"}}
    first = event(AT, **texts)
    second = Envelope(
        id=uuid7(AT), type="test.other.happened", schema_version=3, occurred_at=AT,
        recorded_at=AT + timedelta(microseconds=1), source_system="sap", source_facility=None,
        trace_id="trace-é", correlation_id="PO-2", causation_id=uuid7(AT),
        idempotency_key=uuid4().hex, payload={},
    )  # fmt: skip
    with uow() as u:
        u.events.append_many([(first, (handler,)), (second, (handler,))])
        u.commit()
    with uow() as u:
        start = u.events.position_of(str(first.id))
        assert start is not None
        found = u.events.unpublished(10, after_position=start - 1)

    assert [(e.id, e.type, e.source_facility) for _, e in found] == [
        (str(first.id), first.type, "fac-1"), (str(second.id), second.type, None)
    ]  # fmt: skip
    assert [e.json for _, e in found] == [to_json(first), to_json(second)]
    assert [from_json(e.json) for _, e in found] == [first, second]


def test_mark_published_returns_only_the_ids_it_recorded(uow: UowFactory, handler: str) -> None:
    first, second = appended(uow, (handler,), 2)
    with uow() as u:
        assert u.events.mark_published([str(first.id)], AT) == [str(first.id)]
        u.commit()
    with uow() as u:
        recorded = u.events.mark_published([str(first.id), str(second.id)], AT)
        u.commit()
    assert recorded == [str(second.id)]
    with uow() as u:
        assert u.events.mark_published([], AT) == []


@pytest.mark.postgres
def test_mark_published_leaves_out_what_another_relay_recorded_and_committed_meanwhile(
    postgres_engine: sa.Engine,
) -> None:
    # A relay whose read began before another committed the publication (its snapshot says
    # unpublished) meets that row here: the insert waits for the other transaction, and once
    # it commits, leaves the event out of what this relay publishes.
    uow: UowFactory = lambda: SqlAlchemyUnitOfWork(postgres_engine)  # noqa: E731
    first, second = appended(uow, (f"claims-{uuid4().hex[:10]}",), 2)
    ids = [str(first.id), str(second.id)]
    recorded: list[list[str]] = []
    with uow() as other:
        assert other.events.mark_published([ids[0]], AT) == [ids[0]]

        def relay() -> None:
            with uow() as u:
                recorded.append(sorted(u.events.mark_published(ids, AT)))
                u.commit()

        thread = threading.Thread(target=relay)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # waiting for the other relay's transaction
        other.commit()
    thread.join(10)
    assert recorded == [[ids[1]]]


def test_unpublished_with_published_at_records_what_it_returns(
    uow: UowFactory, handler: str
) -> None:
    first, second, third = appended(uow, (handler,), 3)
    with uow() as u:
        start = u.events.position_of(str(first.id))
        assert start is not None
        u.events.mark_published([str(second.id)], AT)
        u.commit()
    with uow() as u:
        found = u.events.unpublished(10, after_position=start - 1, published_at=AT)
        u.commit()
    assert [e.id for _, e in found] == [str(first.id), str(third.id)]
    assert [e.json for _, e in found] == [to_json(first), to_json(third)]
    with uow() as u:  # recorded: not returned again
        assert u.events.unpublished(10, after_position=start - 1, published_at=AT) == []
    with uow() as u:
        assert u.events.mark_published([str(first.id), str(third.id)], AT) == []


@pytest.mark.postgres
def test_unpublished_with_published_at_leaves_out_what_another_relay_committed_meanwhile(
    postgres_engine: sa.Engine,
) -> None:
    uow: UowFactory = lambda: SqlAlchemyUnitOfWork(postgres_engine)  # noqa: E731
    first, second = appended(uow, (f"claims-{uuid4().hex[:10]}",), 2)
    with uow() as u:
        start = u.events.position_of(str(first.id))
    assert start is not None
    found: list[list[str]] = []
    with uow() as other:  # another relay's publication, not committed when the read begins
        assert other.events.mark_published([str(first.id)], AT) == [str(first.id)]

        def relay() -> None:
            with uow() as u:
                batch = u.events.unpublished(10, after_position=start - 1, published_at=AT)
                found.append([e.id for _, e in batch])
                u.commit()

        thread = threading.Thread(target=relay)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()  # the insert waits for the other relay's transaction
        other.commit()
    thread.join(10)
    assert found == [[str(second.id)]]


def test_append_many_keeps_the_order_given_and_every_field(uow: UowFactory, handler: str) -> None:
    later, earlier = AT + timedelta(hours=1), AT
    events = [
        event(later, n=0),
        Envelope(
            id=uuid7(earlier), type="test.other.happened", schema_version=3,
            occurred_at=earlier - timedelta(days=1), recorded_at=earlier, source_system="sap",
            source_facility=None, trace_id="trace-2", correlation_id="PO-2",
            causation_id=uuid7(earlier), idempotency_key=uuid4().hex, payload={"n": 1},
        ),
    ]  # fmt: skip
    with uow() as u:
        assert u.events.append_many([(e, (handler,)) for e in events]) == events
        u.commit()

    with uow() as u:
        positions = [u.events.position_of(str(e.id)) for e in events]
        read = [u.events.get(str(e.id)) for e in events]
        work = [u.events.work_of(str(e.id)) for e in events]
    assert positions[0] is not None
    assert positions[1] is not None
    assert positions[0] < positions[1]
    assert read == events
    assert [[(w.handler, w.next_attempt_at, w.event_position) for w in each] for each in work] == [
        [(handler, later, positions[0])], [(handler, earlier, positions[1])]
    ]  # fmt: skip


@pytest.mark.parametrize("count", [3, 12])
def test_append_many_writes_the_same_rows_for_a_few_events_or_many(
    uow: UowFactory, handler: str, count: int
) -> None:
    other = f"{handler}-other"
    events = [event(AT + timedelta(seconds=i), n=i) for i in range(count)]
    repeated = Envelope(**{**_fields(events[0]), "id": uuid7(AT + timedelta(hours=1))})
    entries = [(e, (handler, other) if i % 2 else (handler, handler)) for i, e in enumerate(events)]
    with uow() as u:
        assert u.events.append_many([*entries, (repeated, (handler,))]) == events
        u.commit()

    with uow() as u:
        positions = [u.events.position_of(str(e.id)) for e in events]
        read = u.events.get_many([str(e.id) for e in events])
        work = [
            [(w.handler, w.event_position, w.next_attempt_at, w.attempts, w.status.value)
             for w in u.events.work_of(str(e.id))]
            for e in events
        ]  # fmt: skip
        assert u.events.get(str(repeated.id)) is None
    assert positions == sorted(positions)
    assert [read[str(e.id)] for e in events] == events
    for i, (e, position) in enumerate(zip(events, positions, strict=True)):
        names = sorted({handler, other}) if i % 2 else [handler]
        assert work[i] == [(name, position, e.recorded_at, 0, "pending") for name in names]


def _fields(envelope: Envelope) -> dict[str, object]:
    return {name: getattr(envelope, name) for name in Envelope.__dataclass_fields__}
