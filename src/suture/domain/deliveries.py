"""Outbound deliveries: what Suture owes another system, and the record of each try.

DESIGN.md §3: everything Suture sends (ERP calls, X12 to suppliers, webhooks) goes through one
queue, so that a slow or absent target never slows ingest and no failure is swallowed. A
:class:`Delivery` is queued in the same transaction as the business change that calls for it
(outbox style) and moves through :class:`DeliveryStatus`::

    pending ──claim──► in_flight ──► delivered (final)
                          │  └─────► shadowed (final): withheld, its interface is in shadow
                          │          or legacy mode (domain/shadow.py); kept for comparison
       ▲                  │  │
       └── retry later ◄──┘  ├──► dead ──retry (an operator)──► pending
                             └──► parked ──the dependency appears (re-drive), or retry──► pending
       └── lease expired (the worker vanished) ◄── in_flight

``parked``: the target answered that master data the delivery needs is missing there (a
supplier unknown to the ERP); the delivery waits, spending no attempts, until the dependency
appears and re-drives it (``services/redrive.py``), like an event parked on a missing mapping.

``attempts`` counts the attempts started: a claim counts one, so a delivery whose worker keeps
crashing still runs out of attempts. An operator's retry of a dead delivery starts a fresh count.

Delivery to the target is at least once: a worker may crash after the target accepted and before
the outcome was committed, and the delivery is sent again when its lease expires. Every attempt
therefore carries :attr:`Delivery.idempotency_key`, the same for every attempt, so the target can
recognise a repeat (an ERP "external reference", an X12 control number, a webhook
``Idempotency-Key`` header, a file name). The key is unique per target: the same business fact
is queued once for each system it must reach, never twice for one.

PHI: ``payload`` may hold anything the target needs, so it is left out of ``repr`` and never
quoted in an error. ``last_error`` is the target's answer (status line, error code, message) and
must be PHI-free; :func:`error_text` trims it to a length a work queue can show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.messages import require_aware

#: ``kind:name``: ``erp:tryton``, ``x12:supplier-SUP-0001``, ``webhook:billing``.
TARGET = re.compile(r"[a-z][a-z0-9_.-]*:\S+")
#: The longest ``last_error`` and attempt error kept; a target's answer beyond it is cut.
MAX_ERROR_LENGTH = 1000


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    DEAD = "dead"
    SHADOWED = "shadowed"
    PARKED = "parked"


class AttemptOutcome(StrEnum):
    """How one attempt ended; ``lease_expired``: its worker never reported (crash, kill)."""

    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"
    LEASE_EXPIRED = "lease_expired"
    WITHHELD = "withheld"
    PARKED = "parked"  # the target lacks master data the delivery needs: it waits for it


def target_kind(target: str) -> str:
    """The kind of a target, the part before the first colon: ``erp`` of ``erp:tryton``."""
    return target.partition(":")[0]


def error_text(reason: str) -> str:
    """``reason`` on one line, at most :data:`MAX_ERROR_LENGTH` characters."""
    text = " ".join(reason.split())
    if len(text) <= MAX_ERROR_LENGTH:
        return text
    return text[: MAX_ERROR_LENGTH - 1] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One thing to send to one target.

    ``next_attempt_at`` is when a pending delivery becomes due; ``lease_until`` is when an
    in-flight one may be claimed again because its worker did not report. ``payload`` is None
    when not loaded (lists never load it).
    """

    id: str
    target: str
    operation: str
    idempotency_key: str
    created_at: datetime
    next_attempt_at: datetime
    updated_at: datetime
    payload: bytes | None = field(default=None, repr=False)
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str | None = None
    facility_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None
    delivered_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise DomainError("id", "must not be empty")
        if not TARGET.fullmatch(self.target):
            raise DomainError("target", f"{self.target!r} is not a target like 'erp:tryton'")
        if not self.operation.strip():
            raise DomainError("operation", "must not be empty")
        if not self.idempotency_key.strip():
            raise DomainError("idempotency_key", "must not be empty")
        if self.attempts < 0:
            raise DomainError("attempts", f"must not be negative, got {self.attempts}")
        for name in ("created_at", "next_attempt_at", "updated_at"):
            require_aware(name, getattr(self, name))
        for name in ("lease_until", "delivered_at"):
            value = getattr(self, name)
            if value is not None:
                require_aware(name, value)
        if self.status is DeliveryStatus.IN_FLIGHT and self.lease_until is None:
            raise DomainError("lease_until", "an in-flight delivery has a lease")
        if self.status is DeliveryStatus.DEAD and not (self.last_error or "").strip():
            raise DomainError("last_error", "a dead delivery keeps the target's error")

    @classmethod
    def new(
        cls,
        *,
        id: str,
        target: str,
        operation: str,
        payload: bytes | str,
        idempotency_key: str,
        at: datetime,
        facility_id: str | None = None,
        correlation_id: str | None = None,
        trace_id: str | None = None,
    ) -> Delivery:
        """A delivery queued at ``at``, due at once; text (JSON) is stored as UTF-8."""
        body = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        return cls(
            id=id,
            target=target,
            operation=operation,
            payload=body,
            idempotency_key=idempotency_key,
            created_at=at,
            next_attempt_at=at,
            updated_at=at,
            facility_id=facility_id,
            correlation_id=correlation_id,
            trace_id=trace_id,
        )

    @property
    def kind(self) -> str:
        return target_kind(self.target)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One try at a delivery, appended and never changed: the history a person reads."""

    delivery_id: str
    attempt: int
    at: datetime
    outcome: AttemptOutcome
    error: str | None = None
    duration_ms: int | None = None

    def __post_init__(self) -> None:
        require_aware("at", self.at)
        if self.attempt < 1:
            raise DomainError("attempt", f"attempts count from 1, got {self.attempt}")
        if self.duration_ms is not None and self.duration_ms < 0:
            raise DomainError("duration_ms", f"must not be negative, got {self.duration_ms}")
