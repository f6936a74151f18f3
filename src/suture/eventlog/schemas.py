"""Versioned event schemas: pydantic models registered per (type, version), exported as JSON Schema.

Every event type is versioned from its first day (STYLE.md habit 5). A registry holds every
version that was ever committed, not only the latest, because the log keeps old payloads forever;
with it goes the :class:`~suture.eventlog.upcasting.Upcaster` that brings them forward. The rules
that keep the registry honest against the committed export live in
:mod:`suture.eventlog.compatibility`.

Payloads travel in JSON form (see :mod:`suture.eventlog.envelope`); a model reads that form and
:meth:`SchemaRegistry.dump` writes it. Decimals travel as strings (:data:`DecimalString`), so no
reader ever meets a float.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, WithJsonSchema

from suture.eventlog.envelope import EVENT_TYPE
from suture.eventlog.errors import PayloadError, SchemaError
from suture.eventlog.upcasting import Upcaster

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)

#: Upcaster of the export's ``vN`` schema: the version it is upcast from (always N - 1).
UPCAST_FROM = "x-suture-upcast-from"


#: Beyond 10**30 (or below 10**-30) a quantity or an amount is a mistake, and writing it in
#: plain notation would take as many characters as its exponent says.
_MAGNITUDE = 30


#: Decimal strings read before, and what they read as: payloads repeat a few quantities and
#: prices (``"1"``, ``"2500.00"``) thousands of times, and a Decimal is immutable. Bounded: it
#: is emptied when full, so it never holds more than this many.
_READ: dict[str, Decimal] = {}
_READ_MAX = 4096


def _decimal(value: object) -> Decimal:
    if type(value) is str:
        known = _READ.get(value)
        if known is not None:
            return known
        read = _decimal_of(value)
        if len(_READ) >= _READ_MAX:
            _READ.clear()
        _READ[value] = read
        return read
    return _decimal_of(value)


def _decimal_of(value: object) -> Decimal:
    plain_int = isinstance(value, int) and not isinstance(value, bool)
    if plain_int or (isinstance(value, str) and _DECIMAL.fullmatch(value)):
        value = Decimal(str(value))
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{value!r} is not a decimal string such as '12.50'")
    if value and not -_MAGNITUDE <= value.adjusted() <= _MAGNITUDE:
        raise ValueError(f"{value} is out of range (magnitude beyond 10**{_MAGNITUDE})")
    return value


def _plain(value: Decimal) -> str:
    return format(value, "f")


#: What :data:`DecimalString` checks of a value, and how it writes it, for typed code that
#: builds a payload's JSON form itself (:mod:`suture.eventlog.payloads`).
decimal_of = _decimal_of
plain_decimal = _plain


#: A Decimal read from a decimal string (``"12.50"``, or ``"1E-7"`` as ``str(Decimal)`` may
#: write it) and written in plain notation (``"0.0000001"``), never as a float.
DecimalString = Annotated[
    Decimal,
    PlainValidator(_decimal),
    PlainSerializer(_plain, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]


class EventPayload(BaseModel):
    """Base of event payload models: immutable, and unknown fields are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


M = TypeVar("M", bound=BaseModel)


def _payload_error(error: pydantic.ValidationError, key: str) -> PayloadError:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    more = error.error_count() - 1
    reason = f"{first['msg']} ({key}" + (f", and {more} more problems)" if more else ")")
    return PayloadError(f"payload.{location}" if location else "payload", reason)


