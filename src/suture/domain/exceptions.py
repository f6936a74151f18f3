"""Exception items: the work queue where every failure ends up in front of a person (DESIGN.md §5).

STYLE.md habit 4 ("never swallow a failure"): a dead letter, a decode failure or a parked message
opens an :class:`ExceptionItem` typed in business terms, with a facility, a queue and an owner, an
SLA due time, links to the raw message and the trace, and a record of every action taken on it.
Its status follows :data:`TRANSITIONS`::

    open ◄──► in_progress          retry (→ in_progress); the retry failed again (→ open)
      │            │
      └────────────┴──► resolved | dismissed   (final)

Resolved and dismissed items are final. A new failure of the same subject afterwards opens a
*new* item, with a fresh SLA clock: the closed item keeps the story of the first failure, and the
work queue counts what happened instead of rewriting it. While an item is active (open or in
progress) it is the only active item of its type and subject (:func:`subject_of`): the storage
makes that a unique index, so a failure that recurs is one item, not a pile of duplicates.

Every change returns a :class:`Change`: the new item and the :class:`ExceptionAction` that records
who did what and when, so a caller cannot change an item without leaving a trail.

PHI: ``reason``, resolution notes and action details are shown to every analyst and written to
logs; callers must keep them PHI-free ("unknown item LOC-42", never a patient name or a segment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from suture.domain.errors import DomainError
from suture.domain.messages import require_aware


class ExceptionType(StrEnum):
    """What went wrong, in the words of the people who fix it (DESIGN.md §5)."""

    MISSING_ITEM_MAPPING = "missing_item_mapping"
    UNKNOWN_SUPPLIER = "unknown_supplier"
    SUPPLIER_NOT_IN_ERP = "supplier_not_in_erp"
    PRODUCT_NOT_IN_ERP = "product_not_in_erp"
    ACCOUNT_NOT_IN_ERP = "account_not_in_erp"  # a GL account or a cost center
    CONTRACT_PRICE_MISMATCH = "contract_price_mismatch"
    UOM_MISMATCH = "uom_mismatch"
    NOT_ON_PO = "not_on_po"
    PO_ACKNOWLEDGMENT_DISCREPANCY = "po_acknowledgment_discrepancy"
    INVOICE_WITHOUT_RECEIPT = "invoice_without_receipt"
    DUPLICATE_INVOICE = "duplicate_invoice"
    PRICE_VARIANCE = "price_variance"
    QUANTITY_VARIANCE = "quantity_variance"
    USAGE_WITHOUT_CHARGE = "usage_without_charge"
    USAGE_REVERSAL = "usage_reversal"  # usage voided at the source after the hub applied it
    CHARGE_WITHOUT_USAGE = "charge_without_usage"
    MALFORMED_MESSAGE = "malformed_message"
    DELIVERY_FAILED = "delivery_failed"
    HANDLER_FAILED = "handler_failed"
    PARKED_DEPENDENCY = "parked_dependency"


class ExceptionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


_S = ExceptionStatus

TRANSITIONS: Mapping[ExceptionStatus, frozenset[ExceptionStatus]] = {
    _S.OPEN: frozenset({_S.IN_PROGRESS, _S.RESOLVED, _S.DISMISSED}),
    _S.IN_PROGRESS: frozenset({_S.OPEN, _S.RESOLVED, _S.DISMISSED}),
    _S.RESOLVED: frozenset(),
    _S.DISMISSED: frozenset(),
}

#: Statuses of an item someone still has to act on; at most one such item per type and subject.
ACTIVE = frozenset({_S.OPEN, _S.IN_PROGRESS})


class ActionKind(StrEnum):
    """What an :class:`ExceptionAction` records."""

    OPENED = "opened"
    FAILED_AGAIN = "failed_again"
    ASSIGNED = "assigned"
    RETRIED = "retried"
    RETRY_REFUSED = "retry_refused"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ExceptionTransitionError(DomainError):
    """A change :data:`TRANSITIONS` does not allow, or a closing without a reason."""


@dataclass(frozen=True, slots=True)
class SlaRule:
    """The queue that works a type of exception and how long it has to resolve one."""

    queue: str
    resolve_within: timedelta

    def __post_init__(self) -> None:
        if not self.queue.strip():
            raise DomainError("queue", "must not be empty")
        if self.resolve_within <= timedelta(0):
            raise DomainError("resolve_within", f"must be positive, got {self.resolve_within}")


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Queue and time to resolve per exception type; every type must have a rule."""

    rules: Mapping[ExceptionType, SlaRule]

    def __post_init__(self) -> None:
        missing = sorted(set(ExceptionType) - set(self.rules))
        if missing:
            raise DomainError("rules", f"no SLA rule for {', '.join(missing)}")

    def rule(self, type: ExceptionType) -> SlaRule:
        return self.rules[ExceptionType(type)]

    @property
    def queues(self) -> list[str]:
        """Every queue an item can be opened in, sorted."""
        return sorted({rule.queue for rule in self.rules.values()})

    def due_at(self, type: ExceptionType, opened_at: datetime) -> datetime:
        return opened_at + self.rule(type).resolve_within


