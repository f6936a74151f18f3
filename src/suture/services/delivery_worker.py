"""The delivery worker: claim due deliveries, send them, record what happened.

DESIGN.md §3 guarantee 3 for what Suture sends. One round (:meth:`DeliveryWorker.run_once`):

1. **Claim** in a transaction of its own, committed before anything is sent: the repository
   takes due deliveries within each target's circuit and rate budget, shared by every worker, and
   leases them (``in_flight`` until ``now + lease``).
2. **Send** each one through the transport of its target, *outside* any database transaction,
   so a slow target holds no lock and no connection.
3. **Record** the outcome in a new transaction: the attempt; the target's circuit (a transient
   failure counts against it; a delivery or a refusal shows the target is answering); then the
   delivery: delivered; or pending again at the backoff the :class:`RetryPolicy` decides; or
   dead with the target's error and a ``delivery_failed`` exception (a refusal, or attempts
   exhausted); or ``parked`` on a dependency with an exception of its business type (the
   target lacks master data: a supplier unknown to the ERP), re-driven when it appears. A
   delivery that had failed before resolves its open exception when delivered (an operator's
   retry from the work queue ends there).

A crash between 1 and 3 loses nothing: when the lease expires the delivery is due again and
the lost attempt is recorded as ``lease_expired``. The target may then receive it twice, which
is why every send carries the idempotency key (``services/deliveries.py``). A worker that is only
slow is fenced: its late failure report changes nothing once another attempt holds the row. The
lease must outlast a round: ``limit`` sends one after another.

A workflow that must know a delivery reached its target (a PO is ``sent`` once its 850 left)
gives a hook per operation (``on_delivered``); it runs in the transaction that records the
delivery, so the business record and the delivery's status change together.

While a target's circuit is open its deliveries are not claimed, so they wait as ``pending``
without spending attempts; a down ERP is probed by one trial per cool-down.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from suture.domain.deliveries import AttemptOutcome, Delivery, DeliveryAttempt, error_text
from suture.domain.delivery_targets import failed, succeeded
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.eventlog.errors import DependencyKey, ErrorKind
from suture.eventlog.retry import Outcome, RetryPolicy
from suture.services.clock import Clock
from suture.services.deliveries import (
    DeliveryParkedError,
    DeliveryRefusedError,
    DeliveryWithheldError,
    Transport,
)
from suture.services.exceptions import open_exception, resolve_for_subject
from suture.services.unit_of_work import UnitOfWork

#: How long a claimed delivery is its worker's before another may claim it again.
DEFAULT_LEASE = timedelta(minutes=5)

#: Runs in the transaction that records a delivery as delivered (``on_delivered``).
DeliveredHook = Callable[[UnitOfWork, Delivery, datetime], None]


class DeliveryWorker:
    """Sends due deliveries of the targets it has a transport for.

    ``transports`` maps a target (``erp:tryton``) or a kind of target (``erp``) to its
    transport; the most specific entry wins, and targets matching none are left for another
    worker. ``rand`` is uniform in [0, 1), for the backoff's jitter.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        transports: Mapping[str, Transport],
        retry: RetryPolicy,
        clock: Clock,
        rand: Callable[[], float] = random.random,
        *,
        lease: timedelta = DEFAULT_LEASE,
        on_delivered: Mapping[str, DeliveredHook] | None = None,
    ) -> None:
        self._uow = uow_factory
        self._on_delivered = dict(on_delivered or {})
        self._transports = dict(transports)
        self._retry = retry
        self._clock = clock
        self._rand = rand
        self._lease = lease

    def run_once(self, limit: int = 100) -> int:
        """Claim up to ``limit`` due deliveries, send each and record it; how many were sent."""
        if not self._transports:
            return 0
        with self._uow() as uow:
            claimed = uow.deliveries.claim_due(
                self._clock(), limit=limit, lease=self._lease, prefixes=tuple(self._transports)
            )
            uow.commit()
        for delivery in claimed:
            self._deliver(delivery)
        return len(claimed)

    def _transport_for(self, target: str) -> Transport:
        matching = [p for p in self._transports if target == p or target.startswith(f"{p}:")]
        return self._transports[max(matching, key=len)]  # claims match a prefix: never empty

    def _deliver(self, delivery: Delivery) -> None:
        started = self._clock()
        error: BaseException | None = None
        try:
            self._transport_for(delivery.target).send(delivery)
        except Exception as exc:  # every failure is recorded, see the module docstring
            error = exc
        self._record(delivery, error, started, self._clock())

    def _record(
        self, delivery: Delivery, error: BaseException | None, started: datetime, at: datetime
    ) -> None:
        if isinstance(error, DeliveryWithheldError):
            self._withheld(delivery, error, started, at)
            return
        refused = isinstance(error, DeliveryRefusedError)
        reason = None if error is None else _reason(error)
        outcome = (
            AttemptOutcome.DELIVERED
            if error is None
            else AttemptOutcome.PARKED
            if isinstance(error, DeliveryParkedError)
            else AttemptOutcome.REFUSED
            if refused
            else AttemptOutcome.FAILED
        )
        duration_ms = max(0, (at - started) // timedelta(milliseconds=1))
        with self._uow() as uow:
            repo = uow.deliveries
            state = repo.target_state(delivery.target, at=at, lock=True)
            circuit = (
                succeeded(state.circuit)
                if error is None or refused
                else failed(state.circuit, state.settings, at)
            )
            repo.save_target(replace(state, circuit=circuit))
            repo.record_attempt(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    at=at,
                    outcome=outcome,
                    error=reason,
                    duration_ms=duration_ms,
                )
            )
            if reason is None:
                delivered = repo.mark_delivered(delivery.id, at=at)
                if delivered and delivery.last_error is not None:  # it failed before: any item?
                    resolve_for_subject(uow, at=at, note="delivered", delivery_id=delivery.id)
                hook = self._on_delivered.get(delivery.operation)
                if delivered and hook is not None:
                    hook(uow, delivery, at)
            elif isinstance(error, DeliveryParkedError):
                _park(uow, delivery, error, reason, at)
            else:
                self._after_failure(uow, delivery, reason, refused, at)
            uow.commit()

    def _withheld(
        self, delivery: Delivery, error: DeliveryWithheldError, started: datetime, at: datetime
    ) -> None:
        """Shadow mode: the attempt is recorded and the delivery kept, final, not sent. The
        target's circuit is untouched: nothing was asked of it."""
        with self._uow() as uow:
            uow.deliveries.record_attempt(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    at=at,
                    outcome=AttemptOutcome.WITHHELD,
                    error=error_text(error.reason),
                    duration_ms=max(0, (at - started) // timedelta(milliseconds=1)),
                )
            )
            uow.deliveries.mark_shadowed(delivery.id, at=at)
            uow.commit()

    def _after_failure(
        self, uow: UnitOfWork, delivery: Delivery, reason: str, refused: bool, at: datetime
    ) -> None:
        kind = ErrorKind.PERMANENT if refused else ErrorKind.TRANSIENT
        decision = self._retry.decide(delivery.attempts, kind, at, self._rand)
        if decision.outcome is Outcome.RETRY and decision.next_attempt_at is not None:
            uow.deliveries.schedule_retry(
                delivery.id,
                attempt=delivery.attempts,
                next_attempt_at=decision.next_attempt_at,
                error=reason,
                at=at,
            )
            return
        if uow.deliveries.dead_letter(delivery.id, attempt=delivery.attempts, error=reason, at=at):
            _open_item(
                uow, delivery, ExceptionType.DELIVERY_FAILED, f"{decision.reason}: {reason}", at
            )


