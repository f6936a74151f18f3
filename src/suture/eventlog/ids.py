"""Identifiers of events: UUIDv7 ids ordered by time, and idempotency keys from natural keys.

Python 3.11 has no ``uuid.uuid7``, so it is built here per RFC 9562 §5.7::

     0                   1                   2                   3
    |          unix_ts_ms (48 bits, big-endian milliseconds)        |
    |  unix_ts_ms  | ver=0111 |  rand_a (12 bits)  |var=10| rand_b (62 bits) ...

``rand_a`` carries the sub-millisecond fraction of the time (RFC 9562 §6.2, method 3), so ids
made from distinct microseconds sort by time even within one millisecond. :class:`Uuid7Sequence`
goes further and makes the ids of one process strictly increasing (the counter of §6.2 method 1
in ``rand_a``). Time and randomness are passed in, never read here, except for the default of
``rand`` (the operating system's CSPRNG).
"""

from __future__ import annotations

import hashlib
import json.encoder
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from json.encoder import JSONEncoder, encode_basestring
from typing import Any

from suture.eventlog.errors import EnvelopeError

#: ``rand(k)`` returns ``k`` random bits as an int, like ``random.Random.getrandbits``.
RandomBits = Callable[[int], int]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MS = (1 << 48) - 1
_SUB_MS_STEPS = 1 << 12


