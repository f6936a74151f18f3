"""Supplier invoices, as they arrive by X12 810 or from the ERP (DESIGN.md §4, procure-to-pay)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.masterdata import SUTURE


class InvoiceStatus(StrEnum):
    RECEIVED = "received"
    MATCHED = "matched"
    EXCEPTION = "exception"
    APPROVED = "approved"
    PAID = "paid"


@dataclass(slots=True, kw_only=True)
class InvoiceLine:
    line_number: int
    item_id: str | None
    quantity: Decimal
    uom: str
    unit_price: Decimal
    po_line_number: int | None = None
    supplier_part_number: str | None = None

    def __post_init__(self) -> None:
        if self.quantity == 0:
            raise DomainError("quantity", "must not be zero")

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(slots=True, kw_only=True)
class Invoice:
    id: str
    number: str
    supplier_id: str
    facility_id: str
    invoice_date: date
    purchase_order_number: str | None = None
    lines: list[InvoiceLine] = field(default_factory=list)
    freight: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    stated_total: Decimal | None = None
    status: InvoiceStatus = InvoiceStatus.RECEIVED
    source_system: str = SUTURE

    @property
    def computed_total(self) -> Decimal:
        lines = sum((line.extended_amount for line in self.lines), Decimal(0))
        return lines + self.freight + self.tax
