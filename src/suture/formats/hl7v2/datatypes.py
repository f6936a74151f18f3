"""HL7 v2 primitive data types the decoders need: TS/DTM times and NM numbers (v2.5.1 §2A).

Both return canonical Python values (tz-aware UTC datetimes, Decimals: STYLE.md habit 15) or
``None`` for text that is not of the type; the caller raises the field-level error, because only
it knows the field and whether the value may be quoted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Final

# YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ] (v2.5.1 §2A.3.22 DTM; TS.1 is a DTM)
_TIME: Final = re.compile(
    r"(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,6})\d*)?)?)?)?)?)?"
    r"(?:([+-])(\d{2})(\d{2}))?"
)
SIGNS: Final = ("+", "-")  # NM: an optional sign, digits with an optional point (v2.5.1 §2A.3.47)
_MAX_OFFSET_MINUTES: Final = 14 * 60
# the plain shapes: YYYYMMDD, YYYYMMDDHHMM, YYYYMMDDHHMMSS
_DATE: Final = 8
_MINUTES: Final = 12
_SECONDS: Final = 14


#: Times already read, per zone: MSH-7 and FT1-4 repeat (the FT1 of a day, a batch's
#: messages). A plain dict, emptied when full: a look-up costs a quarter of ``lru_cache``'s.
_TIMES: Final[dict[tzinfo, dict[str, datetime]]] = {}
_CACHED_TIMES: Final = 4096
_CACHED_ZONES: Final = 64


def parse_time(text: str, zone: tzinfo) -> datetime | None:
    """A TS/DTM value as an aware UTC datetime; with no offset it is read in ``zone``.

    Missing parts take their first value (``2008`` is 2008-01-01T00:00 in ``zone``).
    """
    times = _TIMES.get(zone)
    if times is None:
        if len(_TIMES) >= _CACHED_ZONES:
            _TIMES.clear()
        times = _TIMES[zone] = {}
    found = times.get(text)
    if found is None:
        found = _parse_time(text, zone)
        if found is not None:
            if len(times) >= _CACHED_TIMES:
                times.clear()
            times[text] = found
    return found


def _parse_time(text: str, zone: tzinfo) -> datetime | None:
    size = len(text)
    if (size in {_SECONDS, _MINUTES, _DATE}) and text.isdigit() and text.isascii():
        # the common shapes, without the expression: one int, split by arithmetic
        stamp = int(text)
        if size == _DATE:
            stamp *= 1_000_000
        elif size == _MINUTES:
            stamp *= 100
        try:
            return datetime(
                stamp // 10_000_000_000,
                stamp // 100_000_000 % 100,
                stamp // 1_000_000 % 100,
                stamp // 10_000 % 100,
                stamp // 100 % 100,
                stamp % 100,
                0,
                zone,
            ).astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    found = _TIME.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = found.groups()
    try:
        if sign:
            offset = int(off_h) * 60 + int(off_m)
            if offset > _MAX_OFFSET_MINUTES or int(off_m) >= 60:
                return None
            zone = timezone(timedelta(minutes=-offset if sign == "-" else offset))
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


#: ``"0"`` to ``"99"`` as shared Decimals: quantities, mostly.
SMALL_NUMBERS: Final = {str(n): Decimal(n) for n in range(100)}


def parse_number(text: str) -> Decimal | None:
    """An NM value as a Decimal, or None when it is not one (no exponents, NaN or commas)."""
    small = SMALL_NUMBERS.get(text)
    if small is not None:  # Decimals are immutable: one instance serves every caller
        return small
    return Decimal(text) if is_number(text) else None


_ZERO_CODE: Final = ord("0")
_NINE_CODE: Final = ord("9")
_POINT_CODE: Final = ord(".")
_SIGN_CODES: Final = (ord("+"), ord("-"))


def is_number(text: str) -> bool:
    """Whether ``text`` is an NM: an optional sign, ASCII digits and at most one point, at
    least one digit (no exponent, blank, ``_`` or non-ASCII digit, which ``Decimal`` takes).

    One pass over the characters: under mypyc each is a C integer, cheaper than the
    ``isascii``/``replace``/``isdigit`` calls it replaces (pure Python pays a little more)."""
    digits = False
    point = False
    for index in range(len(text)):
        code = ord(text[index])
        if _ZERO_CODE <= code <= _NINE_CODE:
            digits = True
        elif code == _POINT_CODE and not point:
            point = True
        elif index or code not in _SIGN_CODES:
            return False
    return digits
