"""GS1 element strings as UDI: AI (01) GTIN plus (10) lot, (21) serial, (17) expiry and more.

Three spellings arrive from scanners and people: the human-readable form with parenthesised AIs
(``(01)…(17)…(10)…``, spaces allowed between element strings), the raw data of a GS1-128,
DataMatrix, QR or DataBar symbol whose variable-length fields end with GS (``\\x1d``, how
scanners transmit FNC1), and a raw prefix followed by parenthesised AIs. Each element string
is matched against its AI's format by biip (DESIGN.md §9); this module adds what a UDI needs:

- the GTIN check digit of (01) (GS1 General Specifications §7.9), reported with the digit
  expected;
- dates placed in the century window of §7.12 around a ``today`` that is passed in, day ``00``
  read as the month's last day;
- a variable-length field that is followed by more data without a GS separator is refused
  (§7.8.5): the scanner dropped FNC1, so where the lot or serial ends cannot be known, and a
  guessed lot on an implant record is worse than none;
- an AI repeated with a different value is refused (§4.14: repeats must be identical).
"""

from __future__ import annotations

import re
from datetime import date

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from suture.domain.errors import InvalidIdentifierError
from suture.domain.identifiers import validate_gtin
from suture.formats.udi.dates import full_year, month_date
from suture.formats.udi.errors import UdiDecodeError
from suture.formats.udi.records import Issuer, Udi

__all__ = ["GS", "parse_gs1"]

GS = "\x1d"
"""ASCII group separator: how scanners transmit the FNC1 that ends a variable-length field."""

# Dates are converted here, with the caller's ``today``; biip would read the clock.
_CONFIG = ParseConfig(gs1_element_strings_verify_date=False, separator_chars=(GS,))
_NAMES = {
    "01": "GTIN",
    "10": "lot",
    "11": "manufacture date",
    "17": "expiry",
    "21": "serial",
    "30": "quantity",
}
_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_HRI_ELEMENT = re.compile(r"\((\d{2,4})\)([^()]*)")
_DIGITS = re.compile(r"[0-9]+")
# A date AI and six digits at the end of a value, with at least one character before them.
_SWALLOWED_DATE = re.compile(r".(11|15|17)([0-9]{6})$")


def part_name(ai: str, title: str = "") -> str:
    """How an error names an element string: ``(17) expiry``, ``(240) ADDITIONAL ID``."""
    name = _NAMES.get(ai, title)
    return f"({ai}) {name}" if name else f"({ai})"


def parse_gs1(text: str, *, raw: str, today: date) -> Udi:
    """The UDI in ``text`` (symbology identifier already removed); ``raw`` is kept as given."""
    return _to_udi(_element_strings(text), raw=raw, today=today)


def _element_strings(text: str) -> list[GS1ElementString]:
    """The element strings of ``text`` in scan order."""
    bracket = text.find("(")
    if bracket == -1:
        return _split_raw(text, offset=0)
    return _split_raw(text[:bracket], offset=0) + _split_hri(text[bracket:], offset=bracket)


def _split_raw(text: str, *, offset: int) -> list[GS1ElementString]:
    elements: list[GS1ElementString] = []
    rest = text.lstrip(GS)  # FNC1 in first position marks GS1 data; it carries nothing
    while rest:
        position = offset + len(text) - len(rest) + 1
        element = _extract(rest, position)
        rest = rest[len(element) :]
        if element.ai.separator_required and rest and not rest.startswith(GS):
            raise UdiDecodeError(
                part_name(element.ai.ai, element.ai.data_title),
                f"variable-length field {element.value!r} is followed by more data at position "
                f"{position + len(element)} without a GS (FNC1) separator, so where it ends is "
                "unknown; the scanner did not transmit the separators",
            )
        rest = rest.lstrip(GS)
        elements.append(element)
    if elements and GS not in text:
        _refuse_swallowed_date(elements[-1])
    return elements


