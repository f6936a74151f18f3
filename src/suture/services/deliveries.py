"""Outbound deliveries: the queue callers write to, the transport port, and operator actions.

DESIGN.md §3: everything Suture sends goes through one queue. A handler or workflow calls
:meth:`DeliveryQueue.enqueue` inside its own unit of work, so the delivery commits together with
the business change that calls for it, or not at all (transactional outbox); queuing is one
insert, so a slow or absent target never slows ingest. The :class:`DeliveryWorker`
(``services/delivery_worker.py``) sends due deliveries through a :class:`Transport`.

**At least once, with the idempotency key.** A worker can crash after the target accepted a
delivery and before the outcome was committed; the delivery is then sent again when its lease
expires. A transport must therefore pass the delivery's ``idempotency_key`` along (an ERP
external reference, an ``Idempotency-Key`` header, the file name of a file drop) so the target
recognises the repeat.

Transports report a permanent refusal (the target answered "no": validation failed, HTTP 4xx)
with :class:`DeliveryRefusedError`: the delivery is dead-lettered at once and a
``delivery_failed`` exception opened with the target's message. A refusal for master data the
target lacks (a supplier unknown to the ERP) is :class:`DeliveryParkedError`: the delivery is
``parked`` on the dependency with an exception of the error's business type, and re-driven
without anyone asking when the dependency appears (``services/redrive.py``). Anything else
they raise, and :class:`DeliveryUnavailableError` in particular, is transient: retried with
backoff. Error messages are stored and shown to people, so they must be PHI-free: the
target's status and message, never the payload. Errors::

    SutureError
    └── DeliveryError
        ├── DeliveryRefusedError       the target refused the delivery for good (field "target")
        │   └── DeliveryParkedError    it lacks master data: wait for it (the dependency)
        ├── DeliveryUnavailableError   the target could not take it now (field "target")
        ├── UnknownDeliveryError       no delivery has the id (field "delivery_id")
        └── DeliveryNotRetryableError  delivered or in flight: nothing to retry (field "status")
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from suture.domain.deliveries import TARGET, Delivery, DeliveryAttempt, DeliveryStatus
from suture.domain.delivery_targets import TargetSettings, TargetState
from suture.domain.errors import DomainError, SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.messages import require_aware
from suture.eventlog.errors import DependencyKey
from suture.services.clock import Clock
from suture.services.inbox import IdFactory, uuid7_ids
from suture.services.unit_of_work import UnitOfWork


class DeliveryError(SutureError):
    """The delivery queue, or a target, cannot do what was asked."""


class DeliveryRefusedError(DeliveryError):
    """The target refused the delivery; retrying the same bytes cannot help (HTTP 4xx-like)."""

    def __init__(self, reason: str, *, field: str = "target") -> None:
        super().__init__(field, reason)


class DeliveryParkedError(DeliveryRefusedError):
    """The target refused for want of master data it does not have yet (a supplier unknown to
    the ERP): the same bytes will succeed once ``dependency`` exists there, so the delivery is
    parked on it, with an exception item of ``exception_type``, until a re-drive."""

    def __init__(
        self,
        reason: str,
        *,
        dependency: DependencyKey,
        exception_type: ExceptionType = ExceptionType.PARKED_DEPENDENCY,
        field: str = "target",
    ) -> None:
        super().__init__(reason, field=field)
        self.dependency = dependency
        self.exception_type = exception_type


class DeliveryUnavailableError(DeliveryError):
    """The target could not take the delivery now (down, timed out, busy): retry later."""

    def __init__(self, reason: str, *, field: str = "target") -> None:
        super().__init__(field, reason)


class DeliveryWithheldError(DeliveryError):
    """Not sent on purpose: the target's interface is in shadow or legacy mode (shadow.py)."""

    def __init__(self, reason: str, *, field: str = "mode") -> None:
        super().__init__(field, reason)


class UnknownDeliveryError(DeliveryError):
    """No delivery has this id."""


class DeliveryNotRetryableError(DeliveryError):
    """Only a dead or pending delivery can be retried."""


class Transport(Protocol):
    """Sends one delivery to its target; returns when the target has accepted it.

    Raises :class:`DeliveryRefusedError` for a permanent refusal and anything else (ideally
    :class:`DeliveryUnavailableError`) for a failure worth retrying. Called outside any database
    transaction; must send :attr:`Delivery.idempotency_key` so the target can drop a repeat.
    """

    def send(self, delivery: Delivery) -> None: ...


