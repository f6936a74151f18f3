"""Requisitions for people: submit one for a department, see the work list, approve or reject.

The use cases behind ``suture requisitions …``, the Process API's approve and reject, and the
Experience API's departmental requests (issue 7). Each call is one transaction.

- :meth:`Requisitions.submit` stores a departmental requisition and publishes
  ``purchasing.requisition.raised`` (reason ``department``) in the same transaction, so it
  takes the same path as a replenishment: the ``requisition_approval`` step prices it and
  applies the approval policy (``services/workflows/requisitions.py``).
- :meth:`Requisitions.approve` and :meth:`Requisitions.reject` record the decision (who, when,
  why) in the state, publish ``purchasing.requisition.approved`` / ``…rejected``, and append to
  the audit trail, all in one transaction; a refused decision is audited as failed. Approving
  an approved requisition (or rejecting a rejected one) changes nothing and says so; the
  opposite decision on a decided requisition is :class:`~suture.domain.approval.
  ApprovalConflictError` (HTTP 409). A rejection needs a reason.

Errors::

    SutureError
    ├── UnknownRequisitionError      no requisition has the id (field "requisition_id")
    ├── ApprovalConflictError        the decision contradicts the one taken (field "status")
    └── DomainError                  bad input: an unknown item, department or unit, a quantity
                                     that is not positive, an empty reason (field named)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from suture.domain.approval import ApprovalStatus, RequisitionApproval
from suture.domain.audit import Actor, Outcome
from suture.domain.errors import DomainError, SutureError
from suture.domain.masterdata import SUTURE
from suture.domain.purchasing import (
    Requisition,
    RequisitionLine,
    RequisitionStatus,
)
from suture.eventlog.events import RequisitionRaised, RequisitionRejected
from suture.services.audit import AuditTrail
from suture.services.clock import Clock
from suture.services.inbox import IdFactory, uuid7_ids
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.requisitions import (
    REQUISITION_APPROVED,
    REQUISITION_RAISED,
    REQUISITION_REJECTED,
    approved_event,
)


class UnknownRequisitionError(SutureError):
    """No requisition has this id."""


@dataclass(frozen=True, slots=True)
class RequestedLine:
    """One line of a departmental request: an item of the master, a quantity in ``uom``
    (default: the item's purchasing unit)."""

    item_id: str
    quantity: Decimal
    uom: str | None = None


@dataclass(frozen=True, slots=True)
class RequisitionView:
    """A requisition with its approval state (None until the policy has run)."""

    requisition: Requisition
    approval: RequisitionApproval | None

    @property
    def status(self) -> str:
        if self.approval is not None:
            return self.approval.status.value
        return self.requisition.status.value


@dataclass(frozen=True, slots=True)
class Decision:
    """The state after a decision, and whether this call changed it."""

    approval: RequisitionApproval
    changed: bool


class Requisitions:
    """Submit, read, approve and reject requisitions."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        bus: MessageBus,
        audit: AuditTrail,
        clock: Clock,
        *,
        read_uow_factory: Callable[[], UnitOfWork] | None = None,
        new_id: IdFactory | None = None,
    ) -> None:
        self._uow = uow_factory
        self._read = read_uow_factory or uow_factory
        self._bus = bus
        self._audit = audit
        self._clock = clock
        self._new_id = new_id or uuid7_ids()

    # --- departmental requests -----------------------------------------------------------

    def submit(
        self,
        *,
        facility_id: str,
        department_id: str,
        lines: Sequence[RequestedLine],
        actor: Actor,
        location_id: str | None = None,
    ) -> Requisition:
        """Store a departmental requisition and raise it for approval; audited."""
        with self._audit.write(actor, "requisition.submit", target_type="requisition") as write:
            uow = write.uow
            at = self._clock()
            checked = _checked_lines(uow, facility_id, department_id, lines)
            _check_location(uow, facility_id, location_id)
            requisition = Requisition(
                id=f"REQ-D-{self._new_id(at).replace('-', '')[:20].upper()}", number="",
                facility_id=facility_id,
                department_id=department_id, location_id=location_id, requested_at=at,
                lines=checked, status=RequisitionStatus.PENDING_APPROVAL, source_system=SUTURE,
            )  # fmt: skip
            requisition.number = requisition.id
            uow.requisitions.add(requisition)
            first = requisition.lines[0]
            payload = RequisitionRaised(
                requisition_id=requisition.id, facility_id=facility_id, location_id=location_id,
                department_id=department_id, item_id=first.item_id, quantity=first.quantity,
                uom=first.uom, reason="department", line_count=len(requisition.lines),
            )  # fmt: skip
            self._bus.publish(uow, self._bus.envelope(
                REQUISITION_RAISED, payload.model_dump(mode="json"),
                idempotency_key=f"requisition:{requisition.id}", correlation_id=requisition.id,
                occurred_at=at, source_facility=facility_id,
            ))  # fmt: skip
            write.target_id = requisition.id
            write.after = f"status={requisition.status} lines={len(requisition.lines)}"
        return requisition

    # --- reads ---------------------------------------------------------------------------

    def show(self, requisition_id: str) -> RequisitionView:
        with self._read() as uow:
            requisition = uow.requisitions.get(requisition_id)
            approval = uow.requisition_approvals.get(requisition_id)
        if requisition is None:
            raise UnknownRequisitionError("requisition_id", f"no requisition {requisition_id!r}")
        return RequisitionView(requisition, approval)

    def list(
        self,
        *,
        status: ApprovalStatus | None = None,
        approver: str | None = None,
        facility_ids: Collection[str] | None = None,
        department_id: str | None = None,
        reason: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[RequisitionView]:
        """Requisitions the approval workflow has seen, by id: the work list of an approver
        role is ``status=pending_approval, approver=ROLE``."""
        with self._read() as uow:
            approvals = uow.requisition_approvals.list(
                status=status, approver=approver, facility_ids=facility_ids,
                department_id=department_id, reason=reason, after=after, limit=limit,
            )  # fmt: skip
            views = []
            for approval in approvals:
                requisition = uow.requisitions.get(approval.requisition_id)
                if requisition is not None:
                    views.append(RequisitionView(requisition, approval))
        return views

    # --- decisions -----------------------------------------------------------------------

    def approve(self, requisition_id: str, *, actor: Actor, note: str | None = None) -> Decision:
        """Approve a pending requisition; its POs follow (``purchase_ordering``)."""
        return self._decide(requisition_id, actor, "approve", note)

    def reject(self, requisition_id: str, *, actor: Actor, reason: str) -> Decision:
        """Reject a pending requisition with a reason; nothing is ordered."""
        return self._decide(requisition_id, actor, "reject", reason)

    def _decide(self, requisition_id: str, actor: Actor, verb: str, why: str | None) -> Decision:
        action = f"requisition.{verb}"
        before: str | None = None
        try:
            with self._uow() as uow:
                current = uow.requisition_approvals.get(requisition_id, lock=True)
                if current is None:
                    raise UnknownRequisitionError(
                        "requisition_id", f"no requisition {requisition_id!r} awaits a decision"
                    )
                before = f"status={current.status}"
                at = self._clock()
                if verb == "approve":
                    decided = current.approve(actor.name, at, (why or "").strip() or None)
                else:
                    decided = current.reject(actor.name, at, why or "")
                changed = decided is not current
                if changed:
                    self._record(uow, decided)
                self._audit.record(
                    uow, actor, action, target_type="requisition", target_id=requisition_id,
                    before=before, after=f"status={decided.status}",
                    reason=why if changed else f"already {decided.status}: no change",
                )  # fmt: skip
                uow.commit()
        except SutureError as error:
            self._audit.record_alone(
                actor, action, target_type="requisition", target_id=requisition_id,
                before=before, outcome=Outcome.FAILED, reason=str(error),
            )  # fmt: skip
            raise
        return Decision(decided, changed)

    def _record(self, uow: UnitOfWork, decided: RequisitionApproval) -> None:
        uow.requisition_approvals.save(decided)
        requisition = uow.requisitions.get(decided.requisition_id)
        if requisition is not None:
            approved = decided.status is ApprovalStatus.APPROVED
            requisition.status = (
                RequisitionStatus.APPROVED if approved else RequisitionStatus.REJECTED
            )
            uow.requisitions.add(requisition)
        if decided.status is ApprovalStatus.APPROVED:
            event_type = REQUISITION_APPROVED
            payload = approved_event(decided, automatic=False).model_dump(mode="json")
        else:
            event_type = REQUISITION_REJECTED
            payload = RequisitionRejected(
                requisition_id=decided.requisition_id, facility_id=decided.facility_id,
                department_id=decided.department_id, amount=decided.amount,
                decided_by=decided.decided_by or "", reason=decided.note or "",
            ).model_dump(mode="json")  # fmt: skip
        self._bus.publish(uow, self._bus.envelope(
            event_type, payload, idempotency_key=f"{event_type}:{decided.requisition_id}",
            correlation_id=decided.requisition_id, trace_id=decided.trace_id,
            source_facility=decided.facility_id,
        ))  # fmt: skip


def _check_location(uow: UnitOfWork, facility_id: str, location_id: str | None) -> None:
    """The delivery location, when named, is one of the requisition's facility: a purchase
    order must not ship to another hospital's dock, nor to a location no one knows."""
    if location_id is None:
        return
    location = uow.locations.get(location_id)
    if location is None or location.facility_id != facility_id:
        raise DomainError("location_id", f"no location {location_id!r} at {facility_id}")


def _checked_lines(
    uow: UnitOfWork, facility_id: str, department_id: str, lines: Sequence[RequestedLine]
) -> list[RequisitionLine]:
    """The request's lines against the master: every problem names its line and field."""
    if uow.facilities.get(facility_id) is None:
        raise DomainError("facility_id", f"no facility {facility_id!r}")
    department = uow.departments.get(department_id)
    if department is None or department.facility_id != facility_id:
        raise DomainError("department_id", f"no department {department_id!r} at {facility_id}")
    if not lines:
        raise DomainError("lines", "a requisition needs at least one line")
    checked = []
    for number, line in enumerate(lines, start=1):
        where = f"lines[{number - 1}]"
        item = uow.items.get(line.item_id)
        if item is None or not item.active:
            raise DomainError(f"{where}.item_id", f"no active item {line.item_id!r}")
        uom = line.uom or item.purchase_uom
        try:
            item.packaging.level(uom)
        except DomainError as error:
            raise DomainError(f"{where}.uom", error.reason) from None
        if line.quantity <= 0:
            raise DomainError(f"{where}.quantity", f"must be positive, got {line.quantity}")
        checked.append(
            RequisitionLine(line_number=number, item_id=item.id, quantity=line.quantity, uom=uom)
        )
    return checked


__all__ = [
    "Decision",
    "RequestedLine",
    "RequisitionView",
    "Requisitions",
    "UnknownRequisitionError",
]