def _hours(queue: str, hours: int) -> SlaRule:
    return SlaRule(queue, timedelta(hours=hours))


_T = ExceptionType

#: An interface failure holds up a flow of data between systems, so integration gets hours;
#: master-data and matching problems wait on a person in supply chain or accounts payable.
DEFAULT_SLA_POLICY = SlaPolicy(
    {
        _T.MISSING_ITEM_MAPPING: _hours("supply-chain", 24),
        _T.UNKNOWN_SUPPLIER: _hours("supply-chain", 24),
        _T.SUPPLIER_NOT_IN_ERP: _hours("supply-chain", 24),
        _T.PRODUCT_NOT_IN_ERP: _hours("supply-chain", 24),
        _T.ACCOUNT_NOT_IN_ERP: _hours("finance", 48),
        _T.UOM_MISMATCH: _hours("supply-chain", 24),
        _T.USAGE_REVERSAL: _hours("supply-chain", 24),
        _T.PARKED_DEPENDENCY: _hours("supply-chain", 24),
        _T.CONTRACT_PRICE_MISMATCH: _hours("accounts-payable", 48),
        _T.NOT_ON_PO: _hours("accounts-payable", 48),
        _T.PO_ACKNOWLEDGMENT_DISCREPANCY: _hours("supply-chain", 24),
        _T.INVOICE_WITHOUT_RECEIPT: _hours("accounts-payable", 48),
        _T.DUPLICATE_INVOICE: _hours("accounts-payable", 48),
        _T.PRICE_VARIANCE: _hours("accounts-payable", 48),
        _T.QUANTITY_VARIANCE: _hours("accounts-payable", 48),
        _T.USAGE_WITHOUT_CHARGE: _hours("revenue-integrity", 72),
        _T.CHARGE_WITHOUT_USAGE: _hours("revenue-integrity", 72),
        _T.MALFORMED_MESSAGE: _hours("integration", 4),
        _T.HANDLER_FAILED: _hours("integration", 4),
        _T.DELIVERY_FAILED: _hours("integration", 2),
    }
)


