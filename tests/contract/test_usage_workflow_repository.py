"""The usage workflow's repositories hold the same promises on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from suture.domain.costing import ExpectedCharge, PriceSource
from suture.domain.purchasing import (
    LineAcknowledgment,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
)
from suture.domain.usage_workflow import UsageCosting, UsageStep, UsageWorkflow
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 3, 14, tzinfo=UTC)
UowFactory = Callable[[], UnitOfWork]


def workflow(usage_id: str, **changes: object) -> UsageWorkflow:
    stocked = UsageWorkflow(
        usage_id=usage_id, facility_id="fac", location_id="loc", item_id="item",
        step=UsageStep.STOCKED, eaches=Decimal(2), consigned=False, stockout=False,
        price_source=PriceSource.CONTRACT, unit_price=Decimal("1.2500"), amount=Decimal("2.50"),
        started_at=AT, updated_at=AT,
    )  # fmt: skip
    return replace(stocked, **changes)  # type: ignore[arg-type]


def test_a_usage_starts_one_workflow_and_a_second_start_writes_nothing(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    with uow() as unit:
        first = unit.usage_workflows.start(workflow(f"U1-{run}"))
        again = unit.usage_workflows.start(workflow(f"U1-{run}", amount=Decimal(9)))
        many = unit.usage_workflows.start_many([workflow(f"U1-{run}"), workflow(f"U2-{run}")])
        stored = unit.usage_workflows.get_many([f"U1-{run}", f"U2-{run}", f"U3-{run}"])
        unit.commit()

    assert (first, again, many) == (True, False, 1)
    assert {k: v.amount for k, v in stored.items()} == {
        f"U1-{run}": Decimal("2.50"),
        f"U2-{run}": Decimal("2.50"),
    }


def test_saved_workflows_read_back_whole(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    one, two = workflow(f"U1-{run}"), workflow(f"U2-{run}", consigned=True)
    with uow() as unit:
        unit.usage_workflows.start_many([one, two])
        costed = [w.costed(journal_id=f"JE-{w.usage_id}", expected_charge_id=None,
                           cost_center_id="cc", at=AT) for w in (one, two)]  # fmt: skip
        unit.usage_workflows.save_many(costed)
        unit.commit()
    with uow() as unit:
        assert [unit.usage_workflows.get(w.usage_id) for w in (one, two)] == costed


def test_costing_moves_only_stocked_workflows_and_counts_them(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    one, two = workflow(f"U1-{run}"), workflow(f"U2-{run}")

    def costing(usage_id: str) -> UsageCosting:
        return UsageCosting(usage_id=usage_id, journal_id=f"JE-{usage_id}",
                            expected_charge_id=None, cost_center_id="cc", at=AT)  # fmt: skip

    with uow() as unit:
        unit.usage_workflows.start_many([one, two])
        moved = unit.usage_workflows.cost_many([costing(one.usage_id)])
        again = unit.usage_workflows.cost_many([costing(one.usage_id), costing(f"U3-{run}")])
        steps = unit.usage_workflows.steps([one.usage_id, two.usage_id, f"U3-{run}"])
        unit.commit()
    with uow() as unit:
        stored = unit.usage_workflows.get(one.usage_id)

    assert (moved, again) == (1, 0)
    assert steps == {one.usage_id: UsageStep.COSTED, two.usage_id: UsageStep.STOCKED}
    assert stored == one.costed(
        journal_id=f"JE-{one.usage_id}", expected_charge_id=None, cost_center_id="cc", at=AT
    )


def test_locking_positions_creates_the_missing_ones_at_zero(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    with uow() as unit:
        positions = unit.usage_workflows.lock_positions(
            [("fac", f"LOC-{run}", "A"), ("fac", f"LOC-{run}", "B")], AT
        )
        unit.commit()

    assert sorted((k, p.on_hand, p.consigned_on_hand) for k, p in positions.items()) == [
        ((f"LOC-{run}", "A"), 0, 0),
        ((f"LOC-{run}", "B"), 0, 0),
    ]


def test_an_expected_charge_is_stored_once_per_usage(uow: UowFactory) -> None:
    run = uuid.uuid4().hex
    charge = ExpectedCharge(
        id=f"U1-{run}", facility_id="fac", encounter_token=f"ENC-{run}", item_id="knee",
        cdm_code="CDM-KNEE", hcpcs=None, revenue_code="0278", quantity=Decimal(1),
        cost=Decimal("2500.00"), used_at=AT, department_id=None, recorded_at=AT,
    )  # fmt: skip
    with uow() as unit:
        stored = unit.expected_charges.add_many([charge, replace(charge, id=f"U2-{run}")])
        again = unit.expected_charges.add(replace(charge, cost=Decimal(1)))
        unit.commit()
    with uow() as unit:
        found = unit.expected_charges.for_encounter("fac", f"ENC-{run}")

    assert (stored, again) == (2, False)
    assert found == [charge, replace(charge, id=f"U2-{run}")]


def test_the_last_price_paid_is_the_latest_priced_po_line_of_the_facility(
    uow: UowFactory,
) -> None:
    run = uuid.uuid4().hex
    fac, item = f"FAC-{run}", f"ITEM-{run}"

    def order(number: str, day: int, price: str, facility: str = fac) -> PurchaseOrder:
        line = PurchaseOrderLine(
            line_number=1, item_id=item, quantity=Decimal(1), uom="BX", unit_price=Decimal(price)
        )
        return PurchaseOrder(
            id=f"{number}-{run}", number=number, facility_id=facility, supplier_id="sup",
            order_date=date(2025, 2, day), lines=[line],
        )  # fmt: skip

    with uow() as unit:
        nothing = unit.usage_workflows.last_price_paid(fac, item)
        unit.purchase_orders.add_many([
            order("PO-1", 1, "30.00"), order("PO-2", 9, "31.00"), order("RP-3", 20, "0"),
            order("PO-4", 25, "99.00", facility="elsewhere"),
        ])  # fmt: skip
        paid = unit.usage_workflows.last_price_paid(fac, item)
        unit.commit()

    assert (nothing, paid) == (None, (Decimal("31.00"), "BX"))


def test_a_replenishment_is_under_way_until_rejected_or_its_po_is_received(
    uow: UowFactory,
) -> None:
    run = uuid.uuid4().hex
    fac = f"FAC-{run}"

    def raised(n: int, status: RequisitionStatus, *, by_usage: bool = True) -> Requisition:
        """Requisition ``n`` for item ``I<n>`` at ``loc``, raised by usage ``U<n>`` or not."""
        req_id = f"REQ-U{n}-{run}" if by_usage else f"REQ-D-{n}-{run}"
        line = RequisitionLine(line_number=1, item_id=f"I{n}", quantity=Decimal(1), uom="CS")
        return Requisition(
            id=req_id, number=req_id, facility_id=fac, department_id=None, location_id="loc",
            requested_at=AT, lines=[line], status=status,
        )  # fmt: skip

    def po(
        requisition: Requisition, status: PurchaseOrderStatus, **line_changes: object
    ) -> PurchaseOrder:
        line = PurchaseOrderLine(line_number=1, item_id=requisition.lines[0].item_id,
                                 quantity=Decimal(2), uom="CS", unit_price=Decimal(1))  # fmt: skip
        line = replace(line, **line_changes)  # type: ignore[arg-type]
        return PurchaseOrder(
            id=f"PO-{requisition.id}-1", number=f"PO-{requisition.id}-1", facility_id=fac,
            supplier_id="sup", order_date=date(2025, 3, 3), requisition_id=requisition.id,
            status=status, lines=[line],
        )  # fmt: skip

    requisitions = [
        raised(1, RequisitionStatus.PENDING_APPROVAL),
        raised(2, RequisitionStatus.APPROVED),
        raised(3, RequisitionStatus.REJECTED),
        raised(4, RequisitionStatus.ORDERED),  # its PO sent
        raised(5, RequisitionStatus.ORDERED),  # its PO received
        raised(6, RequisitionStatus.ORDERED),  # its PO cancelled
        raised(7, RequisitionStatus.PENDING_APPROVAL, by_usage=False),  # departmental
        raised(8, RequisitionStatus.ORDERED),  # its PO line partly received
        raised(9, RequisitionStatus.ORDERED),  # its PO line rejected by the supplier
    ]
    with uow() as unit:
        unit.requisitions.add_many(requisitions)
        unit.purchase_orders.add_many([
            po(requisitions[3], PurchaseOrderStatus.SENT),
            po(requisitions[4], PurchaseOrderStatus.RECEIVED),
            po(requisitions[5], PurchaseOrderStatus.CANCELLED),
            po(requisitions[7], PurchaseOrderStatus.PARTIALLY_RECEIVED,
               received_quantity=Decimal(1)),
            po(requisitions[8], PurchaseOrderStatus.ACKNOWLEDGED,
               acknowledgment=LineAcknowledgment.REJECTED),
        ])  # fmt: skip
        unit.usage_workflows.start_many([
            workflow(f"U{n}-{run}", facility_id=fac, item_id=f"I{n}",
                     requisition_id=f"REQ-U{n}-{run}")
            for n in (1, 2, 3, 4, 5, 6, 8, 9)
        ])  # fmt: skip
        keys = [(fac, "loc", f"I{n}") for n in range(1, 11)] + [("elsewhere", "loc", "I1")]
        under_way = unit.usage_workflows.replenishments_under_way(keys)
        unit.commit()

    assert under_way == {("loc", "I1"), ("loc", "I2"), ("loc", "I4"), ("loc", "I8")}
