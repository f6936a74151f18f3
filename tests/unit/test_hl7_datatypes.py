"""HL7 NM numbers and TS times (v2.5.1 §2A): the fast paths read exactly what the grammar says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.formats.hl7v2.charges import _SMALL_LENGTH
from suture.formats.hl7v2.datatypes import SMALL_NUMBERS, is_number, parse_number, parse_time

NM = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)")
CHICAGO = ZoneInfo("America/Chicago")


@given(st.text(alphabet="0123456789+-.e _٣ ", max_size=8) | st.text(max_size=6))
def test_is_number_is_the_nm_grammar(text: str) -> None:
    assert is_number(text) is (NM.fullmatch(text) is not None)
    assert parse_number(text) == (Decimal(text) if NM.fullmatch(text) else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4200.00", True),
        ("-12.5", True),
        ("+.5", True),
        ("7.", True),
        ("", False),
        ("+", False),
        ("-.", False),
        ("1e5", False),
        ("1_000", False),
        (" 12", False),
        ("1.2.3", False),
        ("١٢", False),
        ("NaN", False),
        ("--1", False),
    ],
)
def test_is_number_examples(text: str, expected: bool) -> None:
    assert is_number(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("206803110200", datetime(2068, 3, 11, 8, tzinfo=UTC)),  # skipped hour: CST, -6
        ("202603080230", datetime(2026, 3, 8, 8, 30, tzinfo=UTC)),  # skipped hour: CST, -6
        ("202511020130", datetime(2025, 11, 2, 6, 30, tzinfo=UTC)),  # repeated hour: CDT, -5
    ],
)
def test_a_skipped_or_repeated_local_hour_is_read_with_the_offset_before_the_change(
    text: str, expected: datetime
) -> None:
    assert parse_time(text, CHICAGO) == expected


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 - hypothesis's bounds are naive
        max_value=datetime(2100, 12, 31),  # noqa: DTZ001
    ),
    st.sampled_from([8, 12, 14]),
    st.sampled_from([CHICAGO, UTC, timezone(timedelta(hours=5, minutes=30))]),
)
def test_plain_times_are_read_in_the_zone_and_returned_in_utc(
    moment: datetime, size: int, zone: ZoneInfo | timezone
) -> None:
    text = moment.strftime("%Y%m%d%H%M%S")[:size]
    truncated = moment.replace(
        hour=moment.hour if size > 8 else 0,
        minute=moment.minute if size > 8 else 0,
        second=moment.second if size > 12 else 0,
        microsecond=0,
        # The text cannot say which of a repeated hour (or whether a skipped one) is meant:
        # it is read with the offset in force before the change (fold 0). Hypothesis also
        # draws fold 1, which once failed here on 2068-03-11 02:00 in Chicago.
        fold=0,
    )
    assert parse_time(text, zone) == truncated.replace(tzinfo=zone).astimezone(UTC)
    assert parse_time(text, zone) == parse_time(text, zone)  # from the cache: the same


@pytest.mark.parametrize(
    "text", ["20241301", "20240230", "00000101", "202403151", "2024031509300", "2024-03-15"]
)
def test_impossible_or_malformed_times_are_none(text: str) -> None:
    assert parse_time(text, CHICAGO) is None
    assert parse_time(text, CHICAGO) is None  # not cached as anything else


def test_offsets_and_fractions_take_the_expression() -> None:
    assert parse_time("20240315093000.25-0500", CHICAGO) == datetime(
        2024, 3, 15, 14, 30, 0, 250000, tzinfo=UTC
    )
    assert parse_time("2024", CHICAGO) == datetime(2024, 1, 1, 6, tzinfo=UTC)


def test_the_small_numbers_are_looked_up_by_their_length() -> None:
    assert max(map(len, SMALL_NUMBERS)) == _SMALL_LENGTH
