"""X12 856 advance ship notice: what is on its way, as the HL hierarchy of the shipment.

HL segments (HL01 id, HL02 parent id, HL03 level code) build a tree: S shipment, O order,
T tare (pallet), P pack (carton), I item. Each level keeps the segments that follow it: PRF (the
PO it ships), REF, DTM, N1 loops, MAN marks (MAN*GM is an SSCC-18 carton label, checked with the
GS1 mod-10 digit), and for items LIN product ids, SN1 quantity shipped, lot, serial and expiry
(DTM*036), which implants need for their UDI (DESIGN.md §2).

Lot and serial arrive in two ways and both are read: LIN product id qualifiers ``LT`` (lot) and
``SN`` (serial), or REF*LT and REF*SE on the item level.

Several real partners leave HL02 empty below the shipment. Such a level is attached to the
nearest preceding level of a higher rank (S > O > T > P > I) with a finding, rather than made a
second root; a parent id that names no earlier level is an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from suture.domain.errors import InvalidIdentifierError
from suture.domain.identifiers import gs1_check_digit
from suture.formats.x12.elements import (
    DateReference,
    Party,
    Reference,
    calendar_date,
    date_reference,
    decimal,
    product_ids,
    reference,
    required,
    text,
)
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12DecodeError, X12Finding
from suture.formats.x12.loops import after_summary, beginning, of, take_parties
from suture.formats.x12.tokenizer import Segment

_RANK = {"S": 0, "O": 1, "T": 2, "P": 3, "I": 4}
_SSCC_WITH_AI = 20
_SSCC = 18


@dataclass(frozen=True, slots=True)
class ShippedItem:
    """An item level's LIN/SN1: what, how many, and its production identifiers."""

    line_id: str | None
    product_ids: dict[str, str]
    quantity: Decimal | None
    uom: str | None
    lot: str | None = None
    serials: tuple[str, ...] = ()
    expiry: date | None = None


@dataclass(slots=True)
class HierarchicalLevel:
    """One HL level and its children, in document order."""

    id: str
    parent_id: str | None
    level: str
    position: int
    purchase_order_number: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    sscc: str | None = None
    item: ShippedItem | None = None
    children: list[HierarchicalLevel] = field(default_factory=list)

    def walk(self) -> Iterator[HierarchicalLevel]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True, slots=True)
class ShipNotice856:
    """One decoded 856: BSN header and the HL tree (usually one shipment root)."""

    control_number: str
    purpose: str
    shipment_id: str
    shipment_date: date | None
    roots: tuple[HierarchicalLevel, ...]
    dates: tuple[DateReference, ...] = ()
    findings: tuple[X12Finding, ...] = ()

    def levels(self) -> Iterator[HierarchicalLevel]:
        for root in self.roots:
            yield from root.walk()

    def items(self) -> list[ShippedItem]:
        return [level.item for level in self.levels() if level.item is not None]


def _sscc(man: Segment, findings: list[X12Finding]) -> str | None:
    value = text(man, 2)
    if value is None:
        return None
    sscc = value[2:] if len(value) == _SSCC_WITH_AI and value.startswith("00") else value
    if len(sscc) != _SSCC or not (sscc.isascii() and sscc.isdigit()):
        reason = f"SSCC {value!r} is not 18 digits (optionally after AI 00)"
        findings.append(X12Finding(man.position, "MAN", "MAN02", reason))
        return None
    try:
        expected = gs1_check_digit(sscc[:-1])
    except InvalidIdentifierError as error:  # pragma: no cover - digits checked above
        findings.append(X12Finding(man.position, "MAN", "MAN02", error.reason))
        return None
    if expected != sscc[-1]:
        reason = f"SSCC check digit is {sscc[-1]}, expected {expected}"
        findings.append(X12Finding(man.position, "MAN", "MAN02", reason))
        return None
    return sscc


