"""The supplier-invoice repository: an invoice with its lines (X12 810 or the ERP's AP)."""

from __future__ import annotations

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.domain.invoicing import Invoice, InvoiceLine, InvoiceStatus


class InvoiceRepository(AggregateRepository[Invoice]):
    table = t.invoices
    supplier_column = "supplier_id"
    status_column = "status"
    date_column = "invoice_date"
    number_column = "number"
    lines = (Lines(t.invoice_lines, "invoice_id"),)

    def by_number(self, supplier_id: str, number: str) -> Invoice | None:
        """The supplier's invoice of that number; invoice numbers are unique per supplier only."""
        return self._first(
            (self.table.c.supplier_id == supplier_id) & (self.table.c.number == number)
        )

    def to_row(self, obj: Invoice) -> Values:
        return {
            "id": obj.id,
            "number": obj.number,
            "supplier_id": obj.supplier_id,
            "facility_id": obj.facility_id,
            "invoice_date": obj.invoice_date,
            "purchase_order_number": obj.purchase_order_number,
            "freight": obj.freight,
            "tax": obj.tax,
            "stated_total": obj.stated_total,
            "status": obj.status.value,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: Invoice) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "line_number": line.line_number,
                    "item_id": line.item_id,
                    "quantity": line.quantity,
                    "uom": line.uom,
                    "unit_price": line.unit_price,
                    "po_line_number": line.po_line_number,
                    "supplier_part_number": line.supplier_part_number,
                }
                for line in obj.lines
            ],
        )

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> Invoice:
        return Invoice(
            id=row.id,
            number=row.number,
            supplier_id=row.supplier_id,
            facility_id=row.facility_id,
            invoice_date=row.invoice_date,
            purchase_order_number=row.purchase_order_number,
            lines=[
                InvoiceLine(
                    line_number=line.line_number,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    unit_price=line.unit_price,
                    po_line_number=line.po_line_number,
                    supplier_part_number=line.supplier_part_number,
                )
                for line in lines[0]
            ],
            freight=row.freight,
            tax=row.tax,
            stated_total=row.stated_total,
            status=InvoiceStatus(row.status),
            source_system=row.source_system,
        )