class DeliveryQueue:
    """Queues deliveries inside the caller's unit of work (outbox style)."""

    def __init__(self, new_id: IdFactory | None = None) -> None:
        self._new_id = new_id or uuid7_ids()

    def enqueue(
        self,
        uow: UnitOfWork,
        *,
        target: str,
        operation: str,
        payload: bytes | str,
        idempotency_key: str,
        at: datetime,
        facility_id: str | None = None,
        correlation_id: str | None = None,
        trace_id: str | None = None,
    ) -> Delivery:
        """Queue a delivery due at ``at``; the caller commits. Idempotent per target and key.

        When ``(target, idempotency_key)`` is queued already the stored delivery is returned
        (without payload) and nothing is written: the first payload stays the one sent.
        """
        require_aware("at", at)
        delivery = Delivery.new(
            id=self._new_id(at),
            target=target,
            operation=operation,
            payload=payload,
            idempotency_key=idempotency_key,
            at=at,
            facility_id=facility_id,
            correlation_id=correlation_id,
            trace_id=trace_id,
        )
        stored, _ = uow.deliveries.enqueue(delivery)
        return stored

    def enqueue_many(self, uow: UnitOfWork, batch: Sequence[Outbound], *, at: datetime) -> int:
        """:meth:`enqueue` for several, due at ``at``, in a few statements whatever their
        number (a workflow step queuing a batch's journals); how many were stored."""
        require_aware("at", at)
        deliveries = [
            Delivery.new(
                id=self._new_id(at), target=o.target, operation=o.operation, payload=o.payload,
                idempotency_key=o.idempotency_key, at=at, facility_id=o.facility_id,
                correlation_id=o.correlation_id, trace_id=o.trace_id,
            )
            for o in batch
        ]  # fmt: skip
        return uow.deliveries.enqueue_many(deliveries)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbound:
    """One delivery to queue with :meth:`DeliveryQueue.enqueue_many`."""

    target: str
    operation: str
    payload: bytes | str
    idempotency_key: str
    facility_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None


class Deliveries:
    """What operators and ``suture status`` do with the queue; each call is one transaction.

    :meth:`retry_delivery` is the delivery part of the exception queue's ``Redrive`` port.
    """

    def __init__(self, uow_factory: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    def retry_delivery(self, delivery_id: str) -> None:
        """Send a dead or parked delivery again with a fresh attempt count; a pending one is
        made due now.

        The target's circuit is left alone: while it is open, the retried delivery waits.
        """
        with self._uow() as uow:
            current = uow.deliveries.get(delivery_id)
            if current is None:
                raise UnknownDeliveryError("delivery_id", f"no delivery {delivery_id!r}")
            retryable = (DeliveryStatus.DEAD, DeliveryStatus.PARKED, DeliveryStatus.PENDING)
            if current.status not in retryable:
                raise DeliveryNotRetryableError(
                    "status", f"delivery {delivery_id} is {current.status}: nothing to retry"
                )
            uow.deliveries.retry(delivery_id, at=self._clock())
            uow.commit()

    def get(self, delivery_id: str) -> Delivery:
        with self._uow() as uow:
            found = uow.deliveries.get(delivery_id)
        if found is None:
            raise UnknownDeliveryError("delivery_id", f"no delivery {delivery_id!r}")
        return found

    def attempts(self, delivery_id: str) -> builtins.list[DeliveryAttempt]:
        with self._uow() as uow:
            return uow.deliveries.attempts(delivery_id)

    def list(
        self,
        *,
        status: DeliveryStatus | None = None,
        target: str | None = None,
        correlation_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Delivery]:
        """A page of deliveries without payload, by id; the next page is ``after`` its last."""
        with self._uow() as uow:
            return uow.deliveries.list(
                status=status,
                target=target,
                correlation_id=correlation_id,
                after=after,
                limit=limit,
            )

    def counts(self) -> dict[str, dict[DeliveryStatus, int]]:
        """Per target, deliveries in each status (``suture status``)."""
        with self._uow() as uow:
            return uow.deliveries.count_by_status()

    def totals(self) -> dict[DeliveryStatus, int]:
        """Deliveries in each status over every target, every status present."""
        totals = dict.fromkeys(DeliveryStatus, 0)
        for per_status in self.counts().values():
            for status, n in per_status.items():
                totals[status] += n
        return totals

    def targets(self) -> builtins.list[TargetState]:
        """Every known target with its limits, budget and circuit."""
        with self._uow() as uow:
            return uow.deliveries.targets()

    def configure_target(self, target: str, settings: TargetSettings) -> None:
        """Set a target's rate budget and breaker limits (bootstrap, from settings)."""
        if not TARGET.fullmatch(target):
            raise DomainError("target", f"{target!r} is not a target like 'erp:tryton'")
        with self._uow() as uow:
            uow.deliveries.configure_target(target, settings, at=self._clock())
            uow.commit()
