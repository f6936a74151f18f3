"""Requisitions, purchase orders and receipts: the procurement half of procure-to-pay
(DESIGN.md §4).

Quantities are in the line's unit of measure and are :class:`~decimal.Decimal`; money is Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.masterdata import SUTURE


class RequisitionStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ORDERED = "ordered"


class PurchaseOrderKind(StrEnum):
    STANDARD = "standard"
    REPLENISHMENT = "replenishment"
    BILL_ONLY = "bill_only"


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(slots=True, kw_only=True)
class RequisitionLine:
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str

    def __post_init__(self) -> None:
        _positive("quantity", self.quantity)


@dataclass(slots=True, kw_only=True)
class Requisition:
    id: str
    number: str
    facility_id: str
    department_id: str | None
    location_id: str | None
    requested_at: datetime
    lines: list[RequisitionLine] = field(default_factory=list)
    status: RequisitionStatus = RequisitionStatus.DRAFT
    source_system: str = SUTURE


@dataclass(slots=True, kw_only=True)
class PurchaseOrderLine:
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    contract_id: str | None = None
    #: Priced without a contract price (last price paid, list price, or nothing known): the
    #: line was flagged with a ``contract_price_mismatch`` exception before the PO left.
    off_contract: bool = False

    def __post_init__(self) -> None:
        _positive("quantity", self.quantity)
        if self.unit_price < 0:
            raise DomainError("unit_price", f"must not be negative, got {self.unit_price}")

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(slots=True, kw_only=True)
class PurchaseOrder:
    id: str
    number: str
    facility_id: str
    supplier_id: str
    order_date: date
    kind: PurchaseOrderKind = PurchaseOrderKind.STANDARD
    status: PurchaseOrderStatus = PurchaseOrderStatus.DRAFT
    requisition_id: str | None = None
    department_id: str | None = None
    lines: list[PurchaseOrderLine] = field(default_factory=list)
    source_system: str = SUTURE

    @property
    def total(self) -> Decimal:
        return sum((line.extended_amount for line in self.lines), Decimal(0))

    def line(self, line_number: int) -> PurchaseOrderLine:
        for line in self.lines:
            if line.line_number == line_number:
                return line
        raise DomainError("line_number", f"PO {self.number} has no line {line_number}")


@dataclass(slots=True, kw_only=True)
class ReceiptLine:
    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    po_line_number: int | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        _positive("quantity", self.quantity)


@dataclass(slots=True, kw_only=True)
class Receipt:
    id: str
    number: str
    facility_id: str
    location_id: str | None
    received_at: datetime
    purchase_order_id: str | None = None
    lines: list[ReceiptLine] = field(default_factory=list)
    source_system: str = SUTURE


def _positive(name: str, value: Decimal) -> None:
    if value <= 0:
        raise DomainError(name, f"must be positive, got {value}")
