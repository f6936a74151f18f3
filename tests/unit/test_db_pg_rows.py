"""The bus's PostgreSQL rows read by position are a shortcut, not a new form.

The claim, the lock and the relay's read select their instants without ``UtcDateTime``'s
result processor (``handler_work.pg_item_columns``) and read them with ``pg_instant``: each
must be the instant psycopg read, aware in UTC, whatever the session's time zone, as
``UtcDateTime`` returns it (the two share ``types.utc_instant``; the reference here is
written independently).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from suture.adapters.db.repositories.handler_work import driver_item, pg_instant
from suture.adapters.db.types import UtcDateTime
from suture.services.event_store import IN_PROGRESS, WorkStatus

DIALECT = postgresql.dialect()


def _reference(value: datetime | None) -> datetime | None:
    """The same instant in UTC, by arithmetic on its offset (not ``astimezone``)."""
    if value is None:
        return None
    offset = value.utcoffset() or timedelta(0)
    return (value.replace(tzinfo=None) - offset).replace(tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1),  # noqa: DTZ001  (hypothesis bounds are naive)
        max_value=datetime(9998, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, ZoneInfo("Etc/UTC"), ZoneInfo("Europe/Paris"), timezone(timedelta(hours=-5))]
        ),
    )
)
def test_an_instant_psycopg_reads_is_the_one_utc_datetime_returns(value: datetime) -> None:
    found, reference = pg_instant(value), _reference(value)
    assert (found, found.tzinfo, found.utcoffset()) == (
        reference, reference.tzinfo, reference.utcoffset()
    )  # fmt: skip
    assert found.tzinfo is UTC
    assert UtcDateTime("at").process_result_value(value, DIALECT) == found


@pytest.mark.parametrize("value", [None, datetime(2025, 3, 3, 14, 5)])  # noqa: DTZ001
def test_no_instant_or_a_naive_one_reads_as_utc_datetime_reads_it(value: datetime | None) -> None:
    assert pg_instant(value) == _reference(value)
    assert UtcDateTime("at").process_result_value(value, DIALECT) == _reference(value)


def test_an_item_read_from_a_postgresql_row_has_its_address_and_utc_instants() -> None:
    paris = datetime(2025, 3, 3, 15, 5, tzinfo=ZoneInfo("Europe/Paris"))
    row = ("inventory", "0195-id", 42, "pending", 3, paris, paris, IN_PROGRESS, None,
           "supply.usage.recorded", "(12,7)")  # fmt: skip

    item = driver_item(row, pg_instant)

    assert (item.status, item.row, item.next_attempt_at, item.next_attempt_at.tzinfo) == (
        WorkStatus.PENDING, "(12,7)", datetime(2025, 3, 3, 14, 5, tzinfo=UTC), UTC
    )  # fmt: skip
