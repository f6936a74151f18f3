"""A suspected duplicate invoice cleared as "not a duplicate", on SQLite and PostgreSQL.

The decision (``MatchOperations.clear_duplicate``) is explicit, scoped to the original the match
named, and re-runs the invoice at once; a plain dismissal of the work item is no such decision.
The world is ``match_world.py``'s: A and B bill 50 gloves each, same PO, amount and date.
"""

from __future__ import annotations

import pytest
from match_world import (
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
from suture.domain.duplicate_clearance import DuplicateClearance, DuplicateClearanceError
from suture.domain.exceptions import ExceptionItem, ExceptionStatus, ExceptionType
from suture.domain.matching import Finding, InvoiceMatch, MatchStatus
from suture.services.messagebus import MessageBus
from suture.services.workflows.match_operations import MatchOperations
from suture.services.workflows.three_way_match import ERP_TARGET, UnknownInvoiceError

CLERK = "ap.clerk"
WHY = "two deliveries billed the same day; checked the packing slips"


@pytest.fixture
def world(uow: UowFactory) -> World:
    created = new_world()
    with uow() as unit:
        seed(unit, created)
    return created


@pytest.fixture
def clock() -> Ticking:
    return Ticking()


@pytest.fixture
def wired(uow: UowFactory, clock: Ticking) -> tuple[MessageBus, MatchOperations]:
    bus, process = build_bus(uow, clock)
    return bus, MatchOperations(uow, bus, process, clock)


@pytest.fixture
def bus(wired: tuple[MessageBus, MatchOperations]) -> MessageBus:
    return wired[0]


@pytest.fixture
def operations(wired: tuple[MessageBus, MatchOperations]) -> MatchOperations:
    return wired[1]


def state(uow: UowFactory, world: World, number: str) -> InvoiceMatch:
    with uow() as unit:
        found = unit.invoice_matches.get(world.invoice_id(number))
    assert found is not None
    return found


def items(uow: UowFactory, world: World, number: str) -> list[ExceptionItem]:
    with uow() as unit:
        found = unit.exceptions.list(facility_id=world.facility_id, statuses=None, limit=100)
    return [i for i in found if i.correlation_id == world.invoice_id(number)]


def vouchers(uow: UowFactory, world: World, number: str) -> list[Delivery]:
    with uow() as unit:
        return unit.deliveries.list(target=ERP_TARGET, correlation_id=world.invoice_id(number))


def clearances(uow: UowFactory, world: World, number: str) -> list[DuplicateClearance]:
    with uow() as unit:
        return unit.invoice_matches.duplicate_clearances(world.invoice_id(number))


def receive_twins(bus: MessageBus, uow: UowFactory, world: World, *, receipt: str | None) -> None:
    """A, then B five minutes later: 50 gloves each, same PO, amount and date (B is held as a
    suspected duplicate of A); ``receipt``: how many gloves arrived first (None: none)."""
    with uow() as unit:
        if receipt is not None:
            record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, receipt))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(bus, unit, world, "B", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(5))  # fmt: skip
    drain(bus)


def test_a_suspected_duplicate_cleared_is_re_run_at_once_matched_and_vouchered(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations, clock: Ticking
) -> None:
    receive_twins(bus, uow, world, receipt="100")
    held = state(uow, world, "B")
    clock.now = later(60)

    done = operations.clear_duplicate(world.invoice_id("B"), reason=WHY, decided_by=CLERK)

    decision = DuplicateClearance(
        invoice_id=world.invoice_id("B"), original_invoice_id=world.invoice_id("A"), reason=WHY,
        decided_by=CLERK, decided_at=later(60),
    )  # fmt: skip
    assert (held.findings, held.duplicate_of) == (
        (Finding.DUPLICATE_INVOICE,), world.invoice_id("A"),
    )  # fmt: skip
    assert (done.clearance, done.clearances) == (decision, (decision,))
    assert (done.run.ran, done.run.match.status, done.run.match.attempts) == (
        True, MatchStatus.MATCHED, 2,
    )  # fmt: skip
    assert clearances(uow, world, "B") == [decision]
    assert len(vouchers(uow, world, "B")) == 1
    (item,) = items(uow, world, "B")
    assert (item.type, item.status, item.resolved_by) == (
        ExceptionType.DUPLICATE_INVOICE, ExceptionStatus.RESOLVED, "three-way-match",
    )  # fmt: skip
    assert item.resolution_note is not None
    assert f"not a duplicate of invoice {world.invoice_id('A')}" in item.resolution_note
    assert f"decided by {CLERK}" in item.resolution_note
    assert WHY in item.resolution_note
    assert operations.show(world.invoice_id("B")).clearances == (decision,)


