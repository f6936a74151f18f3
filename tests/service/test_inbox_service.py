"""The inbox service on a real SQLite unit of work: ids, traces, the status rules, PHI.

The storage behaviour (duplicates, races, paging) is the contract suite's
(``tests/contract/test_inbox.py``); this module specifies what the service and the domain decide.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.errors import DomainError, SutureError
from suture.domain.messages import TRANSITIONS, MessageStatus, MessageTransitionError
from suture.services.inbox import Inbox, mark_message

S = MessageStatus
AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
PATIENT = b"DOE^JANE"
RAW = b"MSH|^~\\&|ADT|GH|SUTURE|GH|20250301083000||DFT^P03|1|P|2.5.1\rPID|1||MRN12345||" + PATIENT


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def inbox(uow: Callable[[], SqlAlchemyUnitOfWork]) -> Inbox:
    return Inbox(uow)


def receive(inbox: Inbox, raw: bytes = RAW, **overrides: object) -> str:
    fields: dict[str, object] = {
        "format": "hl7v2", "interface": "mllp:charges-main", "source_system": "epic",
        "received_at": AT,
    }  # fmt: skip
    fields.update(overrides)
    return inbox.receive(raw, **fields).message.id  # type: ignore[arg-type]


def walk(inbox: Inbox, message_id: str, *steps: tuple[MessageStatus, str | None]) -> None:
    for offset, (status, reason) in enumerate(steps, start=1):
        inbox.mark(message_id, status, reason, AT + timedelta(seconds=offset))


# --- receive ---------------------------------------------------------------------------------


def test_a_received_message_has_a_uuid7_id_its_checksum_size_and_status(inbox: Inbox) -> None:
    message = inbox.receive(
        RAW, format="hl7v2", interface="mllp:charges-main", source_system="epic",
        received_at=AT, trace_id="4bf92f3577b34da6a3ce929d0e0e4736", facility_id="fac-gh",
    ).message  # fmt: skip

    expected = (7, hashlib.sha256(RAW).hexdigest(), len(RAW), S.RECEIVED, 0, AT, "fac-gh")
    assert (
        uuid.UUID(message.id).version, message.checksum, message.size, message.status,
        message.attempts, message.updated_at, message.facility_id,
    ) == expected  # fmt: skip
    assert message.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_message_without_a_trace_starts_its_own_from_its_id(inbox: Inbox) -> None:
    message = inbox.get(receive(inbox))

    assert message.trace_id == uuid.UUID(message.id).hex


def test_ids_follow_the_order_of_receipt_even_within_one_instant(inbox: Inbox) -> None:
    ids = [receive(inbox, RAW + bytes([n])) for n in range(5)]

    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"raw": b""}, "raw"),
        ({"received_at": datetime(2025, 3, 1, 8, 30)}, "received_at"),  # noqa: DTZ001
        ({"format": "HL7 v2"}, "format"),
        ({"interface": " "}, "interface"),
    ],
)
def test_a_message_that_cannot_be_stored_as_given_is_refused_naming_the_field(
    inbox: Inbox, change: dict[str, object], field: str
) -> None:
    raw = change.pop("raw", RAW)
    with pytest.raises(DomainError) as refused:
        receive(inbox, raw, **change)  # type: ignore[arg-type]

    assert (refused.value.field, inbox.counts()[S.RECEIVED]) == (field, 0)


# --- the status rules ------------------------------------------------------------------------


def test_a_message_goes_from_received_through_decoded_to_processed(inbox: Inbox) -> None:
    message_id = receive(inbox)

    walk(inbox, message_id, (S.DECODED, None), (S.PROCESSED, None))

    assert (inbox.get(message_id).status, inbox.get(message_id).attempts) == (S.PROCESSED, 0)


@pytest.mark.parametrize("status", list(MessageStatus))
def test_processed_is_final(inbox: Inbox, status: MessageStatus) -> None:
    message_id = receive(inbox)
    walk(inbox, message_id, (S.DECODED, None), (S.PROCESSED, None))

    with pytest.raises(MessageTransitionError) as refused:
        inbox.mark(message_id, status, "again", AT)

    assert (refused.value.field, f"from processed to {status}" in refused.value.reason) == (
        "status",
        True,
    )


@pytest.mark.parametrize("status", sorted(set(MessageStatus) - {S.RECEIVED}))
def test_a_dead_letter_only_comes_back_through_a_replay(
    inbox: Inbox, status: MessageStatus
) -> None:
    message_id = receive(inbox)
    walk(inbox, message_id, (S.DEAD_LETTERED, "X12 envelope broken"))

    with pytest.raises(MessageTransitionError):
        inbox.mark(message_id, status, "retry", AT)


def test_a_received_message_is_decoded_before_it_is_processed(inbox: Inbox) -> None:
    message_id = receive(inbox)

    with pytest.raises(MessageTransitionError) as refused:
        inbox.mark(message_id, S.PROCESSED, None, AT)

    assert "from received to processed" in refused.value.reason


@pytest.mark.parametrize("status", [S.PARKED, S.FAILED, S.DEAD_LETTERED])
def test_parking_failing_or_dead_lettering_needs_a_reason(
    inbox: Inbox, status: MessageStatus
) -> None:
    message_id = receive(inbox)

    with pytest.raises(DomainError) as refused:
        inbox.mark(message_id, status, " ", AT)

    assert (refused.value.field, inbox.get(message_id).status) == ("status_reason", S.RECEIVED)


def test_failures_count_as_attempts_parking_does_not_and_a_replay_starts_afresh(
    inbox: Inbox,
) -> None:
    message_id = receive(inbox)
    seen = []
    for status, reason in [
        (S.DECODED, None), (S.PARKED, "unknown item 12345"), (S.FAILED, "ERP timed out"),
        (S.RECEIVED, "retry from the start"), (S.FAILED, "ERP timed out"),
        (S.DEAD_LETTERED, "gave up after 3 attempts"), (S.RECEIVED, "replay"),
    ]:  # fmt: skip
        seen.append(inbox.mark(message_id, status, reason, AT).attempts)

    assert seen == [0, 0, 1, 1, 2, 3, 0]


def test_parked_and_failed_messages_may_move_anywhere(inbox: Inbox) -> None:
    assert (TRANSITIONS[S.PARKED], TRANSITIONS[S.FAILED]) == (frozenset(S), frozenset(S))


def test_a_status_change_commits_with_the_handlers_transaction_or_not_at_all(
    inbox: Inbox, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    kept, dropped = receive(inbox, RAW + b"1"), receive(inbox, RAW + b"2")
    with uow() as work:
        mark_message(work, kept, S.DECODED, None, AT)
        work.commit()
        mark_message(work, dropped, S.DECODED, None, AT)  # the handler fails before commit

    assert (inbox.get(kept).status, inbox.get(dropped).status) == (S.DECODED, S.RECEIVED)


# --- PHI -------------------------------------------------------------------------------------


def test_raw_bytes_reach_neither_logs_nor_errors_nor_repr(
    inbox: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # Statements and their parameters, as an operator switching on SQL logging would see them
    # (SQLAlchemy's own logger stays at WARNING unless set; DEBUG would add result rows).
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    message_id = receive(inbox)
    receive(inbox)  # a duplicate
    errors: list[SutureError] = []
    for status in (S.PROCESSED, S.RECEIVED):
        try:
            inbox.mark(message_id, status, None, AT)
        except SutureError as exc:
            errors.append(exc)
    texts = [caplog.text, repr(inbox.get(message_id, with_raw=True)), *map(str, errors)]

    assert (len(errors), "INSERT INTO inbox_messages" in caplog.text) == (2, True)
    assert "SQL parameters hidden" in caplog.text
    assert [PATIENT.decode() in text or "MRN12345" in text for text in texts] == [False] * 4
