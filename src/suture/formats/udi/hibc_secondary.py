"""HIBC secondary data (ANSI/HIBC 2.6): lot or serial, expiry, quantity, supplemental fields.

Secondary data starts with ``$$`` (an expiry in the format its flag names, then a lot),
``$$+`` (the same, then a serial), ``$`` (a lot, no date), ``$+`` (a serial, no date), or the
original five-digit Julian date ``YYJJJ`` followed by a lot. After ``$$`` / ``$$+``:

===========  ===================================================
flag         what follows
===========  ===================================================
``0``/``1``  no flag: the expiry is ``MMYY`` (read as the month's last day)
``2``        ``MMDDYY``
``3``        ``YYMMDD``
``4``        ``YYMMDDHH`` (the hour is checked, then dropped)
``5``        ``YYJJJ`` (Julian day of year)
``6``        ``YYJJJHH``
``7``        no expiry
``8``        a 2-digit quantity, then one of the structures above
``9``        a 5-digit quantity, then one of the structures above
===========  ===================================================

Supplemental fields follow, each after ``/``: ``S`` serial, ``14D`` expiry ``YYYYMMDD``,
``16D`` manufacture date ``YYYYMMDD``, ``Q`` quantity.

Lots and serials are up to 18 characters of A-Z and 0-9. Every error names its part as
``HIBC secondary: <part>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from suture.formats.udi.dates import full_year, julian_date, last_day_of_month
from suture.formats.udi.errors import UdiDecodeError

__all__ = ["SECONDARY", "Secondary", "parse_secondary"]

SECONDARY = "HIBC secondary"
_MAX_LOT = 18
_ALNUM = re.compile(r"[0-9A-Z]*")
_YYYYMMDD = re.compile(r"[0-9]{8}")
_QUANTITY = re.compile(r"[0-9]{1,7}")
# Date flag -> (layout of the digits, their count); "0"/"1" have no flag: MMYY starts there.
_DATE_LAYOUTS = {
    "2": ("MMDDYY", 6),
    "3": ("YYMMDD", 6),
    "4": ("YYMMDDHH", 8),
    "5": ("YYJJJ", 5),
    "6": ("YYJJJHH", 7),
}
_QUANTITY_DIGITS = {"8": 2, "9": 5}


@dataclass(frozen=True, slots=True)
class Secondary:
    """What secondary data says; every part is optional."""

    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    manufacture_date: date | None = None
    quantity: int | None = None


def parse_secondary(body: str, today: date) -> Secondary:
    """The parts of ``body``: secondary data without its leading '+' or '/', link and check."""
    first, *supplemental = body.split("/")
    if first.startswith("$$"):
        secondary = _dated(first[2:], today)
    elif first.startswith("$"):
        value = first[1:]
        secondary = (
            Secondary(serial=_identifier(value[1:], "serial"))
            if value.startswith("+")
            else Secondary(lot=_identifier(value, "lot"))
        )
    elif first[:1].isdigit():
        secondary = _julian_lot(first, today)
    else:
        raise UdiDecodeError(
            SECONDARY, f"must start with '$', '$$' or a Julian date YYJJJ, got {first[:3]!r}"
        )
    for field in supplemental:
        secondary = _supplement(secondary, field)
    return secondary


def _dated(rest: str, today: date) -> Secondary:
    """What follows ``$$``: optional '+' (serial), optional quantity, the date, lot or serial."""
    is_serial = rest.startswith("+")
    rest = rest[1:] if is_serial else rest
    quantity = None
    flag = rest[:1]
    if flag in _QUANTITY_DIGITS:
        digits = rest[1 : 1 + _QUANTITY_DIGITS[flag]]
        if len(digits) != _QUANTITY_DIGITS[flag] or not digits.isdigit():
            raise UdiDecodeError(
                f"{SECONDARY}: quantity",
                f"flag {flag!r} needs {_QUANTITY_DIGITS[flag]} digits, got {digits!r}",
            )
        quantity = int(digits)
        rest = rest[1 + len(digits) :]
        flag = rest[:1]
    expiry, rest = _expiry(flag, rest, today)
    kind = "serial" if is_serial else "lot"
    value = _identifier(rest, kind)
    return Secondary(
        lot=None if is_serial else value,
        serial=value if is_serial else None,
        expiry=expiry,
        quantity=quantity,
    )


def _expiry(flag: str, rest: str, today: date) -> tuple[date | None, str]:
    """The expiry a date flag announces, and what follows it."""
    part = f"{SECONDARY}: expiry"
    if flag in ("0", "1"):
        digits, rest = rest[:4], rest[4:]
        layout = "MMYY"
    elif flag in _DATE_LAYOUTS:
        layout, length = _DATE_LAYOUTS[flag]
        digits, rest = rest[1 : 1 + length], rest[1 + length :]
    elif flag == "7":
        return None, rest[1:]
    else:
        raise UdiDecodeError(
            f"{SECONDARY}: date format",
            f"flag {flag!r} after '$$' is not one of 0-9 (0/1 MMYY, 2 MMDDYY, 3 YYMMDD, "
            "4 YYMMDDHH, 5 YYJJJ, 6 YYJJJHH, 7 none, 8/9 quantity)"
            if flag
            else "date format flag missing after '$$' (and its quantity)",
        )
    if not (len(digits) == len(layout) and digits.isdigit()):
        raise UdiDecodeError(part, f"{layout} needs {len(layout)} digits, got {digits!r}")
    try:
        return _read_date(layout, digits, today), rest
    except ValueError:
        raise UdiDecodeError(part, f"{digits!r} is not a valid {layout} date") from None


def _read_date(layout: str, digits: str, today: date) -> date:
    if layout == "MMYY":
        return last_day_of_month(full_year(int(digits[2:]), today), int(digits[:2]))
    if layout.startswith("YYJJJ"):
        if layout == "YYJJJHH" and int(digits[5:]) > 23:
            raise ValueError("hour out of range")
        return julian_date(full_year(int(digits[:2]), today), int(digits[2:5]))
    if layout == "MMDDYY":
        year, month, day = int(digits[4:6]), int(digits[:2]), int(digits[2:4])
    else:  # YYMMDD, YYMMDDHH
        year, month, day = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
        if layout == "YYMMDDHH" and int(digits[6:]) > 23:
            raise ValueError("hour out of range")
    return date(full_year(year, today), month, day)


def _julian_lot(first: str, today: date) -> Secondary:
    """The original secondary format: the expiry as ``YYJJJ``, then the lot."""
    digits = first[:5]
    if not (len(digits) == 5 and digits.isdigit()):
        raise UdiDecodeError(f"{SECONDARY}: expiry", f"YYJJJ needs 5 digits, got {digits!r}")
    try:
        expiry = julian_date(full_year(int(digits[:2]), today), int(digits[2:]))
    except ValueError:
        raise UdiDecodeError(
            f"{SECONDARY}: expiry", f"{digits!r} is not a valid YYJJJ date"
        ) from None
    return Secondary(lot=_identifier(first[5:], "lot"), expiry=expiry)


def _identifier(value: str, kind: str) -> str | None:
    """A lot or serial: up to 18 of A-Z and 0-9; empty means none."""
    if len(value) > _MAX_LOT:
        raise UdiDecodeError(
            f"{SECONDARY}: {kind}", f"must be at most {_MAX_LOT} characters, got {len(value)}"
        )
    if not _ALNUM.fullmatch(value):
        bad = next(char for char in value if not ("0" <= char <= "9" or "A" <= char <= "Z"))
        raise UdiDecodeError(
            f"{SECONDARY}: {kind}", f"{value!r} has {bad!r}; only A-Z and 0-9 are allowed"
        )
    return value or None


def _supplement(secondary: Secondary, field: str) -> Secondary:
    """One ``/``-separated supplemental field added to ``secondary``."""
    if field.startswith(("14D", "16D")):
        kind = "expiry" if field.startswith("14D") else "manufacture date"
        when = _yyyymmdd(field[3:], f"{SECONDARY}: {kind}")
        current = secondary.expiry if kind == "expiry" else secondary.manufacture_date
        _require_no_conflict(current, when, kind)
        if kind == "expiry":
            return replace(secondary, expiry=when)
        return replace(secondary, manufacture_date=when)
    if field.startswith("S"):
        serial = _identifier(field[1:], "serial")
        _require_no_conflict(secondary.serial, serial, "serial")
        return replace(secondary, serial=serial)
    if field.startswith("Q"):
        if not _QUANTITY.fullmatch(field[1:]):
            raise UdiDecodeError(
                f"{SECONDARY}: quantity", f"'Q' needs 1 to 7 digits, got {field[1:]!r}"
            )
        _require_no_conflict(secondary.quantity, int(field[1:]), "quantity")
        return replace(secondary, quantity=int(field[1:]))
    raise UdiDecodeError(
        f"{SECONDARY}: supplemental data",
        f"{field!r} does not start with a known data identifier (S, Q, 14D, 16D)",
    )


def _yyyymmdd(digits: str, part: str) -> date:
    if not _YYYYMMDD.fullmatch(digits):
        raise UdiDecodeError(part, f"YYYYMMDD needs 8 digits, got {digits!r}")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise UdiDecodeError(part, f"{digits!r} is not a valid YYYYMMDD date") from None


def _require_no_conflict(current: object, new: object, kind: str) -> None:
    if current is not None and current != new:
        raise UdiDecodeError(
            f"{SECONDARY}: {kind}",
            f"given twice with different values {str(current)!r} and {str(new)!r}",
        )
