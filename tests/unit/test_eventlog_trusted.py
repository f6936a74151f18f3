"""``Envelope.trusted`` (the event log's stored rows) and the fast paths of building envelopes.

A trusted envelope is built from fields an :class:`Envelope` was checked and normalised with
before, so it equals the checked one; the constructor's fast path for plain payload values and
the integer arithmetic of UUIDv7 times give exactly what the general paths gave.
"""

from __future__ import annotations

import uuid
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.eventlog.envelope import Envelope, from_json, to_json
from suture.eventlog.ids import Uuid7Sequence, uuid7, uuid7_time

EVENT_ID = uuid.UUID("01953a7c-5000-7000-8000-000000000001")
RECORDED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Colour(StrEnum):
    BLUE = "blue"


class Size(IntEnum):
    LARGE = 3


class Code(str):
    """A ``str`` subclass that is not an enum: kept as it is, as before."""


def checked(payload: dict[str, Any]) -> Envelope:
    return Envelope(
        id=EVENT_ID, type="supply.usage.recorded", schema_version=2, occurred_at=RECORDED,
        recorded_at=RECORDED, source_system="epic", source_facility=None, trace_id="trace-1",
        correlation_id="ENC-1", causation_id=None, idempotency_key="key-1", payload=payload,
    )  # fmt: skip


def field_values(envelope: Envelope) -> dict[str, Any]:
    return {item.name: getattr(envelope, item.name) for item in fields(Envelope)}


def test_a_trusted_envelope_equals_the_checked_one_it_was_stored_from() -> None:
    built = checked({"quantity": Decimal("1.50"), "colour": Colour.BLUE, "lots": ("L1",)})

    trusted = Envelope.trusted(**field_values(built))

    assert trusted == built
    assert hash(trusted) == hash(built)
    assert to_json(trusted) == to_json(built)


def test_a_trusted_envelope_takes_its_fields_as_given() -> None:
    payload = {"usage_id": "U-1"}
    trusted = Envelope.trusted(**(field_values(checked(payload)) | {"payload": payload}))
    assert trusted.payload is payload
    assert trusted.recorded_at is RECORDED


def test_a_trusted_envelope_is_frozen_like_any_other() -> None:
    trusted = Envelope.trusted(**field_values(checked({})))
    with pytest.raises(FrozenInstanceError):
        trusted.type = "other.type"  # type: ignore[misc]


json_scalars = st.none() | st.booleans() | st.integers() | st.text()
payloads = st.dictionaries(
    st.text(),
    st.recursive(
        json_scalars | st.decimals(allow_nan=False, allow_infinity=False),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
        ),
        max_leaves=12,
    ),
    max_size=5,
)


@given(payloads)
def test_a_trusted_envelope_of_a_read_back_envelope_equals_it(payload: dict[str, Any]) -> None:
    built = from_json(to_json(checked(payload)))
    assert Envelope.trusted(**field_values(built)) == built


def test_the_plain_value_fast_path_still_converts_subclasses_and_nested_values() -> None:
    payload = {
        "colour": Colour.BLUE, "size": Size.LARGE, "flag": True, "count": 3, "none": None,
        "code": Code("A1"), "nested": {"colour": Colour.BLUE, "at": RECORDED},
        "lines": ({"amount": Decimal("2.0")},),
    }  # fmt: skip
    built = checked(payload).payload
    assert built == {
        "colour": "blue", "size": 3, "flag": True, "count": 3, "none": None, "code": "A1",
        "nested": {"colour": "blue", "at": "2025-03-01T12:00:00+00:00"},
        "lines": [{"amount": "2.0"}],
    }  # fmt: skip
    assert type(built["colour"]) is str
    assert type(built["size"]) is int
    assert built["flag"] is True


def test_an_envelope_in_another_time_zone_is_normalised_to_utc_and_kept_when_utc() -> None:
    local = RECORDED.astimezone(timezone(timedelta(hours=-5)))
    assert checked({}).recorded_at is RECORDED
    moved = Envelope.trusted(**field_values(checked({})))
    assert moved.recorded_at is RECORDED
    assert Envelope(**(field_values(checked({})) | {"recorded_at": local})).recorded_at == RECORDED


instants = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001 - hypothesis's bounds are naive
    max_value=datetime(9999, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(instants)
def test_uuid7_carries_the_exact_millisecond_and_sub_millisecond_fraction(now: datetime) -> None:
    micros = (now - EPOCH) // timedelta(microseconds=1)
    millis, sub_micros = divmod(micros, 1000)
    made = uuid7(now, rand=lambda bits: 0)
    assert made.int >> 80 == millis
    assert (made.int >> 64) & 0xFFF == sub_micros * 4096 // 1000
    assert uuid7_time(made) == EPOCH + timedelta(milliseconds=millis)


def test_a_sequence_of_ids_for_one_instant_strictly_increases() -> None:
    sequence = Uuid7Sequence(rand=lambda bits: 0)
    ids = [sequence(RECORDED) for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