def _park(
    uow: UnitOfWork, delivery: Delivery, error: DeliveryParkedError, reason: str, at: datetime
) -> None:
    """Park the delivery on the master data it waits for and open an item of its business
    type; ``redrive_parked`` of the dependency makes it due again and resolves the item."""
    if uow.deliveries.park(delivery.id, attempt=delivery.attempts, error=reason, at=at):
        _open_item(
            uow,
            delivery,
            error.exception_type,
            f"parked on {error.dependency}: {reason}",
            at,
            dependency=error.dependency,
        )


def _open_item(
    uow: UnitOfWork,
    delivery: Delivery,
    type: ExceptionType,
    what: str,
    at: datetime,
    *,
    dependency: DependencyKey | None = None,
) -> None:
    """The exception item of a delivery that failed or parked, linked to it and its trace."""
    open_exception(
        uow,
        type=type,
        facility_id=delivery.facility_id,
        reason=error_text(f"{delivery.operation} to {delivery.target}: {what}"),
        at=at,
        delivery_id=delivery.id,
        trace_id=delivery.trace_id,
        correlation_id=delivery.correlation_id,
        dependency=dependency,
    )


def _reason(error: BaseException) -> str:
    """The error as stored: a Suture error's reason, else the type and message (PHI-free by
    contract of :class:`~suture.services.deliveries.Transport`)."""
    if isinstance(error, SutureError):
        return error_text(error.reason)
    text = str(error).strip()
    return error_text(f"{type(error).__name__}: {text}" if text else type(error).__name__)
