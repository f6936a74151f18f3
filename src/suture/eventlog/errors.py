"""The event log's branch of Suture's error tree, and how a failure is classified for retrying.

See the package docstring for the whole tree. Every error names the field and the reason
(STYLE.md habit 9); :func:`classify` is the one place that decides what a handler failure means
for the message that caused it (DESIGN.md §3 guarantees 3 and 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pydantic

from suture.domain.errors import DomainError, SutureError


class EventLogError(SutureError):
    """An envelope, an event schema, a retry policy or a routing policy is not as promised."""


class EnvelopeError(EventLogError):
    """An envelope, or the JSON it was read from, is malformed; ``field`` names the key."""


class SchemaError(EventLogError):
    """An event type or version is unknown, or a schema registration is inconsistent."""


class PayloadError(SchemaError):
    """A payload does not validate against the schema of its (type, version)."""


class UpcastError(SchemaError):
    """A payload cannot be brought to the latest version: a step of the chain is missing."""


class RetryPolicyError(EventLogError):
    """A retry policy is configured with impossible values."""


class RoutingPolicyError(EventLogError):
    """A routing policy document is invalid; the message starts with ``source:line``."""

    def __init__(self, field: str, reason: str, *, source: str, line: int | None = None) -> None:
        super().__init__(field, reason)
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        self.args = (f"{where}: {field}: {reason}" if field else f"{where}: {reason}",)


@dataclass(frozen=True, slots=True)
class DependencyKey:
    """The master data a parked message waits for: ``kind`` and ``key``, e.g. item / local code.

    The raiser and the re-driver must spell the key the same way; for crosswalks use
    ``str(CrosswalkKey)`` (``"epic/fac-1/item/LOC-42"``).
    """

    kind: str
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


class MissingDependencyError(SutureError):
    """A message cannot be handled *yet*: the master data it refers to does not exist.

    Such a message is parked on :attr:`dependency` and re-driven when the dependency appears,
    never retried on a timer (DESIGN.md §3 guarantee 4).
    """

    def __init__(self, dependency: DependencyKey | tuple[str, str], reason: str) -> None:
        key = dependency if isinstance(dependency, DependencyKey) else DependencyKey(*dependency)
        super().__init__(key.kind, reason)
        self.dependency = key


class ErrorKind(StrEnum):
    """What a failure means for the message: retry it, dead-letter it, or park it."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"
    MISSING_DEPENDENCY = "missing_dependency"


#: Failures that no retry can cure: the message itself, or the rule it breaks, is wrong.
_PERMANENT: tuple[type[BaseException], ...] = (
    EnvelopeError,
    SchemaError,
    DomainError,
    pydantic.ValidationError,
)


def classify(error: BaseException) -> ErrorKind:
    """Classify a handler failure.

    Decode and validation errors (:class:`EnvelopeError`, :class:`SchemaError`, a pydantic
    ``ValidationError``) and broken domain rules are permanent: retrying cannot help, so they go to
    dead letter at once and are replayed after a fix. Anything else is transient, on purpose: a
    transient failure wrongly taken for permanent would be dead-lettered on its first hiccup,
    whereas a permanent one wrongly taken for transient only costs a few retries before it reaches
    dead letter anyway.
    """
    if isinstance(error, MissingDependencyError):
        return ErrorKind.MISSING_DEPENDENCY
    if isinstance(error, _PERMANENT):
        return ErrorKind.PERMANENT
    return ErrorKind.TRANSIENT
