"""The event envelope of DESIGN.md §3 and its JSON form.

An :class:`Envelope` holds its payload in **JSON form**, the form that is stored, published and
hashed: on construction, ``Decimal`` becomes its exact string (``Decimal("1.50")`` → ``"1.50"``),
an aware ``datetime`` its ISO 8601 UTC string, a ``date`` or ``UUID`` its string, an enum its
value, a tuple a list. Floats, NaN and naive datetimes are refused: money and quantities are
Decimal, time is aware UTC (STYLE.md habit 15). So ``from_json(to_json(e)) == e`` always holds,
and the typed view of a payload, with its Decimals back, comes from its schema
(:meth:`suture.eventlog.schemas.SchemaRegistry.load`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring
from typing import Any, NoReturn

from suture.eventlog.errors import EnvelopeError
from suture.eventlog.ids import compact_json, idempotency_key, uuid7, uuid7_time

__all__ = [
    "Envelope",
    "from_json",
    "idempotency_key",
    "stored_to_json",
    "to_json",
    "uuid7",
    "uuid7_time",
]

#: Dotted lowercase names: ``supply.usage.recorded``.
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


#: Event types that matched :data:`EVENT_TYPE`, so that the constructor matches a type once, not per
#: envelope; at most :data:`_EVENT_TYPES_KEPT` of them.
_EVENT_TYPES_SEEN: set[str] = set()
_EVENT_TYPES_KEPT = 1024


#: The version (4 bits) and variant (2 bits) of a UUID's integer, shifted right 62 bits, and
#: their values in a UUIDv7 (RFC 9562: version 0111, variant 10): ``UUID.version`` in one step.
_VERSION_AND_VARIANT = (0xF << 14) | 0b11
_V7_RFC_9562 = (0x7 << 14) | 0b10


#: Types that are their own JSON form (exactly these: a subclass, an enum say, is converted).
_NATIVE = frozenset({str, int, bool, type(None)})


def _json_form(value: object, where: str) -> Any:
    """``value`` as JSON-native data, or :class:`EnvelopeError` naming the offending key."""
    if type(value) is dict:  # the common case, without building the path of every key
        for key, item in value.items():  # flat, text keys, native values: a copy will do
            if type(item) not in _NATIVE or type(key) is not str:
                break
        else:
            return dict(value)
        result: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise EnvelopeError(where, f"key {key!r} is not a string")
            result[key] = item if type(item) in _NATIVE else _json_form(item, f"{where}.{key}")
        return result
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Mapping):
        mapped: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EnvelopeError(where, f"key {key!r} is not a string")
            mapped[key] = _json_form(item, f"{where}.{key}")
        return mapped
    if isinstance(value, list | tuple):
        return [_json_form(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return _json_text(value, where)


def _json_text(value: object, where: str) -> str:
    """The string form of a Decimal, an aware datetime, a date or a UUID."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise EnvelopeError(where, f"{value} is not a finite decimal")
        return str(value)
    if isinstance(value, datetime):
        return _aware_utc(value, where).isoformat()
    if isinstance(value, date | uuid.UUID):
        return str(value)
    if isinstance(value, float):
        raise EnvelopeError(where, "a float is not allowed; use Decimal")
    raise EnvelopeError(where, f"a {type(value).__name__} is not allowed in a payload")


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise EnvelopeError(name, "must be timezone-aware")
    return value.astimezone(UTC)


