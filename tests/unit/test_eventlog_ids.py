"""Event ids (UUIDv7, RFC 9562) and idempotency keys."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.eventlog.errors import EnvelopeError
from suture.eventlog.ids import (
    Uuid7Sequence,
    _assemble,
    compact_json,
    idempotency_key,
    idempotency_key_of,
    uuid7,
    uuid7_time,
)

#: The instant of RFC 9562 Appendix A.6: 2022-02-22 14:22:22 at UTC-5, unix_ts_ms 0x017F22E279B0.
RFC_INSTANT = datetime(2022, 2, 22, 19, 22, 22, tzinfo=UTC)
RFC_RAND_B = 0x18C4DC0C0C07398F
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
RAND_B = (1 << 62) - 1

times = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001  (hypothesis bounds are naive)
    max_value=datetime(9999, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def fixed_bits(value: int) -> Callable[[int], int]:
    """A stand-in for ``getrandbits`` that always returns (the low bits of) ``value``."""
    return lambda bits: value & ((1 << bits) - 1)


# UUIDv7 layout


def test_uuid7_lays_out_time_version_variant_and_random_bits_as_rfc_9562_says() -> None:
    assert uuid7(RFC_INSTANT, fixed_bits(RFC_RAND_B)) == uuid.UUID(
        "017f22e2-79b0-7000-98c4-dc0c0c07398f"
    )


def test_uuid7_puts_the_sub_millisecond_fraction_in_rand_a() -> None:
    half_a_millisecond_later = RFC_INSTANT + timedelta(microseconds=500)
    assert uuid7(half_a_millisecond_later, fixed_bits(0)) == uuid.UUID(
        "017f22e2-79b0-7800-8000-000000000000"
    )


def test_uuid7_time_reads_back_the_millisecond() -> None:
    assert uuid7_time(uuid7(AT + timedelta(microseconds=1999))) == AT + timedelta(milliseconds=1)


def test_uuid7_time_refuses_a_random_uuid() -> None:
    random_id = uuid.UUID("6f1c2d4e-8a9b-4c3d-9e8f-7a6b5c4d3e2f")
    with pytest.raises(EnvelopeError) as caught:
        uuid7_time(random_id)
    assert (caught.value.field, caught.value.reason) == ("id", f"{random_id} is not a UUIDv7")


def test_uuid7_refuses_a_naive_time() -> None:
    with pytest.raises(EnvelopeError) as caught:
        uuid7(datetime(2025, 3, 1, 12, 0))  # noqa: DTZ001
    assert (caught.value.field, caught.value.reason) == ("now", "must be timezone-aware")


def test_uuid7_refuses_a_time_before_the_unix_epoch() -> None:
    with pytest.raises(EnvelopeError) as caught:
        uuid7(datetime(1969, 12, 31, 23, 59, tzinfo=UTC))
    assert caught.value.reason == "1969-12-31T23:59:00+00:00 is outside the range of a UUIDv7"


@given(times, times, st.integers(0, 2**62 - 1), st.integers(0, 2**62 - 1))
def test_uuid7s_of_different_microseconds_sort_by_time_whatever_the_random_bits(
    first: datetime, second: datetime, first_bits: int, second_bits: int
) -> None:
    earlier, later = sorted((first, second))
    if earlier != later:
        ids = (uuid7(earlier, fixed_bits(first_bits)), uuid7(later, fixed_bits(second_bits)))
        assert ids[0] < ids[1]


# A sequence is strictly monotonic


@given(st.lists(times, min_size=2, max_size=30), st.randoms(use_true_random=False))
def test_a_sequence_is_strictly_increasing_even_when_the_clock_stands_still_or_goes_back(
    instants: list[datetime], rand: random.Random
) -> None:
    next_id = Uuid7Sequence(rand.getrandbits)
    ids = [next_id(instant) for instant in instants]
    assert ids == sorted(set(ids))


def test_a_sequence_borrows_the_next_millisecond_after_4096_ids_in_one_instant() -> None:
    next_id = Uuid7Sequence(random.Random(7).getrandbits)
    ids = [next_id(AT) for _ in range(4097)]
    assert (uuid7_time(ids[4095]), uuid7_time(ids[4096])) == (AT, AT + timedelta(milliseconds=1))


@given(times, st.integers(0, (1 << 62) - 1))
def test_a_uuid7_is_the_uuid_its_integer_makes(instant: datetime, rand_b: int) -> None:
    """Ids are assembled without ``uuid.UUID``'s constructor: they must be its objects all the
    same (equal, hashed, printed and pickled alike)."""
    made = uuid7(instant, fixed_bits(rand_b))
    built = uuid.UUID(int=made.int)

    assert type(made) is uuid.UUID
    assert (made, hash(made), str(made), made.version) == (built, hash(built), str(built), 7)
    assert made.is_safe is built.is_safe
    assert pickle.loads(pickle.dumps(made)) == built


@given(st.lists(times, min_size=1, max_size=5), st.integers(0, 4200), st.integers(0, 3))
def test_taking_ids_together_makes_the_ids_that_calls_in_a_row_would_make(
    before: list[datetime], count: int, seed: int
) -> None:
    one_by_one = Uuid7Sequence(random.Random(seed).getrandbits)
    together = Uuid7Sequence(random.Random(seed).getrandbits)
    for instant in before:
        assert together(instant) == one_by_one(instant)
    at = before[-1]

    assert together.take(at, count) == [one_by_one(at) for _ in range(count)]
    assert together(at) == one_by_one(at)  # and it goes on from the last one taken


def test_ids_taken_from_the_system_random_are_distinct_increasing_and_go_on_increasing() -> None:
    next_id = Uuid7Sequence()
    first = next_id(AT)
    taken = next_id.take(AT, 1200)  # 512 numbers a pool: past two pools
    after = next_id(AT)

    assert [first, *taken, after] == sorted({first, *taken, after})
    assert len({made.int & RAND_B for made in taken}) == len(taken)
    assert next_id.take(AT, 0) == []


def test_the_system_random_gives_distinct_62_bit_numbers_past_its_pool() -> None:
    next_id = Uuid7Sequence()
    drawn = [next_id(AT).int & RAND_B for _ in range(1200)]  # 512 numbers a pool: 3 pools

    assert len(set(drawn)) == len(drawn)
    assert max(drawn).bit_length() > 56  # the high bits are drawn too, not only the low


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_compact_json_is_json_dumps_compact_sorted_and_not_ascii_escaped(value: object) -> None:
    """The stored payload text and the envelope's bytes rest on it: byte for byte as before."""
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    assert compact_json(value) == expected