def test_a_cleared_invoice_held_on_other_findings_stays_held_without_the_duplicate(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    receive_twins(bus, uow, world, receipt=None)

    done = operations.clear_duplicate(world.invoice_id("B"), reason=WHY, decided_by=CLERK)

    assert (done.run.match.status, done.run.match.findings, done.run.match.duplicate_of) == (
        MatchStatus.EXCEPTION, (Finding.INVOICE_WITHOUT_RECEIPT,), None,
    )  # fmt: skip
    assert sorted((i.type, i.status) for i in items(uow, world, "B")) == [
        (ExceptionType.DUPLICATE_INVOICE, ExceptionStatus.RESOLVED),
        (ExceptionType.INVOICE_WITHOUT_RECEIPT, ExceptionStatus.OPEN),
    ]


def test_the_receipt_re_run_after_the_decision_does_not_raise_the_duplicate_again(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    receive_twins(bus, uow, world, receipt=None)
    operations.clear_duplicate(world.invoice_id("B"), reason=WHY, decided_by=CLERK)

    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"), at=later(90))
    drain(bus)

    assert (state(uow, world, "A").status, state(uow, world, "B").status) == (
        MatchStatus.MATCHED, MatchStatus.MATCHED,
    )  # fmt: skip
    assert [i.status for i in items(uow, world, "B") if i.type is ExceptionType.DUPLICATE_INVOICE
            ] == [ExceptionStatus.RESOLVED]  # fmt: skip


def test_a_dismissed_duplicate_item_is_no_decision_the_re_run_holds_it_again(
    bus: MessageBus, uow: UowFactory, world: World
) -> None:
    """Why the decision is its own act: dismissing the item would otherwise pay a duplicate."""
    receive_twins(bus, uow, world, receipt=None)
    (item,) = items(uow, world, "B")
    with uow() as unit:
        unit.exceptions.save(item.dismiss("looks fine", by=CLERK, at=later(10)))
        unit.commit()

    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"), at=later(90))
    drain(bus)

    assert state(uow, world, "B").findings == (Finding.DUPLICATE_INVOICE,)
    assert vouchers(uow, world, "B") == []


def test_a_third_identical_invoice_is_still_held_as_a_duplicate_of_the_original(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    receive_twins(bus, uow, world, receipt="150")
    operations.clear_duplicate(world.invoice_id("B"), reason=WHY, decided_by=CLERK)

    with uow() as unit:
        receive_invoice(bus, unit, world, "C", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(120))  # fmt: skip
    drain(bus)

    third = state(uow, world, "C")
    assert (third.status, third.findings, third.duplicate_of) == (
        MatchStatus.EXCEPTION, (Finding.DUPLICATE_INVOICE,), world.invoice_id("A"),
    )  # fmt: skip
    assert vouchers(uow, world, "C") == []


def test_the_decision_covers_only_its_original_an_earlier_look_alike_found_later_holds_it(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    """D was received before B but reached matching only after B was cleared of A: B was
    never cleared of D, so its next re-run holds it as D's duplicate."""
    receive_twins(bus, uow, world, receipt=None)
    operations.clear_duplicate(world.invoice_id("B"), reason=WHY, decided_by=CLERK)
    with uow() as unit:
        receive_invoice(bus, unit, world, "D", invoice_line(1, world.glove, "50", "1.00"),
                        at=later(2))  # fmt: skip
    drain(bus)

    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "150"), at=later(90))
    drain(bus)

    again = state(uow, world, "B")
    assert (again.findings, again.duplicate_of) == (
        (Finding.DUPLICATE_INVOICE,), world.invoice_id("D"),
    )  # fmt: skip
    assert vouchers(uow, world, "B") == []


def test_the_same_invoice_number_again_cannot_be_cleared(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"),
                        id=world.invoice_id("A-again"), at=later(5))  # fmt: skip
    drain(bus)

    with pytest.raises(DuplicateClearanceError) as refused:
        operations.clear_duplicate(world.invoice_id("A-again"), reason=WHY, decided_by=CLERK)

    assert refused.value.field == "number"
    assert "same supplier and invoice number" in refused.value.reason
    assert (clearances(uow, world, "A-again"), state(uow, world, "A-again").attempts) == ([], 1)


def test_an_invoice_not_held_as_a_duplicate_cannot_be_cleared(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"))
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))
    drain(bus)

    with pytest.raises(DuplicateClearanceError) as matched:
        operations.clear_duplicate(world.invoice_id("A"), reason=WHY, decided_by=CLERK)

    assert (matched.value.field, "not held as a duplicate" in matched.value.reason) == (
        "status", True,
    )  # fmt: skip
    assert clearances(uow, world, "A") == []


def test_an_invoice_never_matched_cannot_be_cleared(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    with uow() as unit:
        receive_invoice(bus, unit, world, "A", invoice_line(1, world.glove, "50", "1.00"))

    with pytest.raises(DuplicateClearanceError) as refused:
        operations.clear_duplicate(world.invoice_id("A"), reason=WHY, decided_by=CLERK)

    assert (refused.value.field, "not been matched yet" in refused.value.reason) == (
        "status", True,
    )  # fmt: skip


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_decision_needs_a_reason(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations, reason: str
) -> None:
    receive_twins(bus, uow, world, receipt="100")

    with pytest.raises(DuplicateClearanceError) as refused:
        operations.clear_duplicate(world.invoice_id("B"), reason=reason, decided_by=CLERK)

    assert refused.value.field == "reason"
    assert (clearances(uow, world, "B"), state(uow, world, "B").status) == (
        [], MatchStatus.EXCEPTION,
    )  # fmt: skip


def test_an_unknown_invoice_is_refused_naming_it(operations: MatchOperations) -> None:
    with pytest.raises(UnknownInvoiceError) as refused:
        operations.clear_duplicate("INV-NOPE", reason=WHY, decided_by=CLERK)

    assert (refused.value.field, refused.value.reason) == ("invoice_id", "no invoice 'INV-NOPE'")


def test_the_audit_hook_runs_in_the_decisions_transaction(
    bus: MessageBus, uow: UowFactory, world: World, operations: MatchOperations
) -> None:
    """A hook that fails rolls the decision and its re-run back: no decision without its
    record."""
    receive_twins(bus, uow, world, receipt="100")

    def failing(*_: object) -> None:
        raise RuntimeError("audit store down")

    with pytest.raises(RuntimeError):
        operations.clear_duplicate(
            world.invoice_id("B"), reason=WHY, decided_by=CLERK, audit=failing
        )

    assert (clearances(uow, world, "B"), state(uow, world, "B").attempts) == ([], 1)
    assert vouchers(uow, world, "B") == []


def test_a_bus_wired_without_operations_still_leaves_cleared_originals_out(
    uow: UowFactory, world: World, clock: Ticking
) -> None:
    """The handler, not only the operator's re-run, reads the decision (a second hub)."""
    bus, _ = build_bus(uow, clock)
    receive_twins(bus, uow, world, receipt=None)
    with uow() as unit:
        unit.invoice_matches.add_duplicate_clearance(DuplicateClearance(
            invoice_id=world.invoice_id("B"), original_invoice_id=world.invoice_id("A"),
            reason=WHY, decided_by=CLERK, decided_at=later(30),
        ))  # fmt: skip
        unit.commit()

    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "100"), at=later(90))
    drain(bus)

    assert state(uow, world, "B").status is MatchStatus.MATCHED
