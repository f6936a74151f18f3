"""Typed access to the cells of one row, collecting every bad value rather than the first.

Decoders ask for canonical fields (``cells.date("contract_start")``); this module finds the
column through the profile, falls back to the profile's default for a blank cell, parses with
the profile's formats, and records a :class:`RowError` naming the column as the file spells it
for each value it cannot accept. :meth:`Cells.finish` raises them together, so a person fixes a
row in one pass instead of one error per import run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from suture.domain.errors import SutureError
from suture.domain.units import KNOWN_UOMS
from suture.formats.csv.errors import RowError
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row

_T = TypeVar("_T")
_AMOUNT = re.compile(r"\$?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)")
_MAX_WHOLE_DIGITS = 9
#: Amounts are stored exactly as NUMERIC(18, 4): at most 4 decimal places, 14 digits before them.
_MAX_PLACES = 4
_MAX_INTEGER_DIGITS = 14
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes kept by errors="surrogateescape"
#: A code or identifier (item number, lot, catalog number, visit) is at most 256 characters, a
#: text (a description, a name) at most 1,000: a longer cell is a broken export, and stored, a
#: key of thousands of characters breaks PostgreSQL's indexes (2,704 bytes a row at most).
MAX_CODE = 256
MAX_TEXT = 1000


class Cells:
    """One row seen through a profile; every accessor returns None for a blank or bad value."""

    def __init__(self, row: Row, profile: ColumnProfile) -> None:
        self.row = row
        self.profile = profile
        self.errors: list[RowError] = []
        self.reported: set[str] = set()  # columns with an error: not also "required but empty"
        if row.overflow:
            extra = ", ".join(repr(cell) for cell in row.overflow if cell.strip())
            self.errors.append(
                RowError(
                    row.line_number,
                    "",
                    f"more cells than the header has (extra {extra}); "
                    "is a delimiter inside a value not quoted?",
                )
            )

    def column(self, name: str) -> str:
        """The header of a canonical field, or the field name when only a default supplies it."""
        return self.profile.columns.get(name, name)

    def fail(self, column: str, reason: str) -> None:
        """Record a problem once, however many accessors read the same bad cell."""
        if not any(e.column == column and e.reason == reason for e in self.errors):
            self.errors.append(RowError(self.row.line_number, column, reason))
        self.reported.add(column)

    def finish(self) -> None:
        """Raise every problem recorded so far as one :class:`RowError`, in column order; for
        a row the file ends inside (``Row.cut_short``), that alone: the rest follows from it."""
        row = self.row
        if row.cut_short:
            reason = (
                f"the file ends inside this row, after {row.cells} of the header's "
                f"{len(row.values)} cells and without a line break: was the file cut short?"
            )
            raise RowError(row.line_number, "", reason)
        if self.errors:
            order = {header: index for index, header in enumerate(self.row.values, start=1)}
            raise RowError.of(sorted(self.errors, key=lambda e: order.get(e.column, len(order))))

    def cell(self, header: str) -> str:
        """The stripped cell under ``header``; undecodable bytes are recorded as an error."""
        value = self.row.values.get(header, "").strip()
        if "\x00" in value:
            self.fail(header, "contains a NUL character; is the file in another encoding?")
            return ""
        if _UNDECODED.search(value):
            encoding = self.profile.encoding
            self.fail(header, f"has bytes that are not {encoding}; set encoding: in the profile")
            return ""
        return value

    def raw(self, name: str) -> str:
        header = self.profile.columns.get(name)
        value = self.cell(header) if header is not None else ""
        return value or self.profile.defaults.get(name, "")

    def text(self, name: str, *, required: bool = False, free: bool = False) -> str | None:
        """A non-blank cell: a code or identifier, or a free text (``free``); see MAX_CODE."""
        value = self.raw(name)
        if not value:
            if required and self.column(name) not in self.reported:
                self.fail(self.column(name), "is required but empty")
            return None
        if len(value) > MAX_CODE:
            limit, what = (MAX_TEXT, "a text") if free else (MAX_CODE, "a code or identifier")
            if len(value) > limit:
                reason = f"is {len(value)} characters long; {what} is at most {limit}"
                self.fail(self.column(name), reason)
                return None
        return value

    def parse(
        self, name: str, parse: Callable[[str, str], _T], *, required: bool = False
    ) -> _T | None:
        """``parse(value, column)`` of a non-blank cell; its SutureError becomes a row error."""
        value = self.text(name, required=required)
        return None if value is None else self.convert(self.column(name), value, parse)

    def convert(self, column: str, value: str, parse: Callable[[str, str], _T]) -> _T | None:
        try:
            return parse(value, column)
        except SutureError as error:
            self.fail(column, error.reason)
            return None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name).upper()
        if not value:
            return default
        if value in self.profile.true_values:
            return True
        if value in self.profile.false_values:
            return False
        allowed = ", ".join(sorted(self.profile.true_values | self.profile.false_values))
        self.fail(
            self.column(name),
            f"{self.raw(name)!r} is not a yes/no value; expected one of {allowed}",
        )
        return default

    def amount(self, value: str, column: str) -> Decimal:
        """A non-negative amount: "1234.5", "$1,234.50", or "1.234,50" with decimal_comma."""
        text = value.replace(" ", "")
        if self.profile.decimal_comma:
            text = text.replace(".", "\0").replace(",", ".").replace("\0", ",")
        if text.startswith("-"):
            raise SutureError(column, f"must not be negative, got {value!r}")
        if not _AMOUNT.fullmatch(text):
            style = "1.234,56" if self.profile.decimal_comma else "1234.56 or 1,234.56"
            raise SutureError(column, f"{value!r} is not an amount like {style}")
        whole, _, places = text.lstrip("$").replace(",", "").partition(".")
        if len(places) > _MAX_PLACES:
            raise SutureError(column, f"{value!r} has more than {_MAX_PLACES} decimal places")
        if len(whole.lstrip("0")) > _MAX_INTEGER_DIGITS:
            raise SutureError(column, f"{value!r} is too large for an amount")
        try:
            return Decimal(f"{whole or 0}.{places}" if places else whole)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise SutureError(column, f"{value!r} is not an amount") from None

    def date(self, value: str, column: str) -> date:
        fmt = self.profile.date_format
        try:
            return datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            raise SutureError(column, f"{value!r} is not a date in the format {fmt}") from None

    def uom(self, value: str, column: str) -> str:
        unit = value.upper()
        unit = self.profile.uom_aliases.get(unit, unit)
        if unit not in KNOWN_UOMS:
            known = ", ".join(sorted(KNOWN_UOMS))
            raise SutureError(column, f"unknown unit of measure {value!r}; known: {known}")
        return unit

    def whole(self, value: str, column: str) -> int:
        """A whole number of at least 1 (eaches per packaging unit)."""
        digits = value.isascii() and value.isdecimal() and len(value) <= _MAX_WHOLE_DIGITS
        if not digits or int(value) < 1:
            raise SutureError(column, f"must be a whole number of at least 1, got {value!r}")
        return int(value)
