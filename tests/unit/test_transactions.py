"""Rules of the transactions: purchase orders, receipts, invoices, journals and usage.

Money and quantities are Decimal; every refusal names the field and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from suture.domain.errors import DomainError, UnbalancedJournalError
from suture.domain.inventory import StockPosition, UsageRecord
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.ledger import JournalEntry, JournalLine
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    ReceiptLine,
    RequisitionLine,
)

AT = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)


def refusal(build: Callable[..., object], **fields: object) -> tuple[str, str]:
    """The (field, reason) with which ``build`` refuses ``fields``."""
    with pytest.raises(DomainError) as caught:
        build(**fields)
    return caught.value.field, caught.value.reason


def po_line(line_number: int, quantity: str, unit_price: str) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        line_number=line_number,
        item_id=f"item-{line_number}",
        quantity=Decimal(quantity),
        uom="BX",
        unit_price=Decimal(unit_price),
    )


def purchase_order(*lines: PurchaseOrderLine) -> PurchaseOrder:
    return PurchaseOrder(
        id="po-1",
        number="PO-1001",
        facility_id="fac-1",
        supplier_id="sup-medline",
        order_date=date(2025, 5, 1),
        lines=list(lines),
    )


def invoice_line(line_number: int, quantity: str, unit_price: str) -> InvoiceLine:
    return InvoiceLine(
        line_number=line_number,
        item_id=f"item-{line_number}",
        quantity=Decimal(quantity),
        uom="BX",
        unit_price=Decimal(unit_price),
    )


def usage(quantity: Decimal) -> UsageRecord:
    return UsageRecord(
        id="use-1",
        facility_id="fac-1",
        location_id="loc-or",
        item_id="item-1",
        quantity=quantity,
        uom="EA",
        used_at=AT,
    )


# Purchase orders


def test_a_purchase_order_totals_its_extended_line_amounts() -> None:
    order = purchase_order(po_line(1, "2", "10.50"), po_line(2, "3", "1.25"))
    assert order.total == Decimal("24.75")


def test_a_purchase_order_without_lines_totals_zero() -> None:
    assert purchase_order().total == Decimal("0")


def test_a_purchase_order_finds_a_line_by_its_number() -> None:
    second = po_line(2, "3", "1.25")
    assert purchase_order(po_line(1, "2", "10.50"), second).line(2) == second


def test_looking_up_a_line_the_purchase_order_lacks_names_the_po_and_the_line() -> None:
    assert refusal(purchase_order(po_line(1, "2", "10.50")).line, line_number=9) == (
        "line_number",
        "PO PO-1001 has no line 9",
    )


def test_a_purchase_order_line_at_a_negative_price_is_refused() -> None:
    assert refusal(po_line, line_number=1, quantity="1", unit_price="-0.01") == (
        "unit_price",
        "must not be negative, got -0.01",
    )


@pytest.mark.parametrize("quantity", [Decimal(0), Decimal(-1)])
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda quantity: po_line(1, str(quantity), "1.00"), id="purchase-order-line"),
        pytest.param(
            lambda quantity: RequisitionLine(
                line_number=1, item_id="item-1", quantity=quantity, uom="EA"
            ),
            id="requisition-line",
        ),
        pytest.param(
            lambda quantity: ReceiptLine(
                line_number=1, item_id="item-1", quantity=quantity, uom="EA"
            ),
            id="receipt-line",
        ),
        pytest.param(usage, id="usage"),
    ],
)
def test_a_quantity_that_is_not_positive_is_refused(
    build: Callable[[Decimal], object], quantity: Decimal
) -> None:
    assert refusal(build, quantity=quantity) == ("quantity", f"must be positive, got {quantity}")


# Invoices


def test_an_invoice_total_adds_freight_and_tax_to_its_lines() -> None:
    invoice = Invoice(
        id="inv-1",
        number="INV-77",
        supplier_id="sup-medline",
        facility_id="fac-1",
        invoice_date=date(2025, 5, 8),
        lines=[invoice_line(1, "2", "10.00"), invoice_line(2, "1", "5.50")],
        freight=Decimal("7.25"),
        tax=Decimal("2.10"),
    )
    assert invoice.computed_total == Decimal("34.85")


def test_a_credit_line_reduces_the_invoice_total() -> None:
    invoice = Invoice(
        id="inv-2",
        number="INV-78",
        supplier_id="sup-medline",
        facility_id="fac-1",
        invoice_date=date(2025, 5, 8),
        lines=[invoice_line(1, "2", "10.00"), invoice_line(2, "-1", "10.00")],
    )
    assert invoice.computed_total == Decimal("10.00")


def test_an_invoice_line_of_zero_quantity_is_refused() -> None:
    assert refusal(invoice_line, line_number=1, quantity="0", unit_price="1.00") == (
        "quantity",
        "must not be zero",
    )


# Journals


def test_a_balanced_journal_entry_is_accepted_as_given() -> None:
    lines = [
        JournalLine(gl_account_id="gl-6100", debit=Decimal("60.00"), cost_center_id="cc-or"),
        JournalLine(gl_account_id="gl-6100", debit=Decimal("40.00"), cost_center_id="cc-cath"),
        JournalLine(gl_account_id="gl-2000", credit=Decimal("100.00")),
    ]
    entry = JournalEntry(
        id="je-1",
        facility_id="fac-1",
        posting_date=date(2025, 5, 1),
        reference="PO-1001",
        lines=list(lines),
    )
    assert entry.lines == lines


def test_an_unbalanced_journal_entry_is_refused_naming_both_sums_and_the_reference() -> None:
    with pytest.raises(UnbalancedJournalError) as caught:
        JournalEntry(
            id="je-1",
            facility_id="fac-1",
            posting_date=date(2025, 5, 1),
            reference="PO-1001",
            lines=[
                JournalLine(gl_account_id="gl-6100", debit=Decimal("100.00")),
                JournalLine(gl_account_id="gl-2000", credit=Decimal("90.00")),
            ],
        )
    assert (caught.value.field, caught.value.reason) == (
        "lines",
        "debits 100.00 and credits 90.00 of PO-1001 differ",
    )


@pytest.mark.parametrize(
    ("debit", "credit"),
    [pytest.param("100.00", "100.00", id="both"), pytest.param("0", "0", id="neither")],
)
def test_a_journal_line_carries_either_a_debit_or_a_credit(debit: str, credit: str) -> None:
    assert refusal(
        JournalLine, gl_account_id="gl-6100", debit=Decimal(debit), credit=Decimal(credit)
    ) == ("debit", "a line has either a debit or a credit, not both or none")


@pytest.mark.parametrize("side", ["debit", "credit"])
def test_a_negative_amount_on_a_journal_line_names_its_side(side: str) -> None:
    assert refusal(JournalLine, gl_account_id="gl-6100", **{side: Decimal("-5.00")}) == (
        side,
        "must not be negative, got -5.00",
    )


# Stock


def test_a_stock_position_totals_owned_and_consigned_stock() -> None:
    position = StockPosition(
        facility_id="fac-1",
        location_id="loc-or",
        item_id="item-1",
        on_hand=Decimal(7),
        consigned_on_hand=Decimal(3),
        updated_at=AT,
    )
    assert position.total == Decimal(10)
