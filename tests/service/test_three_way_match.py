"""The three-way match through the real bus and unit of work, on SQLite and PostgreSQL.

Issue 5, procure-to-pay: each rule (late receipt, partial receipts, several invoices, units of
measure, duplicates, tolerance precedence, bill-only), the work queue (opened, then resolved by
a later run), the AP voucher (queued once), and redelivery. The world is ``match_world.py``'s.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from match_world import (
    AT,
    Ticking,
    UowFactory,
    World,
    build_bus,
    drain,
    invoice_line,
    later,
    new_world,
    receipt_line,
    receive_invoice,
    record_receipt,
    seed,
)

from suture.domain.deliveries import Delivery
from suture.domain.exceptions import ExceptionItem, ExceptionStatus, ExceptionType
from suture.domain.invoicing import Invoice, InvoiceStatus
from suture.domain.matching import Finding, InvoiceMatch, MatchStatus, Tolerance, ToleranceRule
from suture.domain.purchasing import PurchaseOrderKind, Receipt
from suture.eventlog.retry import RetryPolicy
from suture.services.deliveries import DeliveryQueue
from suture.services.erp import voucher_from_csv
from suture.services.messagebus import MessageBus
from suture.services.workflows.lookups import WorkflowError
from suture.services.workflows.match_operations import MatchOperations
from suture.services.workflows.three_way_match import ERP_TARGET, INVOICE_MATCHED, ThreeWayMatch

D = Decimal


@pytest.fixture
def world(uow: UowFactory) -> World:
    created = new_world()
    with uow() as unit:
        seed(unit, created)
    return created


@pytest.fixture
def clock() -> Ticking:
    return Ticking()


@pytest.fixture(params=["batch", "one-event"])
def wired(
    request: pytest.FixtureRequest, uow: UowFactory, clock: Ticking
) -> tuple[MessageBus, ThreeWayMatch]:
    """The bus with the handler's batch form, and without it (each event alone)."""
    return build_bus(uow, clock, batch=request.param == "batch")


@pytest.fixture
def bus(wired: tuple[MessageBus, ThreeWayMatch]) -> MessageBus:
    return wired[0]


@pytest.fixture
def operations(
    uow: UowFactory, wired: tuple[MessageBus, ThreeWayMatch], clock: Ticking
) -> MatchOperations:
    return MatchOperations(uow, wired[0], wired[1], clock)


def state(uow: UowFactory, world: World, number: str) -> InvoiceMatch:
    with uow() as unit:
        found = unit.invoice_matches.get(world.invoice_id(number))
    assert found is not None
    return found


def invoice_status(uow: UowFactory, world: World, number: str) -> InvoiceStatus:
    with uow() as unit:
        invoice = unit.invoices.get(world.invoice_id(number))
    assert invoice is not None
    return invoice.status


def items(uow: UowFactory, world: World, number: str) -> list[ExceptionItem]:
    with uow() as unit:
        found = unit.exceptions.list(facility_id=world.facility_id, limit=100)
    return [i for i in found if i.correlation_id == world.invoice_id(number)]


def vouchers(uow: UowFactory, world: World, number: str) -> list[Delivery]:
    with uow() as unit:
        return unit.deliveries.list(target=ERP_TARGET, correlation_id=world.invoice_id(number))


def matched_events(uow: UowFactory, world: World, number: str) -> int:
    with uow() as unit:
        events = unit.events.by_correlation_id(world.invoice_id(number))
    return sum(1 for e in events if e.type == INVOICE_MATCHED)