class _Vouched:
    """The slot, beside the fields, that says who validated an envelope's payload (see
    :meth:`Envelope.of_valid_payload`). Not a field: equality, ``replace``, the JSON form and
    pickling ignore it, so a copy or a changed envelope is never taken as validated."""

    __slots__ = ("_validated_by",)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope(_Vouched):
    """One event as it travels: identity, provenance, trace and the payload in JSON form.

    ``source_facility`` is None for a system-wide source; ``causation_id`` is None for the first
    event of a story (an inbound message), else the id of the event or message that caused it.
    """

    id: uuid.UUID
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    source_system: str
    source_facility: str | None
    trace_id: str
    correlation_id: str
    causation_id: uuid.UUID | None
    idempotency_key: str
    payload: dict[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        if (self.id.int >> 62) & _VERSION_AND_VARIANT != _V7_RFC_9562:  # ``version != 7``
            raise EnvelopeError("id", f"{self.id} is not a UUIDv7")
        if self.type not in _EVENT_TYPES_SEEN:
            if not EVENT_TYPE.fullmatch(self.type):
                raise EnvelopeError("type", f"{self.type!r} is not a dotted lowercase event type")
            if len(_EVENT_TYPES_SEEN) < _EVENT_TYPES_KEPT:
                _EVENT_TYPES_SEEN.add(self.type)
        if isinstance(self.schema_version, bool) or self.schema_version < 1:
            raise EnvelopeError("schema_version", f"{self.schema_version!r} is not a version ≥ 1")
        if not (self.source_system and self.trace_id and self.correlation_id
                and self.idempotency_key):  # fmt: skip
            for name in ("source_system", "trace_id", "correlation_id", "idempotency_key"):
                if not getattr(self, name):
                    raise EnvelopeError(name, "is empty")
        object.__setattr__(self, "occurred_at", _aware_utc(self.occurred_at, "occurred_at"))
        object.__setattr__(self, "recorded_at", _aware_utc(self.recorded_at, "recorded_at"))
        if type(self.payload) is not dict and not isinstance(self.payload, Mapping):
            raise EnvelopeError("payload", "must be a mapping")
        try:
            object.__setattr__(self, "payload", _json_form(self.payload, "payload"))
        except RecursionError as error:
            raise EnvelopeError("payload", "nested too deeply") from error

    @classmethod
    def trusted(
        cls,
        *,
        id: uuid.UUID,
        type: str,
        schema_version: int,
        occurred_at: datetime,
        recorded_at: datetime,
        source_system: str,
        source_facility: str | None,
        trace_id: str,
        correlation_id: str,
        causation_id: uuid.UUID | None,
        idempotency_key: str,
        payload: dict[str, Any],
    ) -> Envelope:
        """An envelope from fields already checked and normalised, without checking them again.

        Only for envelopes that an :class:`Envelope` was built from before: the event log's
        stored rows, which it wrote itself from checked envelopes (datetimes aware UTC, the
        payload in JSON form). Anything else goes through the constructor.
        """
        return _made(id, type, schema_version, occurred_at, recorded_at, source_system,
                     source_facility, trace_id, correlation_id, causation_id, idempotency_key,
                     payload)  # fmt: skip

    @classmethod
    def of_valid_payload(
        cls,
        *,
        id: uuid.UUID,
        type: str,
        schema_version: int,
        occurred_at: datetime,
        recorded_at: datetime,
        source_system: str,
        source_facility: str | None,
        trace_id: str,
        correlation_id: str,
        causation_id: uuid.UUID | None,
        idempotency_key: str,
        payload: dict[str, Any],
        validated_by: object,
    ) -> Envelope:
        """An envelope whose payload ``validated_by`` (a schema registry) vouches for.

        For typed code: ``payload`` is the JSON-mode dump of a model of the registry's
        (``type``, ``schema_version``), which validated its fields when it was built, or a
        payload its builder wrote from typed values and checked as the model checks them (a
        test holding it to the model: the HL7 apply's ``charge.posted``), and ``id`` a UUIDv7
        of the caller's own making (``MessageBus.envelope``, ``Uuid7Sequence.take``). The type
        is one the registry registered, so a dotted lowercase name. What the constructor checks
        of the id, the type and the version is left out; the text fields, the times and the
        payload's JSON form (a float is still refused) are checked as it checks them.
        :meth:`validated_by` then tells the registry that it need not read the payload again;
        with ``validated_by`` None nobody vouches, and publishing validates the payload.
        """
        if not (source_system and trace_id and correlation_id and idempotency_key):
            texts = {
                "source_system": source_system,
                "trace_id": trace_id,
                "correlation_id": correlation_id,
                "idempotency_key": idempotency_key,
            }
            empty = next(name for name, text in texts.items() if not text)
            raise EnvelopeError(empty, "is empty")
        if not isinstance(payload, dict):
            raise EnvelopeError("payload", "must be a dict (a model's JSON-mode dump)")
        envelope = _made(
            id, type, schema_version, _aware_utc(occurred_at, "occurred_at"),
            _aware_utc(recorded_at, "recorded_at"), source_system, source_facility, trace_id,
            correlation_id, causation_id, idempotency_key, _json_form(payload, "payload"),
        )  # fmt: skip
        _set_validated_by(envelope, validated_by)
        return envelope

    def validated_by(self, registry: object) -> bool:
        """Whether ``registry`` vouched for this payload when the envelope was built (only
        :meth:`of_valid_payload` says so; a copy, a changed or a stored envelope never does)."""
        return registry is not None and getattr(self, "_validated_by", None) is registry


_FIELDS = {item.name for item in fields(Envelope)}

# The slots' own setters: an envelope made by ``_made`` is filled as the frozen dataclass's
# ``__init__`` fills it (``object.__setattr__`` per field), without looking up each name.
(_set_id, _set_type, _set_schema_version, _set_occurred_at, _set_recorded_at,
 _set_source_system, _set_source_facility, _set_trace_id, _set_correlation_id,
 _set_causation_id, _set_idempotency_key, _set_payload) = (
    vars(Envelope)[item.name].__set__ for item in fields(Envelope)
)  # fmt: skip
_set_validated_by = vars(_Vouched)["_validated_by"].__set__
_new_envelope = object.__new__


def _made(  # noqa: PLR0917 - every field of an Envelope, in order
    id: uuid.UUID,
    type: str,
    schema_version: int,
    occurred_at: datetime,
    recorded_at: datetime,
    source_system: str,
    source_facility: str | None,
    trace_id: str,
    correlation_id: str,
    causation_id: uuid.UUID | None,
    idempotency_key: str,
    payload: dict[str, Any],
) -> Envelope:
    """An envelope of these fields, in declaration order, checked by the caller."""
    envelope: Envelope = _new_envelope(Envelope)
    _set_id(envelope, id)
    _set_type(envelope, type)
    _set_schema_version(envelope, schema_version)
    _set_occurred_at(envelope, occurred_at)
    _set_recorded_at(envelope, recorded_at)
    _set_source_system(envelope, source_system)
    _set_source_facility(envelope, source_facility)
    _set_trace_id(envelope, trace_id)
    _set_correlation_id(envelope, correlation_id)
    _set_causation_id(envelope, causation_id)
    _set_idempotency_key(envelope, idempotency_key)
    _set_payload(envelope, payload)
    return envelope


def to_json(envelope: Envelope) -> bytes:
    """The envelope as compact UTF-8 JSON with sorted keys: equal envelopes, equal bytes."""
    document = {
        "id": str(envelope.id),
        "type": envelope.type,
        "schema_version": envelope.schema_version,
        "occurred_at": envelope.occurred_at.isoformat(),
        "recorded_at": envelope.recorded_at.isoformat(),
        "source_system": envelope.source_system,
        "source_facility": envelope.source_facility,
        "trace_id": envelope.trace_id,
        "correlation_id": envelope.correlation_id,
        "causation_id": None if envelope.causation_id is None else str(envelope.causation_id),
        "idempotency_key": envelope.idempotency_key,
        "payload": envelope.payload,
    }
    return compact_json(document).encode("utf-8")


def _text_or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def stored_to_json(
    *,
    causation_id: str | None,
    correlation_id: str,
    id: str,
    idempotency_key: str,
    occurred_at: datetime,
    payload: str,
    recorded_at: datetime,
    schema_version: int,
    source_facility: str | None,
    source_system: str,
    trace_id: str,
    type: str,
) -> bytes:
    """:func:`to_json`'s bytes of a stored envelope, its payload given as stored JSON text.

    For the outbox relay, which publishes events as the event log stored them: the payload
    text (compact, sorted keys, not ASCII-escaped, as :func:`to_json` writes a payload) is
    copied into the document, neither parsed nor written again. The other fields are those of
    a checked envelope (times aware UTC).
    """
    text = (
        f'{{"causation_id":{_text_or_null(causation_id)},'
        f'"correlation_id":{encode_basestring(correlation_id)},'
        f'"id":{encode_basestring(id)},'
        f'"idempotency_key":{encode_basestring(idempotency_key)},'
        f'"occurred_at":"{occurred_at.isoformat()}",'
        f'"payload":{payload},'
        f'"recorded_at":"{recorded_at.isoformat()}",'
        f'"schema_version":{int(schema_version)},'
        f'"source_facility":{_text_or_null(source_facility)},'
        f'"source_system":{encode_basestring(source_system)},'
        f'"trace_id":{encode_basestring(trace_id)},'
        f'"type":{encode_basestring(type)}}}'
    )
    return text.encode("utf-8")


def _refuse_constant(name: str) -> NoReturn:
    raise EnvelopeError("payload", f"{name} is not a JSON number")


def _parse_document(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data, parse_float=Decimal, parse_constant=_refuse_constant)
    except UnicodeDecodeError as error:
        raise EnvelopeError("envelope", f"not UTF-8: {error.reason}") from error
    except RecursionError as error:
        raise EnvelopeError("envelope", "nested too deeply") from error
    except ValueError as error:  # JSONDecodeError, or an integer too long to convert
        raise EnvelopeError("envelope", f"not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise EnvelopeError("envelope", "must be a JSON object")
    return document


def _text(document: dict[str, Any], name: str) -> str:
    value = document[name]
    if not isinstance(value, str):
        raise EnvelopeError(name, f"must be a string, got {value!r}")
    return value


def _optional_text(document: dict[str, Any], name: str) -> str | None:
    return None if document[name] is None else _text(document, name)


def _uuid(document: dict[str, Any], name: str) -> uuid.UUID:
    text = _text(document, name)
    try:
        return uuid.UUID(text)
    except ValueError as error:
        raise EnvelopeError(name, f"{text!r} is not a UUID") from error


def _datetime(document: dict[str, Any], name: str) -> datetime:
    text = _text(document, name)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise EnvelopeError(name, f"{text!r} is not an ISO 8601 datetime") from error
    return _aware_utc(value, name)


def from_json(data: bytes) -> Envelope:
    """Read an envelope written by :func:`to_json`; :class:`EnvelopeError` names the bad field.

    Unknown fields are refused, so a typo or a newer writer is noticed rather than dropped.
    A JSON number with a fraction is read as a Decimal, never as a float.
    """
    document = _parse_document(data)
    missing = sorted(_FIELDS - document.keys())
    if missing:
        raise EnvelopeError(missing[0], "missing")
    unknown = sorted(document.keys() - _FIELDS)
    if unknown:
        raise EnvelopeError(unknown[0], "unknown envelope field")
    version = document["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise EnvelopeError("schema_version", f"must be an integer, got {version!r}")
    if not isinstance(document["payload"], dict):
        raise EnvelopeError("payload", "must be a JSON object")
    causation = document["causation_id"]
    return Envelope(
        id=_uuid(document, "id"),
        type=_text(document, "type"),
        schema_version=version,
        occurred_at=_datetime(document, "occurred_at"),
        recorded_at=_datetime(document, "recorded_at"),
        source_system=_text(document, "source_system"),
        source_facility=_optional_text(document, "source_facility"),
        trace_id=_text(document, "trace_id"),
        correlation_id=_text(document, "correlation_id"),
        causation_id=None if causation is None else _uuid(document, "causation_id"),
        idempotency_key=_text(document, "idempotency_key"),
        payload=document["payload"],
    )
