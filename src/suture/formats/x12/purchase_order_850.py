"""X12 850 purchase order: decoding inbound POs and writing ours (X12 004010/005010 850).

Inbound 850s come from a legacy procurement system during coexistence (DESIGN.md §1); outbound
850s carry a canonical :class:`~suture.domain.purchasing.PurchaseOrder` to a supplier.

Decoded: BEG (purpose, type, number, release, date), CUR, REF, DTM and N1 loops at header and
line level, PO1 (line id, quantity, unit, unit price, basis, product ids by qualifier), PID
descriptions, CTT line count and AMT*TT total, each compared with the lines as a finding.

What :func:`write_850` puts where, so that :func:`purchase_order_from_850` reads it back:
BEG02 is the order kind (SA standard, RL replenishment release, CN consigned/bill-only), N1*ST's
id (qualifier 92) the facility, N1*SE's id the supplier, REF*DP the department, REF*RQ the
requisition, PO1 ``IN`` (buyer's item number) the item, a line REF*CT the contract; a bill-only
or restock PO carries a note for the supplier (N9*ZZ reference, MSG text: "do not ship").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from suture.domain.errors import DomainError
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from suture.formats.x12.elements import (
    MISSING,
    DateReference,
    Party,
    Reference,
    calendar_date,
    date_reference,
    decimal,
    fail,
    free_text,
    product_ids,
    reference,
    required,
    text,
)
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12DecodeError, X12Finding
from suture.formats.x12.interchange_writer import (
    ControlNumbers,
    TradingPartnerProfile,
    write_interchange,
)
from suture.formats.x12.loops import beginning, cut, of, take_parties
from suture.formats.x12.tokenizer import Segment

_KIND_CODES = {
    PurchaseOrderKind.STANDARD: "SA",
    PurchaseOrderKind.REPLENISHMENT: "RL",
    PurchaseOrderKind.BILL_ONLY: "CN",
}
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A PO1 line (also the line of an 855): ``line_id`` is PO101 as sent."""

    line_id: str | None
    quantity: Decimal
    uom: str
    unit_price: Decimal | None
    position: int
    price_basis: str | None = None
    product_ids: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class PurchaseOrder850:
    """One decoded 850, as the sender wrote it; ids are the sender's, not yet canonical."""

    control_number: str
    purpose: str
    order_type: str
    number: str
    order_date: date
    lines: tuple[OrderLine, ...]
    release: str | None = None
    currency: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    stated_line_count: int | None = None
    stated_total: Decimal | None = None
    findings: tuple[X12Finding, ...] = ()

    def party(self, entity: str) -> Party | None:
        return next((party for party in self.parties if party.entity == entity), None)

    @property
    def computed_total(self) -> Decimal:
        return sum((line.quantity * (line.unit_price or 0) for line in self.lines), Decimal(0))


def order_line(segments: Sequence[Segment]) -> OrderLine:
    """A PO1 line and its PID, REF, DTM and N1 loop segments."""
    po1 = segments[0]
    quantity = decimal(po1, 2)
    if quantity is None:
        raise fail(po1, 2, "quantity ordered is required", MISSING)
    parties, rest = take_parties(segments[1:])
    return OrderLine(
        line_id=text(po1, 1),
        quantity=quantity,
        uom=required(po1, 3, "unit of measure"),
        unit_price=decimal(po1, 4),
        position=po1.position,
        price_basis=text(po1, 5),
        product_ids=product_ids(po1, 6),
        description=free_text(of(rest, "PID")),
        references=tuple(reference(segment) for segment in of(rest, "REF")),
        dates=tuple(date_reference(segment) for segment in of(rest, "DTM")),
        parties=tuple(parties),
    )


def summary_counts(summary: Sequence[Segment]) -> tuple[int | None, Decimal | None, list[Segment]]:
    """CTT01 (number of lines) and AMT*TT (total), with the segments they came from."""
    count: int | None = None
    total: Decimal | None = None
    sources: list[Segment] = []
    for segment in summary:
        if segment.id == "CTT":
            value = decimal(segment, 1, exact=False)  # a count: the check below says more
            count = int(value) if value is not None and value == value.to_integral() else None
            if count is None:
                raise fail(segment, 1, "number of line items must be a whole number")
            sources.append(segment)
        elif segment.id == "AMT" and text(segment, 1) == "TT":
            total = decimal(segment, 2)
            sources.append(segment)
    return count, total, sources


def check_summary(
    lines: Sequence[OrderLine], count: int | None, total: Decimal | None, sources: list[Segment]
) -> list[X12Finding]:
    findings: list[X12Finding] = []
    for segment in sources:
        if segment.id == "CTT" and count is not None and count != len(lines):
            reason = f"says {count} line items, the transaction set has {len(lines)}"
            findings.append(X12Finding(segment.position, "CTT", "CTT01", reason))
        if segment.id == "AMT" and total is not None:
            computed = sum((ln.quantity * (ln.unit_price or 0) for ln in lines), Decimal(0))
            if computed != total:
                reason = f"total {total} differs from the lines' {computed}"
                findings.append(X12Finding(segment.position, "AMT", "AMT02", reason))
    return findings