def test_compact_json_refuses_what_json_cannot_write() -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        compact_json({"amount": Decimal("1.50")})


# Idempotency keys


def test_a_sequence_of_the_system_random_draws_apart_in_a_forked_child() -> None:
    """The random bits are read from the CSPRNG a few KiB at a time; a child forked with part
    of them unread must not draw them again (its ids would collide with the parent's)."""
    next_id = Uuid7Sequence()
    next_id(AT)  # the pool is filled, most of it unread
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        os.write(write, next_id(AT).bytes)
        os._exit(0)
    os.waitpid(child, 0)
    in_child = uuid.UUID(bytes=os.read(read, 16))
    in_parent = next_id(AT)
    os.close(read)
    os.close(write)

    assert in_child.int & RAND_B != in_parent.int & RAND_B


def test_idempotency_key_is_the_sha256_of_the_type_and_keys_as_a_json_array() -> None:
    expected = hashlib.sha256(b'["supply.usage.recorded","epic","U-1"]').hexdigest()
    assert idempotency_key("supply.usage.recorded", "epic", "U-1") == expected


@given(st.text(min_size=1).filter(lambda text: not text[0].isspace()), st.text(min_size=1))
def test_idempotency_key_hashes_exactly_the_compact_json_of_type_and_keys(
    key: str, event_type: str
) -> None:
    """Keys are written as ``compact_json`` writes them (quotes, controls and non-ASCII text
    as stored), so the keys stored before any change of how they are written still match."""
    canonical = compact_json([event_type, key, "7"]).encode("utf-8")
    expected = hashlib.sha256(canonical).hexdigest()

    assert idempotency_key(event_type, key, 7) == expected
    assert idempotency_key_of(event_type)(key) == idempotency_key(event_type, key)


def test_idempotency_key_compares_natural_keys_as_text() -> None:
    assert idempotency_key("charge.posted", "FT1", 7) == idempotency_key(
        "charge.posted", "FT1", "7"
    )


def test_idempotency_key_keeps_keys_apart_that_a_plain_join_would_merge() -> None:
    assert idempotency_key("charge.posted", "a|b", "c") != idempotency_key(
        "charge.posted", "a", "b|c"
    )


def test_idempotency_key_differs_by_event_type() -> None:
    assert idempotency_key("charge.posted", "C-1") != idempotency_key("charge.voided", "C-1")


def test_idempotency_key_reads_dates_decimals_and_aware_datetimes_in_a_fixed_form() -> None:
    east = datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=1)))
    assert idempotency_key("x.y", date(2025, 3, 1), Decimal("1.50"), east) == idempotency_key(
        "x.y", "2025-03-01", "1.50", "2025-03-01T13:00:00+00:00"
    )


@pytest.mark.parametrize("key", ["", "  ", True, None])
def test_idempotency_key_of_one_type_refuses_the_keys_idempotency_key_refuses(key: object) -> None:
    with pytest.raises(EnvelopeError, match=r"natural_keys\[0\]"):
        idempotency_key("charge.posted", key)  # type: ignore[arg-type]
    with pytest.raises(EnvelopeError, match=r"natural_keys\[0\]"):
        idempotency_key_of("charge.posted")(key)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ((), ("natural_keys", "at least one natural key is needed")),
        (("PO-1", None), ("natural_keys[1]", "None is not a natural key")),
        (("PO-1", True), ("natural_keys[1]", "True is not a natural key")),
        (("  ",), ("natural_keys[0]", "is empty")),
        ((datetime(2025, 3, 1),), ("natural_keys[0]", "a datetime must be timezone-aware")),  # noqa: DTZ001
    ],
)
def test_idempotency_key_refuses_keys_that_would_collide(
    keys: tuple[object, ...], expected: tuple[str, str]
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        idempotency_key("purchase.order.sent", *keys)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.reason) == expected


@given(st.integers(0, (1 << 48) - 1), st.integers(0, (1 << 12) - 1), st.integers(0, (1 << 62) - 1))
def test_an_assembled_id_is_the_uuid_of_its_int_in_every_respect(
    millis: int, rand_a: int, rand_b: int
) -> None:
    """``_assemble`` skips ``uuid.UUID.__init__``'s argument checks: the same object results."""
    made = _assemble(millis, rand_a, rand_b)
    plain = uuid.UUID(int=made.int)
    assert type(made) is uuid.UUID
    assert (made, hash(made), str(made), repr(made)) == (
        plain,
        hash(plain),
        str(plain),
        repr(plain),
    )
    assert (made.version, made.variant, made.is_safe) == (7, uuid.RFC_4122, plain.is_safe)
    assert pickle.loads(pickle.dumps(made)) == plain
    assert made.int >> 80 == millis
    assert (made.int >> 64) & 0xFFF == rand_a
