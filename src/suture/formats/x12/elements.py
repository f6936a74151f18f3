"""Typed element values and the small structures every supply-chain set shares.

X12 data element types (ASC X12.6 §3.5): ``R`` is a decimal with an optional sign and point and
no exponent; ``Nn`` is an integer with ``n`` implied decimal places (TDS01 and SAC05 are N2, so
``5635800`` is 56,358.00); ``DT`` is CCYYMMDD (or YYMMDD in the interchange header). Anything
else is an error naming the element, never a silently wrong number. Money is Decimal.

The canonical model keeps amounts and quantities exactly as NUMERIC(18, 4): at most four decimal
places, below 10^14 (as the FHIR, HL7 v2 and CSV codecs hold them). X12 allows an ``R`` element
more (IT104 is R 1/17), so a value beyond that is refused here, at its element (997 AK4 code 5,
too long), rather than by the database after the interchange is stored. Percentages (ITD03,
SAC07) are not stored and keep the precision the sender gave.

Text has bounds too (:func:`check_elements`): no element of the sets the hub reads is longer
than 264 characters (MSG01, AN 1/264; an invoice or PO number is 1/22), and none holds a NUL
(X12's character sets have none; other control characters may be a partner's delimiters).
Either is refused (codes 5 and 6), not stored: PostgreSQL cannot index an invoice number of
9,000 characters nor store a NUL, and the storage error would leave the interchange neither
applied nor failed.

The shared structures: a REF reference, a DTM date, a product id (qualifier, value) pair list as
PO1/IT1/LIN/SLN carry them, and the N1 party loop (N1 with its N2/N3/N4/REF/PER).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from suture.formats.x12.errors import X12DecodeError
from suture.formats.x12.tokenizer import Segment

_REAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
_IMPLIED = re.compile(r"-?\d+")
_DATE = re.compile(r"\d{8}|\d{6}")
_MAX_DIGITS = 18
_PLACES = 4
_QUANTUM = Decimal(1).scaleb(-_PLACES)
_LIMIT = Decimal(10) ** 14
MAX_LENGTH = 264


MISSING, TOO_LONG, INVALID_CHARACTER, INVALID_CODE, INVALID_DATE = "1", "5", "6", "7", "8"
"""997 AK403 / 999 IK403 data element syntax error codes."""


def fail(segment: Segment, index: int, reason: str, code: str = INVALID_CODE) -> X12DecodeError:
    return X12DecodeError(
        reason,
        position=segment.position,
        segment=segment.id,
        element=segment.name(index),
        code=code,
    )


def check_elements(segments: Sequence[Segment]) -> None:
    """Refuse the first element longer than :data:`MAX_LENGTH` or holding a NUL (see the
    module docstring)."""
    for segment in segments:
        elements = segment.elements
        long = max(map(len, elements), default=0) > MAX_LENGTH  # one pass each, in C
        if not long and "\x00" not in "".join(elements):
            continue
        for index, value in enumerate(elements):
            if len(value) > MAX_LENGTH:
                reason = (
                    f"is {len(value)} characters long; no element the hub reads is longer "
                    f"than {MAX_LENGTH}"
                )
                raise fail(segment, index, reason, TOO_LONG)
            if "\x00" in value:
                reason = "holds a NUL character (U+0000), which X12 text never carries"
                raise fail(segment, index, reason, INVALID_CHARACTER)


def text(segment: Segment, index: int) -> str | None:
    """The element's value without surrounding spaces, or None when it is empty."""
    value = segment.get(index).strip()
    return value or None


def required(segment: Segment, index: int, what: str) -> str:
    value = text(segment, index)
    if value is None:
        raise fail(segment, index, f"{what} is required", MISSING)
    return value


def decimal(segment: Segment, index: int, *, exact: bool = True) -> Decimal | None:
    """An ``R`` (decimal) element, or None when empty; an amount or quantity the canonical
    model holds exactly unless ``exact`` is false (a percentage)."""
    value = text(segment, index)
    if value is None:
        return None
    if _REAL.fullmatch(value) is None or len(value) > _MAX_DIGITS + 2:
        raise fail(segment, index, f"{value!r} is not a decimal number", INVALID_CHARACTER)
    number = Decimal(value)
    return _held(segment, index, value, number) if exact else number


def implied(segment: Segment, index: int, places: int = 2) -> Decimal | None:
    """An ``Nn`` element (``places`` implied decimals), or None when empty."""
    value = text(segment, index)
    if value is None:
        return None
    if _IMPLIED.fullmatch(value) is None or len(value) > _MAX_DIGITS + 1:
        reason = f"{value!r} is not a number with {places} implied decimals"
        raise fail(segment, index, reason, INVALID_CHARACTER)
    return _held(segment, index, value, Decimal(value).scaleb(-places))


