"""The event envelope: JSON form of payloads, validation, and the bytes it is stored as.

The running example is a glove used at St Mary's (``fac-1``), recorded by Epic.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.eventlog.envelope import Envelope, from_json, stored_to_json, to_json
from suture.eventlog.errors import EnvelopeError

EVENT_ID = uuid.UUID("01953a7c-5000-7000-8000-000000000001")
CAUSE_ID = uuid.UUID("01953a7c-4000-7000-8000-000000000002")
OCCURRED = datetime(2025, 3, 1, 11, 58, tzinfo=UTC)
RECORDED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class Colour(StrEnum):
    BLUE = "blue"


def envelope(**overrides: Any) -> Envelope:
    fields: dict[str, Any] = {
        "id": EVENT_ID,
        "type": "supply.usage.recorded",
        "schema_version": 2,
        "occurred_at": OCCURRED,
        "recorded_at": RECORDED,
        "source_system": "epic",
        "source_facility": "fac-1",
        "trace_id": "trace-1",
        "correlation_id": "ENC-TOKEN-9",
        "causation_id": CAUSE_ID,
        "idempotency_key": "key-1",
        "payload": {"usage_id": "U-1", "quantity": Decimal("2")},
    }
    return Envelope(**(fields | overrides))


def refusal(**overrides: Any) -> tuple[str, str]:
    with pytest.raises(EnvelopeError) as caught:
        envelope(**overrides)
    return caught.value.field, caught.value.reason


def read_refusal(document: bytes) -> tuple[str, str]:
    with pytest.raises(EnvelopeError) as caught:
        from_json(document)
    return caught.value.field, caught.value.reason


def stored(**changes: Any) -> bytes:
    """The stored JSON of the example envelope, with top-level keys changed or removed."""
    document = json.loads(to_json(envelope()))
    for key, value in changes.items():
        if value is ...:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document).encode()


# The payload is held in JSON form


def test_envelope_holds_its_payload_in_json_form() -> None:
    payload = {
        "quantity": Decimal("1.50"),
        "used_at": datetime(2025, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        "service_date": date(2025, 3, 1),
        "item": uuid.UUID(int=7),
        "colour": Colour.BLUE,
        "lots": ("L1", "L2"),
        "nested": {"consigned": True, "count": 3, "note": None},
    }
    assert envelope(payload=payload).payload == {
        "quantity": "1.50",
        "used_at": "2025-03-01T12:00:00+00:00",
        "service_date": "2025-03-01",
        "item": "00000000-0000-0000-0000-000000000007",
        "colour": "blue",
        "lots": ["L1", "L2"],
        "nested": {"consigned": True, "count": 3, "note": None},
    }


def test_envelope_copies_its_payload_so_later_changes_do_not_leak_in() -> None:
    payload: dict[str, Any] = {"lines": [{"lot": "L1"}]}
    built = envelope(payload=payload)
    payload["lines"][0]["lot"] = "L2"
    assert built.payload == {"lines": [{"lot": "L1"}]}


def test_envelope_refuses_a_float_and_names_where_it_is() -> None:
    assert refusal(payload={"lines": [{"quantity": 1.5}]}) == (
        "payload.lines[0].quantity",
        "a float is not allowed; use Decimal",
    )


def test_envelope_refuses_a_decimal_that_is_not_finite() -> None:
    assert refusal(payload={"amount": Decimal("NaN")}) == (
        "payload.amount",
        "NaN is not a finite decimal",
    )


def test_envelope_refuses_a_naive_datetime_in_the_payload() -> None:
    assert refusal(payload={"used_at": datetime(2025, 3, 1, 12, 0)}) == (  # noqa: DTZ001
        "payload.used_at",
        "must be timezone-aware",
    )


def test_envelope_refuses_a_key_that_is_not_a_string() -> None:
    assert refusal(payload={"lines": {1: "x"}}) == ("payload.lines", "key 1 is not a string")


def test_envelope_refuses_a_value_json_cannot_hold() -> None:
    assert refusal(payload={"lots": {"L1"}}) == (
        "payload.lots",
        "a set is not allowed in a payload",
    )


# The envelope's own fields


def test_envelope_times_are_normalised_to_utc() -> None:
    chicago = timezone(timedelta(hours=-6))
    built = envelope(occurred_at=datetime(2025, 3, 1, 5, 58, tzinfo=chicago))
    assert (built.occurred_at, built.occurred_at.tzinfo) == (OCCURRED, UTC)


def test_envelope_refuses_a_naive_recorded_at() -> None:
    assert refusal(recorded_at=datetime(2025, 3, 1, 12, 0)) == (  # noqa: DTZ001
        "recorded_at",
        "must be timezone-aware",
    )


def test_envelope_refuses_an_id_that_is_not_a_uuid7() -> None:
    random_id = uuid.UUID("6f1c2d4e-8a9b-4c3d-9e8f-7a6b5c4d3e2f")
    assert refusal(id=random_id) == ("id", f"{random_id} is not a UUIDv7")


@pytest.mark.parametrize("variant", [0b00, 0b01, 0b11])
def test_envelope_refuses_a_version_7_id_of_another_variant(variant: int) -> None:
    """Version bits alone do not make a UUIDv7: ``UUID.version`` is None off RFC 9562's
    variant, and the constructor's one-step check must agree."""
    odd = uuid.UUID(int=(0x0190_0000_0000 << 80) | (0x7 << 76) | (variant << 62) | 1)
    assert odd.version is None
    assert refusal(id=odd) == ("id", f"{odd} is not a UUIDv7")


