"""X12 832 price/sales catalog: a manufacturer's or GPO's contract price file (HIBCC usage).

BCT names the catalog; N1 loops its parties (MF manufacturer, DS distributor, BG buying group,
the GPO); each LIN is an item with product ids by qualifier (UK GTIN-14, UP UPC-12, EN EAN-13,
HI HIBC primary, VC/VN/MG vendor and manufacturer numbers), PID descriptions, CTB conditions,
CTP prices (CTP02 is the price tier, C01-C03, or a list price code such as CAT; CTP03 the price
per CTP05 unit; a DTM*007 after a CTP is its effective date) and packaging levels (SLN, or PKL
in older files) each with its own GTIN (DESIGN.md §2, the GS1 packaging hierarchy).

Every GTIN and HIBC code is checked (:func:`~suture.domain.identifiers.validate_gtin`,
:func:`~suture.domain.identifiers.parse_hibc_primary`); each failure is a line error naming the
segment, the element and the identifier check's reason, and the rest of the catalog decodes:

- a packaging line (SLN, PKL) whose GTIN fails is rejected: a level is known by its GTIN;
- an item line (LIN) whose GTIN or HIBC fails keeps its other identifiers (vendor catalog and
  manufacturer numbers, the crosswalk keys) and loses the bad one, which is never carried into
  the canonical record; a LIN left with no identifier at all is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from suture.domain.contracts import ContractPrice
from suture.domain.errors import DomainError, InvalidIdentifierError
from suture.domain.identifiers import parse_hibc_primary, validate_gtin
from suture.formats.x12.elements import (
    DateReference,
    Party,
    Reference,
    calendar_date,
    date_reference,
    decimal,
    free_text,
    product_ids,
    reference,
    required,
    text,
)
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12DecodeError, X12Finding
from suture.formats.x12.loops import beginning, cut, of, take_parties
from suture.formats.x12.tokenizer import Segment

_GTIN_QUALIFIERS = ("UK", "EN", "UP")
_ITEM_LOOP_CLOSERS = frozenset({"CTT"})


@dataclass(frozen=True, slots=True)
class CatalogPrice:
    """A CTP: class of trade, price code or tier, unit price per ``quantity`` ``uom``."""

    price_code: str | None
    unit_price: Decimal
    position: int
    class_of_trade: str | None = None
    quantity: Decimal | None = None
    uom: str | None = None
    effective_from: date | None = None


@dataclass(frozen=True, slots=True)
class CatalogPackaging:
    """A packaging level (SLN or PKL): its unit, how many of the item's lower level it holds
    (SLN04 / PKL04, as the sender states it), its GTIN-14 and other ids."""

    uom: str
    quantity: Decimal | None
    position: int
    gtin: str | None = None
    product_ids: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Restriction:
    """A CTB restriction or condition: qualifier (OR order quantity…), quantity qualifier and
    quantity."""

    qualifier: str
    quantity_qualifier: str | None = None
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """A LIN item whose identifiers all verified."""

    line_id: str | None
    position: int
    product_ids: dict[str, str]
    gtin: str | None = None
    hibc: str | None = None
    description: str | None = None
    prices: tuple[CatalogPrice, ...] = ()
    packaging: tuple[CatalogPackaging, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    dates: tuple[DateReference, ...] = ()

    def contract_prices(self, item_id: str) -> list[ContractPrice]:
        """This item's tiered prices (those with a tier and a unit) as canonical prices."""
        return [
            ContractPrice(
                item_id=item_id,
                tier=price.price_code,
                uom=price.uom,
                unit_price=price.unit_price,
                effective_from=price.effective_from,
            )
            for price in self.prices
            if price.price_code is not None and price.uom is not None
        ]


@dataclass(frozen=True, slots=True)
class PriceCatalog832:
    """One decoded 832: the valid items, and one finding for each rejected line."""

    control_number: str
    purpose: str
    catalog_number: str | None
    items: tuple[CatalogItem, ...]
    catalog_version: str | None = None
    description: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    line_errors: tuple[X12Finding, ...] = ()

    def party(self, entity: str) -> Party | None:
        return next((party for party in self.parties if party.entity == entity), None)