def _refuse_swallowed_date(element: GS1ElementString) -> None:
    """Refuse a final lot or serial whose tail reads as an expiry or manufacture date.

    Without any GS in the scan, ``10ABC17250612`` is lot ``ABC17250612`` by the letter of the
    standard, but almost always lot ``ABC`` and (17) 2025-06-12 from a scanner that dropped
    FNC1. The two readings cannot be told apart, so neither is chosen.
    """
    if not element.ai.separator_required:
        return
    match = _SWALLOWED_DATE.search(element.value)
    if match is None:
        return
    ai, digits = match.group(1), match.group(2)
    try:
        month_date(2000, int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return
    raise UdiDecodeError(
        part_name(element.ai.ai, element.ai.data_title),
        f"{element.value!r} ends with {ai + digits!r}, which reads as {part_name(ai)} "
        f"{digits}; the scan has no GS (FNC1) separator, so the end of the field cannot be "
        "told from a following date, and neither reading is guessed",
    )


def _extract(rest: str, position: int) -> GS1ElementString:
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        raise UdiDecodeError(
            "GS1 element string",
            f"no GS1 application identifier starts at position {position} ({rest[:6]!r})",
        ) from None
    try:
        return GS1ElementString.extract(rest, config=_CONFIG)
    except ParseError:
        value = rest[len(ai.ai) :].split(GS, 1)[0]
        raise UdiDecodeError(
            part_name(ai.ai, ai.data_title), _mismatch(ai, value, f" at position {position}")
        ) from None


def _split_hri(text: str, *, offset: int) -> list[GS1ElementString]:
    elements: list[GS1ElementString] = []
    end = 0
    for match in _HRI_ELEMENT.finditer(text):
        if text[end : match.start()].strip(" " + GS):
            break
        ai_code, value = match.group(1), match.group(2).strip(" " + GS)
        elements.append(_parse_hri_element(ai_code, value, offset + match.start() + 1))
        end = match.end()
    if text[end:].strip(" " + GS):
        raise UdiDecodeError(
            "GS1 element string",
            f"{text[end:]!r} at position {offset + end + 1} is not an '(AI)value' element string",
        )
    return elements


def _parse_hri_element(ai_code: str, value: str, position: int) -> GS1ElementString:
    try:
        ai = GS1ApplicationIdentifier.extract(ai_code)
    except ParseError:
        ai = None
    if ai is None or ai.ai != ai_code:
        raise UdiDecodeError(
            f"({ai_code})", f"at position {position} is not a GS1 application identifier"
        )
    try:
        return GS1ElementString.parse(ai_code + value, config=_CONFIG)
    except ParseError:
        raise UdiDecodeError(part_name(ai.ai, ai.data_title), _mismatch(ai, value, "")) from None


def _mismatch(ai: GS1ApplicationIdentifier, value: str, where: str) -> str:
    """Why ``value`` is not a valid ``ai`` element string, with a hint for GTINs and dates."""
    if not value:
        return f"no data follows the AI{where}"
    if ai.ai in _DATE_AIS and len(value) == 6 and _DIGITS.fullmatch(value):
        return f"{value!r}{where} is not a valid date (YYMMDD, day 00 for the month's end)"
    reason = f"{value!r}{where} does not match the AI's format {ai.format}"
    if ai.ai in _DATE_AIS:
        return reason + " (a date is YYMMDD)"
    if ai.ai == "01" and _DIGITS.fullmatch(value) and len(value) < 14:
        return reason + _short_gtin_hint(value)
    return reason


def _short_gtin_hint(value: str) -> str:
    """Why a GTIN with fewer than 14 digits is not accepted, and what it would be."""
    hint = f": 14 digits are needed, got {len(value)}"
    if len(value) not in (8, 12, 13):
        return hint
    try:
        validate_gtin(value)
    except InvalidIdentifierError as error:
        return f"{hint}, and as a GTIN-{len(value)} its {error.reason}"
    return f"{hint}; it is a valid GTIN-{len(value)}, which (01) carries zero-padded to 14"


def _to_udi(elements: list[GS1ElementString], *, raw: str, today: date) -> Udi:
    values: dict[str, str] = {}
    other: list[tuple[str, str]] = []
    for element in elements:
        ai = element.ai.ai
        seen = values.get(ai)
        if seen is not None:
            if seen != element.value:
                raise UdiDecodeError(
                    part_name(ai, element.ai.data_title),
                    f"appears twice with different values {seen!r} and {element.value!r} "
                    "(two scans run together?)",
                )
            continue
        values[ai] = element.value
        if ai not in _NAMES:
            other.append((ai, element.value))
    gtin = values.get("01")
    if gtin is None:
        raise UdiDecodeError(
            part_name("01"), "missing: a GS1 UDI's device identifier is the GTIN of AI (01)"
        )
    try:
        device_identifier = validate_gtin(gtin, part_name("01"))
    except InvalidIdentifierError as error:
        raise UdiDecodeError(error.field, error.reason) from None
    for ai, value in other:
        if ai in _DATE_AIS:
            _date(ai, value, today)  # validated even when the record has no field for it
    quantity = values.get("30")
    return Udi(
        issuer=Issuer.GS1,
        device_identifier=device_identifier,
        raw=raw,
        lot=values.get("10"),
        serial=values.get("21"),
        expiry=_optional_date("17", values, today),
        manufacture_date=_optional_date("11", values, today),
        quantity=int(quantity) if quantity is not None else None,
        other=tuple(other),
    )


def _optional_date(ai: str, values: dict[str, str], today: date) -> date | None:
    value = values.get(ai)
    return None if value is None else _date(ai, value, today)


def _date(ai: str, value: str, today: date) -> date:
    """A YYMMDD value (GS1 §7.12); biip has checked it is six digits."""
    try:
        return month_date(full_year(int(value[:2]), today), int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise UdiDecodeError(
            part_name(ai), f"{value!r} is not a valid date (YYMMDD, day 00 for the month's end)"
        ) from None
