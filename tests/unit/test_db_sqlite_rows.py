"""The bus's SQLite rows read without SQLAlchemy's result processing are a shortcut, not a new form.

The claim, the lock and the completion of a batch read the driver's tuples
(``handler_work.driver_item``, ``eventlog._driver_claimed``): each value must be what SQLAlchemy
reads for the column (the aware UTC datetime of ``UtcDateTime``), each item the one the
dataclass's constructor builds, each id the one ``uuid.UUID`` parses.
"""

from __future__ import annotations

import pickle
import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from suture.adapters.db.repositories.eventlog import _stored_uuid
from suture.adapters.db.repositories.handler_work import (
    driver_item,
    sqlite_instant_writer,
    sqlite_instants,
)
from suture.adapters.db.types import UtcDateTime
from suture.services.event_store import IN_PROGRESS, WorkItem, WorkStatus

DIALECT = sqlite.dialect()


def _reference() -> Any:
    bound = UtcDateTime("at").dialect_impl(DIALECT)
    return TypeDecorator.result_processor(bound, DIALECT, None)


def _outcome(process: Any, value: object) -> tuple[str, object]:
    try:
        found = process(value)
    except Exception as error:  # the refusal itself is what is compared
        return type(error).__name__, str(error)
    return "read", None if found is None else (found, found.tzinfo, found.utcoffset())


@given(
    st.datetimes(
        min_value=datetime(1, 1, 1),  # noqa: DTZ001  (hypothesis bounds are naive)
        max_value=datetime(9999, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_an_instant_written_on_sqlite_reads_back_as_sqlalchemy_reads_it(instant: datetime) -> None:
    stored = sqlite_instant_writer()(instant)
    assert _outcome(sqlite_instants(), stored) == _outcome(_reference(), stored)
    assert sqlite_instants()(stored) == instant


@pytest.mark.parametrize(
    "stored",
    ["2025-03-03 14:05:00.000000", "2025-03-03 14:05:00", "2025-03-03T14:05:00.5",
     "2025-03-03 14:05:00.123456+05:00", "2025-03-03 14:05:00Z", "2025-03-03", "yesterday",
     "", None, 12],
)  # fmt: skip
def test_any_stored_text_reads_as_sqlalchemy_reads_it_or_is_refused_alike(stored: object) -> None:
    assert _outcome(sqlite_instants(), stored) == _outcome(_reference(), stored)


def test_a_reader_parses_each_distinct_text_once() -> None:
    read = sqlite_instants()
    first, second = read("2025-03-03 14:05:00.000000"), read("2025-03-03 14:05:00.000000")
    assert first is second


def test_an_item_read_from_a_row_is_the_item_the_constructor_builds() -> None:
    at = datetime(2025, 3, 3, 14, 5, tzinfo=UTC)
    # the last: its rowid, which the claim counts it by and the lock finds it at
    row = ("inventory", "0195-id", 42, "pending", 3, "2025-03-03 14:06:00.000000",
           "2025-03-03 14:05:00.000000", IN_PROGRESS, None, "supply.usage.recorded",
           17)  # fmt: skip

    item = driver_item(row, sqlite_instants())

    expected = WorkItem(
        handler="inventory", event_id="0195-id", event_position=42,
        event_type="supply.usage.recorded", status=WorkStatus.PENDING, attempts=3,
        next_attempt_at=at + timedelta(minutes=1), updated_at=at, last_error=IN_PROGRESS,
        parked_on=None, row="17",
    )  # fmt: skip
    assert {f.name: getattr(item, f.name) for f in fields(WorkItem)} == {
        f.name: getattr(expected, f.name) for f in fields(WorkItem)
    }
    assert type(item) is WorkItem
    assert item.next_attempt_at.tzinfo is UTC


def test_an_item_with_an_unknown_status_is_refused_as_the_enum_refuses_it() -> None:
    row = ("h", "e", 1, "sleeping", 0, "2025-03-03 14:05:00", "2025-03-03 14:05:00", None, None,
           "t", 1)  # fmt: skip
    with pytest.raises(ValueError, match="'sleeping' is not a valid WorkStatus"):
        driver_item(row, sqlite_instants())


@given(st.uuids())
def test_a_stored_id_is_the_uuid_the_constructor_parses(value: uuid.UUID) -> None:
    made, reference = _stored_uuid(str(value)), uuid.UUID(str(value))
    assert (made, hash(made), str(made), made.is_safe) == (
        reference, hash(reference), str(reference), reference.is_safe
    )  # fmt: skip
    assert pickle.loads(pickle.dumps(made)) == reference


@pytest.mark.parametrize(
    "text",
    ["{12345678-1234-5678-1234-567812345678}", "urn:uuid:12345678-1234-5678-1234-567812345678",
     "12345678123456781234567812345678", "12345678-1234-5678-1234-56781234567G", "not an id"],
)  # fmt: skip
def test_any_other_id_text_goes_to_the_constructor(text: str) -> None:
    assert _outcome_of_uuid(_stored_uuid, text) == _outcome_of_uuid(uuid.UUID, text)


def _outcome_of_uuid(parse: Any, text: str) -> tuple[str, object]:
    try:
        return "parsed", parse(text)
    except ValueError as error:
        return "refused", str(error)


def test_an_instant_with_an_offset_is_read_in_utc() -> None:
    read = sqlite_instants()("2025-03-03 14:05:00+05:00")
    assert read == datetime(2025, 3, 3, 9, 5, tzinfo=UTC)
    assert read.utcoffset() == timedelta(0)
