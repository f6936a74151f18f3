"""The usage workflow through the real bus and unit of work, on SQLite and PostgreSQL.

Issue 5, "usage → inventory → replenishment → cost": each rule of the workflow, and that a
usage delivered again, replayed, or arriving under a second event changes nothing. The hospital
is ``usage_world.py``'s; every test has its own (random ids), so both databases are shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from usage_world import SOURCE, USED_AT, World, build_bus, drain, new_world, seed

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.costing import ExpectedCharge, PriceSource
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.ledger import JournalLine
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    RequisitionLine,
    RequisitionStatus,
)
from suture.domain.usage_workflow import UsageStep
from suture.eventlog.events import CrosswalkMapped
from suture.services.deliveries import DeliveryQueue
from suture.services.event_store import WorkStatus
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus, Processing
from suture.services.replay import ReplaySelection
from suture.services.trace import timeline
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.usage import UsageProcess

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def world(uow: UowFactory) -> World:
    created = new_world()
    with uow() as unit:
        seed(unit, created)
    return created


@pytest.fixture
def bus(uow: UowFactory) -> MessageBus:
    return build_bus(uow)


def on_hand(uow: UowFactory, world: World, item_id: str) -> tuple[Decimal, Decimal]:
    with uow() as unit:
        position = unit.stock.get(world.location_id, item_id)
    assert position is not None
    return position.on_hand, position.consigned_on_hand


def count(uow: UowFactory, correlation_id: str, event_type: str) -> int:
    with uow() as unit:
        events = unit.events.by_correlation_id(correlation_id, limit=100)
    return sum(1 for e in events if e.type == event_type)


# --- stock ----------------------------------------------------------------------------------------


def test_usage_of_owned_stock_decrements_the_position_in_eaches(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(1), uom="BX"))
    drain(bus)

    assert on_hand(uow, world, world.supply) == (Decimal(20), Decimal(0))


def test_usage_against_zero_stock_records_a_stockout_and_the_position_goes_negative(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(30)))
    bus.execute(world.usage(2, quantity=Decimal(2)))
    drain(bus)

    with uow() as unit:
        first, second = (unit.usage_workflows.get(world.id(f"U{n}")) for n in (1, 2))
    assert (first and first.stockout, second and second.stockout) == (False, True)
    assert on_hand(uow, world, world.supply) == (Decimal(-2), Decimal(0))


# --- replenishment --------------------------------------------------------------------------------


def test_crossing_the_reorder_point_raises_a_requisition_for_par_minus_position_in_whole_cases(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(15)))
    drain(bus)

    with uow() as unit:
        requisition = unit.requisitions.get(f"REQ-{world.id('U1')}")
    assert requisition is not None
    assert (requisition.status, requisition.location_id, requisition.lines) == (
        RequisitionStatus.PENDING_APPROVAL,
        world.location_id,
        [RequisitionLine(line_number=1, item_id=world.supply, quantity=Decimal(2), uom="CS")],
    )  # par 100 - position 15 = 85 eaches: two cases of 50
    assert count(uow, world.id("U1"), "purchasing.requisition.raised") == 1


def test_usage_above_the_reorder_point_or_below_it_with_one_under_way_raises_no_requisition(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(5)))  # 30 -> 25: above 20
    bus.execute(world.usage(2, quantity=Decimal(10)))  # 25 -> 15: crosses
    bus.execute(world.usage(3, quantity=Decimal(1)))  # 15 -> 14: REQ-U2 under way
    drain(bus)

    with uow() as unit:
        raised = [unit.usage_workflows.get(world.id(f"U{n}")) for n in (1, 2, 3)]
    assert [w and w.requisition_id for w in raised] == [None, f"REQ-{world.id('U2')}", None]


def requisitioned(uow: UowFactory, world: World, *numbers: int) -> list[str | None]:
    with uow() as unit:
        raised = [unit.usage_workflows.get(world.id(f"U{n}")) for n in numbers]
    return [w and w.requisition_id for w in raised]


def settle(uow: UowFactory, requisition_id: str, status: RequisitionStatus) -> None:
    """What the approval workflow leaves: the requisition in ``status`` (rejected, ordered)."""
    with uow() as unit:
        requisition = unit.requisitions.get(requisition_id)
        assert requisition is not None
        requisition.status = status
        unit.requisitions.add(requisition)
        unit.commit()


def order(uow: UowFactory, world: World, requisition_id: str, received: int) -> None:
    """The requisition ordered on one sent PO of two cases, ``received`` of them received."""
    settle(uow, requisition_id, RequisitionStatus.ORDERED)
    po = PurchaseOrder(
        id=f"PO-{requisition_id}-1", number=f"PO-{requisition_id}-1",
        facility_id=world.facility_id, supplier_id=world.supplier_id, order_date=date(2025, 3, 3),
        kind=PurchaseOrderKind.STANDARD, requisition_id=requisition_id,
        status=PurchaseOrderStatus.SENT,
        lines=[PurchaseOrderLine(line_number=1, item_id=world.supply, quantity=Decimal(2),
                                 uom="CS", unit_price=Decimal("62.50"))],
    )  # fmt: skip
    if received:
        po.receive({1: Decimal(received)})
    with uow() as unit:
        unit.purchase_orders.add(po)
        unit.commit()


def test_stock_below_the_reorder_point_before_its_par_level_was_set_is_replenished_by_usage(
    uow: UowFactory,
) -> None:
    world = new_world()
    with uow() as unit:
        seed(unit, world, supply_on_hand=10)  # counted 10, par level (point 20) set after
    low = build_bus(uow)
    low.execute(world.usage(1))  # 10 -> 9: below already, nothing under way
    drain(low)

    with uow() as unit:
        requisition = unit.requisitions.get(f"REQ-{world.id('U1')}")
    assert requisition is not None
    assert requisition.lines == [
        RequisitionLine(line_number=1, item_id=world.supply, quantity=Decimal(2), uom="CS")
    ]  # par 100 - position 9 = 91 eaches: two cases of 50
    assert count(uow, world.id("U1"), "purchasing.requisition.raised") == 1


def test_a_usage_after_the_requisition_was_rejected_raises_a_new_one(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(15)))  # 30 -> 15: crosses
    drain(bus)
    settle(uow, f"REQ-{world.id('U1')}", RequisitionStatus.REJECTED)
    bus.execute(world.usage(2))  # 15 -> 14: nothing under way any more
    bus.execute(world.usage(3))  # 14 -> 13: the second one is under way
    drain(bus)

    assert requisitioned(uow, world, 1, 2, 3) == [
        f"REQ-{world.id('U1')}",
        f"REQ-{world.id('U2')}",
        None,
    ]


def test_no_second_requisition_while_the_po_of_the_first_is_not_received(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(15)))  # 30 -> 15: crosses
    drain(bus)
    order(uow, world, f"REQ-{world.id('U1')}", received=1)
    bus.execute(world.usage(2))  # ordered, one case of two received: under way
    drain(bus)
    order(uow, world, f"REQ-{world.id('U1')}", received=2)
    bus.execute(world.usage(3))  # received in full, still below (no count): a new shortfall
    drain(bus)

    assert requisitioned(uow, world, 1, 2, 3) == [
        f"REQ-{world.id('U1')}",
        None,
        f"REQ-{world.id('U3')}",
    ]


def test_usages_below_the_point_in_one_batch_raise_one_requisition(uow: UowFactory) -> None:
    world = new_world()
    with uow() as unit:
        seed(unit, world, supply_on_hand=10)
    low = build_bus(uow)
    for n in (1, 2, 3):
        low.execute(world.usage(n))
    drain(low)

    assert requisitioned(uow, world, 1, 2, 3) == [f"REQ-{world.id('U1')}", None, None]


def test_a_consigned_implant_draws_consigned_stock_and_raises_bill_only_and_restock_pos(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.implant))
    drain(bus)

    with uow() as unit:
        bill_only = unit.purchase_orders.get(f"BO-{world.id('U1')}")
        restock = unit.purchase_orders.get(f"RP-{world.id('U1')}")
    assert on_hand(uow, world, world.implant) == (Decimal(0), Decimal(1))
    assert bill_only is not None
    assert restock is not None
    assert [
        (
            po.kind,
            po.supplier_id,
            po.lines[0].quantity,
            po.lines[0].unit_price,
            po.lines[0].contract_id,
        )
        for po in (bill_only, restock)
    ] == [
        (
            PurchaseOrderKind.BILL_ONLY,
            world.supplier_id,
            Decimal(1),
            Decimal("2500.00"),
            world.id("CON"),
        ),
        (
            PurchaseOrderKind.REPLENISHMENT,
            world.supplier_id,
            Decimal(1),
            Decimal(0),
            world.id("CON"),
        ),
    ]
    assert count(uow, world.id("U1"), "purchasing.order.raised") == 2


# --- cost -----------------------------------------------------------------------------------------


def test_the_cost_is_journalled_on_the_department_cost_center_and_queued_for_the_erp(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(4)))
    drain(bus)

    journal_id = f"JE-{world.id('U1')}"
    memo = f"usage {world.id('U1')} item {world.supply}"
    with uow() as unit:
        journal = unit.journals.get(journal_id)
        delivery = unit.deliveries.by_idempotency_key("erp:file", f"journal-{journal_id}")
    assert journal is not None
    assert delivery is not None
    assert (journal.facility_id, journal.posting_date, journal.lines) == (
        world.facility_id,
        date(2025, 3, 3),
        [
            JournalLine(
                gl_account_id="GL-5100",
                debit=Decimal("5.00"),
                cost_center_id=world.cost_center_id,
                memo=memo,
            ),
            JournalLine(gl_account_id="GL-1400", credit=Decimal("5.00"), memo=memo),
        ],
    )  # 4 eaches at the contract's 12.50 a box of 10
    assert (delivery.operation, delivery.correlation_id) == ("journal", world.id("U1"))


def test_a_consigned_implant_is_costed_against_accrued_receipts_and_expects_its_charge(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.implant))
    drain(bus)

    with uow() as unit:
        journal = unit.journals.get(f"JE-{world.id('U1')}")
        charge = unit.expected_charges.get(world.id("U1"))
        workflow = unit.usage_workflows.get(world.id("U1"))
    assert journal is not None
    assert workflow is not None
    assert [(line.gl_account_id, line.debit, line.credit) for line in journal.lines] == [
        ("GL-5110", Decimal("2500.00"), Decimal(0)),
        ("GL-2100", Decimal(0), Decimal("2500.00")),
    ]
    assert charge == ExpectedCharge(
        id=world.id("U1"),
        facility_id=world.facility_id,
        encounter_token=world.id("ENC"),
        item_id=world.implant,
        cdm_code="CDM-KNEE",
        hcpcs="C1776",
        revenue_code="0278",
        quantity=Decimal(1),
        cost=Decimal("2500.00"),
        used_at=USED_AT,
        department_id=world.department_id,
        recorded_at=workflow.updated_at,
    )
    assert (workflow.step, workflow.expected_charge_id, workflow.cost_center_id) == (
        UsageStep.COSTED,
        world.id("U1"),
        world.cost_center_id,
    )


def test_a_non_chargeable_supply_expects_no_charge(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1))
    drain(bus)

    with uow() as unit:
        assert unit.expected_charges.get(world.id("U1")) is None


def test_no_contract_price_costs_at_the_last_price_paid_flagged_with_a_contract_mismatch(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.offcontract, quantity=Decimal(2)))
    bus.execute(world.usage(2, world.offcontract, quantity=Decimal(1)))
    drain(bus)

    with uow() as unit:
        workflow = unit.usage_workflows.get(world.id("U1"))
        items = unit.exceptions.list(
            type=ExceptionType.CONTRACT_PRICE_MISMATCH, facility_id=world.facility_id
        )
    assert workflow is not None
    assert (workflow.price_source, workflow.unit_price, workflow.amount, workflow.flagged) == (
        PriceSource.LAST_PAID,
        Decimal("3.0000"),
        Decimal("6.00"),
        True,
    )  # 30.00 a box of 10
    assert [(i.status, i.queue, i.dependency) for i in items] == [
        (
            ExceptionStatus.OPEN,
            "accounts-payable",
            f"contract_price:{world.facility_id}/{world.offcontract}",
        ),
    ]  # one item per item and facility, however many usages
    assert workflow.step is UsageStep.COSTED  # processing continued


# --- master data ----------------------------------------------------------------------------------


def test_an_unmapped_item_number_parks_with_missing_item_mapping_until_it_is_mapped(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    local = world.id("LOCAL-77")
    bus.execute(world.usage(1, local))
    drain(bus)
    with uow() as unit:
        parked = unit.exceptions.list(
            type=ExceptionType.MISSING_ITEM_MAPPING, facility_id=world.facility_id
        )
    assert [item.handler for item in parked] == ["inventory"]

    key = CrosswalkKey(SOURCE, world.facility_id, CrosswalkKind.ITEM, local)
    with uow() as unit:
        unit.crosswalks.add(CrosswalkEntry(key=key, canonical_id=world.supply, valid_from=USED_AT))
        mapped = CrosswalkMapped(
            source_system=SOURCE,
            facility_id=world.facility_id,
            kind=CrosswalkKind.ITEM,
            local_code=local,
            canonical_id=world.supply,
            mapped_at=USED_AT,
        )
        bus.publish(
            unit,
            bus.envelope(
                "crosswalk.mapped",
                mapped.model_dump(mode="json"),
                idempotency_key=world.id("MAP"),
                correlation_id=local,
            ),
        )
        unit.commit()
    drain(bus)

    with uow() as unit:
        workflow = unit.usage_workflows.get(world.id("U1"))
        items = unit.exceptions.list(
            type=ExceptionType.MISSING_ITEM_MAPPING, facility_id=world.facility_id
        )
    assert workflow is not None
    assert (workflow.item_id, workflow.step) == (world.supply, UsageStep.COSTED)
    assert [item.status for item in items] == [ExceptionStatus.RESOLVED]
    assert on_hand(uow, world, world.supply) == (Decimal(29), Decimal(0))


def test_a_usage_without_a_known_department_parks_its_cost_step_on_the_department(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, department_id=world.id("DEPT-NONE")))
    drain(bus)

    with uow() as unit:
        workflow = unit.usage_workflows.get(world.id("U1"))
        parked = unit.exceptions.list(
            type=ExceptionType.PARKED_DEPENDENCY, facility_id=world.facility_id
        )
    assert workflow is not None
    assert workflow.step is UsageStep.STOCKED
    assert [(i.handler, i.dependency) for i in parked] == [
        ("cost_attribution", f"department:{world.id('DEPT-NONE')}")
    ]


# --- exactly once ---------------------------------------------------------------------------------


def test_replaying_the_same_usage_is_a_no_op(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.implant))
    drain(bus)
    with uow() as unit:
        events = unit.events.by_correlation_id(world.id("U1"), limit=100)

    report = bus.replay(ReplaySelection(event_ids=tuple(str(e.id) for e in events)))
    drain(bus)

    assert report.items == ()  # every (handler, event) is tracked already: nothing to re-drive
    assert on_hand(uow, world, world.implant) == (Decimal(0), Decimal(1))
    with uow() as unit:
        assert len(unit.events.by_correlation_id(world.id("U1"), limit=100)) == len(events)


def test_the_same_usage_recorded_again_or_from_another_source_moves_stock_once(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    assert bus.execute(world.usage(1, quantity=Decimal(15))) is True
    assert bus.execute(world.usage(1, quantity=Decimal(15))) is False  # same source: same key
    bus.execute(world.usage(1, quantity=Decimal(15), source_system="legacy-mms"))
    drain(bus)

    assert count(uow, world.id("U1"), "supply.usage.recorded") == 2
    assert on_hand(uow, world, world.supply) == (Decimal(15), Decimal(0))
    assert [
        count(uow, world.id("U1"), t)
        for t in (
            "inventory.usage.applied",
            "purchasing.requisition.raised",
            "finance.usage.costed",
        )
    ] == [1, 1, 1]


@pytest.mark.parametrize("one_batch", [True, False])
def test_an_implant_serial_used_again_under_another_usage_moves_stock_and_bills_it_once(
    bus: MessageBus, uow: UowFactory, world: World, one_batch: bool
) -> None:
    # The OR's FHIR feed and the legacy case log both report the same implant (one serial):
    # two usage ids, one unit. Counting it twice pays the vendor twice (two bill-only POs).
    bus.execute(world.usage(1, world.implant, serial="SN-77"))
    if not one_batch:
        drain(bus)
    bus.execute(world.usage(2, world.implant, serial="SN-77", source_system="legacy-mms"))
    drain(bus)

    with uow() as unit:
        (again,) = unit.events.by_correlation_id(world.id("U2"), limit=10)
        work = [(w.handler, w.status) for w in unit.events.work_of(str(again.id))]
        (item,) = [
            i
            for i in unit.exceptions.list(facility_id=world.facility_id)
            if i.event_id == str(again.id)
        ]
        bill_only = unit.purchase_orders.get(f"BO-{world.id('U2')}")
    assert steps(uow, world, 2) == [UsageStep.COSTED, None]
    assert on_hand(uow, world, world.implant) == (Decimal(0), Decimal(1))
    assert (work, bill_only) == ([("inventory", WorkStatus.DEAD)], None)
    assert (item.type, item.reason) == (
        ExceptionType.HANDLER_FAILED,
        f"inventory failed: SerialAlreadyUsedError: serial: item {world.implant} serial SN-77 "
        f"was used already by usage {world.id('U1')}; a serialized unit is used once; "
        "permanent error: retrying cannot help",
    )


def test_the_workflow_is_one_timeline_in_the_trace(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(15)))
    drain(bus)

    entries = timeline(uow, world.id("U1"))

    kinds = sorted((e.kind, e.detail.split()[0]) for e in entries)
    assert kinds == [
        ("event", "finance.usage.costed"),
        ("event", "inventory.usage.applied"),
        ("event", "purchasing.requisition.raised"),
        ("event", "supply.usage.recorded"),
        ("processed", "cost_attribution"),
        ("processed", "inventory"),
    ]  # and no work left pending, parked or dead


# --- batch and one-event forms --------------------------------------------------------------------


def test_a_batch_with_an_unmapped_item_parks_that_usage_alone(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.id("LOCAL-UNKNOWN")))
    bus.execute(world.usage(2, quantity=Decimal(3)))
    drain(bus)

    assert steps(uow, world, 2) == [None, UsageStep.COSTED]
    assert on_hand(uow, world, world.supply) == (Decimal(27), Decimal(0))


def test_a_poison_usage_in_a_batch_is_dead_lettered_alone_and_its_neighbours_commit(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    # A unit the item does not know breaks a domain rule: the batch is taken back whole, each
    # event runs alone, and only the poison one fails (permanent: dead letter at once).
    bus.execute(world.usage(1, quantity=Decimal(2)))
    bus.execute(world.usage(2, quantity=Decimal(1), uom="PL"))
    bus.execute(world.usage(3, world.implant))
    drain(bus)

    with uow() as unit:
        (poison,) = unit.events.by_correlation_id(world.id("U2"), limit=10)
        work = [(w.handler, w.status) for w in unit.events.work_of(str(poison.id))]
    assert steps(uow, world, 3) == [UsageStep.COSTED, None, UsageStep.COSTED]
    assert work == [("inventory", WorkStatus.DEAD)]
    assert on_hand(uow, world, world.supply) == (Decimal(28), Decimal(0))


def test_a_usage_in_a_unit_its_item_lacks_is_a_uom_mismatch_for_supply_chain(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, world.implant, uom="BX"))
    drain(bus)

    with uow() as unit:
        (item,) = [
            i
            for i in unit.exceptions.list(facility_id=world.facility_id)
            if i.correlation_id == world.id("U1")
        ]
    assert (item.type, item.queue, item.reason) == (
        ExceptionType.UOM_MISMATCH,
        "supply-chain",
        "inventory failed: UnitConversionError: uom: unknown unit 'BX'; the item has EA; "
        "permanent error: retrying cannot help",
    )


def test_a_usage_whose_cost_step_parks_leaves_the_rest_of_its_batch_costed(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    bus.execute(world.usage(1, quantity=Decimal(2)))
    bus.execute(world.usage(2, department_id=world.id("DEPT-NONE")))
    bus.execute(world.usage(3, world.implant))
    drain(bus)

    assert steps(uow, world, 3) == [UsageStep.COSTED, UsageStep.STOCKED, UsageStep.COSTED]
    assert [count(uow, world.id(f"U{n}"), "finance.usage.costed") for n in (1, 2, 3)] == [1, 0, 1]


def test_a_batch_delivered_again_is_skipped_by_its_tracking_rows(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    for n in range(1, 4):
        bus.execute(world.usage(n, quantity=Decimal(2)))
    drain(bus)
    with uow() as unit:
        events = [e for n in range(1, 4) for e in unit.events.by_correlation_id(world.id(f"U{n}"))]
    keys = [("inventory", str(e.id)) for e in events if e.type == "supply.usage.recorded"] + [
        ("cost_attribution", str(e.id)) for e in events if e.type == "inventory.usage.applied"
    ]

    outcomes = bus.process_many(keys)

    assert outcomes == [Processing.SKIPPED] * 6
    assert on_hand(uow, world, world.supply) == (Decimal(24), Decimal(0))
    with uow() as unit:
        assert len(unit.events.by_correlation_id(world.id("U1"))) == 3


def test_both_steps_run_again_on_a_whole_batch_change_nothing(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    # Past the tracking rows (a second feed, a replay that skipped them), the workflow's state
    # per usage id is what keeps a batch from moving stock or costing twice.
    usage = UsageProcess(DeliveryQueue())
    for n, item in enumerate((world.supply, world.implant, world.offcontract), start=1):
        bus.execute(world.usage(n, item, quantity=Decimal(1)))
    drain(bus)
    with uow() as unit:
        before = [unit.stock.get(world.location_id, i) for i in (world.supply, world.implant)]
        events = [e for n in range(1, 4) for e in unit.events.by_correlation_id(world.id(f"U{n}"))]

    for event_type, step in (("supply.usage.recorded", usage.apply_usages),
                             ("inventory.usage.applied", usage.attribute_costs)):  # fmt: skip
        with uow() as unit:
            batch = [(e, HandlerContext(bus, unit, e, USED_AT)) for e in events
                     if e.type == event_type]  # fmt: skip
            step(batch, unit)
            unit.commit()

    with uow() as unit:
        after = [unit.stock.get(world.location_id, i) for i in (world.supply, world.implant)]
        again = [e for n in range(1, 4) for e in unit.events.by_correlation_id(world.id(f"U{n}"))]
    assert (after, len(again)) == (before, len(events))
    assert steps(uow, world, 3) == [UsageStep.COSTED] * 3


def test_the_one_event_form_of_the_steps_leaves_what_the_batch_form_leaves(
    uow: UowFactory,
) -> None:
    outcomes = []
    for batch in (True, False):
        world = new_world()
        with uow() as unit:
            seed(unit, world)
        bus = build_bus(uow, batch=batch)
        for n, (item, quantity) in enumerate([("supply", 12), ("implant", 1), ("offcontract", 4),
                                              ("supply", 4), ("implant", 1)], start=1):  # fmt: skip
            bus.execute(world.usage(n, getattr(world, item), quantity=Decimal(quantity)))
        drain(bus)
        with uow() as unit:
            flows = [unit.usage_workflows.get(world.id(f"U{n}")) for n in range(1, 6)]
            stock = [unit.stock.get(world.location_id, getattr(world, i))
                     for i in ("supply", "implant")]  # fmt: skip
        outcomes.append((
            [(f.step, f.eaches, f.stockout, f.price_source, f.amount,
              bool(f.requisition_id), bool(f.bill_only_po_id), bool(f.journal_id))
             for f in flows if f is not None],
            [(p.on_hand, p.consigned_on_hand) for p in stock if p is not None],
        ))  # fmt: skip

    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][0]) == 5


def steps(uow: UowFactory, world: World, n: int) -> list[UsageStep | None]:
    with uow() as unit:
        found = [unit.usage_workflows.get(world.id(f"U{i}")) for i in range(1, n + 1)]
    return [w.step if w else None for w in found]


def inventory_at_once(uow: UowFactory, event_ids: list[str]) -> None:
    """The inventory step of each event run by a worker of its own, all started together."""
    start = threading.Barrier(len(event_ids))

    def work(event_id: str) -> None:
        start.wait()
        build_bus(uow).process("inventory", event_id)

    threads = [threading.Thread(target=work, args=(event_id,)) for event_id in event_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.postgres
def test_two_workers_given_the_same_usage_at_once_move_its_stock_once(
    postgres_engine: sa.Engine,
) -> None:
    uow: UowFactory = lambda: SqlAlchemyUnitOfWork(postgres_engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world)
    bus = build_bus(uow)
    bus.execute(world.usage(1, quantity=Decimal(15)))
    bus.execute(world.usage(1, quantity=Decimal(15), source_system="legacy-mms"))
    with uow() as unit:
        recorded = [str(e.id) for e in unit.events.by_correlation_id(world.id("U1"))]
    inventory_at_once(uow, recorded)
    drain(bus)

    assert on_hand(uow, world, world.supply) == (Decimal(15), Decimal(0))
    assert [count(uow, world.id("U1"), t) for t in (
        "inventory.usage.applied", "purchasing.requisition.raised", "finance.usage.costed",
    )] == [1, 1, 1]  # fmt: skip


@pytest.mark.postgres
def test_two_workers_leaving_one_position_below_its_point_at_once_raise_one_requisition(
    postgres_engine: sa.Engine,
) -> None:
    uow: UowFactory = lambda: SqlAlchemyUnitOfWork(postgres_engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world, supply_on_hand=10)
    bus = build_bus(uow)
    recorded = []
    for n in (1, 2):
        bus.execute(world.usage(n))
        with uow() as unit:
            recorded += [str(e.id) for e in unit.events.by_correlation_id(world.id(f"U{n}"))]
    inventory_at_once(uow, recorded)
    drain(bus)

    assert on_hand(uow, world, world.supply) == (Decimal(8), Decimal(0))
    assert sorted(filter(None, requisitioned(uow, world, 1, 2))) in (
        [f"REQ-{world.id('U1')}"],
        [f"REQ-{world.id('U2')}"],
    )  # whichever worker locked the position first raised it
