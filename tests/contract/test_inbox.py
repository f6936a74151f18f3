"""The inbox port on SQLite and PostgreSQL: store before acknowledge, duplicates, status, queries.

Every test runs on both databases (the ``engine`` fixture). Tests share one PostgreSQL schema per
session, so each works on an interface of its own (``mllp:test-<hex>``) and counts only there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.messages import InboundMessage, MessageStatus, MessageTransitionError
from suture.services.inbox import Arrival, Inbox, Received, UnknownMessageError, mark_message

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
S = MessageStatus

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
#: HL7 v2 with a segment terminator (CR), then a NUL, CR LF and bytes that are not UTF-8.
RAW = (
    b"MSH|^~\\&|LAB|GH|SUTURE|GH|20250301083000||DFT^P03|MSG0001|P|2.5.1\r"
    b"PID|1||MRN12345^^^GH||DOE^JANE\r\x00\r\n\xff\xfe\x80\xc3("
)


@pytest.fixture
def inbox(uow: UowFactory) -> Inbox:
    return Inbox(uow)


@pytest.fixture
def interface() -> str:
    return f"mllp:test-{uuid4().hex[:12]}"


def receive(inbox: Inbox, interface: str, raw: bytes = RAW, at: datetime = AT) -> Received:
    return inbox.receive(
        raw, format="hl7v2", interface=interface, source_system="epic", received_at=at
    )


def other_engine(engine: sa.Engine) -> sa.Engine:
    """A second engine (its own pool and connections) on the same database."""
    return create_engine(engine.url.render_as_string(hide_password=False))


# --- receive ---------------------------------------------------------------------------------


def test_receive_stores_the_raw_bytes_exactly(inbox: Inbox, interface: str) -> None:
    received = receive(inbox, interface)

    assert (received.is_duplicate, inbox.get(received.message.id, with_raw=True)) == (
        False,
        received.message,
    )
    assert received.message.raw == RAW


def test_a_multi_megabyte_message_round_trips_byte_for_byte(inbox: Inbox, interface: str) -> None:
    raw = bytes(range(256)) * 32_768  # 8 MiB, every byte value
    message = receive(inbox, interface, raw).message

    stored = inbox.get(message.id, with_raw=True)

    assert (stored.size, stored.checksum, stored.raw == raw) == (len(raw), message.checksum, True)


def test_get_leaves_the_raw_bytes_out_unless_asked(inbox: Inbox, interface: str) -> None:
    message = receive(inbox, interface).message

    assert inbox.get(message.id) == message.without_raw()


def test_receive_is_committed_before_it_returns(
    inbox: Inbox, interface: str, engine: sa.Engine
) -> None:
    message = receive(inbox, interface).message

    elsewhere = other_engine(engine)
    try:
        seen = Inbox(lambda: SqlAlchemyUnitOfWork(elsewhere)).get(message.id, with_raw=True)
    finally:
        elsewhere.dispose()

    assert seen == message


def test_the_same_bytes_from_the_same_interface_are_a_duplicate(
    inbox: Inbox, interface: str
) -> None:
    first = receive(inbox, interface).message

    again = receive(inbox, interface, at=AT + timedelta(minutes=5))

    assert again == Received(first.without_raw(), is_duplicate=True)
    assert inbox.list(interface=interface) == [first.without_raw()]


def test_the_same_bytes_from_another_interface_are_a_new_message(
    inbox: Inbox, interface: str
) -> None:
    first = receive(inbox, interface).message

    other = receive(inbox, f"{interface}-backup")

    assert (other.is_duplicate, other.message.id != first.id) == (False, True)


def test_different_bytes_from_the_same_interface_are_a_new_message(
    inbox: Inbox, interface: str
) -> None:
    receive(inbox, interface)

    assert receive(inbox, interface, RAW + b"\r").is_duplicate is False


def test_two_concurrent_receivers_of_the_same_bytes_store_one_message(
    inbox: Inbox, interface: str
) -> None:
    start = threading.Barrier(2)
    outcomes: list[Received | BaseException] = []

    def deliver() -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(receive(inbox, interface))
        except Exception as exc:  # the main thread asserts on whatever a receiver met
            outcomes.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    stored = inbox.list(interface=interface)
    assert sorted(o.is_duplicate for o in outcomes if isinstance(o, Received)) == [False, True]
    assert [o.message.id for o in outcomes if isinstance(o, Received)] == [stored[0].id] * 2
    assert len(stored) == 1


def test_a_receiver_racing_an_uncommitted_store_of_the_same_bytes_gets_the_stored_one(
    uow: UowFactory, interface: str
) -> None:
    # The second transaction starts while the first holds its uncommitted row: on PostgreSQL its
    # INSERT … ON CONFLICT DO NOTHING waits for the first, on SQLite its BEGIN IMMEDIATE does.
    first, second = (sample(interface) for _ in range(2))
    outcome: list[tuple[InboundMessage, bool] | BaseException] = []
    started = threading.Event()

    def store_second() -> None:
        try:
            started.set()
            with uow() as work:
                outcome.append(work.inbox.add_if_new(second))
                work.commit()
        except Exception as exc:  # the main thread asserts on whatever the receiver met
            outcome.append(exc)

    with uow() as work:
        work.inbox.add_if_new(first)
        racer = threading.Thread(target=store_second)
        racer.start()
        started.wait(timeout=5)
        threading.Event().wait(0.2)  # let the racer reach its INSERT (or BEGIN) and block
        finished_before_commit = list(outcome)
        work.commit()
    racer.join(timeout=30)

    assert (finished_before_commit, outcome) == ([], [(first.without_raw(), True)])


def test_an_id_already_taken_is_refused_not_taken_for_a_duplicate(
    uow: UowFactory, interface: str
) -> None:
    message = sample(interface)
    with uow() as work:
        work.inbox.add_if_new(message)
        work.commit()

    other_bytes = InboundMessage.received(
        id=message.id, format="x12", interface=interface, source_system="ghx",
        raw=b"ISA*00*", received_at=AT, trace_id="t",
    )  # fmt: skip
    with uow() as work, pytest.raises(StorageError):
        work.inbox.add_if_new(other_bytes)


def test_a_group_is_stored_in_order_new_messages_new_and_stored_bytes_duplicates(
    uow: UowFactory, inbox: Inbox, interface: str
) -> None:
    before = receive(inbox, interface, b"MSH|before").message
    arrivals = [
        Arrival(b"MSH|one", interface, "epic"),
        Arrival(b"MSH|before", interface, "epic"),
        Arrival(b"MSH|one", interface, "epic"),
        Arrival(b"MSH|one", f"{interface}-other", "epic"),
    ]

    received = inbox.receive_many(arrivals, format="hl7v2", received_at=AT)

    one = received[0].message
    assert [(r.message.id, r.is_duplicate) for r in received] == [
        (one.id, False), (before.id, True), (one.id, True), (received[3].message.id, False),
    ]  # fmt: skip
    assert received[3].message.id != one.id
    assert inbox.get(one.id, with_raw=True).raw == b"MSH|one"
    assert inbox.counts(interface=interface)[S.RECEIVED] == 2


def test_statuses_of_a_group_are_saved_together(uow: UowFactory, interface: str) -> None:
    messages = [sample(interface), sample(f"{interface}-b")]
    with uow() as work:
        work.inbox.add_many_if_new(messages)
        work.commit()
    changed = [m.transition(S.FAILED, reason="FT1-6: bad type", at=AT) for m in messages]

    with uow() as work:
        work.inbox.save_statuses(changed)
        work.commit()

    with uow() as work:
        stored = [work.inbox.get(m.id) for m in messages]
    assert stored == [m.without_raw() for m in changed]


def test_saving_the_status_of_a_group_with_an_unknown_message_is_refused(
    uow: UowFactory, interface: str
) -> None:
    unknown = sample(interface).transition(S.DECODED, reason=None, at=AT)

    with uow() as work, pytest.raises(StorageError):
        work.inbox.save_statuses([unknown])


def test_statuses_reads_the_current_status_of_stored_ids_only(
    uow: UowFactory, inbox: Inbox, interface: str
) -> None:
    first = receive(inbox, interface, b"MSH|first").message
    second = receive(inbox, interface, b"MSH|second").message
    inbox.mark(second.id, S.FAILED, "FT1-6: bad type", AT)

    with uow() as work:
        found = work.inbox.statuses([first.id, second.id, "msg-unknown"], lock=True)

    assert found == {first.id: S.RECEIVED, second.id: S.FAILED}


def test_unfinished_pages_received_and_decoded_messages_of_a_format_with_raw_bytes(
    uow: UowFactory, inbox: Inbox, interface: str
) -> None:
    format = f"hl7v2-{uuid4().hex[:8]}"  # the schema is shared: a format of this test's own
    stored = [
        inbox.receive(raw, format=format, interface=interface, source_system="epic",
                      received_at=AT + timedelta(seconds=n)).message
        for n, raw in enumerate([b"MSH|a", b"MSH|b", b"MSH|c", b"MSH|d"])
    ]  # fmt: skip
    inbox.mark(stored[1].id, S.DECODED, None, AT)
    inbox.mark(stored[2].id, S.FAILED, "FT1-6: bad type", AT)
    receive(inbox, interface, b"MSH|other format")

    with uow() as work:
        first = work.inbox.unfinished(format, limit=1)
        rest = work.inbox.unfinished(format, after=first[0].id)
        early = work.inbox.unfinished(format, received_before=AT + timedelta(seconds=1))

    assert [(m.id, m.raw) for m in first + rest] == [
        (stored[0].id, b"MSH|a"), (stored[1].id, b"MSH|b"), (stored[3].id, b"MSH|d"),
    ]  # fmt: skip
    assert [m.id for m in early] == [stored[0].id]


# --- status ----------------------------------------------------------------------------------


def test_marking_decoded_stores_the_status_and_what_decoding_learnt(
    inbox: Inbox, interface: str
) -> None:
    message = receive(inbox, interface).message
    at = AT + timedelta(seconds=2)

    decoded = inbox.mark(
        message.id, S.DECODED, None, at, correlation_id="ENC-77", facility_id="fac-gh"
    )

    assert inbox.get(message.id) == decoded
    assert (decoded.status, decoded.correlation_id, decoded.facility_id, decoded.updated_at) == (
        S.DECODED,
        "ENC-77",
        "fac-gh",
        at,
    )


def test_a_dead_letter_keeps_its_reason_and_attempts_and_a_replay_receives_it_again(
    inbox: Inbox, interface: str
) -> None:
    message_id = receive(inbox, interface).message.id
    inbox.mark(message_id, S.FAILED, "ERP timed out", AT + timedelta(seconds=1))
    inbox.mark(message_id, S.FAILED, "ERP timed out", AT + timedelta(seconds=9))
    dead = inbox.mark(message_id, S.DEAD_LETTERED, "gave up after 3", AT + timedelta(seconds=40))

    replayed = inbox.mark(message_id, S.RECEIVED, "replay by ops", AT + timedelta(hours=1))

    assert (dead.status, dead.status_reason, dead.attempts) == (
        S.DEAD_LETTERED,
        "gave up after 3",
        3,
    )
    assert (replayed.status, replayed.attempts) == (S.RECEIVED, 0)
    assert inbox.get(message_id) == replayed


def test_a_processed_message_cannot_change_again_and_stays_processed(
    inbox: Inbox, interface: str
) -> None:
    message_id = receive(inbox, interface).message.id
    inbox.mark(message_id, S.DECODED, None, AT)
    processed = inbox.mark(message_id, S.PROCESSED, None, AT)

    with pytest.raises(MessageTransitionError) as refused:
        inbox.mark(message_id, S.FAILED, "late failure", AT)

    assert refused.value.field == "status"
    assert "processed to failed" in refused.value.reason
    assert inbox.get(message_id) == processed


def test_two_workers_cannot_both_move_a_message_out_of_the_same_status(
    uow: UowFactory, inbox: Inbox, interface: str
) -> None:
    # The second worker reads the message only after the first commits (row lock on PostgreSQL,
    # BEGIN IMMEDIATE on SQLite), so it sees "decoded" and its own received -> decoded is refused.
    message_id = receive(inbox, interface).message.id
    outcome: list[object] = []
    started = threading.Event()

    def second_worker() -> None:
        try:
            started.set()
            outcome.append(inbox.mark(message_id, S.DECODED, None, AT).status)
        except Exception as exc:  # the main thread asserts on whatever the worker met
            outcome.append(type(exc))

    with uow() as work:
        mark_message(work, message_id, S.DECODED, None, AT, correlation_id="ENC-1")
        worker = threading.Thread(target=second_worker)
        worker.start()
        started.wait(timeout=5)
        threading.Event().wait(0.2)  # let the worker reach its read and block
        finished_before_commit = list(outcome)
        work.commit()
    worker.join(timeout=30)

    assert (finished_before_commit, outcome) == ([], [MessageTransitionError])
    assert inbox.get(message_id).correlation_id == "ENC-1"


def test_marking_an_unknown_message_names_the_id(inbox: Inbox) -> None:
    with pytest.raises(UnknownMessageError) as refused:
        inbox.mark("0190-nope", S.DECODED, None, AT)

    assert (refused.value.field, "0190-nope" in refused.value.reason) == ("message_id", True)


# --- queries ---------------------------------------------------------------------------------


def test_counts_by_status_cover_every_status(inbox: Inbox, interface: str) -> None:
    ids = [receive(inbox, interface, RAW + bytes([n])).message.id for n in range(4)]
    inbox.mark(ids[0], S.DECODED, None, AT)
    inbox.mark(ids[1], S.PARKED, "unknown item 12345", AT)
    inbox.mark(ids[2], S.DECODED, None, AT)

    assert inbox.counts(interface=interface) == {
        S.RECEIVED: 1, S.DECODED: 2, S.PROCESSED: 0, S.PARKED: 1, S.FAILED: 0, S.DEAD_LETTERED: 0,
    }  # fmt: skip


def test_list_pages_by_id_in_order_of_receipt_without_raw_bytes(
    inbox: Inbox, interface: str
) -> None:
    messages = [
        receive(inbox, interface, RAW + bytes([n]), AT + timedelta(seconds=n)).message
        for n in range(5)
    ]

    pages, after = [], None
    while page := inbox.list(interface=interface, after=after, limit=2):
        pages.append(page)
        after = page[-1].id

    assert pages == [
        [m.without_raw() for m in messages[0:2]],
        [m.without_raw() for m in messages[2:4]],
        [messages[4].without_raw()],
    ]


def test_list_filters_by_status_and_by_a_half_open_range_of_receive_times(
    inbox: Inbox, interface: str
) -> None:
    ids = [
        receive(inbox, interface, RAW + bytes([n]), AT + timedelta(minutes=n)).message.id
        for n in range(4)
    ]
    inbox.mark(ids[3], S.FAILED, "ERP timed out", AT)

    in_range = inbox.list(
        interface=interface,
        received_since=AT + timedelta(minutes=1),
        received_before=AT + timedelta(minutes=3),
    )
    failed = inbox.list(interface=interface, status=S.FAILED)

    assert ([m.id for m in in_range], [m.id for m in failed]) == (ids[1:3], [ids[3]])


def test_find_by_correlation_id_returns_every_message_of_the_business_key(
    inbox: Inbox, interface: str
) -> None:
    key = f"PO-{uuid4().hex[:8]}"
    ids = [receive(inbox, interface, RAW + bytes([n])).message.id for n in range(3)]
    for message_id in ids[:2]:
        inbox.mark(message_id, S.DECODED, None, AT, correlation_id=key)

    found = inbox.by_correlation_id(key)

    assert ([m.id for m in found], {m.raw for m in found}) == (ids[:2], {None})


def test_find_by_trace_id_returns_the_messages_of_the_trace_whatever_their_key(
    uow: UowFactory, inbox: Inbox, interface: str
) -> None:
    traced = receive(inbox, interface).message
    receive(inbox, interface, RAW + b"other")  # a trace of its own
    inbox.mark(traced.id, S.FAILED, "PID-3: missing", AT)  # failed: no correlation id

    with uow() as unit:
        found = unit.inbox.by_trace_id(traced.trace_id)

    assert ([m.id for m in found], {m.raw for m in found}) == ([traced.id], {None})


def test_a_page_of_less_than_one_message_is_refused(inbox: Inbox) -> None:
    with pytest.raises(StorageError) as refused:
        inbox.list(limit=0)

    assert refused.value.field == "limit"


def sample(interface: str) -> InboundMessage:
    return InboundMessage.received(
        id=f"msg-{uuid4().hex}", format="hl7v2", interface=interface, source_system="epic",
        raw=RAW, received_at=AT, trace_id=uuid4().hex,
    )  # fmt: skip
