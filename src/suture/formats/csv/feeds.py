"""What the usage and charge feeds share: patient identifiers tokenized at the first read, times
in the profile's zone returned in UTC, signed numbers as billing systems write them, and row
errors that never quote a cell.

Why no error quotes a cell: these rows name patients. A medical record number, a visit or case
number is handed to the caller's ``tokenize`` (a keyed hash whose secret the codec never sees,
DESIGN.md §6) and only the token is kept. But in a row whose delimiters are off (an unquoted
comma in a description, a missing cell) any column may hold an identifier, and a date of
service is PHI too; so a feed's :class:`~suture.formats.csv.errors.RowError` names the line, the
column as the file spells it, and the reason, with an example of the expected form, never the
value. As a second guard, the identifier values read from a row are removed from its errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from hashlib import blake2b

from suture.domain.errors import SutureError
from suture.domain.identifiers import validate_gtin
from suture.domain.units import KNOWN_UOMS
from suture.formats.csv.cells import Cells
from suture.formats.csv.errors import RowError
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row

#: Turns a patient identifier into a token; supplied by the caller (a keyed hash).
Tokenize = Callable[[str], str]

# 1234 | 1,234 | 1234.5 | .5, then the sign forms of billing exports: -12.50, (12.50), 12.50-
_NUMBER = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+")
_MAX_PLACES = 4  # amounts are stored as NUMERIC(18, 4)
_MAX_INTEGER_DIGITS = 14
_SEPARATOR = "\x1f"  # ASCII unit separator: never part of a cell the keys are made of
_REDACTED = "[identifier]"
_PROBE = datetime(2024, 1, 31, 13, 45, tzinfo=UTC)


def feed_id_for(prefix: str, *parts: str) -> str:
    """``prefix-`` and 20 hex digits derived from a row's natural key ``parts``.

    BLAKE2b with a personalisation per prefix; neither may ever change, as every stored id
    depends on them. The parts hold tokens, never identifiers.
    """
    key = _SEPARATOR.join(parts).encode("utf-8", "surrogatepass")
    person = f"suture.csv.{prefix.lower()}".encode()
    return f"{prefix}-" + blake2b(key, digest_size=10, person=person).hexdigest().upper()


class FeedCells(Cells):
    """:class:`Cells` for feed rows: identifiers come back as tokens, and no error quotes a cell."""

    def __init__(self, row: Row, profile: ColumnProfile, tokenize: Tokenize) -> None:
        super().__init__(replace(row, overflow=()) if row.overflow else row, profile)
        self.tokenize = tokenize
        self.secrets: list[str] = []
        self.overflow: RowError | None = None
        if row.overflow:  # listed last, after the cells it has shifted
            extra = sum(1 for cell in row.overflow if cell.strip())
            cells = f"{extra} more non-empty cell{'' if extra == 1 else 's'}"
            self.overflow = RowError(
                row.line_number,
                "",
                f"{cells} than the header has; is a delimiter inside a value not quoted?",
            )

    def cell(self, header: str) -> str:
        """As :meth:`Cells.cell`, with a fast path for the usual plain ASCII cell."""
        value = self.row.values.get(header, "").strip()
        if value.isascii() and "\x00" not in value:
            return value
        return super().cell(header)

    def raw(self, name: str) -> str:
        """As :meth:`Cells.raw`, one call shorter: it runs for every field of every row."""
        header = self.profile.columns.get(name)
        if header is not None:
            value = self.row.values.get(header, "").strip()
            if not value.isascii() or "\x00" in value:
                value = super().cell(header)
            if value:
                return value
        return self.profile.defaults.get(name, "")

    def token(self, name: str, *, required: bool = False) -> str | None:
        """The token of a patient identifier cell; the identifier itself is not kept."""
        value = self.text(name, required=required)
        if value is None:
            return None
        self.secrets.append(value)
        return self.tokenize(value)

    def finish(self) -> None:
        """Raise the row's errors, with any identifier read from the row removed from them."""
        if self.overflow is not None:
            self.errors.append(self.overflow)
            self.overflow = None
        if self.errors and self.secrets:
            self.errors = [_redacted(error, self.secrets) for error in self.errors]
        super().finish()

    def time(self, value: str, column: str) -> datetime:
        """A date-time in the profile's ``time_format`` (or a date in its ``date_format``, read
        as the start of that day), in the profile's zone unless it carries an offset; in UTC.

        A wall time skipped or repeated by a daylight-saving change reads with ``fold=0``.
        """
        profile = self.profile
        found = _time(value, profile.time_format, profile.date_format, profile.time_zone)
        if found is None:
            example = _PROBE.strftime(profile.time_format)
            raise SutureError(column, f"is not a date and time like {example!r} (or a date alone)")
        return found

    def day(self, value: str, column: str) -> date:
        """A calendar date in the profile's ``date_format`` (an expiry: no zone applies)."""
        found = _day(value, self.profile.date_format)
        if found is None:
            example = _PROBE.strftime(self.profile.date_format)
            raise SutureError(column, f"is not a date like {example!r}")
        return found

    def number(self, value: str, column: str) -> Decimal:
        """A decimal as billing exports write it: "1,234.50", "$12", and negatives as "-12.50",
        "(12.50)" or "12.50-"; with ``decimal_comma``, "1.234,50"."""
        text = value.replace(" ", "")
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1]
        elif text.startswith("-") or text.endswith("-"):
            negative, text = True, text[1:] if text.startswith("-") else text[:-1]
        elif text.startswith("+"):
            text = text[1:]
        text = text.removeprefix("$")
        if self.profile.decimal_comma:
            text = text.replace(".", "\0").replace(",", ".").replace("\0", ",")
        if not _NUMBER.fullmatch(text):
            style = "1.234,56" if self.profile.decimal_comma else "1234.56 or 1,234.56"
            raise SutureError(column, f"is not a number like {style}")
        whole, _, places = text.replace(",", "").partition(".")
        if len(places) > _MAX_PLACES:
            raise SutureError(column, f"has more than {_MAX_PLACES} decimal places")
        if len(whole.lstrip("0")) > _MAX_INTEGER_DIGITS:
            raise SutureError(column, "is too large")
        number = Decimal(f"{whole or 0}.{places}" if places else whole)
        return -number if negative else number

    def positive(self, value: str, column: str) -> Decimal:
        number = self.number(value, column)
        if number <= 0:
            raise SutureError(column, "must be more than 0")
        return number

    def unit(self, value: str, column: str) -> str:
        unit = value.upper()
        unit = self.profile.uom_aliases.get(unit, unit)
        if unit not in KNOWN_UOMS:
            raise SutureError(
                column, f"is not a known unit of measure; known: {', '.join(sorted(KNOWN_UOMS))}"
            )
        return unit

    def gtin(self, value: str, column: str) -> str:
        """A GTIN-8/12/13/14 with a right check digit, as GTIN-14 (GS1 Gen Specs §7.9)."""
        try:
            return validate_gtin(value, column)
        except SutureError as error:  # its reasons quote at most one character
            raise SutureError(column, f"is not a GTIN: {error.reason}") from None


# strptime costs microseconds a call, and a feed repeats its times (every item of a case) and
# expiry dates: bounded caches keep the memory constant and skip most of the parsing.
@lru_cache(maxsize=1024)
def _time(value: str, time_format: str, date_format: str, zone: tzinfo) -> datetime | None:
    try:
        found = datetime.strptime(value, time_format)  # noqa: DTZ007 - zoned below
    except ValueError:
        try:
            found = datetime.strptime(value, date_format)  # noqa: DTZ007 - zoned below
        except ValueError:
            return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=zone)
    return found.astimezone(UTC)


@lru_cache(maxsize=1024)
def _day(value: str, date_format: str) -> date | None:
    try:
        return datetime.strptime(value, date_format).date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        return None


def _redacted(error: RowError, secrets: list[str]) -> RowError:
    reason = error.reason
    for secret in secrets:
        reason = reason.replace(secret, _REDACTED)
    return error if reason == error.reason else RowError(error.line, error.column, reason)
