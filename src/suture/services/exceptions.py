"""The exception work queue: open items where failures happen, work them, close them (DESIGN.md §5).

Two kinds of caller:

- The bus and the delivery queue call the functions here *inside their own unit of work*, so
  the item commits with the dead letter or the parking that caused it (no failure without an
  item, STYLE.md habit 4): :func:`open_exception` when something fails,
  :func:`resolve_for_subject` when a retry of it succeeded, :func:`resolve_for_dependency` (or
  :func:`resolve_items`, for items read and acted on first) when missing master data appeared
  and everything parked on it was re-driven.
- People work the queue through :class:`WorkQueue` (the CLI, later the API): list, show, assign,
  retry, resolve, dismiss. Each action is one transaction and leaves an entry in the item's
  trail: who, when, what, why.

A retry is handed to the component that owns the subject through the :class:`Redrive` port (the
bus re-drives events and inbound messages, the delivery queue deliveries). The item is marked
in progress and committed *before* the re-drive is asked for, so a re-drive that runs at once
and resolves or reopens the item (in a transaction of its own) finds it in progress. Errors::

    SutureError
    ├── DomainError
    │   └── ExceptionTransitionError  a change the item's status forbids, or no reason given
    └── ExceptionQueueError
        ├── UnknownExceptionError      no item has the id (field "id")
        └── NotRetryableError          the item's subject has nothing to re-drive (field "subject")
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from suture.domain.errors import SutureError
from suture.domain.exceptions import (
    ACTIVE,
    DEFAULT_SLA_POLICY,
    ActionKind,
    Change,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionType,
    SlaPolicy,
    subject_of,
)
from suture.domain.messages import InboundMessage
from suture.eventlog.errors import DependencyKey
from suture.eventlog.ids import uuid7
from suture.services.clock import Clock
from suture.services.unit_of_work import UnitOfWork

#: Who the hub itself is, in an item's trail, when it opens or closes items on its own.
SYSTEM_ACTOR = "suture"
#: Longest reason or note kept; a longer one is cut, so a verbose error cannot flood the queue.
MAX_TEXT = 1000


class ExceptionQueueError(SutureError):
    """The work queue cannot do what was asked."""


class UnknownExceptionError(ExceptionQueueError):
    """No exception item has this id."""


class NotRetryableError(ExceptionQueueError):
    """The item is about something nothing can re-drive (a dependency, a business key)."""


class EventRedrive(Protocol):
    """What the message bus re-drives: one event at one handler, one inbound message."""

    def retry_event(self, handler: str, event_id: str) -> None: ...

    def retry_message(self, message_id: str) -> None: ...


class DeliveryRedrive(Protocol):
    """What the delivery queue re-drives: one outbound delivery."""

    def retry_delivery(self, delivery_id: str) -> None: ...


class Redrive(EventRedrive, DeliveryRedrive, Protocol):
    """Make a failed subject due again now; its outcome resolves or reopens the item."""


@dataclass(frozen=True, slots=True)
class CombinedRedrive:
    """A :class:`Redrive` from the bus and the delivery queue (bootstrap wires one of these)."""

    events: EventRedrive
    deliveries: DeliveryRedrive

    def retry_event(self, handler: str, event_id: str) -> None:
        self.events.retry_event(handler, event_id)

    def retry_message(self, message_id: str) -> None:
        self.events.retry_message(message_id)

    def retry_delivery(self, delivery_id: str) -> None:
        self.deliveries.retry_delivery(delivery_id)


@dataclass(frozen=True, slots=True)
class ExceptionDetail:
    """One item with its trail and the inbound message it links to (without raw bytes)."""

    item: ExceptionItem
    actions: list[ExceptionAction]
    message: InboundMessage | None


@dataclass(frozen=True, slots=True)
class ExceptionCounts:
    """For ``suture status``: items per (type, status), and how many active ones are overdue."""

    by_type_status: dict[tuple[ExceptionType, ExceptionStatus], int]
    overdue: int

    def active_by_type(self) -> dict[ExceptionType, int]:
        active: dict[ExceptionType, int] = {}
        for (kind, status), n in self.by_type_status.items():
            if status in ACTIVE:
                active[kind] = active.get(kind, 0) + n
        return active


def open_exception(
    uow: UnitOfWork,
    *,
    type: ExceptionType,
    facility_id: str | None,
    reason: str,
    at: datetime,
    message_id: str | None = None,
    event_id: str | None = None,
    handler: str | None = None,
    delivery_id: str | None = None,
    trace_id: str | None = None,
    correlation_id: str | None = None,
    dependency: DependencyKey | str | None = None,
    sla: SlaPolicy = DEFAULT_SLA_POLICY,
    by: str = SYSTEM_ACTOR,
) -> ExceptionItem:
    """Open an item for a failure within ``uow``'s transaction; the caller commits.

    Idempotent per type and subject (:func:`~suture.domain.exceptions.subject_of`): when the
    subject already has an active item of the type, that item is returned; if it was in progress
    (a retry was under way), the retry evidently failed and it is open again with the new
    reason. Correct when two transactions fail the same subject at once: one item. ``reason``
    must be PHI-free; one longer than :data:`MAX_TEXT` characters is cut.
    """
    item = ExceptionItem.open(
        id=str(uuid7(at)),
        type=type,
        facility_id=facility_id,
        reason=_cut(reason),
        at=at,
        sla=sla,
        message_id=message_id,
        event_id=event_id,
        handler=handler,
        delivery_id=delivery_id,
        trace_id=trace_id,
        correlation_id=correlation_id,
        dependency=str(dependency) if dependency is not None else None,
    )
    opened = Change(item, item.action(ActionKind.OPENED, by=by, at=at, detail=item.reason))
    stored, created = uow.exceptions.add_if_new(opened)
    if created or stored.status is ExceptionStatus.OPEN:
        return stored
    current = uow.exceptions.get(stored.id, lock=True) or stored
    if current.status is not ExceptionStatus.IN_PROGRESS:
        return current
    change = current.fail_again(item.reason, by=by, at=at)
    uow.exceptions.save(change)
    return change.item


def resolve_for_subject(
    uow: UnitOfWork,
    *,
    at: datetime,
    note: str,
    message_id: str | None = None,
    event_id: str | None = None,
    handler: str | None = None,
    delivery_id: str | None = None,
    by: str = SYSTEM_ACTOR,
) -> builtins.list[ExceptionItem]:
    """Resolve every active item of the subject, of any type, within ``uow``; the caller commits.

    The bus calls it when a handler succeeds on a retried event (``event_id`` and ``handler``)
    or an inbound message is processed; the delivery queue when a delivery is sent. Returns the
    items it resolved (none, usually: most successes had no failure before them).
    """
    subject = subject_of(
        message_id=message_id, event_id=event_id, handler=handler, delivery_id=delivery_id
    )
    return _resolve_all(uow, uow.exceptions.find_open_for_subject(subject, lock=True), at, note, by)


def resolve_for_dependency(
    uow: UnitOfWork,
    dependency: DependencyKey | str,
    at: datetime,
    note: str,
    *,
    by: str = SYSTEM_ACTOR,
) -> int:
    """Resolve every active item waiting for ``dependency`` (it appeared and what was parked on
    it has been re-driven), within ``uow``; the caller commits. Returns how many."""
    waiting = uow.exceptions.find_open_for_dependency(str(dependency), lock=True)
    return len(_resolve_all(uow, waiting, at, note, by))


def resolve_items(
    uow: UnitOfWork,
    items: builtins.list[ExceptionItem],
    at: datetime,
    note: str,
    *,
    by: str = SYSTEM_ACTOR,
) -> int:
    """Resolve ``items``, read with a lock in ``uow`` (``find_open_for_dependency``), when
    the caller acted on them first (re-drove the deliveries they name); the caller commits."""
    return len(_resolve_all(uow, items, at, note, by))


def _resolve_all(
    uow: UnitOfWork, items: builtins.list[ExceptionItem], at: datetime, note: str, by: str
) -> builtins.list[ExceptionItem]:
    resolved = []
    for item in items:
        change = item.resolve(_cut(note), by=by, at=at)
        uow.exceptions.save(change)
        resolved.append(change.item)
    return resolved


def _cut(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


#: Records an operator's change in the audit trail within the change's own transaction:
#: ``(uow, the item before, the item after)``. A failed change records nothing through it.
AuditHook = Callable[[UnitOfWork, ExceptionItem, ExceptionItem], None]


class WorkQueue:
    """What a person does with exception items; each call is one transaction."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], redrive: Redrive, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._redrive = redrive
        self._clock = clock

    def list(
        self,
        *,
        statuses: Collection[ExceptionStatus] | None = (ExceptionStatus.OPEN,),
        type: ExceptionType | None = None,
        queue: str | None = None,
        facility_id: str | None = None,
        owner: str | None = None,
        overdue: bool = False,
        after: str | None = None,
        limit: int = 100,
        facility_ids: Collection[str] | None = None,
    ) -> builtins.list[ExceptionItem]:
        """A page of items ordered by id (the order they were opened); ``statuses`` None: all;
        ``overdue``: only active items past their SLA due time now; ``facility_ids``: only
        items of those facilities (the scope of an API client)."""
        with self._uow() as uow:
            return uow.exceptions.list(
                facility_ids=facility_ids,
                statuses=statuses,
                type=type,
                queue=queue,
                facility_id=facility_id,
                owner=owner,
                overdue_at=self._clock() if overdue else None,
                after=after,
                limit=limit,
            )

    def knows_facility(self, facility_id: str) -> bool:
        """Whether ``facility_id`` is on record: a list filtered by a typo would be empty."""
        with self._uow() as uow:
            return uow.facilities.get(facility_id) is not None

    def show(self, item_id: str) -> ExceptionDetail:
        with self._uow() as uow:
            item = self._get(uow, item_id)
            message = uow.inbox.get(item.message_id) if item.message_id else None
            return ExceptionDetail(item, uow.exceptions.actions(item_id), message)

    def counts(self) -> ExceptionCounts:
        with self._uow() as uow:
            return ExceptionCounts(
                uow.exceptions.count_by_type_status(), uow.exceptions.count_overdue(self._clock())
            )

    def assign(
        self, item_id: str, owner: str | None, *, by: str, audit: AuditHook | None = None
    ) -> ExceptionItem:
        return self._change(item_id, lambda item, at: item.assign(owner, by=by, at=at), audit)

    def resolve(
        self, item_id: str, *, by: str, note: str, audit: AuditHook | None = None
    ) -> ExceptionItem:
        return self._change(item_id, lambda item, at: item.resolve(_cut(note), by=by, at=at), audit)

    def dismiss(
        self, item_id: str, *, by: str, reason: str, audit: AuditHook | None = None
    ) -> ExceptionItem:
        return self._change(
            item_id, lambda item, at: item.dismiss(_cut(reason), by=by, at=at), audit
        )

    def retry(self, item_id: str, *, by: str, audit: AuditHook | None = None) -> ExceptionItem:
        """Mark the item in progress, commit, then ask the subject's owner to re-drive it.

        The re-drive's outcome resolves the item (success) or opens it again (a new failure).
        If the re-drive is refused (the subject is gone, say), the item is open again with the
        refusal in its trail, and the refusal is raised. ``audit`` records the start of the
        retry, in its transaction.
        """
        retry = self._change(item_id, lambda item, at: _check_retryable(item).start_retry(
            by=by, at=at
        ), audit)  # fmt: skip
        try:
            self._redrive_subject(retry)
        except SutureError as refused:
            why = _cut(f"re-drive refused: {refused}")
            self._change(item_id, lambda item, at: item.retry_refused(why, by=by, at=at))
            raise
        return self.show(item_id).item

    def _redrive_subject(self, item: ExceptionItem) -> None:
        if item.delivery_id:
            self._redrive.retry_delivery(item.delivery_id)
        elif item.event_id and item.handler:
            self._redrive.retry_event(item.handler, item.event_id)
        elif item.message_id:
            self._redrive.retry_message(item.message_id)

    def _change(
        self,
        item_id: str,
        change: Callable[[ExceptionItem, datetime], Change],
        audit: AuditHook | None = None,
    ) -> ExceptionItem:
        with self._uow() as uow:
            current = self._get(uow, item_id, lock=True)
            changed = change(current, self._clock())
            uow.exceptions.save(changed)
            if audit is not None:  # the audit entry commits with the change, or neither does
                audit(uow, current, changed.item)
            uow.commit()
        return changed.item

    @staticmethod
    def _get(uow: UnitOfWork, item_id: str, *, lock: bool = False) -> ExceptionItem:
        found = uow.exceptions.get(item_id, lock=lock)
        if found is None:
            raise UnknownExceptionError("id", f"no exception item {item_id!r}")
        return found


def _check_retryable(item: ExceptionItem) -> ExceptionItem:
    """The item, if its subject is something :class:`Redrive` can re-drive."""
    if item.delivery_id or (item.event_id and item.handler) or item.message_id:
        return item
    raise NotRetryableError(
        "subject",
        f"exception {item.id} is about {item.subject}; fix the cause and it is re-driven, "
        "or resolve or dismiss it",
    )