def test_envelope_copies_a_flat_payload_rather_than_keeping_the_callers_dict() -> None:
    payload = {"usage_id": "U-1", "quantity": 2, "lot": None, "consigned": False}
    made = envelope(payload=payload)
    payload["usage_id"] = "U-2"

    assert made.payload == {"usage_id": "U-1", "quantity": 2, "lot": None, "consigned": False}


def test_envelope_refuses_an_event_type_that_is_not_dotted_lowercase() -> None:
    assert refusal(type="UsageRecorded") == (
        "type",
        "'UsageRecorded' is not a dotted lowercase event type",
    )


def test_envelope_refuses_schema_version_zero() -> None:
    assert refusal(schema_version=0) == ("schema_version", "0 is not a version ≥ 1")


def test_envelope_refuses_an_empty_trace_id() -> None:
    assert refusal(trace_id="") == ("trace_id", "is empty")


def test_equal_envelopes_are_equal_and_hash_alike() -> None:
    assert (envelope() == envelope(), hash(envelope()) == hash(envelope())) == (True, True)


# JSON


def test_to_json_writes_compact_utf8_with_sorted_keys() -> None:
    built = envelope(source_facility=None, causation_id=None, payload={"note": "Größe 7½"})
    assert (
        to_json(built)
        == (
            '{"causation_id":null,"correlation_id":"ENC-TOKEN-9",'
            '"id":"01953a7c-5000-7000-8000-000000000001","idempotency_key":"key-1",'
            '"occurred_at":"2025-03-01T11:58:00+00:00","payload":{"note":"Größe 7½"},'
            '"recorded_at":"2025-03-01T12:00:00+00:00","schema_version":2,"source_facility":null,'
            '"source_system":"epic","trace_id":"trace-1","type":"supply.usage.recorded"}'
        ).encode()
    )


def test_from_json_reads_what_to_json_wrote() -> None:
    assert from_json(to_json(envelope())) == envelope()


def test_from_json_reads_a_json_fraction_as_a_decimal_string_never_a_float() -> None:
    document = stored(payload={"amount": 0}).replace(b'"amount": 0', b'"amount": 1234.10')
    assert from_json(document).payload == {"amount": "1234.10"}


