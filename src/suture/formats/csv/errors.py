"""Errors of the CSV master-data codec, each naming where the problem is and why.

A flat file fails in three ways, and each needs a different reaction from the caller::

    SutureError
    └── CsvError
        ├── ProfileError     the column profile (YAML) is wrong: file, line, key, reason;
        │                    nothing can be read until it is fixed
        ├── CsvFileError     the data file as a whole cannot be read: its header lacks a mapped
        │                    column, it is not in the declared encoding, a field never ends
        └── RowError         one row has bad values: line, column, reason; the rows around it
                             are still imported

A row with several bad cells raises one :class:`RowError` for its first problem whose
:attr:`RowError.errors` lists every problem of the row, so a person fixes the row in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from suture.domain.errors import SutureError


class CsvError(SutureError):
    """Root of the CSV codec's errors."""


class ProfileError(CsvError):
    """The column profile is invalid; ``field`` is the dotted key (``columns.description``)."""

    def __init__(self, source: str, key: str, reason: str, line: int | None = None) -> None:
        super().__init__(key, reason)
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.source}, line {self.line}" if self.line else self.source
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class CsvFileError(CsvError):
    """The file cannot be read as a whole; ``line`` is where reading stopped, when known."""

    def __init__(self, field: str, reason: str, line: int | None = None) -> None:
        super().__init__(field, reason)
        self.line = line

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.reason}" if self.field else f"{where}{self.reason}"


class RowError(CsvError):
    """A bad value in one row: the physical line the row starts on, the CSV column, the reason.

    ``column`` is the header as the file spells it (also available as ``field``), or ``""``
    when the problem is the row as a whole. ``errors`` holds every problem found in the row,
    this one first.
    """

    def __init__(
        self, line: int, column: str, reason: str, *, also: Sequence[RowError] = ()
    ) -> None:
        super().__init__(column, reason)
        self.line = line
        self.column = column
        self.errors: tuple[RowError, ...] = (self, *also)

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column!r}" if self.column else f"line {self.line}"
        return f"{where}: {self.reason}"

    @classmethod
    def of(cls, errors: Sequence[RowError]) -> RowError:
        """One error carrying every problem of a row; ``errors`` must not be empty."""
        first, *rest = errors
        return cls(first.line, first.column, first.reason, also=rest)