def _identifiers(
    segment: Segment, first: int, errors: list[X12Finding]
) -> tuple[dict[str, str], str | None, str | None, bool]:
    """Product ids without the ones that failed, the GTIN-14, the HIBC code, and whether
    every identifier verified."""
    ids = product_ids(segment, first)
    gtin = hibc = None
    valid = True
    for index in range(first, len(segment.elements) - 1, 2):
        qualifier, value = segment.get(index).strip(), segment.get(index + 1).strip()
        if not value or qualifier not in (*_GTIN_QUALIFIERS, "HI"):
            continue
        element = segment.name(index + 1)
        try:
            if qualifier == "HI":
                hibc = parse_hibc_primary(value, element).code
            else:
                gtin = gtin or validate_gtin(value, element)
        except InvalidIdentifierError as error:
            kind = "HIBC" if qualifier == "HI" else f"GTIN ({qualifier})"
            reason = f"{kind} {value}: {error.reason}"
            errors.append(X12Finding(segment.position, segment.id, element, reason))
            ids.pop(qualifier, None)
            valid = False
    return ids, gtin, hibc, valid


def _packaging(segment: Segment, errors: list[X12Finding]) -> CatalogPackaging | None:
    if segment.id == "SLN":
        uom_at, quantity_at, ids_at = 5, 4, 9
    else:  # PKL: one id pair (qualifier, id), then unit and quantity
        uom_at, quantity_at, ids_at = 3, 4, 1
    pairs = segment if segment.id == "SLN" else Segment(segment.position, segment.elements[:3])
    ids, gtin, _, valid = _identifiers(pairs, ids_at, errors)
    if not valid:
        return None
    return CatalogPackaging(
        uom=required(segment, uom_at, "unit of measure"),
        quantity=decimal(segment, quantity_at),
        position=segment.position,
        gtin=gtin,
        product_ids=ids,
    )


def _price(ctp: Segment, effective: date | None) -> CatalogPrice:
    price = decimal(ctp, 3)
    if price is None:
        raise X12DecodeError(
            "unit price is required",
            position=ctp.position,
            segment="CTP",
            element="CTP03",
            code="1",
        )
    return CatalogPrice(
        price_code=text(ctp, 2),
        unit_price=price,
        position=ctp.position,
        class_of_trade=text(ctp, 1),
        quantity=decimal(ctp, 4),
        uom=text(ctp, 5),
        effective_from=effective,
    )


def _item(segments: Sequence[Segment], errors: list[X12Finding]) -> CatalogItem | None:
    lin = segments[0]
    ids, gtin, hibc, _ = _identifiers(lin, 2, errors)
    prices: list[CatalogPrice] = []
    packaging: list[CatalogPackaging] = []
    dates: list[DateReference] = []
    for index, segment in enumerate(segments[1:], start=1):
        if segment.id == "CTP":
            following = segments[index + 1] if index + 1 < len(segments) else None
            effective = None
            if following is not None and following.id == "DTM" and text(following, 1) == "007":
                effective = calendar_date(following, 2)
            prices.append(_price(segment, effective))
        elif segment.id in ("SLN", "PKL"):
            level = _packaging(segment, errors)
            if level is not None:
                packaging.append(level)
        elif segment.id == "DTM" and segments[index - 1].id != "CTP":
            dates.append(date_reference(segment))
    if not ids:
        return None
    restrictions = [
        Restriction(required(ctb, 1, "restriction qualifier"), text(ctb, 3), decimal(ctb, 4))
        for ctb in of(segments, "CTB")
    ]
    return CatalogItem(
        line_id=text(lin, 1),
        position=lin.position,
        product_ids=ids,
        gtin=gtin,
        hibc=hibc,
        description=free_text(of(segments, "PID")),
        prices=tuple(prices),
        packaging=tuple(packaging),
        restrictions=tuple(restrictions),
        dates=tuple(dates),
    )


def decode_832(transaction_set: TransactionSet) -> PriceCatalog832:
    """The catalog in one 832; a line with a bad identifier is rejected, not the catalog."""
    header, line_segments, _ = cut(transaction_set.body, "LIN", _ITEM_LOOP_CLOSERS)
    parties, rest = take_parties(header)
    bct = beginning(transaction_set, "BCT")
    errors: list[X12Finding] = []
    items = []
    for segments in line_segments:
        try:
            item = _item(segments, errors)
        except DomainError as error:
            raise X12DecodeError(
                error.reason, position=segments[0].position, segment="LIN"
            ) from None
        if item is not None:
            items.append(item)
    return PriceCatalog832(
        control_number=transaction_set.control_number,
        purpose=required(bct, 1, "catalog purpose code"),
        catalog_number=text(bct, 2),
        catalog_version=text(bct, 3),
        description=text(bct, 9),
        items=tuple(items),
        references=tuple(reference(segment) for segment in of(rest, "REF")),
        dates=tuple(date_reference(segment) for segment in of(rest, "DTM")),
        parties=tuple(parties),
        line_errors=tuple(errors),
    )