def test_an_invoice_matching_po_and_receipt_is_approved_vouchered_and_announced(
    bus: MessageBus, uow: UowFactory, world: World, clock: Ticking
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    clock.now = later(30)
    drain(bus)

    match = state(uow, world, "A")
    assert (match.status, match.attempts, match.matched_amount, match.received_at,
            match.matched_at) == (MatchStatus.MATCHED, 1, D("100.00"), AT, later(30))  # fmt: skip
    assert invoice_status(uow, world, "A") is InvoiceStatus.MATCHED
    assert [(d.operation, d.idempotency_key) for d in vouchers(uow, world, "A")] == [
        ("ap_voucher", f"voucher-APV-{world.invoice_id('A')}")
    ]
    assert matched_events(uow, world, "A") == 1
    assert items(uow, world, "A") == []


def test_the_voucher_pays_the_matched_amount_in_cents_when_lines_bill_fractions_of_a_cent(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:  # three lines of 0.125: 0.375 billed, matched as 0.38
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "3"))
        receive_invoice(bus, unit, world, "A", *(
            invoice_line(n, world.glove, "1", "0.125", po_line=1) for n in (1, 2, 3)
        ))  # fmt: skip
    drain(bus)

    (listed,) = vouchers(uow, world, "A")
    with uow() as unit:
        delivery = unit.deliveries.get(listed.id, with_payload=True)
    assert delivery is not None
    assert delivery.payload is not None
    voucher = voucher_from_csv(delivery.payload.decode())
    assert [(line.kind, line.amount) for line in voucher.lines] == [
        ("line", D("0.13")),
        ("line", D("0.13")),
        ("line", D("0.13")),
        ("rounding", D("-0.01")),
    ]
    assert voucher.total == state(uow, world, "A").matched_amount == D("0.38")


def test_a_receipt_after_the_invoice_re_runs_the_match_and_resolves_the_exception(
    bus: MessageBus, uow: UowFactory, world: World, clock: Ticking
) -> None:
    with uow() as unit:
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    opened = items(uow, world, "A")
    clock.now = later(60)
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"), at=later(60))
    drain(bus)

    assert [(i.type, i.status) for i in opened] == [
        (ExceptionType.INVOICE_WITHOUT_RECEIPT, ExceptionStatus.OPEN)
    ]
    assert "100.00" in opened[0].reason
    assert [(i.type, i.status, i.resolved_by) for i in items(uow, world, "A")] == [
        (ExceptionType.INVOICE_WITHOUT_RECEIPT, ExceptionStatus.RESOLVED, "three-way-match")
    ]
    match = state(uow, world, "A")
    assert (match.status, match.attempts, match.received_at, match.matched_at) == (
        MatchStatus.MATCHED, 2, AT, later(60),
    )  # fmt: skip
    assert len(vouchers(uow, world, "A")) == 1


def test_partial_receipts_hold_the_invoice_on_a_quantity_variance_until_the_rest_arrives(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "60"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    held = state(uow, world, "A")
    with uow() as unit:
        record_receipt(bus, unit, world, "2", receipt_line(1, world.glove, "4", "BX"))
    drain(bus)

    assert (held.status, held.findings, held.variance_amount) == (
        MatchStatus.EXCEPTION, (Finding.QUANTITY_VARIANCE,), D("40.00"),
    )  # fmt: skip
    assert state(uow, world, "A").status is MatchStatus.MATCHED


def test_a_second_invoice_cannot_bill_what_the_first_matched_invoice_billed(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "60", "1.00"))
    drain(bus)
    with uow() as unit:
        receive_invoice(bus, unit, world, "B", invoice_line(1, world.glove, "60", "1.00"),
                        at=later(5), invoice_date=AT.date())  # fmt: skip
    drain(bus)

    assert state(uow, world, "A").status is MatchStatus.MATCHED
    second = state(uow, world, "B")
    assert (second.findings, second.lines[0].previously_invoiced_eaches) == (
        (Finding.QUANTITY_VARIANCE,), D(60),
    )  # fmt: skip
    assert second.variance_amount == D("20.00")
    assert [i.type for i in items(uow, world, "B")] == [ExceptionType.QUANTITY_VARIANCE]


def test_a_receipt_releases_the_pos_held_invoices_in_the_order_they_arrived(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    """B came first and A five minutes later, both held for want of goods; 60 arrive: B is
    paid and A waits, whatever their ids say."""
    with uow() as unit:
        receive_invoice(bus, unit, world, "B", invoice_line(1, world.glove, "60", "1.00"))
    with uow() as unit:
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "60", "1.00"),
                        at=later(5), invoice_date=AT.date())  # fmt: skip
    drain(bus)
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "60"), at=later(60))
    drain(bus)

    assert (state(uow, world, "B").status, state(uow, world, "A").findings) == (
        MatchStatus.MATCHED, (Finding.QUANTITY_VARIANCE,),
    )  # fmt: skip