class SchemaRegistry:
    """Payload models per (event type, version), and the upcasters between versions."""

    def __init__(self) -> None:
        self._models: dict[tuple[str, int], type[BaseModel]] = {}
        self._keys: dict[type[BaseModel], tuple[str, int]] = {}
        self._latest: dict[str, int] = {}  # every envelope asks: kept as versions register
        self.upcaster = Upcaster()

    def register(self, event_type: str, version: int, model: type[BaseModel]) -> None:
        if not EVENT_TYPE.fullmatch(event_type):
            raise SchemaError("type", f"{event_type!r} is not a dotted lowercase event type")
        if version < 1:
            raise SchemaError("version", f"{version} is not a version ≥ 1")
        if (event_type, version) in self._models:
            raise SchemaError(event_type, f"v{version} is already registered")
        if model in self._keys:
            raise SchemaError(model.__name__, "is already registered for another version")
        self._models[event_type, version] = model
        self._keys[model] = (event_type, version)
        self._latest[event_type] = max(version, self._latest.get(event_type, 0))

    def event(self, event_type: str, version: int) -> Callable[[type[M]], type[M]]:
        """Class decorator form of :meth:`register`."""

        def decorate(model: type[M]) -> type[M]:
            self.register(event_type, version, model)
            return model

        return decorate

    def versions(self) -> list[tuple[str, int]]:
        """Every registered (type, version), sorted."""
        return sorted(self._models)

    def model(self, event_type: str, version: int) -> type[BaseModel]:
        try:
            return self._models[event_type, version]
        except KeyError:
            raise SchemaError(event_type, f"v{version} is not a registered version") from None

    def latest(self, event_type: str) -> int:
        try:
            return self._latest[event_type]
        except KeyError:
            raise SchemaError("type", f"{event_type!r} is not a registered event type") from None

    def key_of(self, event: BaseModel | type[BaseModel]) -> tuple[str, int]:
        model = event if isinstance(event, type) else type(event)
        try:
            return self._keys[model]
        except KeyError:
            raise SchemaError(model.__name__, "is not a registered event model") from None

    def problems(self) -> list[str]:
        """Gaps in a type's versions, and versions after the first with no upcaster to them."""
        found: list[str] = []
        for event_type in sorted({name for name, _ in self._models}):
            for version in range(1, self.latest(event_type) + 1):
                if (event_type, version) not in self._models:
                    found.append(f"{event_type}/v{version}: missing (versions must not skip)")
                elif version > 1 and not self.upcaster.has_step(event_type, version - 1):
                    found.append(f"{event_type}/v{version}: no upcaster from v{version - 1}")
        return found

    def validate(self, event_type: str, version: int, payload: dict[str, Any]) -> BaseModel:
        """``payload`` read as exactly (type, version); :class:`PayloadError` names the field."""
        model = self.model(event_type, version)
        try:
            return model.model_validate(payload)
        except pydantic.ValidationError as error:
            raise _payload_error(error, f"{event_type}/v{version}") from error

    def load(self, event_type: str, version: int, payload: dict[str, Any]) -> BaseModel:
        """``payload`` of any known version, upcast to and read as the latest version.

        An old payload is validated against its own version first, so that an upcaster only
        ever sees well-formed input and an error names the field the writer actually wrote.
        """
        latest = self.latest(event_type)
        if version < latest:
            self.validate(event_type, version, payload)
        _, current = self.upcaster.upcast(event_type, version, payload, to=latest)
        return self.validate(event_type, latest, current)

    def dump(self, event: BaseModel) -> tuple[str, int, dict[str, Any]]:
        """(type, version, payload in JSON form) of an event model, ready for an envelope."""
        event_type, version = self.key_of(event)
        return event_type, version, event.model_dump(mode="json")


def export(registry: SchemaRegistry) -> dict[str, dict[str, Any]]:
    """Every registered version's JSON Schema (validation mode), keyed ``"type/vN"``.

    The schema of a version reached by an upcaster is marked with :data:`UPCAST_FROM`, so that
    a check against the committed export can tell a new version that old payloads can reach
    from one they cannot.
    """
    schemas: dict[str, dict[str, Any]] = {}
    for event_type, version in registry.versions():
        schema = registry.model(event_type, version).model_json_schema(mode="validation")
        if version > 1 and registry.upcaster.has_step(event_type, version - 1):
            schema[UPCAST_FROM] = version - 1
        schemas[f"{event_type}/v{version}"] = schema
    return schemas
