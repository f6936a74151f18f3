"""Requisitions, purchase orders, acknowledgments, ship notices and receipts: the procurement
half of procure-to-pay (DESIGN.md §4).

Quantities are in the line's unit of measure and are :class:`~decimal.Decimal`; money is Decimal.
The supplier's answers to a PO (an 855 acknowledgment, an 856 ship notice) and the dock's
receipts change PO lines through the pure rules here: :meth:`PurchaseOrder.acknowledge` and
:meth:`PurchaseOrder.receive`; an :class:`ExpectedReceipt` is what a ship notice announced.
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


class LineAcknowledgment(StrEnum):
    """What the supplier said about one PO line (X12 855 ACK01, in business terms)."""

    ACCEPTED = "accepted"
    BACKORDERED = "backordered"
    REJECTED = "rejected"
    PRICE_CHANGED = "price_changed"
    QUANTITY_CHANGED = "quantity_changed"
    CHANGED = "changed"
    ON_HOLD = "on_hold"


class ExpectedReceiptStatus(StrEnum):
    EXPECTED = "expected"
    RECEIVED = "received"


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
    #: The supplier's acknowledgment (855) of the line, and what it changed: the quantity and
    #: price it will ship at, and the date it expects to ship a back-order.
    acknowledgment: LineAcknowledgment | None = None
    acknowledged_quantity: Decimal | None = None
    acknowledged_unit_price: Decimal | None = None
    expected_date: date | None = None
    #: Received so far at the dock, in the line's unit of measure.
    received_quantity: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        _positive("quantity", self.quantity)
        if self.unit_price < 0:
            raise DomainError("unit_price", f"must not be negative, got {self.unit_price}")

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def open_quantity(self) -> Decimal:
        """What is still to be received: none on a rejected line."""
        if self.acknowledgment is LineAcknowledgment.REJECTED:
            return Decimal(0)
        return max(self.quantity - self.received_quantity, Decimal(0))


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """The supplier's answer about one line, as an 855 gives it (already in business terms)."""

    line_number: int
    acknowledgment: LineAcknowledgment
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    expected_date: date | None = None


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A line the supplier rejected or repriced: someone in purchasing must look (PHI-free)."""

    line_number: int
    acknowledgment: LineAcknowledgment
    ordered_quantity: Decimal
    ordered_unit_price: Decimal
    quantity: Decimal | None
    unit_price: Decimal | None

    def describe(self, po_number: str) -> str:
        text = f"PO {po_number} line {self.line_number}: {self.acknowledgment.value}"
        ordered = _money(self.ordered_unit_price)
        if self.acknowledgment is LineAcknowledgment.REJECTED:
            return f"{text} (ordered {_quantity(self.ordered_quantity)} at {ordered})"
        price = _money(self.unit_price) if self.unit_price is not None else "?"
        return f"{text}: unit price {ordered} -> {price}"


def _quantity(value: Decimal) -> str:
    """``2.0000`` as ``2``, ``2.5000`` as ``2.5``."""
    return format(value.normalize(), "f")


def _money(value: Decimal) -> str:
    """At least two places: ``12.5000`` as ``12.50``, ``0.1275`` as ``0.1275``."""
    two = value.quantize(Decimal("0.01"))
    return format(two if two == value else value.normalize(), "f")


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

    def acknowledge(self, answers: list[LineAnswer]) -> list[Discrepancy]:
        """Apply the supplier's answers; the PO is ``acknowledged`` (unless already receiving).

        Returns the rejected and repriced lines, which open an exception. A price or quantity
        the answer does not state stays as ordered. An answer naming a line the PO does not have
        raises :class:`DomainError` (field ``line_number``).
        """
        discrepancies: list[Discrepancy] = []
        for answer in answers:
            line = self.line(answer.line_number)
            line.acknowledgment = answer.acknowledgment
            line.acknowledged_quantity = answer.quantity
            line.acknowledged_unit_price = answer.unit_price
            line.expected_date = answer.expected_date
            repriced = answer.unit_price is not None and answer.unit_price != line.unit_price
            if answer.acknowledgment is LineAcknowledgment.REJECTED or repriced:
                discrepancies.append(
                    Discrepancy(
                        line_number=line.line_number,
                        acknowledgment=answer.acknowledgment,
                        ordered_quantity=line.quantity,
                        ordered_unit_price=line.unit_price,
                        quantity=answer.quantity,
                        unit_price=answer.unit_price,
                    )
                )
        if self.status in (PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.SENT):
            self.status = PurchaseOrderStatus.ACKNOWLEDGED
        return discrepancies

    def over_receipts(self, quantities: dict[int, Decimal]) -> list[OverReceipt]:
        """The lines ``quantities`` (per PO line number, in the line's unit) would receive more
        than is open on: more than ordered, or than remains after earlier receipts (a rejected
        line has nothing open). Asked before :meth:`receive`, which counts them all anyway:
        the goods are on the dock, and the three-way match bills no more than was ordered."""
        overs = []
        for line_number, quantity in sorted(quantities.items()):
            line = self.line(line_number)
            if quantity > line.open_quantity:
                overs.append(OverReceipt(
                    line_number=line_number, item_id=line.item_id, uom=line.uom,
                    ordered=line.quantity, received_before=line.received_quantity,
                    open=line.open_quantity, received_now=quantity,
                ))  # fmt: skip
        return overs

    def receive(self, quantities: dict[int, Decimal]) -> None:
        """Count ``quantities`` (per PO line number, in the line's unit) as received; the PO is
        ``received`` when no line has an open quantity left, else ``partially_received``."""
        if self.status in (PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED):
            raise DomainError("status", f"PO {self.number} is {self.status.value}")
        for line_number, quantity in quantities.items():  # checked whole before any change
            _positive("quantity", quantity)
            self.line(line_number)
        for line_number, quantity in quantities.items():
            self.line(line_number).received_quantity += quantity
        done = all(line.open_quantity == 0 for line in self.lines)
        self.status = (
            PurchaseOrderStatus.RECEIVED if done else PurchaseOrderStatus.PARTIALLY_RECEIVED
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OverReceipt:
    """A PO line received beyond what was open on it, in the line's unit (PHI-free)."""

    line_number: int
    item_id: str
    uom: str
    ordered: Decimal
    received_before: Decimal
    open: Decimal
    received_now: Decimal

    @property
    def excess(self) -> Decimal:
        return self.received_now - self.open

    def describe(self) -> str:
        unit = f" {self.uom}"
        return (
            f"line {self.line_number} ({self.item_id}): {_quantity(self.received_now)}{unit} "
            f"received, {_quantity(self.open)}{unit} open (ordered {_quantity(self.ordered)}, "
            f"received before {_quantity(self.received_before)}), "
            f"{_quantity(self.excess)}{unit} over"
        )


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


@dataclass(slots=True, kw_only=True)
class ExpectedReceiptLine:
    """One shipped line of a ship notice: the item as the hub knows it, and its identity."""

    line_number: int
    item_id: str
    quantity: Decimal
    uom: str
    po_line_number: int | None = None
    supplier_part_number: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None

    def __post_init__(self) -> None:
        _positive("quantity", self.quantity)


@dataclass(slots=True, kw_only=True)
class ExpectedReceipt:
    """What a supplier's ship notice (X12 856) says is on its way for one PO: the dock
    confirms it (in full, or line by line) and that becomes a :class:`Receipt`."""

    id: str
    number: str
    facility_id: str
    supplier_id: str
    purchase_order_id: str
    purchase_order_number: str
    noticed_at: datetime
    shipped_on: date | None = None
    status: ExpectedReceiptStatus = ExpectedReceiptStatus.EXPECTED
    receipt_id: str | None = None
    lines: list[ExpectedReceiptLine] = field(default_factory=list)
    source_system: str = SUTURE

    def line(self, line_number: int) -> ExpectedReceiptLine:
        for line in self.lines:
            if line.line_number == line_number:
                return line
        raise DomainError("line_number", f"ship notice {self.number} has no line {line_number}")


def _positive(name: str, value: Decimal) -> None:
    if value <= 0:
        raise DomainError(name, f"must be positive, got {value}")