def subject_of(
    *,
    message_id: str | None = None,
    event_id: str | None = None,
    handler: str | None = None,
    delivery_id: str | None = None,
    dependency: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """The one thing an item is about, most specific first: a delivery, an event at a handler,
    an inbound message, a missing dependency, then a business key.

    A parked event names both its handler and its dependency; its subject is the event at the
    handler, so each parked message is an item of its own, and the dependency finds them all.
    """
    if delivery_id:
        return f"delivery:{delivery_id}"
    if event_id:
        return f"event:{event_id}/{handler}" if handler else f"event:{event_id}"
    if handler:
        raise DomainError("event_id", f"handler {handler!r} is named without the event it failed")
    if message_id:
        return f"message:{message_id}"
    if dependency:
        return f"dependency:{dependency}"
    if correlation_id:
        return f"correlation:{correlation_id}"
    raise DomainError("subject", "an exception must link a message, event, delivery, dependency "
                      "or business key")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionAction:
    """One entry of an item's trail: who (``actor``) did what (``kind``) when, and why."""

    item_id: str
    kind: ActionKind
    at: datetime
    actor: str
    detail: str | None = None

    def __post_init__(self) -> None:
        require_aware("at", self.at)
        if not self.actor.strip():
            raise DomainError("actor", "must not be empty")


class Change(NamedTuple):
    """An item after a change, and the action that records it; store both together."""

    item: ExceptionItem
    action: ExceptionAction


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionItem:
    """One failure a person must see, in the work queue until resolved or dismissed."""

    id: str
    type: ExceptionType
    status: ExceptionStatus = ExceptionStatus.OPEN
    facility_id: str | None
    queue: str
    owner: str | None = None
    opened_at: datetime
    sla_due_at: datetime
    updated_at: datetime
    reason: str
    message_id: str | None = None
    event_id: str | None = None
    handler: str | None = None
    delivery_id: str | None = None
    trace_id: str | None = None
    correlation_id: str | None = None
    dependency: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None

    def __post_init__(self) -> None:
        for name in ("id", "queue", "reason"):
            if not getattr(self, name).strip():
                raise DomainError(name, "must not be empty")
        for name in ("opened_at", "sla_due_at", "updated_at"):
            require_aware(name, getattr(self, name))
        if self.sla_due_at < self.opened_at:
            raise DomainError("sla_due_at", "is before the item was opened")
        _ = self.subject  # refuses an item that links nothing
        closed = self.status not in ACTIVE
        if closed != (self.resolved_at is not None and bool(self.resolved_by)):
            raise DomainError("resolved_at", f"a {self.status} item has resolved_at and _by "
                              "exactly when it is closed")  # fmt: skip

    @classmethod
    def open(
        cls,
        *,
        id: str,
        type: ExceptionType,
        facility_id: str | None,
        reason: str,
        at: datetime,
        sla: SlaPolicy = DEFAULT_SLA_POLICY,
        message_id: str | None = None,
        event_id: str | None = None,
        handler: str | None = None,
        delivery_id: str | None = None,
        trace_id: str | None = None,
        correlation_id: str | None = None,
        dependency: str | None = None,
    ) -> ExceptionItem:
        """A new item in its type's queue, due when its type's SLA says."""
        type = ExceptionType(type)
        require_aware("at", at)
        return cls(
            id=id,
            type=type,
            facility_id=facility_id,
            queue=sla.rule(type).queue,
            opened_at=at,
            sla_due_at=sla.due_at(type, at),
            updated_at=at,
            reason=reason,
            message_id=message_id,
            event_id=event_id,
            handler=handler,
            delivery_id=delivery_id,
            trace_id=trace_id,
            correlation_id=correlation_id,
            dependency=dependency,
        )

    @property
    def subject(self) -> str:
        """What the item is about (:func:`subject_of`); with ``type``, unique among active items."""
        return subject_of(
            message_id=self.message_id,
            event_id=self.event_id,
            handler=self.handler,
            delivery_id=self.delivery_id,
            dependency=self.dependency,
            correlation_id=self.correlation_id,
        )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    def is_overdue(self, now: datetime) -> bool:
        """Still active at ``now`` and past its SLA due time."""
        require_aware("now", now)
        return self.is_active and now >= self.sla_due_at

    def action(
        self, kind: ActionKind, *, by: str, at: datetime, detail: str | None = None
    ) -> ExceptionAction:
        return ExceptionAction(item_id=self.id, kind=kind, at=at, actor=by, detail=detail)

    def assign(self, owner: str | None, *, by: str, at: datetime) -> Change:
        """Give the item to ``owner`` (None: back to the queue, unassigned)."""
        self._require_active("assign")
        owner = (owner or "").strip() or None
        changed = replace(self, owner=owner, updated_at=at)
        return Change(changed, self.action(ActionKind.ASSIGNED, by=by, at=at, detail=owner))

    def start_retry(self, *, by: str, at: datetime) -> Change:
        """Someone asked for the subject to be tried again; the outcome resolves or reopens it."""
        return self._move(_S.IN_PROGRESS, ActionKind.RETRIED, by=by, at=at, detail=None)

    def retry_refused(self, why: str, *, by: str, at: datetime) -> Change:
        """The re-drive could not even be started; the item is open again, saying why."""
        return self._move(_S.OPEN, ActionKind.RETRY_REFUSED, by=by, at=at, detail=why)

    def fail_again(self, reason: str, *, by: str, at: datetime) -> Change:
        """The subject failed again while the item was active: open, with the newest reason."""
        if not reason.strip():
            raise ExceptionTransitionError("reason", "a new failure needs a reason")
        if self.status is _S.OPEN:
            changed = replace(self, reason=reason, updated_at=at)
            return Change(
                changed, self.action(ActionKind.FAILED_AGAIN, by=by, at=at, detail=reason)
            )
        moved = self._move(_S.OPEN, ActionKind.FAILED_AGAIN, by=by, at=at, detail=reason)
        return Change(replace(moved.item, reason=reason), moved.action)

    def resolve(self, note: str, *, by: str, at: datetime) -> Change:
        """The cause is fixed (by a person, or by a retry or re-drive that succeeded)."""
        return self._close(_S.RESOLVED, ActionKind.RESOLVED, note, by=by, at=at)

    def dismiss(self, reason: str, *, by: str, at: datetime) -> Change:
        """Nothing will be done about it; only with a reason a reviewer can read."""
        return self._close(_S.DISMISSED, ActionKind.DISMISSED, reason, by=by, at=at)

    def _close(
        self, status: ExceptionStatus, kind: ActionKind, why: str, *, by: str, at: datetime
    ) -> Change:
        field = "reason" if status is _S.DISMISSED else "note"
        why = why.strip()
        if not why:
            raise ExceptionTransitionError(field, f"{status} needs a {field} saying why")
        return self._move(status, kind, by=by, at=at, detail=why, closing=True)

    def _move(
        self,
        status: ExceptionStatus,
        kind: ActionKind,
        *,
        by: str,
        at: datetime,
        detail: str | None,
        closing: bool = False,
    ) -> Change:
        """The item in ``status``; ``closing`` records ``detail`` as the resolution note."""
        require_aware("at", at)
        if status not in TRANSITIONS[self.status]:
            allowed = ", ".join(sorted(TRANSITIONS[self.status])) or "nothing: it is final"
            raise ExceptionTransitionError(
                "status",
                f"exception {self.id} cannot go from {self.status} to {status} "
                f"(from {self.status}: {allowed})",
            )
        if closing:
            changed = replace(
                self, status=status, updated_at=at, resolved_at=at, resolved_by=by,
                resolution_note=detail,
            )  # fmt: skip
        else:
            changed = replace(self, status=status, updated_at=at)
        return Change(changed, self.action(kind, by=by, at=at, detail=detail))

    def _require_active(self, what: str) -> None:
        if not self.is_active:
            raise ExceptionTransitionError(
                "status", f"exception {self.id} is {self.status}; cannot {what} a closed item"
            )