def test_an_invoice_in_cases_matches_a_po_in_eaches(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "10", "BX"),
                       receipt_line(2, world.suture, "120", "EA", po_line=2))  # fmt: skip
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "2", "50.00", "CS"),
                        invoice_line(2, world.suture, "10", "24.00", "BX"))  # fmt: skip
    drain(bus)

    assert state(uow, world, "A").status is MatchStatus.MATCHED


def test_a_bill_only_po_needs_no_receipt(uow: UowFactory) -> None:
    world = new_world()
    with uow() as unit:
        seed(unit, world, kind=PurchaseOrderKind.BILL_ONLY)
    bus, _ = build_bus(uow)
    with uow() as unit:
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)

    assert state(uow, world, "A").status is MatchStatus.MATCHED


def test_the_same_supplier_and_invoice_number_again_is_a_duplicate_and_never_paid(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
    drain(bus)
    with uow() as unit:  # the same bill sent again, stored under another id
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    drain(bus)

    again = state(uow, world, "A-again")
    assert (again.status, again.duplicate_of, again.findings) == (
        MatchStatus.EXCEPTION, world.invoice_id("A"), (Finding.DUPLICATE_INVOICE,),
    )  # fmt: skip
    assert vouchers(uow, world, "A-again") == []
    assert [i.type for i in items(uow, world, "A-again")] == [ExceptionType.DUPLICATE_INVOICE]


def test_a_duplicate_of_a_fully_billed_invoice_is_one_item_not_also_a_quantity_variance(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    with uow() as unit:  # the whole bill again: its eaches were billed by the original
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    drain(bus)

    again = state(uow, world, "A-again")
    assert (again.status, again.findings) == (MatchStatus.EXCEPTION, (Finding.DUPLICATE_INVOICE,))
    assert [(i.type, i.status) for i in items(uow, world, "A-again")] == [
        (ExceptionType.DUPLICATE_INVOICE, ExceptionStatus.OPEN)
    ]


def test_the_same_po_amount_and_date_under_another_number_is_a_suspected_duplicate(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(bus, unit, world, "B", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(5))  # fmt: skip
    drain(bus)

    second = items(uow, world, "B")
    assert [i.type for i in second] == [ExceptionType.DUPLICATE_INVOICE]
    assert "suspected" in second[0].reason


def test_the_most_specific_tolerance_rule_decides(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    loose = Tolerance(price_percent=D(10), price_amount=D(50))
    operations.set_tolerance(ToleranceRule(facility_id=world.facility_id, tolerance=Tolerance()))
    operations.set_tolerance(ToleranceRule(supplier_id=world.supplier_id, tolerance=loose))
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.05"))
    drain(bus)
    operations.set_tolerance(ToleranceRule(
        facility_id=world.facility_id, supplier_id=world.supplier_id, tolerance=Tolerance()
    ))  # fmt: skip
    with uow() as unit:
        receive_invoice(bus, unit, world, "B", invoice_line(1, world.glove, "50", "1.05"),
                        invoice_date=AT.date())  # fmt: skip
    drain(bus)

    assert state(uow, world, "A").status is MatchStatus.MATCHED  # the supplier's 10 % / 50.00
    price = state(uow, world, "B")
    assert (price.findings, price.variance_amount) == ((Finding.PRICE_VARIANCE,), D("2.50"))
    assert "price variance: 2.50 on line 1" in items(uow, world, "B")[0].reason


def test_an_item_not_on_the_po_opens_not_on_po(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"),
                        invoice_line(2, world.id("GOWN"), "2", "7.50"))  # fmt: skip
    drain(bus)

    assert [(i.type, i.queue) for i in items(uow, world, "A")] == [
        (ExceptionType.NOT_ON_PO, "accounts-payable")
    ]
    assert invoice_status(uow, world, "A") is InvoiceStatus.EXCEPTION


def test_running_a_matched_invoice_again_changes_nothing(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    before = state(uow, world, "A")

    again = operations.run(world.invoice_id("A"))
    with uow() as unit:  # the invoice event delivered a second time under a new event id
        invoice = unit.invoices.get(world.invoice_id("A"))
        assert invoice is not None
        receive_invoice(bus, unit, world, "A", *invoice.lines)
    drain(bus)

    assert (again.ran, again.match) == (False, before)
    assert state(uow, world, "A") == before
    assert len(vouchers(uow, world, "A")) == 1
    assert matched_events(uow, world, "A") == 1


class Failing(DeliveryQueue):
    """A delivery queue that fails until told otherwise: the run breaks after the match state,
    the invoice status and the exceptions were written, before the transaction committed."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0
        self.healthy = False

    def enqueue(self, uow, **kwargs):  # type: ignore[no-untyped-def, override]
        if not self.healthy:
            self.failures += 1
            raise ConnectionError("worker died")
        return super().enqueue(uow, **kwargs)


def test_a_run_that_fails_midway_leaves_nothing_and_the_retry_matches_exactly_once(
    uow: UowFactory, world: World, clock: Ticking
) -> None:
    failing = Failing()
    retry = RetryPolicy(
        max_attempts=3, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=1)
    )
    bus, _ = build_bus(uow, clock, retry=retry, deliveries=failing)
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    with uow() as unit:
        after_crash = (unit.invoice_matches.get(world.invoice_id("A")),
                       unit.invoices.get(world.invoice_id("A")))  # fmt: skip
    failing.healthy = True
    clock.now = later(10)
    drain(bus)

    assert failing.failures >= 1
    assert after_crash[0] is None
    assert after_crash[1] is not None
    assert after_crash[1].status is InvoiceStatus.RECEIVED
    match = state(uow, world, "A")
    assert (match.status, match.attempts) == (MatchStatus.MATCHED, 1)
    assert len(vouchers(uow, world, "A")) == 1
    assert matched_events(uow, world, "A") == 1


def test_an_invoice_matched_by_hand_before_the_bus_ran_keeps_the_time_it_was_received(
    operations: MatchOperations, bus: MessageBus, uow: UowFactory, world: World, clock: Ticking
) -> None:
    """The worker was down for two days; the clerk matched the invoice: 2 days of cycle time."""
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    clock.now = AT + timedelta(days=2)

    run = operations.run(world.invoice_id("A"))

    assert (run.match.status, run.match.received_at, run.match.matched_at) == (
        MatchStatus.MATCHED, AT, AT + timedelta(days=2),
    )  # fmt: skip


def test_operations_re_run_a_pos_open_invoices_and_show_them(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    with uow() as unit:  # a receipt stored without its event (a legacy load, say)
        unit.receipts.add(Receipt(
            id=world.id("R9"), number=world.id("R9"), facility_id=world.facility_id,
            location_id=None, received_at=AT, purchase_order_id=world.po_number,
            lines=[receipt_line(1, world.glove, "100")],
        ))  # fmt: skip
        unit.commit()

    runs = operations.run_purchase_order(world.po_number)
    view = operations.show(world.invoice_id("A"))

    assert [(r.ran, r.match.status, r.match.attempts) for r in runs] == [
        (True, MatchStatus.MATCHED, 2)
    ]
    assert view.match == runs[0].match
    assert view.invoice.status is InvoiceStatus.MATCHED
    assert matched_events(uow, world, "A") == 1


def test_a_re_run_that_finds_other_amounts_updates_the_open_items_reason(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "50"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "100", "1.00"))
    drain(bus)
    with uow() as unit:
        record_receipt(bus, unit, world, "2", receipt_line(1, world.glove, "30"))
    drain(bus)

    (item,) = items(uow, world, "A")
    assert (item.type, item.status) == (ExceptionType.QUANTITY_VARIANCE, ExceptionStatus.OPEN)
    assert "quantity variance: 20.00 on line 1" in item.reason
    assert state(uow, world, "A").attempts == 2


def test_an_invoice_the_erp_approved_or_paid_is_not_matched_again(
    uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        unit.invoices.add(Invoice(
            id=world.invoice_id("P"), number=world.id("P"), supplier_id=world.supplier_id,
            facility_id=world.facility_id, invoice_date=AT.date(), status=InvoiceStatus.PAID,
        ))  # fmt: skip
        unit.commit()

    with pytest.raises(WorkflowError) as refused:
        operations.run(world.invoice_id("P"))

    assert (refused.value.field, invoice_status(uow, world, "P")) == ("status", InvoiceStatus.PAID)
