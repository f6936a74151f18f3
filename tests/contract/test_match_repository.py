"""The three-way match's repositories hold the same promises on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suture.domain.duplicate_clearance import DuplicateClearance
from suture.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus
from suture.domain.matching import (
    Finding,
    InvoiceMatch,
    LineMatch,
    MatchStatus,
    Tolerance,
    ToleranceRule,
)
from suture.domain.purchasing import Receipt, ReceiptLine
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 4, 1, 9, tzinfo=UTC)
D = Decimal
UowFactory = Callable[[], UnitOfWork]


def invoice(invoice_id: str, run: str, **changes: object) -> Invoice:
    values: dict[str, object] = {
        "id": invoice_id, "number": f"N-{invoice_id}", "supplier_id": f"S-{run}",
        "facility_id": f"F-{run}", "invoice_date": date(2025, 3, 20),
        "purchase_order_number": f"PO-{run}",
        "lines": [InvoiceLine(line_number=1, item_id="glove", quantity=D(10), uom="EA",
                              unit_price=D("1.25"))],
    }  # fmt: skip
    return Invoice(**(values | changes))  # type: ignore[arg-type]


def match(invoice_id: str, run: str, **changes: object) -> InvoiceMatch:
    line = LineMatch(
        line_number=1, finding=Finding.MATCHED, po_line_number=2, item_id="glove",
        invoiced_eaches=D(10), ordered_eaches=D(100), received_eaches=D(60),
        previously_invoiced_eaches=D(0), po_price_each=D("1.2500"),
        invoice_price_each=D("1.2500"), variance_amount=D("0.00"), amount=D("12.50"),
    )  # fmt: skip
    made = InvoiceMatch(
        invoice_id=invoice_id, invoice_number=f"N-{invoice_id}", facility_id=f"F-{run}",
        supplier_id=f"S-{run}", purchase_order_number=f"PO-{run}", purchase_order_id=f"PO-{run}",
        status=MatchStatus.MATCHED, findings=(), lines=(line,), invoice_amount=D("12.50"),
        matched_amount=D("12.50"), variance_amount=D("0.00"), attempts=1, received_at=AT,
        updated_at=AT, matched_at=AT, voucher_id=f"APV-{invoice_id}", trace_id="t1",
    )  # fmt: skip
    return replace(made, **changes)  # type: ignore[arg-type]


def test_a_match_round_trips_exactly_and_saving_again_replaces_it(uow: UowFactory) -> None:
    run = uuid.uuid4().hex[:12]
    held = match(f"I1-{run}", run, status=MatchStatus.EXCEPTION, matched_at=None, voucher_id=None,
                 findings=(Finding.PRICE_VARIANCE, Finding.QUANTITY_VARIANCE))  # fmt: skip
    with uow() as unit:
        unit.invoice_matches.save(held)
        first = unit.invoice_matches.get(f"I1-{run}")
        unit.invoice_matches.save(match(f"I1-{run}", run, attempts=2))
        second = unit.invoice_matches.get(f"I1-{run}")
        unit.commit()

    assert first == held
    assert second == match(f"I1-{run}", run, attempts=2)
    assert second is not None
    assert second.lines[0].po_price_each == D("1.25")


def test_previously_invoiced_sums_the_pos_other_matched_invoices_per_line(uow: UowFactory) -> None:
    run = uuid.uuid4().hex[:12]
    with uow() as unit:
        unit.invoice_matches.save(match(f"I1-{run}", run))
        unit.invoice_matches.save(match(f"I2-{run}", run))
        unit.invoice_matches.save(match(f"I3-{run}", run, status=MatchStatus.EXCEPTION))
        billed = unit.invoice_matches.previously_invoiced(f"PO-{run}", f"I2-{run}")
        unit.commit()

    assert billed == {2: D(10)}


def test_duplicate_candidates_are_the_suppliers_tried_invoices_of_that_number_or_po_and_date(
    uow: UowFactory,
) -> None:
    run = uuid.uuid4().hex[:12]
    with uow() as unit:
        unit.invoices.add_many([
            invoice(f"I1-{run}", run, number="SAME"),
            invoice(f"I2-{run}", run),  # same PO and date
            invoice(f"I3-{run}", run, invoice_date=date(2025, 3, 21)),
            invoice(f"I4-{run}", run, number="SAME", supplier_id="other"),
            invoice(f"I5-{run}", run, number="SAME"),  # never tried: no received time
            invoice(f"I6-{run}", run, number="SAME"),
        ])  # fmt: skip
        for n in (1, 2, 3, 4, 6):
            unit.invoice_matches.save(match(f"I{n}-{run}", run, received_at=AT + timedelta(n)))
        found = unit.invoice_matches.duplicate_candidates(
            invoice_id=f"I6-{run}", supplier_id=f"S-{run}", number="SAME",
            purchase_order_number=f"PO-{run}", invoice_date=date(2025, 3, 20),
        )  # fmt: skip
        unit.commit()

    assert sorted((c.invoice_id, c.amount, c.received_at) for c in found) == [
        (f"I1-{run}", D("12.50"), AT + timedelta(1)),
        (f"I2-{run}", D("12.50"), AT + timedelta(2)),
    ]


def test_an_original_cleared_as_not_a_duplicate_is_left_out_unless_it_has_the_same_number(
    uow: UowFactory,
) -> None:
    """A clearance lifts the same-PO-and-date lookup for its pair only; under the same number
    an invoice is always a duplicate, whatever a clearance row says."""
    run = uuid.uuid4().hex[:12]
    with uow() as unit:
        unit.invoices.add_many([
            invoice(f"I1-{run}", run),  # same PO and date: cleared below
            invoice(f"I2-{run}", run),  # same PO and date: not cleared
            invoice(f"I3-{run}", run, number="SAME"),  # same number: "cleared" below
            invoice(f"I9-{run}", run, number="SAME"),
        ])  # fmt: skip
        for n in (1, 2, 3, 9):
            unit.invoice_matches.save(match(f"I{n}-{run}", run, received_at=AT + timedelta(n)))
        for original in (f"I1-{run}", f"I3-{run}"):
            unit.invoice_matches.add_duplicate_clearance(DuplicateClearance(
                invoice_id=f"I9-{run}", original_invoice_id=original, reason="checked",
                decided_by="clerk", decided_at=AT,
            ))  # fmt: skip
        found = unit.invoice_matches.duplicate_candidates(
            invoice_id=f"I9-{run}", supplier_id=f"S-{run}", number="SAME",
            purchase_order_number=f"PO-{run}", invoice_date=date(2025, 3, 20),
        )  # fmt: skip
        others = unit.invoice_matches.duplicate_candidates(
            invoice_id=f"I2-{run}", supplier_id=f"S-{run}", number=f"N-I2-{run}",
            purchase_order_number=f"PO-{run}", invoice_date=date(2025, 3, 20),
        )  # fmt: skip
        unit.commit()

    assert sorted(c.invoice_id for c in found) == [f"I2-{run}", f"I3-{run}"]
    assert sorted(c.invoice_id for c in others) == [f"I1-{run}", f"I3-{run}", f"I9-{run}"]


def test_clearances_round_trip_in_the_order_they_were_decided(uow: UowFactory) -> None:
    run = uuid.uuid4().hex[:12]

    def cleared(n: int, minutes: int) -> DuplicateClearance:
        return DuplicateClearance(
            invoice_id=f"I9-{run}", original_invoice_id=f"I{n}-{run}", reason=f"why {n}",
            decided_by="clerk", decided_at=AT + timedelta(minutes=minutes),
        )  # fmt: skip

    made = [cleared(2, 5), cleared(1, 5), cleared(3, 1)]
    with uow() as unit:
        for clearance in made:
            unit.invoice_matches.add_duplicate_clearance(clearance)
        unit.commit()
    with uow() as unit:
        found = unit.invoice_matches.duplicate_clearances(f"I9-{run}")
        none = unit.invoice_matches.duplicate_clearances(f"I1-{run}")

    assert (found, none) == ([made[2], made[1], made[0]], [])


def test_open_invoices_are_received_or_held_and_held_only_narrows_to_held(
    uow: UowFactory,
) -> None:
    run = uuid.uuid4().hex[:12]
    with uow() as unit:
        unit.invoices.add_many([
            invoice(f"I1-{run}", run),
            invoice(f"I2-{run}", run, status=InvoiceStatus.EXCEPTION),
            invoice(f"I3-{run}", run, status=InvoiceStatus.MATCHED),
        ])  # fmt: skip
        unit.invoice_matches.set_invoice_status(f"I1-{run}", InvoiceStatus.PAID)
        unit.invoices.add(invoice(f"I4-{run}", run))
        every = unit.invoice_matches.open_invoice_ids(purchase_order_number=f"PO-{run}")
        held = unit.invoice_matches.open_invoice_ids(
            purchase_order_number=f"PO-{run}", held_only=True
        )
        paid = unit.invoices.get(f"I1-{run}")
        unit.commit()

    assert (every, held) == ([f"I2-{run}", f"I4-{run}"], [f"I2-{run}"])
    assert paid is not None
    assert (paid.status, len(paid.lines)) == (InvoiceStatus.PAID, 1)


def test_receipts_for_a_po_come_with_their_lines(uow: UowFactory) -> None:
    run = uuid.uuid4().hex[:12]
    receipt = Receipt(
        id=f"R1-{run}", number=f"R1-{run}", facility_id="F", location_id=None, received_at=AT,
        purchase_order_id=f"PO-{run}",
        lines=[ReceiptLine(line_number=1, item_id="glove", quantity=D(6), uom="BX",
                           po_line_number=2)],
    )  # fmt: skip
    with uow() as unit:
        unit.receipts.add(receipt)
        found = unit.invoice_matches.receipts_for(f"PO-{run}")
        unit.commit()

    assert found == [receipt]


def test_tolerance_rules_are_one_per_scope_filtered_to_what_could_apply(uow: UowFactory) -> None:
    run = uuid.uuid4().hex[:12]
    facility, supplier = f"F-{run}", f"S-{run}"
    loose, strict = Tolerance(price_percent=D("2.5")), Tolerance(quantity_amount=D(3))
    with uow() as unit:
        unit.match_tolerances.set(ToleranceRule(facility_id=facility, tolerance=loose), at=AT)
        unit.match_tolerances.set(ToleranceRule(facility_id=facility, tolerance=strict), at=AT)
        unit.match_tolerances.set(
            ToleranceRule(facility_id=facility, supplier_id=supplier, tolerance=loose), at=AT
        )
        unit.match_tolerances.set(ToleranceRule(supplier_id=f"other-{run}", tolerance=loose), at=AT)
        applicable = unit.match_tolerances.rules(facility_id=facility, supplier_id=supplier)
        removed = unit.match_tolerances.remove(facility_id=facility, supplier_id=None)
        again = unit.match_tolerances.remove(facility_id=facility, supplier_id=None)
        after = unit.match_tolerances.rules(facility_id=facility, supplier_id=supplier)
        unit.rollback()

    mine = [r for r in applicable if r.facility_id == facility]
    assert mine == [
        ToleranceRule(facility_id=facility, tolerance=strict),
        ToleranceRule(facility_id=facility, supplier_id=supplier, tolerance=loose),
    ]
    assert (removed, again) == (True, False)
    assert [r for r in after if r.facility_id == facility] == [mine[1]]