def _time_key(now: datetime) -> tuple[int, int]:
    """Milliseconds since the Unix epoch and the 12-bit sub-millisecond fraction of ``now``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise EnvelopeError("now", "must be timezone-aware")
    since = now - _EPOCH  # exact integer arithmetic, cheaper than ``// timedelta(microseconds=1)``
    micros = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    millis, sub_micros = divmod(micros, 1000)
    if not 0 <= millis <= _MAX_MS:
        raise EnvelopeError("now", f"{now.isoformat()} is outside the range of a UUIDv7")
    return millis, sub_micros * _SUB_MS_STEPS // 1000


_UUID = uuid.UUID
_new = object.__new__
_set = object.__setattr__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _assemble(millis: int, rand_a: int, rand_b: int) -> uuid.UUID:
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    # ``uuid.UUID(int=value)`` less its argument checks (the value is 128 bits by construction,
    # version and variant set): the same object, its two slots as the constructor sets them.
    made = _new(_UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _SAFE_UNKNOWN)
    return made


def uuid7(now: datetime, rand: RandomBits = secrets.randbits) -> uuid.UUID:
    """A UUIDv7 for ``now`` (RFC 9562 §5.7), its ``rand_a`` the sub-millisecond fraction."""
    millis, sub = _time_key(now)
    return _assemble(millis, sub, rand(62))


def uuid7_time(value: uuid.UUID) -> datetime:
    """The millisecond timestamp a UUIDv7 was made for, as an aware UTC datetime."""
    if value.version != 7:
        raise EnvelopeError("id", f"{value} is not a UUIDv7")
    return _EPOCH + timedelta(milliseconds=value.int >> 80)


class _RandomPool:
    """62-bit numbers (any ``bits`` ≤ 64) from the operating system's CSPRNG, read 4 KiB at a
    time rather than with a system call per id. Emptied in a forked child
    (``os.register_at_fork``, registered on first use), so that parent and child never draw the
    same numbers. Thread-safe; one for the process (:data:`_SYSTEM_RANDOM`)."""

    _SIZE = 4096

    def __init__(self) -> None:
        self._numbers: list[int] = []  # 64-bit numbers, drawn from the end
        self._lock = threading.Lock()
        self._hooked = False

    def _forget(self) -> None:
        self._numbers = []

    def __call__(self, bits: int) -> int:
        with self._lock:
            numbers = self._numbers
            if not numbers:
                if not self._hooked:
                    os.register_at_fork(after_in_child=self._forget)
                    self._hooked = True
                pool = os.urandom(self._SIZE)
                numbers = self._numbers = [
                    int.from_bytes(pool[at : at + 8]) for at in range(0, self._SIZE, 8)
                ]
            drawn = numbers.pop()
        return drawn >> (64 - bits)

    def take(self, bits: int, count: int) -> list[int]:
        """``count`` numbers of ``bits`` bits, drawn as :meth:`__call__` draws them, the lock
        taken once."""
        shift = 64 - bits
        with self._lock:
            numbers = self._numbers
            while len(numbers) < count:
                if not self._hooked:
                    os.register_at_fork(after_in_child=self._forget)
                    self._hooked = True
                pool = os.urandom(self._SIZE)
                numbers[:0] = [int.from_bytes(pool[at : at + 8]) for at in range(0, self._SIZE, 8)]
            drawn = numbers[len(numbers) - count :]
            del numbers[len(numbers) - count :]
        return [number >> shift for number in drawn]


_SYSTEM_RANDOM = _RandomPool()


class Uuid7Sequence:
    """UUIDv7s strictly increasing within this object, even for equal or backward times.

    When ``now`` does not move past the last id's time, the last (millisecond, sub-millisecond)
    pair is advanced by one step, borrowing from the next millisecond after 4096 steps (RFC 9562
    §6.2: a generator may run ahead of the clock to stay monotonic). Thread-safe. Without
    ``rand``, ``rand_b`` comes from the operating system's CSPRNG, read a few KiB at a time.
    """

    def __init__(self, rand: RandomBits | None = None) -> None:
        self._rand = rand or _SYSTEM_RANDOM
        self._last = (-1, 0)
        self._lock = threading.Lock()

    def __call__(self, now: datetime) -> uuid.UUID:
        candidate = _time_key(now)
        with self._lock:
            if candidate <= self._last:
                millis, sub = self._last
                candidate = (millis + 1, 0) if sub + 1 == _SUB_MS_STEPS else (millis, sub + 1)
            self._last = candidate
        return _assemble(*candidate, self._rand(62))

    def take(self, now: datetime, count: int) -> list[uuid.UUID]:
        """``count`` ids for ``now``, as ``count`` calls in a row would make them (strictly
        increasing), the time read once and the lock taken once: for a batch of events recorded
        at one instant (an ingest's transaction)."""
        if count <= 0:
            return []
        millis, sub = _time_key(now)
        rand = self._rand
        randoms = rand.take(62, count) if isinstance(rand, _RandomPool) else None
        made: list[uuid.UUID] = []
        with self._lock:
            last = self._last
            for index in range(count):
                if (millis, sub) <= last:
                    millis, sub = last
                    millis, sub = (millis + 1, 0) if sub + 1 == _SUB_MS_STEPS else (millis, sub + 1)
                last = (millis, sub)
                bits = randoms[index] if randoms is not None else rand(62)
                made.append(_assemble(millis, sub, bits))
            self._last = last
        return made


def _refuse(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


#: Compact JSON, sorted keys, not ASCII-escaped: ``json.dumps(value, ensure_ascii=False,
#: separators=(",", ":"), sort_keys=True)`` exactly, without building an encoder per call
#: (``json.dumps`` with options does). Only for acyclic values (no cycle check): JSON-form
#: payloads and lists of text.
def _compact_encoder() -> Callable[[Any, bool], Iterator[str]]:
    make = getattr(json.encoder, "c_make_encoder", None)  # CPython's C accelerator
    if make is None:
        return JSONEncoder(
            ensure_ascii=False, separators=(",", ":"), sort_keys=True, check_circular=False
        ).iterencode
    # The arguments ``JSONEncoder.iterencode`` gives it for the options above.
    encoder: Callable[[Any, bool], Iterator[str]] = make(
        None, _refuse, encode_basestring, None, ":", ",", True, False, True
    )
    return encoder


_COMPACT = _compact_encoder()


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text with sorted keys, not ASCII-escaped (as stored)."""
    return "".join(_COMPACT(value, False))


NaturalKey = str | int | Decimal | date | uuid.UUID


def _key_text(position: int, value: NaturalKey) -> str:
    if type(value) is str and value and not value[0].isspace():  # the common case: text
        return value
    field = f"natural_keys[{position}]"
    if isinstance(value, bool) or value is None:
        raise EnvelopeError(field, f"{value!r} is not a natural key")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise EnvelopeError(field, "a datetime must be timezone-aware")
        return value.astimezone(UTC).isoformat()
    text = value.isoformat() if isinstance(value, date) else str(value)
    if not text.strip():
        raise EnvelopeError(field, "is empty")
    return text


def idempotency_key(event_type: str, *natural_keys: NaturalKey) -> str:
    """A stable key for "the same fact from the source": sha256 hex of type and natural keys.

    The keys are joined as a JSON array, so ``("a|b", "c")`` and ``("a", "b|c")`` differ; they are
    compared as text, so ``7`` and ``"7"`` (a line number from HL7 or from CSV) agree.
    """
    if not natural_keys:
        raise EnvelopeError("natural_keys", "at least one natural key is needed")
    texts = [_key_text(position, value) for position, value in enumerate(natural_keys)]
    # ``compact_json([event_type, *texts])``: a JSON array of strings, written the same way
    # without the encoder (each string as the encoder writes it, not ASCII-escaped).
    canonical = "[" + ",".join(map(encode_basestring, (event_type, *texts))) + "]"
    return _sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key_of(event_type: str) -> Callable[[NaturalKey], str]:
    """``idempotency_key(event_type, key)`` for one natural key, the type's part written once:
    for a publisher of many events of one type (the same keys, made cheaper)."""
    if not isinstance(event_type, str):
        raise EnvelopeError("event_type", f"{event_type!r} is not a string")
    head = "[" + encode_basestring(event_type) + ","

    def key_of(key: NaturalKey) -> str:
        canonical = head + encode_basestring(_key_text(0, key)) + "]"
        return _sha256(canonical.encode("utf-8")).hexdigest()

    return key_of


_sha256 = hashlib.sha256