def decode_850(transaction_set: TransactionSet) -> PurchaseOrder850:
    """The purchase order in one 850; raises :class:`X12DecodeError` naming the element."""
    header, line_segments, summary = cut(transaction_set.body, "PO1", frozenset({"CTT"}))
    parties, rest = take_parties(header)
    beg = beginning(transaction_set, "BEG")
    order_date = calendar_date(beg, 5)
    if order_date is None:
        raise fail(beg, 5, "purchase order date is required", MISSING)
    lines = tuple(order_line(segments) for segments in line_segments)
    count, total, sources = summary_counts([*of(rest, "AMT"), *summary])
    currencies = of(rest, "CUR")
    return PurchaseOrder850(
        control_number=transaction_set.control_number,
        purpose=required(beg, 1, "transaction set purpose code"),
        order_type=required(beg, 2, "purchase order type code"),
        number=required(beg, 3, "purchase order number"),
        release=text(beg, 4),
        order_date=order_date,
        lines=lines,
        currency=text(currencies[0], 2) if currencies else None,
        references=tuple(reference(segment) for segment in of(rest, "REF")),
        dates=tuple(date_reference(segment) for segment in of(rest, "DTM")),
        parties=tuple(parties),
        stated_line_count=count,
        stated_total=total,
        findings=tuple(check_summary(lines, count, total, sources)),
    )


def _reference(references: Sequence[Reference], qualifier: str) -> str | None:
    return next((ref.value for ref in references if ref.qualifier == qualifier), None)


def purchase_order_from_850(
    order: PurchaseOrder850,
    *,
    id: str,
    status: PurchaseOrderStatus = PurchaseOrderStatus.SENT,
    source_system: str,
) -> PurchaseOrder:
    """The canonical purchase order of an 850 laid out as :func:`write_850` writes one."""
    ship_to, seller = order.party("ST"), order.party("SE") or order.party("VN")
    if ship_to is None or ship_to.id is None:
        raise X12DecodeError(
            "N1*ST with an id is needed for the facility", segment="N1", element="N104"
        )
    if seller is None or seller.id is None:
        raise X12DecodeError(
            "N1*SE with an id is needed for the supplier", segment="N1", element="N104"
        )
    lines = []
    for index, line in enumerate(order.lines, start=1):
        item_id = line.product_ids.get("IN") or next(iter(line.product_ids.values()), None)
        if item_id is None:
            raise X12DecodeError(
                "line has no product id", position=line.position, segment="PO1", element="PO107"
            )
        try:
            number = int(line.line_id) if line.line_id and line.line_id.isdigit() else index
            lines.append(
                PurchaseOrderLine(
                    line_number=number,
                    item_id=item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    unit_price=line.unit_price if line.unit_price is not None else Decimal(0),
                    contract_id=_reference(line.references, "CT"),
                )
            )
        except DomainError as error:
            element = {"quantity": "PO102", "unit_price": "PO104"}.get(error.field, "PO1")
            raise X12DecodeError(
                error.reason, position=line.position, segment="PO1", element=element
            ) from None
    return PurchaseOrder(
        id=id,
        number=order.number,
        facility_id=ship_to.id,
        supplier_id=seller.id,
        order_date=order.order_date,
        kind=_KINDS.get(order.order_type, PurchaseOrderKind.STANDARD),
        status=status,
        requisition_id=_reference(order.references, "RQ"),
        department_id=_reference(order.references, "DP"),
        lines=lines,
        source_system=source_system,
    )


def _amount(value: Decimal) -> str:
    return format(value, "f")


#: The notes :func:`write_850` adds by default for each kind (N9*ZZ and MSG): a supplier must
#: not ship a bill-only order (the implant was used from consignment) and must not invoice a
#: consignment restock.
KIND_NOTES = {
    PurchaseOrderKind.BILL_ONLY: (
        "BILL ONLY",
        "IMPLANTED FROM CONSIGNMENT - INVOICE ONLY - DO NOT SHIP",
    ),
    PurchaseOrderKind.REPLENISHMENT: ("RESTOCK", "CONSIGNMENT RESTOCK - NO CHARGE"),
}


def write_850(
    po: PurchaseOrder,
    partner: TradingPartnerProfile,
    numbers: ControlNumbers,
    at: datetime,
    *,
    note: tuple[str, str] | None = None,
) -> bytes:
    """The interchange carrying ``po`` to ``partner`` as one 850 (layout in the module doc).

    ``note`` (a reference and a message) is written as ``N9*ZZ*<reference>`` and ``MSG`` before
    the N1 loops; by default a bill-only or restock PO carries :data:`KIND_NOTES`'s.
    """
    segments: list[list[str]] = [
        ["BEG", "00", _KIND_CODES[po.kind], po.number, "", po.order_date.strftime("%Y%m%d")]
    ]
    if po.department_id is not None:
        segments.append(["REF", "DP", po.department_id])
    if po.requisition_id is not None:
        segments.append(["REF", "RQ", po.requisition_id])
    note = note or KIND_NOTES.get(po.kind)
    if note is not None:
        segments += [["N9", "ZZ", note[0]], ["MSG", note[1]]]
    segments.append(["N1", "ST", "", "92", po.facility_id])
    segments.append(["N1", "SE", "", "92", po.supplier_id])
    for line in po.lines:
        quantity, price = _amount(line.quantity), _amount(line.unit_price)
        segments.append(
            ["PO1", str(line.line_number), quantity, line.uom, price, "", "IN", line.item_id]
        )
        if line.contract_id is not None:
            segments.append(["REF", "CT", line.contract_id])
    segments.append(["CTT", str(len(po.lines))])
    return write_interchange(partner, numbers, at, ("PO", "850"), [segments])