def _held(segment: Segment, index: int, value: str, number: Decimal) -> Decimal:
    """``number`` when NUMERIC(18, 4) holds it exactly (see the module docstring)."""
    if abs(number) >= _LIMIT:
        raise fail(segment, index, f"{value!r} must be less than 10^14", TOO_LONG)
    if number.quantize(_QUANTUM) != number:  # cannot overflow: at most 20 characters
        reason = f"{value!r} has more than {_PLACES} decimal places"
        raise fail(segment, index, reason, TOO_LONG)
    return number


def calendar_date(segment: Segment, index: int) -> date | None:
    """A ``DT`` element (CCYYMMDD, or YYMMDD read as 20YY), or None when empty."""
    value = text(segment, index)
    if value is None:
        return None
    if _DATE.fullmatch(value) is None:
        raise fail(segment, index, f"{value!r} is not a date (CCYYMMDD)", INVALID_DATE)
    if len(value) == 6:
        value = "20" + value
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as error:
        reason = f"{value!r} is not a calendar date ({error})"
        raise fail(segment, index, reason, INVALID_DATE) from None


@dataclass(frozen=True, slots=True)
class Reference:
    """A REF: qualifier (REF01: PO, DP, CT, LT…), value (REF02), description (REF03)."""

    qualifier: str
    value: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class DateReference:
    """A DTM: qualifier (DTM01: 002 delivery requested, 011 shipped, 036 expiry…) and date."""

    qualifier: str
    date: date


def reference(segment: Segment) -> Reference:
    qualifier = required(segment, 1, "reference qualifier")
    value = text(segment, 2) or text(segment, 3) or ""
    return Reference(qualifier, value, text(segment, 3) if text(segment, 2) else None)


def date_reference(segment: Segment) -> DateReference:
    qualifier = required(segment, 1, "date qualifier")
    value = calendar_date(segment, 2)
    if value is None:
        raise fail(segment, 2, "date is required", MISSING)
    return DateReference(qualifier, value)


def product_ids(segment: Segment, first: int) -> dict[str, str]:
    """Product id pairs from element ``first`` on: ``{qualifier: id}`` in segment order.

    Qualifiers are X12 element 235: BP buyer part, VP/VN/VC vendor part or catalog, MG
    manufacturer part, IN buyer item, SK SKU, UP UPC, EN EAN, UK GTIN-14, HI HIBC, N4 NDC…
    A pair with a value and no qualifier is an error; an empty pair is skipped.
    """
    ids: dict[str, str] = {}
    elements = segment.elements
    for index in range(first, len(elements) - 1, 2):
        qualifier, value = elements[index].strip(), elements[index + 1].strip()
        if not value:
            continue
        if not qualifier:
            raise fail(segment, index, f"product id {value!r} has no qualifier")
        ids.setdefault(qualifier, value)
    return ids


def free_text(segments: Sequence[Segment]) -> str | None:
    """The descriptions of PID segments (PID05), joined with spaces."""
    parts = [value for segment in segments if (value := text(segment, 5)) is not None]
    return " ".join(parts) or None


@dataclass(frozen=True, slots=True)
class Party:
    """An N1 loop: entity (N101: ST ship-to, BY buyer, SE/SU/VN seller, MF manufacturer, BG
    buying group…), name, id qualifier and id (N103/N104), address, references."""

    entity: str
    name: str | None = None
    id_qualifier: str | None = None
    id: str | None = None
    address: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    references: tuple[Reference, ...] = ()


def party(n1: Segment, loop: Sequence[Segment]) -> Party:
    """The party of ``n1`` and the N2/N3/N4/REF segments of its loop (PER is skipped)."""
    name = text(n1, 2)
    address: list[str] = []
    references: list[Reference] = []
    city = state = postal = country = None
    for segment in loop:
        if segment.id == "N2":
            extra = [value for index in (1, 2) if (value := text(segment, index)) is not None]
            name = " ".join([name, *extra] if name else extra) or None
        elif segment.id == "N3":
            address += [value for index in (1, 2) if (value := text(segment, index)) is not None]
        elif segment.id == "N4":
            city, state, postal, country = (text(segment, index) for index in (1, 2, 3, 4))
        elif segment.id == "REF":
            references.append(reference(segment))
    return Party(
        entity=required(n1, 1, "entity identifier code"),
        name=name,
        id_qualifier=text(n1, 3),
        id=text(n1, 4),
        address=tuple(address),
        city=city,
        state=state,
        postal_code=postal,
        country=country,
        references=tuple(references),
    )


PARTY_LOOP = frozenset({"N2", "N3", "N4", "REF", "PER"})
"""Segments that belong to the N1 loop they follow."""
