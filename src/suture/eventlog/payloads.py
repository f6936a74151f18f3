"""Payloads in JSON form built by typed code, without building their pydantic model.

A workflow step that publishes thousands of events a second builds each payload from values
that are already typed domain objects (a :class:`~decimal.Decimal`, an aware datetime, an
enum's value), so validating them again through the event's model and dumping the model back
to JSON costs more than the rest of the event. :class:`JsonPayload` is that JSON form with the
model it is a form of; :meth:`~suture.services.messagebus.MessageBus.envelope` accepts it as it
accepts a model (the registry vouches for it, publishing does not read it again).

The contract: a builder of a :class:`JsonPayload` writes exactly what
``Model(**fields).model_dump(mode="json")`` writes for the same typed fields, key for key and in
the model's field order, and checks what the model's validators would check beyond the types
(:func:`decimal_text`, :func:`datetime_text`, :func:`pattern_text`). A test per builder holds
that to the model, byte for byte. Data from outside (an inbound message, a stored event, an
API body) always goes through the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, TypeAdapter

from suture.eventlog.errors import PayloadError
from suture.eventlog.schemas import decimal_of, plain_decimal

_ZERO = timedelta(0)
_AWARE: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


@dataclass(frozen=True, slots=True)
class JsonPayload:
    """The JSON form of a ``model`` payload, built and checked by typed code (see above)."""

    model: type[BaseModel]
    data: dict[str, Any]


def decimal_text(value: Decimal, field: str) -> str:
    """A :data:`~suture.eventlog.schemas.DecimalString` field as its model writes it, checked as
    its model checks it (finite, within range)."""
    try:
        return plain_decimal(decimal_of(value))
    except ValueError as error:
        raise PayloadError(f"payload.{field}", str(error)) from None


def datetime_text(value: datetime, field: str) -> str:
    """An ``AwareDatetime`` field as pydantic writes it: ISO 8601, ``Z`` for UTC."""
    offset = value.utcoffset()
    if offset is None:
        raise PayloadError(f"payload.{field}", "must be timezone-aware")
    if not offset.microseconds and not offset.seconds % 60:
        text = value.isoformat()  # ends with the offset as ±HH:MM
        return text[:-6] + "Z" if offset == _ZERO else text
    return str(_AWARE.dump_python(value, mode="json"))  # an offset in seconds: pydantic's form


def pattern_text(value: str | None, pattern: re.Pattern[str], field: str) -> str | None:
    """A constrained string field (``StringConstraints(pattern=…)``), checked."""
    if value is not None and not pattern.search(value):
        raise PayloadError(f"payload.{field}", f"{value!r} does not match {pattern.pattern}")
    return value
