"""The AP voucher file (``services/workflows/ap_voucher.py``): one CSV line per invoice line,
then freight and tax, amounts as plain decimals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.matching import Finding, InvoiceMatch, LineMatch, MatchStatus
from suture.services.workflows.ap_voucher import voucher_csv

AT = datetime(2025, 4, 1, 9, tzinfo=UTC)


def test_a_voucher_lists_the_lines_as_billed_with_their_po_lines_then_freight_and_tax() -> None:
    invoice = Invoice(
        id="inv-1", number="84412", supplier_id="sup-1", facility_id="fac-1",
        invoice_date=date(2025, 3, 20), purchase_order_number="PO-1",
        lines=[
            InvoiceLine(line_number=2, item_id="suture", quantity=Decimal(1), uom="BX",
                        unit_price=Decimal("24.00")),
            InvoiceLine(line_number=1, item_id="glove", quantity=Decimal(2), uom="CS",
                        unit_price=Decimal("50.00")),
        ],
        freight=Decimal("7.5"), tax=Decimal(0),
    )  # fmt: skip
    match = InvoiceMatch(
        invoice_id="inv-1", invoice_number="84412", facility_id="fac-1", supplier_id="sup-1",
        purchase_order_number="PO-1", purchase_order_id="PO-1", status=MatchStatus.MATCHED,
        findings=(), invoice_amount=Decimal("131.50"), matched_amount=Decimal("131.50"),
        variance_amount=Decimal(0), attempts=1, received_at=AT, updated_at=AT, matched_at=AT,
        voucher_id="APV-inv-1",
        lines=(LineMatch(line_number=1, finding=Finding.MATCHED, po_line_number=1),
               LineMatch(line_number=2, finding=Finding.MATCHED, po_line_number=2)),
    )  # fmt: skip

    assert voucher_csv(invoice, match).splitlines() == [
        "voucher_id,invoice_id,invoice_number,supplier_id,facility_id,invoice_date,"
        "purchase_order_number,line,kind,po_line_number,item_id,quantity,uom,unit_price,amount",
        "APV-inv-1,inv-1,84412,sup-1,fac-1,2025-03-20,PO-1,1,line,1,glove,2,CS,50.00,100.00",
        "APV-inv-1,inv-1,84412,sup-1,fac-1,2025-03-20,PO-1,2,line,2,suture,1,BX,24.00,24.00",
        "APV-inv-1,inv-1,84412,sup-1,fac-1,2025-03-20,PO-1,3,freight,,,,,,7.50",
    ]
