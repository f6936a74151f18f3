"""One entry point for any UDI scan: which issuing agency's syntax it is, then that parser.

What reaches Suture is what a scanner or a person typed: possibly an AIM symbology identifier
in front (ISO/IEC 15424: ``]C1`` GS1-128, ``]d2`` GS1 DataMatrix, ``]Q3`` GS1 QR, ``]e0`` GS1
DataBar; ``]A0`` Code 39, ``]C0`` Code 128, ``]d1``/``]Q1`` DataMatrix/QR for HIBC), Code 39's
``*`` start/stop characters around an HIBC code, a trailing line end. The syntax then decides:
``+`` starts HIBC (ANSI/HIBC 2.6), a digit, ``(`` or FNC1 starts GS1 element strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from suture.formats.udi.errors import UdiDecodeError
from suture.formats.udi.gs1 import GS, parse_gs1
from suture.formats.udi.hibc import parse_hibc
from suture.formats.udi.records import Udi

__all__ = ["parse_udi"]

_GS1_SYMBOLOGIES = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1"})
_PLAIN_SYMBOLOGIES = frozenset({"]A0", "]A1", "]A2", "]A3", "]A4", "]C0", "]d1", "]Q1"})
_SYMBOLOGY = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_GS1_FIRST = frozenset("0123456789(" + GS)
_HIBC_START = re.compile(r"\+[A-Z$]")
_GTIN_START = re.compile(r"(?<![0-9])(?:\(01\)|01)[0-9]{14}")


def parse_udi(text: str, *, today: date | None = None) -> Udi:
    """The UDI a barcode scan holds, or :class:`UdiDecodeError` naming the part and the reason.

    ``today`` anchors two-digit years (GS1 General Specifications §7.12); it defaults to the
    current UTC date, so pass it wherever the result must not depend on when the code runs. No
    other exception escapes, whatever ``text`` holds.
    """
    when = today if today is not None else datetime.now(UTC).date()
    # Line ends and leading blanks are never data; a trailing space can be an HIBC check character.
    body = text.strip("\r\n").lstrip(" \t")
    symbology = ""
    if _SYMBOLOGY.match(body):
        symbology, body = body[:3], body[3:]
        if symbology not in _GS1_SYMBOLOGIES | _PLAIN_SYMBOLOGIES:
            raise UdiDecodeError(
                "symbology identifier", f"{symbology!r} is not a symbology UDIs are printed in"
            )
    if symbology in _GS1_SYMBOLOGIES:
        return _parse_gs1(body.strip(" "), text, when)
    if body.startswith("*"):  # Code 39's start character, so an HIBC code follows
        body = _strip_delimiters(body)
    if body.startswith("+"):
        return _parse_hibc(body, text, when)
    stripped = body.strip(" ")
    if stripped[:1] in _GS1_FIRST:
        return _parse_gs1(stripped, text, when)
    if stripped[:1] == "$" or stripped[:1].lower() != stripped[:1].upper():
        hint = " (an HIBC code starts with '+'; a GS1 one with a digit or '(')"
    else:
        hint = ""
    first = repr(stripped[:1]) if stripped else "nothing"
    raise UdiDecodeError("scan", f"is neither GS1 nor HIBC: it starts with {first}{hint}")


def _strip_delimiters(body: str) -> str:
    if len(body) >= 2 and body.startswith("*") and body.endswith("*"):
        return body[1:-1]
    raise UdiDecodeError("HIBC", "starts with the '*' barcode delimiter but does not end with one")


def _parse_gs1(body: str, raw: str, today: date) -> Udi:
    try:
        return parse_gs1(body, raw=raw, today=today)
    except UdiDecodeError as error:
        for run_on in _HIBC_START.finditer(body):
            start = run_on.start()
            if _decodes(parse_hibc, body[start:], today) or _decodes(
                parse_gs1, body[:start], today
            ):
                raise UdiDecodeError(
                    "scan",
                    "two scans run together: GS1 element strings, then what looks like an "
                    f"HIBC code from position {start + 1} ({body[start : start + 8]!r}…); scan "
                    f"one barcode at a time (GS1 part: {error})",
                ) from None
        raise


def _decodes(parse: Callable[..., Udi], text: str, today: date) -> bool:
    """Whether ``text`` is a valid UDI: one half of a suspected run-together scan."""
    try:
        parse(text, raw=text, today=today)
    except UdiDecodeError:
        return False
    return True


def _parse_hibc(body: str, raw: str, today: date) -> Udi:
    try:
        return parse_hibc(body, raw=raw, today=today)
    except UdiDecodeError as error:
        run_on = _GTIN_START.search(body, 8)
        if run_on is None or not (
            _decodes(parse_gs1, body[run_on.start() :], today)
            or _decodes(parse_hibc, body[: run_on.start()], today)
        ):
            raise
        raise UdiDecodeError(
            "scan",
            "two scans run together: an HIBC code, then what looks like a GS1 GTIN from "
            f"position {run_on.start() + 1} ({body[run_on.start() : run_on.start() + 8]!r}…); "
            f"scan one barcode at a time (HIBC part: {error})",
        ) from None
