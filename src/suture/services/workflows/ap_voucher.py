"""An AP voucher as the file ERP gateway takes it: one CSV line per invoice line, freight, tax.

A matched invoice is approved for payment (DESIGN.md §4): the ERP, which owns accounts payable
(DESIGN.md §1), receives a voucher to pay. Delivered like the usage workflow's journals
(``journal_file.py``): through the outbound delivery queue to the ``erp`` target, one file per
delivery named after its idempotency key (``voucher-APV-<invoice id>``). Columns:
``voucher_id, invoice_id, invoice_number, supplier_id, facility_id, invoice_date,
purchase_order_number, line, kind, po_line_number, item_id, quantity, uom, unit_price, amount``;
``kind`` is ``line``, ``freight``, ``tax`` or ``rounding``; amounts as plain decimals to the
cent, never floats.

**Rounding.** The voucher pays the amount the match approved (``InvoiceMatch.matched_amount``:
the invoice's total to the cent, half up), so its control totals agree with
``purchasing.invoice.matched``. Each line is rounded to the cent on its own; when lines bill
fractions of a cent, their rounded sum can miss the approved total by a cent or more, and a
``rounding`` line carries the difference (a loader posts it like freight) rather than the
payable differing from what was approved.
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal

from suture.domain.invoicing import Invoice
from suture.domain.matching import CENT, InvoiceMatch

HEADER = (
    "voucher_id", "invoice_id", "invoice_number", "supplier_id", "facility_id", "invoice_date",
    "purchase_order_number", "line", "kind", "po_line_number", "item_id", "quantity", "uom",
    "unit_price", "amount",
)  # fmt: skip


def voucher_csv(invoice: Invoice, match: InvoiceMatch) -> str:
    """The voucher of a matched invoice as CSV text with a header row."""
    head = (
        match.voucher_id or "", invoice.id, invoice.number, invoice.supplier_id,
        invoice.facility_id, invoice.invoice_date.isoformat(), invoice.purchase_order_number or "",
    )  # fmt: skip
    po_lines = {line.line_number: line.po_line_number for line in match.lines}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    number = 0
    paid = Decimal(0)
    for number, line in enumerate(sorted(invoice.lines, key=lambda x: x.line_number), start=1):
        po_line = po_lines.get(line.line_number)
        amount = _cents(line.extended_amount)
        paid += amount
        writer.writerow((
            *head, number, "line", "" if po_line is None else po_line, line.item_id or "",
            f"{line.quantity:f}", line.uom, f"{line.unit_price:f}", f"{amount:f}",
        ))  # fmt: skip
    for kind, charge in (("freight", invoice.freight), ("tax", invoice.tax)):
        amount = _cents(charge)
        paid += amount
        if amount:
            number += 1
            writer.writerow((*head, number, kind, "", "", "", "", "", f"{amount:f}"))
    rounding = match.matched_amount - paid
    if rounding:
        writer.writerow((*head, number + 1, "rounding", "", "", "", "", "", f"{rounding:f}"))
    return out.getvalue()


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
