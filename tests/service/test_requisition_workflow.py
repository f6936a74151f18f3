"""Procure-to-pay's ordering half through the real bus and unit of work, on SQLite and PostgreSQL.

Issue 5, "Procure-to-pay": a requisition is priced and routed by the approval policy, approved
by the policy or a person (audited), turned into one PO per supplier priced from the contract
on the PO date, off-contract lines flagged before the PO leaves, and each PO's 850 queued to
the supplier's trading partner in the same transaction, decoded back here with the X12 codec.
The hospital is ``requisition_world.py``'s; every test has its own (random ids).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from requisition_world import (
    HUB,
    ORDER_DAY,
    ORDERED_AT,
    Ordering,
    build_bus,
    fixed_clock,
    raise_requisition,
    seed_ordering,
)
from usage_world import drain, seed

from suture.adapters.file_drop import FileDropTransport
from suture.domain.approval import ApprovalConflictError, ApprovalStatus
from suture.domain.audit import Actor, AuditKey
from suture.domain.deliveries import Delivery
from suture.domain.errors import DomainError
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    RequisitionStatus,
)
from suture.eventlog.retry import RetryPolicy
from suture.formats.x12 import decode_850, read_interchange
from suture.services.approval_policy import default_approval_policy_text, load_approval_policy
from suture.services.audit import AuditTrail
from suture.services.deliveries import DeliveryQueue
from suture.services.delivery_worker import DeliveryWorker
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.requisitions import RequestedLine, Requisitions
from suture.services.supplier_simulator import ScenarioPlan, SupplierSimulator
from suture.services.trading_partners import TradingPartners
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.order_dispatch import (
    OPERATION_850,
    PurchaseOrderDispatch,
    mark_sent,
)
from suture.services.workflows.requisitions import (
    PURCHASE_ORDER_DISPATCH,
    PURCHASE_ORDERING,
    REQUISITION_APPROVAL,
    RequisitionProcess,
)

UowFactory = Callable[[], UnitOfWork]
APPROVER = Actor("pat.manager", "cli")


@pytest.fixture
def world(uow: UowFactory) -> Ordering:
    created = Ordering(uuid.uuid4().hex[:12])
    with uow() as unit:
        seed(unit, created)
    with uow() as unit:
        seed_ordering(unit, created)
    return created


@pytest.fixture
def bus(uow: UowFactory) -> MessageBus:
    return build_bus(uow)


@pytest.fixture
def audit(uow: UowFactory) -> AuditTrail:
    return AuditTrail(uow, AuditKey.from_secret("test-secret-" * 3), fixed_clock)


@pytest.fixture
def requisitions(uow: UowFactory, bus: MessageBus, audit: AuditTrail) -> Requisitions:
    return Requisitions(uow, bus, audit, fixed_clock)


def orders_of(uow: UowFactory, world: Ordering, requisition_id: str) -> list[PurchaseOrder]:
    with uow() as unit:
        approval = unit.requisition_approvals.get(requisition_id)
        numbers = approval.purchase_orders if approval else ()
        found = [unit.purchase_orders.by_number(number) for number in numbers]
    return [po for po in found if po is not None]


def deliveries_for(uow: UowFactory, po_number: str) -> list[Delivery]:
    with uow() as unit:
        listed = unit.deliveries.list(correlation_id=po_number)
        return [d for d in (unit.deliveries.get(x.id, with_payload=True) for x in listed) if d]


# --- approval routing ---------------------------------------------------------------------


def test_a_small_replenishment_is_approved_by_the_policy_and_ordered_at_the_contract_price(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "2", "CS")])
    drain(bus)

    with uow() as unit:
        approval = unit.requisition_approvals.get(req)
        requisition = unit.requisitions.get(req)
    assert approval is not None
    assert requisition is not None
    assert (approval.status, approval.rule, approval.decided_by, approval.amount) == (
        ApprovalStatus.ORDERED,
        "under-1000-auto",
        "policy:under-1000-auto",
        Decimal("125.00"),
    )  # 12.50 a box, 5 boxes a case: 62.50 a case, two cases
    assert requisition.status is RequisitionStatus.ORDERED
    (po,) = orders_of(uow, world, req)
    assert (po.number, po.supplier_id, po.order_date, po.requisition_id, po.lines) == (
        f"PO-{req}-1", world.supplier_id, ORDER_DAY, req,
        [PurchaseOrderLine(line_number=1, item_id=world.supply, quantity=Decimal(2), uom="CS",
                           unit_price=Decimal("62.5000"), contract_id=world.id("CON"))],
    )  # fmt: skip


def test_the_850_is_queued_to_the_suppliers_partner_with_its_envelope(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "2", "CS")])
    drain(bus)

    (po,) = orders_of(uow, world, req)
    (delivery,) = deliveries_for(uow, po.number)
    assert (delivery.target, delivery.operation, delivery.idempotency_key) == (
        f"x12:{world.supplier_id}",
        OPERATION_850,
        f"850-{po.number}",
    )
    assert delivery.payload is not None
    interchange = read_interchange(delivery.payload)
    ((group, transaction_set),) = list(interchange.transaction_sets())
    order = decode_850(transaction_set)
    assert (
        interchange.sender_qualifier,
        interchange.sender_id.strip(),
        interchange.receiver_qualifier,
        interchange.receiver_id.strip(),
        interchange.usage,
        interchange.control_number,
        group.sender,
        group.receiver,
        group.version,
    ) == ("ZZ", HUB.id, "ZZ", "ORTHO", "P", "000000001", "SUTUREAPP", "ORTHOGS", "005010")
    assert (order.order_type, order.number, order.order_date) == ("SA", po.number, ORDER_DAY)
    assert [(ln.quantity, ln.uom, ln.unit_price, ln.product_ids) for ln in order.lines] == [
        (Decimal(2), "CS", Decimal("62.5000"), {"IN": world.supply})
    ]
    assert order.findings == ()


def test_each_850_to_a_partner_takes_its_next_control_number(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    first = raise_requisition(bus, uow, world, "R1", [(world.supply, "1", "CS")])
    second = raise_requisition(bus, uow, world, "R2", [(world.supply, "1", "CS")])
    drain(bus)

    numbers = [
        read_interchange(d.payload or b"").control_number
        for req in (first, second)
        for po in orders_of(uow, world, req)
        for d in deliveries_for(uow, po.number)
    ]
    assert sorted(numbers) == ["000000001", "000000002"]
    with uow() as unit:
        stored = unit.trading_partners.get(world.supplier_id)
    assert stored is not None
    assert stored.last_control_number == 2


def test_an_implant_requisition_waits_for_the_supply_chain_manager(
    bus: MessageBus, uow: UowFactory, world: Ordering, requisitions: Requisitions
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.implant, "1", "EA")])
    drain(bus)

    (pending,) = requisitions.list(
        status=ApprovalStatus.PENDING, approver="supply_chain_manager",
        facility_ids=[world.facility_id],
    )  # fmt: skip
    assert pending.requisition.id == req
    assert pending.approval is not None
    assert (pending.approval.rule, pending.approval.amount) == (
        "implants-to-supply-chain-manager",
        Decimal("2500.00"),
    )
    assert orders_of(uow, world, req) == []


def test_an_approval_records_who_and_why_in_the_audit_trail_and_orders_the_requisition(
    bus: MessageBus, uow: UowFactory, world: Ordering, requisitions: Requisitions,
    audit: AuditTrail,
) -> None:  # fmt: skip
    req = raise_requisition(bus, uow, world, "R1", [(world.implant, "1", "EA")])
    drain(bus)

    decision = requisitions.approve(req, actor=APPROVER, note="case booked for Friday")
    drain(bus)

    assert decision.changed
    assert (decision.approval.decided_by, decision.approval.note) == (
        "pat.manager",
        "case booked for Friday",
    )
    (po,) = orders_of(uow, world, req)
    assert po.lines[0].unit_price == Decimal("2500.0000")
    (record,) = [r for r in audit.list(action="requisition.approve") if r.entry.target_id == req]
    assert (record.entry.actor.name, record.entry.before, record.entry.after,
            record.entry.reason) == (
        "pat.manager", "status=pending_approval", "status=approved", "case booked for Friday"
    )  # fmt: skip
    assert audit.verify().intact


def test_approving_twice_changes_nothing_the_second_time(
    bus: MessageBus, uow: UowFactory, world: Ordering, requisitions: Requisitions
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.implant, "1", "EA")])
    drain(bus)

    first = requisitions.approve(req, actor=APPROVER)
    drain(bus)
    again = requisitions.approve(req, actor=APPROVER)
    drain(bus)

    assert (first.changed, again.changed, again.approval.status) == (
        True,
        False,
        ApprovalStatus.ORDERED,
    )
    assert len(orders_of(uow, world, req)) == 1


def test_a_rejection_needs_a_reason_orders_nothing_and_cannot_be_approved_afterwards(
    bus: MessageBus, uow: UowFactory, world: Ordering, requisitions: Requisitions,
    audit: AuditTrail,
) -> None:  # fmt: skip
    req = raise_requisition(bus, uow, world, "R1", [(world.implant, "1", "EA")])
    drain(bus)

    with pytest.raises(DomainError, match="reason: a rejection needs a reason"):
        requisitions.reject(req, actor=APPROVER, reason="  ")
    rejected = requisitions.reject(req, actor=APPROVER, reason="use the loaner set")
    with pytest.raises(ApprovalConflictError, match="is rejected: cannot approve"):
        requisitions.approve(req, actor=APPROVER)
    drain(bus)

    assert (rejected.approval.status, rejected.approval.note) == (
        ApprovalStatus.REJECTED,
        "use the loaner set",
    )
    assert orders_of(uow, world, req) == []
    with uow() as unit:
        requisition = unit.requisitions.get(req)
    assert requisition is not None
    assert requisition.status is RequisitionStatus.REJECTED
    outcomes = [
        (r.entry.action, str(r.entry.outcome))
        for r in audit.list(action="requisition.*") if r.entry.target_id == req
    ]  # fmt: skip
    assert outcomes == [
        ("requisition.reject", "failed"),
        ("requisition.reject", "success"),
        ("requisition.approve", "failed"),
    ]


# --- purchase orders ------------------------------------------------------------------------


def test_lines_of_two_suppliers_become_two_pos_and_the_off_contract_one_is_flagged(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(
        bus, uow, world, "R1", [(world.supply, "1", "CS"), (world.gauze, "25", "EA")]
    )
    drain(bus)

    ortho, gauze = orders_of(uow, world, req)
    assert (ortho.supplier_id, [ln.off_contract for ln in ortho.lines]) == (
        world.supplier_id,
        [False],
    )
    assert (gauze.number, gauze.supplier_id, gauze.lines) == (
        f"PO-{req}-2",
        world.second_supplier,
        [
            PurchaseOrderLine(
                line_number=1,
                item_id=world.gauze,
                quantity=Decimal(3),
                uom="BX",
                unit_price=Decimal("8.0000"),
                off_contract=True,
            )
        ],
    )  # fmt: skip  25 eaches: three boxes of 10, at the list price
    with uow() as unit:
        (item,) = unit.exceptions.find_open_for_subject(f"correlation:{gauze.number}")
    assert (item.type, item.status, item.facility_id) == (
        ExceptionType.CONTRACT_PRICE_MISMATCH,
        ExceptionStatus.OPEN,
        world.facility_id,
    )
    assert f"PO {gauze.number}" in item.reason
    assert "sent flagged" in item.reason
    (delivery,) = deliveries_for(uow, gauze.number)  # sent all the same, flagged
    interchange = read_interchange(delivery.payload or b"")
    assert (delivery.target, interchange.usage, interchange.version) == ("x12:van", "T", "00401")


def test_an_off_contract_line_is_priced_at_the_last_price_paid_per_purchasing_unit(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.offcontract, "4", "BX")])
    drain(bus)

    (po,) = orders_of(uow, world, req)
    assert [(ln.quantity, ln.uom, ln.unit_price, ln.off_contract) for ln in po.lines] == [
        (Decimal(4), "BX", Decimal("30.0000"), True)
    ]


def test_a_supplier_without_a_partner_profile_parks_the_po_step_until_one_is_set(
    uow: UowFactory, audit: AuditTrail
) -> None:
    world = Ordering(uuid.uuid4().hex[:12])
    with uow() as unit:
        seed(unit, world)
    with uow() as unit:
        seed_ordering(unit, world, partners=False)
    bus = build_bus(uow)
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "1", "CS")])
    drain(bus)

    with uow() as unit:
        parked = unit.exceptions.find_open_for_dependency(f"trading_partner:{world.supplier_id}")
        approval = unit.requisition_approvals.get(req)
    assert [item.type for item in parked] == [ExceptionType.PARKED_DEPENDENCY]
    assert approval is not None
    assert approval.status is ApprovalStatus.APPROVED
    assert orders_of(uow, world, req) == []

    _, redriven = TradingPartners(uow, audit, fixed_clock).set(
        world.supplier_id, isa_qualifier="ZZ", isa_id="ORTHO", gs_id="ORTHO", actor=APPROVER
    )
    drain(bus)

    (po,) = orders_of(uow, world, req)
    assert (redriven, len(deliveries_for(uow, po.number))) == (1, 1)


def test_redelivered_events_raise_no_second_po_nor_850(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "2", "CS")])
    drain(bus)
    again = RequisitionProcess(
        load_approval_policy(default_approval_policy_text(), "approval.yaml"),
        PurchaseOrderDispatch(DeliveryQueue(), HUB),
    )  # a redelivery past the tracking rows: each step runs again on every event it handled
    steps = {
        REQUISITION_APPROVAL: again.route_requisition,
        PURCHASE_ORDERING: again.raise_orders,
        PURCHASE_ORDER_DISPATCH: again.dispatch_order,
    }

    with uow() as unit:
        events = unit.events.by_correlation_id(req, limit=100)
    with uow() as unit:
        for event in events:
            for name in bus.subscribers(event):
                steps[name](event, unit, HandlerContext(bus, unit, event, ORDERED_AT))
        unit.commit()

    (po,) = orders_of(uow, world, req)
    assert len(deliveries_for(uow, po.number)) == 1
    with uow() as unit:
        assert unit.purchase_orders.get(f"PO-{req}-2") is None
        partner = unit.trading_partners.get(world.supplier_id)
    assert partner is not None
    assert partner.last_control_number == 1


def test_the_scripted_test_supplier_answers_our_850_back_to_the_hub(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "2", "CS")])
    drain(bus)
    (po,) = orders_of(uow, world, req)
    (delivery,) = deliveries_for(uow, po.number)

    replies = SupplierSimulator(ScenarioPlan()).answer(delivery.payload or b"", ORDERED_AT)

    assert [(r.transaction_set, r.po_number) for r in replies] == [
        ("855", po.number),
        ("856", po.number),
        ("810", po.number),
    ]
    answered = read_interchange(replies[0].payload)
    assert (answered.sender_id.strip(), answered.receiver_id.strip()) == ("ORTHO", HUB.id)


# --- the usage workflow's POs ------------------------------------------------------------


def test_a_consigned_implants_bill_only_po_goes_out_as_an_850_marked_do_not_ship(
    bus: MessageBus, uow: UowFactory, world: Ordering
) -> None:
    bus.execute(world.usage(1, item_id=world.implant))
    drain(bus)

    bill_only, restock = f"BO-{world.id('U1')}", f"RP-{world.id('U1')}"
    kinds = {}
    for number in (bill_only, restock):
        (delivery,) = deliveries_for(uow, number)
        ((_, transaction_set),) = list(read_interchange(delivery.payload or b"").transaction_sets())
        order = decode_850(transaction_set)
        notes = [s.elements for s in transaction_set.body if s.id in {"N9", "MSG"}]
        kinds[number] = (order.order_type, notes)
    assert kinds[bill_only] == (
        "CN",
        [
            ["N9", "ZZ", "BILL ONLY"],
            ["MSG", "IMPLANTED FROM CONSIGNMENT - INVOICE ONLY - DO NOT SHIP"],
        ],
    )
    assert kinds[restock] == (
        "RL",
        [["N9", "ZZ", "RESTOCK"], ["MSG", "CONSIGNMENT RESTOCK - NO CHARGE"]],
    )


def test_a_po_is_sent_once_the_delivery_worker_dropped_its_850(
    bus: MessageBus, uow: UowFactory, world: Ordering, tmp_path: Path
) -> None:
    req = raise_requisition(bus, uow, world, "R1", [(world.supply, "1", "CS")])
    drain(bus)
    (po,) = orders_of(uow, world, req)
    assert po.status is PurchaseOrderStatus.DRAFT
    worker = DeliveryWorker(
        uow, {"x12": FileDropTransport(tmp_path)}, RetryPolicy(),
        lambda: datetime.now(UTC), on_delivered={OPERATION_850: mark_sent},
    )  # fmt: skip

    while worker.run_once():
        pass

    (po,) = orders_of(uow, world, req)
    dropped = tmp_path / f"x12_{world.supplier_id}" / f"850-{po.number}"
    assert po.status is PurchaseOrderStatus.SENT
    assert read_interchange(dropped.read_bytes()).control_number == "000000001"


# --- departmental requests ------------------------------------------------------------------


def test_a_departmental_requisition_takes_the_same_path(
    bus: MessageBus, uow: UowFactory, world: Ordering, requisitions: Requisitions
) -> None:
    submitted = requisitions.submit(
        facility_id=world.facility_id, department_id=world.department_id, actor=APPROVER,
        lines=[RequestedLine(world.supply, Decimal(60), "EA"), RequestedLine(world.gauze,
               Decimal(2))],
    )  # fmt: skip
    drain(bus)

    view = requisitions.show(submitted.id)
    assert view.approval is not None
    assert (view.approval.reason, view.approval.status, view.approval.rule) == (
        "department",
        ApprovalStatus.ORDERED,
        "under-1000-auto",
    )
    assert [po.supplier_id for po in orders_of(uow, world, submitted.id)] == [
        world.supplier_id,
        world.second_supplier,
    ]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (RequestedLine("no-such-item", Decimal(1)), "lines[0].item_id"),
        (RequestedLine("SUPPLY", Decimal(1), "PL"), "lines[0].uom"),
        (RequestedLine("SUPPLY", Decimal(0)), "lines[0].quantity"),
    ],
)
def test_a_bad_departmental_line_is_refused_naming_it(
    world: Ordering, requisitions: Requisitions, line: RequestedLine, field: str
) -> None:
    if line.item_id == "SUPPLY":
        line = RequestedLine(world.supply, line.quantity, line.uom)
    with pytest.raises(DomainError) as refused:
        requisitions.submit(
            facility_id=world.facility_id,
            department_id=world.department_id,
            actor=APPROVER,
            lines=[line],
        )
    assert refused.value.field == field