def _item(
    segments: Sequence[Segment], refs: Sequence[Reference], dates: Sequence[DateReference]
) -> ShippedItem | None:
    lins, sn1s = of(segments, "LIN"), of(segments, "SN1")
    if not lins and not sn1s:
        return None
    ids = product_ids(lins[0], 2) if lins else {}
    sn1 = sn1s[0] if sn1s else None
    serials = [ids[key] for key in ("SN",) if key in ids]
    serials += [ref.value for ref in refs if ref.qualifier == "SE"]
    lot = ids.get("LT") or next((ref.value for ref in refs if ref.qualifier == "LT"), None)
    return ShippedItem(
        line_id=text(lins[0], 1) if lins else None,
        product_ids=ids,
        quantity=decimal(sn1, 2) if sn1 else None,
        uom=text(sn1, 3) if sn1 else None,
        lot=lot,
        serials=tuple(serials),
        expiry=next((dtm.date for dtm in dates if dtm.qualifier == "036"), None),
    )


def _level(
    hl: Segment, segments: Sequence[Segment], findings: list[X12Finding]
) -> HierarchicalLevel:
    parties, rest = take_parties(segments)
    refs = tuple(reference(segment) for segment in of(rest, "REF"))
    dates = tuple(date_reference(segment) for segment in of(rest, "DTM"))
    prfs = of(rest, "PRF")
    marks = [segment for segment in of(rest, "MAN") if text(segment, 1) == "GM"]
    return HierarchicalLevel(
        id=required(hl, 1, "hierarchical id"),
        parent_id=text(hl, 2),
        level=required(hl, 3, "hierarchical level code"),
        position=hl.position,
        purchase_order_number=text(prfs[0], 1) if prfs else None,
        references=refs,
        dates=dates,
        parties=tuple(parties),
        sscc=_sscc(marks[0], findings) if marks else None,
        item=_item(rest, refs, dates),
    )


def _attach(levels: list[HierarchicalLevel], findings: list[X12Finding]) -> list[HierarchicalLevel]:
    by_id: dict[str, HierarchicalLevel] = {}
    roots: list[HierarchicalLevel] = []
    for index, level in enumerate(levels):
        if level.id in by_id:
            raise X12DecodeError(
                f"HL id {level.id!r} is used twice",
                position=level.position,
                segment="HL",
                element="HL01",
            )
        parent: HierarchicalLevel | None = None
        if level.parent_id is not None:
            parent = by_id.get(level.parent_id)
            if parent is None:
                reason = f"parent {level.parent_id!r} is not an earlier HL"
                raise X12DecodeError(reason, position=level.position, segment="HL", element="HL02")
        elif roots:
            rank = _RANK.get(level.level, len(_RANK))
            earlier = (levels[back] for back in range(index - 1, -1, -1))
            parent = next((up for up in earlier if _RANK.get(up.level, len(_RANK)) < rank), None)
            if parent is not None:
                reason = f"HL02 is empty; attached to HL {parent.id} ({parent.level}) by level"
                findings.append(X12Finding(level.position, "HL", "HL02", reason))
        by_id[level.id] = level
        (parent.children if parent is not None else roots).append(level)
    return roots


def decode_856(transaction_set: TransactionSet) -> ShipNotice856:
    """The ship notice in one 856; raises :class:`X12DecodeError` naming the element."""
    header: list[Segment] = []
    groups: list[tuple[Segment, list[Segment]]] = []
    summary: Segment | None = None
    for segment in transaction_set.body:
        if segment.id == "HL" and summary is not None:
            raise after_summary(segment, summary)
        if summary is not None:
            continue
        if segment.id == "HL":
            groups.append((segment, []))
        elif segment.id == "CTT":
            summary = segment
        else:
            (groups[-1][1] if groups else header).append(segment)
    bsn = beginning(transaction_set, "BSN")
    findings: list[X12Finding] = []
    levels = [_level(hl, segments, findings) for hl, segments in groups]
    roots = _attach(levels, findings)
    return ShipNotice856(
        control_number=transaction_set.control_number,
        purpose=required(bsn, 1, "transaction set purpose code"),
        shipment_id=required(bsn, 2, "shipment identification"),
        shipment_date=calendar_date(bsn, 3),
        roots=tuple(roots),
        dates=tuple(date_reference(segment) for segment in of(header, "DTM")),
        findings=tuple(findings),
    )
