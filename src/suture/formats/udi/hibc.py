"""HIBC LIC codes as UDI (ANSI/HIBC 2.6, the Supplier Labeling Standard), parsed in-house.

A label carries the primary data (``+`` labeler, product code, unit of measure) and optionally
secondary data (lot or serial, expiry, quantity), either in one symbol or in two:

- primary only: ``+LIC PCN U C``;
- combined: ``+LIC PCN U / secondary C`` — one check character covers both parts;
- separate: the primary ``+LIC PCN U C`` and the secondary ``+ secondary L C``, where the
  link character ``L`` repeats the primary's check character so the pair cannot be mixed up
  between labels. Both may be scanned into one string, in either order.

The secondary data's own syntax (date flags, quantities, supplemental fields) is read by
:mod:`.hibc_secondary`. Every check character is mod 43 over the 43-character set
(:func:`~suture.domain.identifiers.hibc_check_character`). HIBC has no lower-case letters: a
lower-case scan comes from a scanner in Code 39 full-ASCII mode or a keyboard with caps lock,
and is refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from suture.domain.errors import InvalidIdentifierError
from suture.domain.identifiers import HIBC_CHARSET, HibcPrimary, hibc_check_character
from suture.formats.udi.errors import UdiDecodeError
from suture.formats.udi.hibc_secondary import SECONDARY, Secondary, parse_secondary
from suture.formats.udi.records import Issuer, Udi

__all__ = ["parse_hibc"]

_HIBC_CHARACTERS = frozenset(HIBC_CHARSET)


@dataclass(frozen=True, slots=True)
class _Symbol:
    """One HIBC symbol: primary (with its check character), secondary (with its link), or both."""

    primary: HibcPrimary | None
    check: str
    secondary: Secondary | None
    link: str | None = None


def parse_hibc(text: str, *, raw: str, today: date) -> Udi:
    """The UDI in ``text`` (symbology identifier and ``*`` delimiters already removed)."""
    _require_charset(text)
    try:
        symbols = [_parse_symbol(text, today)]
    except UdiDecodeError as error:
        symbols = _split_pair(text, today)
        if not symbols:
            raise error from None
    return _to_udi(symbols, raw=raw)


def _require_charset(text: str) -> None:
    for position, char in enumerate(text, start=1):
        if char not in _HIBC_CHARACTERS:
            hint = (
                "; HIBC has no lower case (a scanner in Code 39 full-ASCII mode or with caps "
                "lock changes it)"
                if char.upper() in _HIBC_CHARACTERS
                else ""
            )
            raise UdiDecodeError(
                "HIBC",
                f"character {char!r} at position {position} is not in the HIBC character set{hint}",
            )


def _split_pair(text: str, today: date) -> list[_Symbol]:
    """Two symbols scanned into one string: the split where both halves verify, if any."""
    for index in range(2, len(text) - 1):
        if text[index] != "+":
            continue
        try:
            first = _parse_symbol(text[:index], today)
            second = _parse_symbol(text[index:], today)
        except UdiDecodeError:
            continue
        if (first.primary is None) != (second.primary is None):
            return [first, second]
    return []


def _to_udi(symbols: list[_Symbol], *, raw: str) -> Udi:
    primary = next((symbol for symbol in symbols if symbol.primary is not None), None)
    secondary_symbol = next((symbol for symbol in symbols if symbol.link is not None), None)
    if primary is None or primary.primary is None:
        link = secondary_symbol.link if secondary_symbol else None
        raise UdiDecodeError(
            "HIBC primary",
            "missing: this is secondary data only, which does not identify the device; scan it "
            f"together with its primary barcode (whose check character is {link!r})",
        )
    if secondary_symbol is not None:
        if primary.secondary is not None:
            raise UdiDecodeError(
                SECONDARY, "given twice: in the combined primary and in a separate symbol"
            )
        if secondary_symbol.link != primary.check:
            raise UdiDecodeError(
                f"{SECONDARY}: link character",
                f"is {secondary_symbol.link!r}, but the primary's check character is "
                f"{primary.check!r}: the two barcodes are not from the same label",
            )
    secondary = primary.secondary or (secondary_symbol.secondary if secondary_symbol else None)
    parts = primary.primary
    data = secondary or Secondary()
    return Udi(
        issuer=Issuer.HIBCC,
        device_identifier=f"{parts.labeler}{parts.product}{parts.unit_of_measure}",
        raw=raw,
        lot=data.lot,
        serial=data.serial,
        expiry=data.expiry,
        manufacture_date=data.manufacture_date,
        quantity=data.quantity,
        hibc=parts,
    )


def _parse_symbol(code: str, today: date) -> _Symbol:
    if not code.startswith("+"):
        first = repr(code[0]) if code else "nothing"
        raise UdiDecodeError("HIBC", f"must start with '+', got {first}")
    is_secondary = code[1:2] == "$" or code[1:2].isdigit()
    minimum = 4 if is_secondary else 8  # '+', data, (link), check
    if len(code) < minimum:
        raise UdiDecodeError("HIBC", f"is {len(code)} characters, too short to be a UDI")
    data, check = code[:-1], code[-1]
    expected = hibc_check_character(data)
    if check != expected:
        where = f"{SECONDARY}: check character" if is_secondary else "HIBC check character"
        raise UdiDecodeError(where, f"is {check!r}, expected {expected!r}")
    if is_secondary:
        return _Symbol(
            primary=None, check=check, secondary=parse_secondary(data[1:-1], today), link=data[-1]
        )
    body = data[1:]
    slash = body.find("/")
    primary = _primary(body if slash == -1 else body[:slash])
    secondary = None if slash == -1 else parse_secondary(body[slash + 1 :], today)
    return _Symbol(primary=primary, check=check, secondary=secondary)


def _primary(body: str) -> HibcPrimary:
    """Labeler (4), product code (1-18) and unit of measure (1 digit) of ``body``."""
    unit = body[-1:]
    if not unit.isdigit():
        raise UdiDecodeError("HIBC primary", f"unit of measure must be a digit 0-9, got {unit!r}")
    try:
        return HibcPrimary(labeler=body[:4], product=body[4:-1], unit_of_measure=int(unit))
    except InvalidIdentifierError as error:
        raise UdiDecodeError("HIBC primary", error.reason) from None