def test_from_json_accepts_a_z_suffix_on_times() -> None:
    assert from_json(stored(recorded_at="2025-03-01T12:00:00Z")) == envelope()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"\xff{}", ("envelope", "not UTF-8: invalid start byte")),
        (b"[]", ("envelope", "must be a JSON object")),
        (stored(trace_id=...), ("trace_id", "missing")),
        (stored(colour="blue"), ("colour", "unknown envelope field")),
        (stored(schema_version="2"), ("schema_version", "must be an integer, got '2'")),
        (stored(schema_version=True), ("schema_version", "must be an integer, got True")),
        (stored(id="not-a-uuid"), ("id", "'not-a-uuid' is not a UUID")),
        (stored(causation_id=7), ("causation_id", "must be a string, got 7")),
        (
            stored(occurred_at="yesterday"),
            ("occurred_at", "'yesterday' is not an ISO 8601 datetime"),
        ),
        (stored(occurred_at="2025-03-01T11:58:00"), ("occurred_at", "must be timezone-aware")),
        (stored(payload=["U-1"]), ("payload", "must be a JSON object")),
        (
            stored(payload={}).replace(b"{}", b'{"amount": NaN}'),
            ("payload", "NaN is not a JSON number"),
        ),
    ],
)
def test_from_json_names_the_field_it_refuses(document: bytes, expected: tuple[str, str]) -> None:
    assert read_refusal(document) == expected


@pytest.mark.parametrize(
    "document",
    [b"{not json", stored(payload={}).replace(b"{}", b'{"n": ' + b"1" * 5000 + b"}")],
    ids=["syntax", "integer-too-long"],
)
def test_from_json_refuses_text_that_is_not_json(document: bytes) -> None:
    field, reason = read_refusal(document)
    assert (field, reason.split(":")[0]) == ("envelope", "not valid JSON")


def test_from_json_refuses_a_payload_nested_beyond_the_recursion_limit() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert read_refusal(stored(payload={}).replace(b"{}", b'{"n": ' + deep + b"}")) == (
        "envelope",
        "nested too deeply",
    )


def test_envelope_refuses_a_payload_nested_beyond_the_recursion_limit() -> None:
    payload: dict[str, Any] = {}
    for _ in range(5000):
        payload = {"n": payload}
    assert refusal(payload=payload) == ("payload", "nested too deeply")


# Properties

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
payloads = st.dictionaries(
    st.text(),
    st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
        ),
        max_leaves=12,
    ),
    max_size=5,
)


@given(payloads)
def test_any_payload_survives_a_json_round_trip(payload: dict[str, Any]) -> None:
    built = envelope(payload=payload)
    assert from_json(to_json(built)) == built


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_decimal_in_a_payload_reads_back_exactly_from_its_string(amount: Decimal) -> None:
    text = from_json(to_json(envelope(payload={"amount": amount}))).payload["amount"]
    assert Decimal(text).as_tuple() == amount.as_tuple()


@given(payloads, st.text(min_size=1), st.none() | st.text(), st.booleans())
def test_stored_to_json_writes_to_jsons_bytes_from_the_stored_payload_text(
    payload: dict[str, Any], text: str, facility: str | None, caused: bool
) -> None:
    built = envelope(
        payload=payload, source_system=text, correlation_id=text, source_facility=facility,
        causation_id=CAUSE_ID if caused else None,
    )  # fmt: skip
    # the payload text as the event log stores it (compact, sorted keys, not ASCII-escaped)
    stored_payload = json.dumps(
        built.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )

    written = stored_to_json(
        causation_id=None if built.causation_id is None else str(built.causation_id),
        correlation_id=built.correlation_id, id=str(built.id),
        idempotency_key=built.idempotency_key, occurred_at=built.occurred_at,
        payload=stored_payload, recorded_at=built.recorded_at,
        schema_version=built.schema_version, source_facility=built.source_facility,
        source_system=built.source_system, trace_id=built.trace_id, type=built.type,
    )  # fmt: skip

    assert written == to_json(built)
