"""Inbound messages as the inbox keeps them: raw bytes, provenance and a processing status.

DESIGN.md §3, guarantee 1 ("store before acknowledge"): every inbound edge stores the bytes it
was sent, exactly, before it acknowledges them, and only then does a codec run. An
:class:`InboundMessage` is that stored record. Its status follows :data:`TRANSITIONS`::

    received ──► decoded ──► processed (final)
        │            │
        └────────────┴──► parked | failed | dead_lettered
    parked, failed ──► any status: re-driven, retried from the start, failed again, given up
    dead_lettered ──► received (replay)

``attempts`` counts failed attempts (moves to ``failed`` or ``dead_lettered``), the number
:meth:`suture.eventlog.retry.RetryPolicy.decide` takes; parking does not spend it, and the replay
of a dead letter (back to ``received``) starts a fresh budget.

PHI: ``raw`` may hold patient identifiers. It is left out of ``repr`` and never appears in an
error message. ``status_reason`` is written by callers and must be PHI-free: say "PID-3 missing"
or "unknown item 12345", never quote the segment or the patient's name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from suture.domain.errors import DomainError

#: A format name: ``hl7v2``, ``x12``, ``fhir``, ``csv``.
FORMAT = re.compile(r"[a-z][a-z0-9_.-]*")
#: A SHA-256 digest in lowercase hexadecimal.
CHECKSUM = re.compile(r"[0-9a-f]{64}")


class MessageStatus(StrEnum):
    RECEIVED = "received"
    DECODED = "decoded"
    PROCESSED = "processed"
    PARKED = "parked"
    FAILED = "failed"
    DEAD_LETTERED = "dead_lettered"


_S = MessageStatus

#: The statuses each status may move to. ``processed`` is final; a dead letter only comes back
#: through a replay; a parked or failed message may be re-driven, retried or given up on.
TRANSITIONS: Mapping[MessageStatus, frozenset[MessageStatus]] = {
    _S.RECEIVED: frozenset({_S.DECODED, _S.PARKED, _S.FAILED, _S.DEAD_LETTERED}),
    _S.DECODED: frozenset({_S.PROCESSED, _S.PARKED, _S.FAILED, _S.DEAD_LETTERED}),
    _S.PARKED: frozenset(MessageStatus),
    _S.FAILED: frozenset(MessageStatus),
    _S.DEAD_LETTERED: frozenset({_S.RECEIVED}),
    _S.PROCESSED: frozenset(),
}

#: Statuses that say something went wrong; entering one needs a reason a person can act on.
NEEDS_REASON = frozenset({_S.PARKED, _S.FAILED, _S.DEAD_LETTERED})
#: Statuses that count as a failed attempt.
COUNTS_AS_ATTEMPT = frozenset({_S.FAILED, _S.DEAD_LETTERED})


class MessageTransitionError(DomainError):
    """A status change :data:`TRANSITIONS` does not allow (field ``status``)."""


def checksum_of(raw: bytes) -> str:
    """The SHA-256 of ``raw`` in lowercase hex: the inbox's duplicate key, with the interface."""
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """One message as an inbound edge received it.

    ``raw`` is None when the bytes were not loaded (lists never load them); ``size`` and
    ``checksum`` always describe the stored bytes. ``facility_id`` and ``correlation_id`` (the
    business key: PO number, invoice number, encounter token, UDI) are usually learnt by decoding.
    """

    id: str
    format: str
    interface: str
    source_system: str
    received_at: datetime
    checksum: str
    size: int
    trace_id: str
    status: MessageStatus = MessageStatus.RECEIVED
    updated_at: datetime
    raw: bytes | None = field(default=None, repr=False)
    facility_id: str | None = None
    status_reason: str | None = None
    correlation_id: str | None = None
    attempts: int = 0

    def __post_init__(self) -> None:
        for name in ("id", "interface", "source_system", "trace_id"):
            if not getattr(self, name).strip():
                raise DomainError(name, "must not be empty")
        if not FORMAT.fullmatch(self.format):
            raise DomainError("format", f"{self.format!r} is not a format name like 'hl7v2'")
        if not CHECKSUM.fullmatch(self.checksum):
            raise DomainError("checksum", "must be a SHA-256 digest in lowercase hex")
        if self.size < 0 or (self.raw is not None and len(self.raw) != self.size):
            raise DomainError("size", f"{self.size} is not the length of the raw bytes")
        if self.attempts < 0:
            raise DomainError("attempts", f"must not be negative, got {self.attempts}")
        require_aware("received_at", self.received_at)
        require_aware("updated_at", self.updated_at)
        if self.status in NEEDS_REASON and not (self.status_reason or "").strip():
            raise DomainError("status_reason", f"a {self.status} message needs a reason")

    @classmethod
    def received(
        cls,
        *,
        id: str,
        format: str,
        interface: str,
        source_system: str,
        raw: bytes,
        received_at: datetime,
        trace_id: str,
        facility_id: str | None = None,
    ) -> InboundMessage:
        """A message just taken off the wire: status ``received``, checksum and size computed."""
        if not raw:
            raise DomainError("raw", "an inbound message has at least one byte")
        return cls(
            id=id,
            format=format,
            interface=interface,
            source_system=source_system,
            received_at=received_at,
            checksum=checksum_of(raw),
            size=len(raw),
            trace_id=trace_id,
            updated_at=received_at,
            raw=raw,
            facility_id=facility_id,
        )

    def transition(
        self,
        status: MessageStatus,
        *,
        reason: str | None,
        at: datetime,
        correlation_id: str | None = None,
        facility_id: str | None = None,
    ) -> InboundMessage:
        """This message moved to ``status`` at ``at``; ``reason`` replaces the previous one.

        ``correlation_id`` and ``facility_id`` are set when given (decoding learns them) and kept
        otherwise. Raises :class:`MessageTransitionError` for a move :data:`TRANSITIONS` forbids;
        its message names the two statuses and the message id, never content.
        """
        status = MessageStatus(status)
        if status not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "nothing: it is final"
            raise MessageTransitionError(
                "status",
                f"message {self.id} cannot go from {self.status} to {status} "
                f"(from {self.status}: {allowed})",
            )
        replayed = self.status is MessageStatus.DEAD_LETTERED
        attempts = 0 if replayed else self.attempts
        return replace(
            self,
            status=status,
            status_reason=reason,
            updated_at=at,
            attempts=attempts + (status in COUNTS_AS_ATTEMPT),
            correlation_id=correlation_id if correlation_id is not None else self.correlation_id,
            facility_id=facility_id if facility_id is not None else self.facility_id,
        )

    def without_raw(self) -> InboundMessage:
        return replace(self, raw=None)


def require_aware(name: str, value: datetime) -> None:
    """Refuse a naive ``value`` with a :class:`DomainError` naming the field."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise DomainError(name, "must be timezone-aware")
