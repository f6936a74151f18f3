"""Writing what a supplier sends back for an 850: the 855 acknowledgment, the 856 ship notice
and the 810 invoice.

Suture receives these documents; it writes them only to play the supplier: the scripted test
supplier (``services/supplier_simulator.py``) answers the hub's 850s with them over the real X12
path, so that a go-live can be rehearsed and the workflows tested end to end. Each writer lays the
document out so that this package's decoder reads back every field given here (tested by round
trip): 855 BAK, PO1 and ACK (and CTP for a changed price); 856 BSN and an HL tree shipment →
order (PRF) → item (LIN, SN1, REF*LT, REF*SE, DTM*036); 810 BIG, ITD, IT1, TDS (cents) and
SAC*C for freight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from suture.formats.x12.errors import X12EncodeError
from suture.formats.x12.interchange_writer import (
    ControlNumbers,
    TradingPartnerProfile,
    write_interchange,
)

_CENTS = Decimal(100)


@dataclass(frozen=True, slots=True)
class AcknowledgedLineOut:
    """One PO line as the supplier acknowledges it: what was ordered and the ACK status.

    ``status`` is an ACK01 code (``IA`` accepted, ``IB`` backordered, ``IP`` price changed,
    ``IQ`` quantity changed, ``IR`` rejected…); ``status_quantity`` the quantity it applies to,
    ``ship_date`` the date it ships (ACK04 ``068``), ``changed_price`` the new unit price.
    """

    line_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal | None
    status: str
    product_ids: Mapping[str, str] = field(default_factory=dict)
    status_quantity: Decimal | None = None
    ship_date: date | None = None
    changed_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AcknowledgmentOut:
    """An 855 for one PO. ``acknowledgment_type`` is BAK02 (AD no change, AC with change, RD
    rejected)."""

    po_number: str
    po_date: date
    acknowledged_on: date
    acknowledgment_type: str
    lines: tuple[AcknowledgedLineOut, ...]
    seller_order_number: str | None = None


@dataclass(frozen=True, slots=True)
class ShippedLineOut:
    """One item level of an 856: what ships, how many, and its production identifiers."""

    line_id: str
    quantity: Decimal
    uom: str
    product_ids: Mapping[str, str] = field(default_factory=dict)
    lot: str | None = None
    serials: tuple[str, ...] = ()
    expiry: date | None = None


@dataclass(frozen=True, slots=True)
class ShipmentOut:
    """An 856 shipping (part of) one PO."""

    shipment_id: str
    shipped_on: date
    po_number: str
    lines: tuple[ShippedLineOut, ...]


@dataclass(frozen=True, slots=True)
class InvoicedLineOut:
    """One IT1 line: quantity invoiced, unit, unit price and product ids."""

    line_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    product_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InvoiceOut:
    """An 810 billing one PO; ``freight`` is an invoice-level SAC*C charge."""

    number: str
    invoice_date: date
    po_number: str
    lines: tuple[InvoicedLineOut, ...]
    po_date: date | None = None
    net_days: int = 30
    freight: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum((ln.quantity * ln.unit_price for ln in self.lines), Decimal(0)) + self.freight


def write_855(
    ack: AcknowledgmentOut, partner: TradingPartnerProfile, numbers: ControlNumbers, at: datetime
) -> bytes:
    """The interchange carrying ``ack`` as one 855."""
    segments: list[list[str]] = [
        [
            "BAK", "00", ack.acknowledgment_type, ack.po_number, _ymd(ack.po_date), "", "", "",
            ack.seller_order_number or "", _ymd(ack.acknowledged_on),
        ]
    ]  # fmt: skip
    for line in ack.lines:
        price = "" if line.unit_price is None else _number(line.unit_price)
        segments.append(
            ["PO1", line.line_id, _number(line.quantity), line.uom, price, "",
             *_ids(line.product_ids)]
        )  # fmt: skip
        quantity = line.quantity if line.status_quantity is None else line.status_quantity
        ack_segment = ["ACK", line.status, _number(quantity), line.uom]
        if line.ship_date is not None:
            ack_segment += ["068", _ymd(line.ship_date)]
        segments.append(ack_segment)
        if line.changed_price is not None:
            segments.append(["CTP", "", "", _number(line.changed_price)])
    segments.append(["CTT", str(len(ack.lines))])
    return write_interchange(partner, numbers, at, ("PR", "855"), [segments])


def write_856(
    shipment: ShipmentOut,
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
) -> bytes:
    """The interchange carrying ``shipment`` as one 856: shipment → order → items."""
    segments: list[list[str]] = [
        ["BSN", "00", shipment.shipment_id, _ymd(shipment.shipped_on), at.strftime("%H%M")],
        ["HL", "1", "", "S"],
        ["HL", "2", "1", "O"],
        ["PRF", shipment.po_number],
    ]
    for index, line in enumerate(shipment.lines, start=3):
        segments.append(["HL", str(index), "2", "I"])
        segments.append(["LIN", line.line_id, *_ids(line.product_ids)])
        segments.append(["SN1", "", _number(line.quantity), line.uom])
        if line.lot is not None:
            segments.append(["REF", "LT", line.lot])
        segments += [["REF", "SE", serial] for serial in line.serials]
        if line.expiry is not None:
            segments.append(["DTM", "036", _ymd(line.expiry)])
    segments.append(["CTT", str(len(shipment.lines))])
    return write_interchange(partner, numbers, at, ("SH", "856"), [segments])


def write_810(
    invoice: InvoiceOut, partner: TradingPartnerProfile, numbers: ControlNumbers, at: datetime
) -> bytes:
    """The interchange carrying ``invoice`` as one 810; TDS01 is the total in cents."""
    if invoice.net_days < 0:
        raise X12EncodeError("net_days", f"must not be negative, got {invoice.net_days}")
    po_date = "" if invoice.po_date is None else _ymd(invoice.po_date)
    segments: list[list[str]] = [
        ["BIG", _ymd(invoice.invoice_date), invoice.number, po_date, invoice.po_number],
        ["ITD", "01", "3", "", "", "", "", str(invoice.net_days)],
    ]
    for line in invoice.lines:
        segments.append(
            ["IT1", line.line_id, _number(line.quantity), line.uom, _number(line.unit_price), "",
             *_ids(line.product_ids)]
        )  # fmt: skip
    segments.append(["TDS", _cents(invoice.total, "TDS01")])
    if invoice.freight:
        segments.append(["SAC", "C", "D240", "", "", _cents(invoice.freight, "SAC05")])
    segments.append(["CTT", str(len(invoice.lines))])
    return write_interchange(partner, numbers, at, ("IN", "810"), [segments])


def _ymd(day: date) -> str:
    return day.strftime("%Y%m%d")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _cents(amount: Decimal, element: str) -> str:
    cents = amount * _CENTS
    if cents != cents.to_integral():
        raise X12EncodeError(element, f"{amount} has fractions of a cent")
    return str(int(cents))


def _ids(ids: Mapping[str, str]) -> Sequence[str]:
    pairs: list[str] = []
    for qualifier, value in ids.items():
        pairs += [qualifier, value]
    return pairs
