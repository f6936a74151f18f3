"""Procure-to-pay, ordering half: requisition → approval → purchase orders → 850 (DESIGN.md §4).

A process manager with its state per requisition id (``requisition_approvals``;
``domain/approval.py``) and three steps, each a bus handler reached through the routing policy,
so each commits its effects, the events that start the next step and its tracking row in one
transaction (DESIGN.md §3 guarantee 2)::

    purchasing.requisition.raised ─► requisition_approval ─┬► ...approval_requested (work list)
     (usage replenishment,            price from the       │      approve / reject (people:
      departmental API)               contract; apply the  │      services/requisitions.py)
                                      approval policy      └► purchasing.requisition.approved
                                                                    │
    purchasing.order.raised ◄── purchase_ordering ◄─────────────────┘
      │                         group by supplier, price on the PO date, flag off-contract
      │                         lines (contract_price_mismatch), queue each 850
      ▼
    purchase_order_dispatch: the 850 of a PO raised elsewhere (usage bill-only and restock)

Idempotency, at every level: the bus's tracking row; the state row, inserted with ``ON
CONFLICT DO NOTHING`` (the same requisition raised again finds it and does nothing); the
``ordered`` status (the PO step run again finds it ordered); PO numbers derived from the
requisition (``PO-<requisition>-<n>``); the 850's delivery key ``850-<PO number>``.

**Off-contract lines are sent, flagged.** A line no contract prices is priced at the last price
paid (else list price) and flagged on the PO line and its event, and a ``contract_price_mismatch``
item opens for the PO in the transaction that queues the 850, so supply chain sees it before the
supplier does. The PO is not held: holding a replenishment until someone loads a contract price
risks a stockout of a clinical supply, and the price on an 850 is an offer the supplier's 855 and
invoice answer; the three-way match is where paying an off-contract price is stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from suture.domain.approval import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStatus,
    RequisitionApproval,
)
from suture.domain.errors import DomainError
from suture.domain.exceptions import ExceptionType
from suture.domain.ordering import (
    PricedLine,
    categories,
    price_line,
    purchase_orders_for,
    suppliers,
    total,
)
from suture.domain.purchasing import PurchaseOrder, Requisition, RequisitionStatus
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import (
    PurchaseOrderRaised,
    RequisitionApprovalRequested,
    RequisitionApproved,
    RequisitionRaised,
)
from suture.services import exceptions as exception_queue
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.lookups import MasterData, caused_by
from suture.services.workflows.order_dispatch import PurchaseOrderDispatch

#: Handler names: the routing policy's destinations for the three steps.
REQUISITION_APPROVAL = "requisition_approval"
PURCHASE_ORDERING = "purchase_ordering"
PURCHASE_ORDER_DISPATCH = "purchase_order_dispatch"
REQUISITION_RAISED = "purchasing.requisition.raised"
APPROVAL_REQUESTED = "purchasing.requisition.approval_requested"
REQUISITION_APPROVED = "purchasing.requisition.approved"
REQUISITION_REJECTED = "purchasing.requisition.rejected"
ORDER_RAISED = "purchasing.order.raised"


def price_requisition(uow: UnitOfWork, requisition: Requisition, on_date: date) -> list[PricedLine]:
    """Each line in purchasing units, priced from the contract for the facility on ``on_date``
    (else last price paid, else list price: flagged off contract)."""
    master = MasterData(uow)
    priced = []
    for line in requisition.lines:
        item = master.item(line.item_id)
        if item is None:
            raise DomainError(
                "item_id", f"requisition {requisition.id} line {line.line_number}: no item "
                f"{line.item_id} in the item master",
            )  # fmt: skip
        priced.append(
            price_line(
                line, item, master.contracts(item.id), facility_id=requisition.facility_id,
                on_date=on_date,
                last_paid=master.last_price_paid(requisition.facility_id, item.id),
            )
        )  # fmt: skip
    return priced


def approval_request(
    requisition: Requisition, reason: str, lines: Sequence[PricedLine]
) -> ApprovalRequest:
    return ApprovalRequest(
        facility_id=requisition.facility_id, department_id=requisition.department_id,
        reason=reason, amount=total(lines), categories=categories(lines),
        suppliers=suppliers(lines), implant=any(line.item.is_implant for line in lines),
        off_contract=any(line.off_contract for line in lines),
    )  # fmt: skip


def approved_event(approval: RequisitionApproval, *, automatic: bool) -> RequisitionApproved:
    return RequisitionApproved(
        requisition_id=approval.requisition_id, facility_id=approval.facility_id,
        department_id=approval.department_id, amount=approval.amount, rule=approval.rule,
        automatic=automatic, decided_by=approval.decided_by or "", approver=approval.approver,
    )  # fmt: skip


class RequisitionProcess:
    """The process manager's three steps (bootstrap registers them as handlers)."""

    def __init__(self, policy: ApprovalPolicy, dispatch: PurchaseOrderDispatch) -> None:
        self.policy = policy
        self._dispatch = dispatch

    def route_requisition(
        self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext
    ) -> None:
        """Step 1: price the requisition and apply the approval policy, once per requisition."""
        raised = RequisitionRaised.model_validate(envelope.payload)
        if uow.requisition_approvals.get(raised.requisition_id) is not None:
            return
        requisition = _requisition(uow, raised.requisition_id)
        lines = price_requisition(uow, requisition, requisition.requested_at.date())
        decision = self.policy.decide(approval_request(requisition, raised.reason, lines))
        at, automatic = context.now, decision.outcome.automatic
        approval = RequisitionApproval(
            requisition_id=requisition.id, facility_id=requisition.facility_id,
            department_id=requisition.department_id, reason=raised.reason,
            status=ApprovalStatus.APPROVED if automatic else ApprovalStatus.PENDING,
            amount=total(lines), off_contract=any(line.off_contract for line in lines),
            rule=decision.rule, approver=decision.outcome.approver, created_at=at,
            updated_at=at, decided_by=f"policy:{decision.rule}" if automatic else None,
            decided_at=at if automatic else None, trace_id=envelope.trace_id,
        )  # fmt: skip
        if not uow.requisition_approvals.start(approval):
            return  # another worker applied the policy meanwhile
        requisition.status = (
            RequisitionStatus.APPROVED if automatic else RequisitionStatus.PENDING_APPROVAL
        )
        uow.requisitions.add(requisition)
        if automatic:
            payload = approved_event(approval, automatic=True).model_dump(mode="json")
            key, event_type = f"requisition-approved:{requisition.id}", REQUISITION_APPROVED
        else:
            payload = RequisitionApprovalRequested(
                requisition_id=requisition.id, facility_id=requisition.facility_id,
                department_id=requisition.department_id, amount=approval.amount,
                off_contract=approval.off_contract, rule=decision.rule,
                approver=decision.outcome.approver or "",
            ).model_dump(mode="json")  # fmt: skip
            key, event_type = f"requisition-approval:{requisition.id}", APPROVAL_REQUESTED
        context.publish(caused_by(context, event_type, payload, idempotency_key=key))

    def raise_orders(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """Step 2: one PO per supplier, priced on the PO date; off-contract lines flagged; each
        850 queued in this transaction. Once per requisition."""
        approved = RequisitionApproved.model_validate(envelope.payload)
        approval = uow.requisition_approvals.get(approved.requisition_id, lock=True)
        if approval is None or approval.status is not ApprovalStatus.APPROVED:
            return  # ordered already (a redelivery), or never approved: nothing to order
        requisition = _requisition(uow, approved.requisition_id)
        at = context.now
        lines = price_requisition(uow, requisition, at.date())
        orders = purchase_orders_for(requisition, lines, order_date=at.date())
        uow.purchase_orders.add_many(orders)
        for order in orders:
            _flag_off_contract(uow, order, context)
            self._dispatch.queue(uow, order, at=at, trace_id=envelope.trace_id)
        uow.requisition_approvals.save(approval.ordered((o.number for o in orders), at))
        requisition.status = RequisitionStatus.ORDERED
        uow.requisitions.add(requisition)
        for order in orders:
            context.publish(_order_raised(context, order))

    def dispatch_order(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """The 850 of a PO raised by another workflow (a usage's bill-only and restock POs);
        nothing for a PO whose 850 is queued already."""
        raised = PurchaseOrderRaised.model_validate(envelope.payload)
        po = uow.purchase_orders.get(raised.purchase_order_id)
        if po is None:
            raise DomainError(
                "purchase_order_id", f"PO {raised.purchase_order_id} is not stored: nothing to send"
            )
        self._dispatch.queue(uow, po, at=context.now, trace_id=envelope.trace_id)


def _requisition(uow: UnitOfWork, requisition_id: str) -> Requisition:
    requisition = uow.requisitions.get(requisition_id)
    if requisition is None:
        raise DomainError("requisition_id", f"requisition {requisition_id} is not stored")
    return requisition


def _flag_off_contract(uow: UnitOfWork, order: PurchaseOrder, context: HandlerContext) -> None:
    """One ``contract_price_mismatch`` item per PO with off-contract lines, before it leaves."""
    flagged = [line for line in order.lines if line.off_contract]
    if not flagged:
        return
    described = "; ".join(
        f"line {line.line_number} item {line.item_id} at {line.unit_price} per {line.uom}"
        for line in flagged
    )
    cause = context.cause
    exception_queue.open_exception(
        uow, type=ExceptionType.CONTRACT_PRICE_MISMATCH, facility_id=order.facility_id,
        reason=(f"contract mismatch: PO {order.number} to supplier {order.supplier_id} has "
                f"{len(flagged)} line(s) with no contract price on {order.order_date}, priced at "
                f"the last price paid or list price and sent flagged: {described}"),
        at=context.now, trace_id=cause.trace_id if cause else None,
        correlation_id=order.number,
    )  # fmt: skip


def _order_raised(context: HandlerContext, order: PurchaseOrder) -> Envelope:
    payload = PurchaseOrderRaised(
        purchase_order_id=order.id, number=order.number, kind=order.kind.value,
        facility_id=order.facility_id, supplier_id=order.supplier_id, amount=order.total,
        requisition_id=order.requisition_id,
        off_contract=any(line.off_contract for line in order.lines),
    )  # fmt: skip
    return caused_by(context, ORDER_RAISED, payload,
                     idempotency_key=f"po:{order.number}")  # fmt: skip
