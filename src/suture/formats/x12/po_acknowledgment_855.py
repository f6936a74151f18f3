"""X12 855 purchase order acknowledgment: the supplier's answer to our 850, line by line.

BAK says what the acknowledgment is (BAK02: AD acknowledge with detail, no change; AC with
detail and change; RD rejected with detail; RJ rejected, no detail…) for which PO (BAK03/BAK04).
Each PO1 line may carry ACK segments whose ACK01 line status code is what procure-to-pay acts on
(DESIGN.md §4): accepted, backordered, rejected, price or quantity changed, substituted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from suture.formats.x12.elements import (
    DateReference,
    Party,
    Reference,
    calendar_date,
    date_reference,
    decimal,
    reference,
    required,
    text,
)
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12Finding
from suture.formats.x12.loops import beginning, cut, of, take_parties
from suture.formats.x12.purchase_order_850 import (
    OrderLine,
    check_summary,
    order_line,
    summary_counts,
)
from suture.formats.x12.tokenizer import Segment

LINE_STATUS = {
    "AC": "accepted and shipped",
    "AR": "accepted and released for shipment",
    "BP": "accepted, partial shipment, balance backordered",
    "DR": "accepted, date rescheduled",
    "IA": "accepted",
    "IB": "backordered",
    "IC": "accepted, changes made",
    "ID": "deleted",
    "IF": "on hold, incomplete description",
    "IH": "on hold",
    "IP": "accepted, price changed",
    "IQ": "accepted, quantity changed",
    "IR": "rejected",
    "IS": "accepted, substitution made",
    "IW": "on hold, waiver required",
    "R1": "rejected, not a contract item",
    "R2": "rejected, invalid item product number",
    "R3": "rejected, invalid unit of issue",
    "R4": "rejected, contract item not available",
    "SP": "accepted, schedule date pending",
}
"""ACK01 line item status codes (X12 element 668) and what each means."""

_REJECTED = frozenset({"IR", "ID", "R1", "R2", "R3", "R4"})


@dataclass(frozen=True, slots=True)
class LineStatus:
    """One ACK: status code, the quantity and unit it applies to, and a date (ACK04/ACK05)."""

    code: str
    quantity: Decimal | None = None
    uom: str | None = None
    date_qualifier: str | None = None
    date: date | None = None
    unit_price: Decimal | None = None

    @property
    def meaning(self) -> str:
        return LINE_STATUS.get(self.code, f"status code {self.code}")

    @property
    def rejected(self) -> bool:
        return self.code in _REJECTED


@dataclass(frozen=True, slots=True)
class AcknowledgedLine:
    """A PO1 line as the supplier acknowledged it, with its ACK statuses in order."""

    line: OrderLine
    statuses: tuple[LineStatus, ...] = ()


@dataclass(frozen=True, slots=True)
class PurchaseOrderAcknowledgment855:
    """One decoded 855."""

    control_number: str
    purpose: str
    acknowledgment_type: str
    po_number: str
    po_date: date | None
    lines: tuple[AcknowledgedLine, ...]
    release: str | None = None
    seller_order_number: str | None = None
    acknowledgment_date: date | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    findings: tuple[X12Finding, ...] = ()


def _status(ack: Segment) -> LineStatus:
    return LineStatus(
        code=required(ack, 1, "line item status code"),
        quantity=decimal(ack, 2),
        uom=text(ack, 3),
        date_qualifier=text(ack, 4),
        date=calendar_date(ack, 5),
    )


def _line(segments: Sequence[Segment]) -> AcknowledgedLine:
    statuses = []
    other = [segments[0]]
    for segment in segments[1:]:
        if segment.id == "ACK":
            statuses.append(_status(segment))
        elif segment.id == "CTP" and statuses and text(segment, 3) is not None:
            # A CTP after an IP/IC status carries the changed price (X12 855 2/045).
            last = statuses[-1]
            statuses[-1] = LineStatus(
                last.code, last.quantity, last.uom, last.date_qualifier, last.date,
                unit_price=decimal(segment, 3),
            )  # fmt: skip
        else:
            other.append(segment)
    return AcknowledgedLine(order_line(other), tuple(statuses))


def decode_855(transaction_set: TransactionSet) -> PurchaseOrderAcknowledgment855:
    """The acknowledgment in one 855; raises :class:`X12DecodeError` naming the element."""
    header, line_segments, summary = cut(transaction_set.body, "PO1", frozenset({"CTT"}))
    parties, rest = take_parties(header)
    bak = beginning(transaction_set, "BAK")
    lines = tuple(_line(segments) for segments in line_segments)
    count, total, sources = summary_counts(summary)
    findings = check_summary([line.line for line in lines], count, total, sources)
    return PurchaseOrderAcknowledgment855(
        control_number=transaction_set.control_number,
        purpose=required(bak, 1, "transaction set purpose code"),
        acknowledgment_type=required(bak, 2, "acknowledgment type"),
        po_number=required(bak, 3, "purchase order number"),
        po_date=calendar_date(bak, 4),
        release=text(bak, 5),
        seller_order_number=text(bak, 8),
        acknowledgment_date=calendar_date(bak, 9),
        lines=lines,
        references=tuple(reference(segment) for segment in of(rest, "REF")),
        dates=tuple(date_reference(segment) for segment in of(rest, "DTM")),
        parties=tuple(parties),
        findings=tuple(findings),
    )
