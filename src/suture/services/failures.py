"""What the bus does with a failed attempt: retry later, park, or dead-letter, and tell a person.

DESIGN.md §3 guarantees 3 and 4, STYLE.md habit 4: the handler's writes have been taken back
(its savepoint) and its batch has committed; :func:`settle` then records the attempt in a
transaction of its own, as the retry policy decided. Parking opens a ``missing_item_mapping``,
``unknown_supplier`` or ``parked_dependency`` exception item, dead letter a ``handler_failed``
one (a ``uom_mismatch`` for a unit the item lacks; DESIGN.md §5), in the same transaction.

A worker that dies inside a handler (SIGKILL, OOM) records nothing; the claim had counted the
attempt (``IN_PROGRESS`` in ``event_store.py``), and the next claim records it here:
:func:`record_crash` while the budget lasts, :func:`bury_crashed` once it is spent.

PHI: the text kept is :func:`describe`'s, never the content of the event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from suture.domain.errors import SutureError, UnitConversionError
from suture.domain.exceptions import ExceptionType
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey, ErrorKind, MissingDependencyError
from suture.eventlog.retry import Outcome, RetryDecision
from suture.services import exceptions as exception_queue
from suture.services.event_store import WorkItem
from suture.services.unit_of_work import UnitOfWork

#: Longest error text kept with an attempt or an exception item.
MAX_ERROR = 500

#: The error kind of an attempt whose worker died before its outcome was stored.
WORKER_DIED = "worker_died"


class Processing(StrEnum):
    """What the bus did with one work item."""

    DONE = "done"
    SKIPPED = "skipped"  # gone, not pending, or processed already: nothing to do
    RETRY = "retry"
    PARKED = "parked"
    DEAD = "dead"


def describe(error: BaseException) -> str:
    """A PHI-free description of a failure, for attempts and exception items.

    Suture's own errors name a field and a reason and never quote content (STYLE.md habit 9);
    any other exception may carry data it was handed, so only its type is kept.
    """
    if isinstance(error, SutureError):
        text = f"{type(error).__name__}: {error}"
    else:
        text = f"{type(error).__name__} (details withheld: not a Suture error)"
    return text[:MAX_ERROR]


def settle(
    uow: UnitOfWork,
    item: WorkItem,
    error: BaseException,
    *,
    kind: ErrorKind,
    decision: RetryDecision,
    at: datetime,
) -> Processing:
    """Record the failed attempt at ``item`` as ``decision`` says, in ``uow``; caller commits."""
    reason = describe(error)
    if uow.events.lock_work(item.handler, item.event_id) is None:
        return Processing.SKIPPED  # another worker finished it meanwhile
    envelope = uow.events.get(item.event_id)
    if decision.outcome is Outcome.RETRY and decision.next_attempt_at is not None:
        uow.events.record_failure(
            item.handler, item.event_id, at=at, error_kind=kind.value, error=reason,
            next_attempt_at=decision.next_attempt_at,
        )  # fmt: skip
        return Processing.RETRY
    if decision.outcome is Outcome.PARK and isinstance(error, MissingDependencyError):
        dependency = error.dependency
        uow.events.park(
            item.handler, item.event_id, at=at, dependency=str(dependency), error=reason
        )
        _open(uow, item, envelope, type=_park_type(dependency), reason=reason, at=at,
              dependency=dependency)  # fmt: skip
        return Processing.PARKED
    uow.events.dead_letter(
        item.handler, item.event_id, at=at, error_kind=kind.value,
        error=f"{reason} ({decision.reason})",
    )  # fmt: skip
    text = f"{item.handler} failed: {reason}; {decision.reason}"
    _open(uow, item, envelope, type=_dead_type(error), reason=text, at=at)
    return Processing.DEAD


def record_crash(uow: UnitOfWork, item: WorkItem, *, at: datetime) -> None:
    """Log that the worker handling claimed ``item`` died; the item is due again at ``at``."""
    uow.events.record_failure(
        item.handler, item.event_id, at=at, error_kind=WORKER_DIED,
        error="worker died while handling it", next_attempt_at=at,
    )  # fmt: skip


def bury_crashed(uow: UnitOfWork, item: WorkItem, *, at: datetime) -> Processing:
    """Dead-letter ``item``, whose workers died while handling it until its attempts ran out,
    and open a ``handler_failed`` exception item saying so (the crash-loop guard)."""
    earlier = [a for a in uow.events.attempts_of(item.event_id) if a.handler == item.handler]
    crashes = 1  # this one, and the crashes logged since the last other outcome
    for attempt in reversed(earlier):
        if attempt.error_kind != WORKER_DIED or attempt.outcome != "retry":
            break
        crashes += 1
    reason = f"worker died while handling it {crashes} times"
    uow.events.dead_letter(
        item.handler, item.event_id, at=at, error_kind=WORKER_DIED,
        error=f"{reason} (attempt {item.attempts})",
    )  # fmt: skip
    text = f"{item.handler} failed: {reason}; gave up after {item.attempts} attempts"
    _open(uow, item, uow.events.get(item.event_id), type=ExceptionType.HANDLER_FAILED,
          reason=text, at=at)  # fmt: skip
    return Processing.DEAD


def _open(
    uow: UnitOfWork,
    item: WorkItem,
    envelope: Envelope | None,
    *,
    type: ExceptionType,
    reason: str,
    at: datetime,
    dependency: DependencyKey | None = None,
) -> None:
    facility = None
    if envelope is not None:
        payload_facility = envelope.payload.get("facility_id")
        facility = payload_facility if isinstance(payload_facility, str) else None
        facility = facility or envelope.source_facility
    exception_queue.open_exception(
        uow,
        type=type,
        facility_id=facility,
        reason=reason[:MAX_ERROR],
        at=at,
        event_id=item.event_id,
        handler=item.handler,
        trace_id=envelope.trace_id if envelope else None,
        correlation_id=envelope.correlation_id if envelope else None,
        dependency=dependency,
    )


def _dead_type(error: BaseException) -> ExceptionType:
    """A dead letter in business terms where the error says which: a unit the item is not
    packed in is supply chain's to fix in the item master (``uom_mismatch``), not an
    integration failure."""
    if isinstance(error, UnitConversionError):
        return ExceptionType.UOM_MISMATCH
    return ExceptionType.HANDLER_FAILED


def _park_type(dependency: DependencyKey) -> ExceptionType:
    """Missing master data in business terms (DESIGN.md §5) where the kind says which."""
    if dependency.kind == "item":
        return ExceptionType.MISSING_ITEM_MAPPING
    if dependency.kind == "supplier":
        return ExceptionType.UNKNOWN_SUPPLIER
    return ExceptionType.PARKED_DEPENDENCY
