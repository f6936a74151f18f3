"""Reading a delimited file row by row, in constant memory, with the lines a person can find.

Rows are yielded one at a time from the ``csv`` module, never collected, so a million-row item
master costs what one row costs. Each row carries the physical line it starts on, counted as an
editor counts, even when a quoted field spans several lines; that is the line an error names.

The header is checked before the first row is read: a column the profile maps but the file
lacks is a file-level error (:class:`CsvFileError`) naming the column and listing the header,
because every row would otherwise fail the same way. A byte-order mark is dropped, surrounding
spaces in header names are ignored, and blank lines (or lines of empty cells, as spreadsheets
export) are skipped. A short row reads its missing trailing cells as empty; a row with more
non-empty cells than the header is kept for the decoder to reject, as an unquoted delimiter
inside a value ("Gauze, 4x4") shifts every later column. A short row that the file ends inside,
with no line break after it, is what a file cut short in transfer looks like (its last value
cut too: an amount of "42" for "4250.00"): it is marked ``cut_short`` for the decoder to reject.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from suture.formats.csv.errors import CsvFileError
from suture.formats.csv.profile import ColumnProfile

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: the line it starts on and its cells by header (as the file spells it);
    ``cut_short`` when it has fewer cells than the header and the file ends inside it."""

    line_number: int
    values: dict[str, str]
    overflow: tuple[str, ...] = ()
    cut_short: bool = False
    cells: int = 0  # how many cells the file gave, when cut_short


def read_rows(stream: TextIO, profile: ColumnProfile) -> Iterator[Row]:
    """Check the header now and return an iterator over the data rows.

    ``stream`` should be opened with ``newline=""`` (as the ``csv`` module asks) so that line
    breaks inside quoted fields survive. Raises :class:`CsvFileError` for a bad header here, and
    while iterating for undecodable bytes or a malformed record (usually an unclosed quote).
    """
    records = _Records(stream, profile)
    header = _header(records, profile)
    return _rows(records, header)


class _End:
    """An iterator of no lines that remembers being asked: chained after the stream, it tells
    that the ``csv`` module read to the end of the file while building a record."""

    def __init__(self) -> None:
        self.reached = False

    def __iter__(self) -> _End:
        return self

    def __next__(self) -> str:
        self.reached = True
        raise StopIteration


class _Records:
    """``csv.reader`` with the start line of each record and errors mapped to CsvFileError.

    A record the reader completes only because the file ended is one whose quote never closed
    (the ``csv`` module returns it, the rest of the file folded into one cell): refused like
    any malformed record, so the rows it swallowed are not lost without a word.
    """

    def __init__(self, stream: TextIO, profile: ColumnProfile) -> None:
        self._end = _End()
        self.last_line = ""
        self.reader = csv.reader(
            itertools.chain(self._lines(stream), self._end),
            delimiter=profile.delimiter,
            quotechar=profile.quotechar,
        )
        self.encoding = getattr(stream, "encoding", None) or profile.encoding

    def _lines(self, stream: TextIO) -> Iterator[str]:
        for line in stream:
            self.last_line = line
            yield line

    @property
    def unterminated(self) -> bool:
        """Whether the last line read has no line break: the file ended inside it."""
        return not self.last_line.endswith(("\n", "\r"))

    def next(self) -> tuple[int, list[str]] | None:
        start = self.reader.line_num + 1
        try:
            record = next(self.reader)
        except StopIteration:
            return None
        except UnicodeDecodeError as error:
            reason = (
                f"not valid {self.encoding}: byte {error.object[error.start]:#04x} ({error.reason})"
            )
            raise CsvFileError("encoding", reason, self.reader.line_num + 1) from None
        except csv.Error as error:
            reason = f"malformed CSV in the record starting here ({error}); is a quote unclosed?"
            raise CsvFileError("", reason, start) from None
        if self._end.reached:
            reason = (
                "malformed CSV in the record starting here (a quoted value runs to the end of "
                f"the file, line {self.reader.line_num}); is a quote unclosed?"
            )
            raise CsvFileError("", reason, start)
        return start, record


def _header(records: _Records, profile: ColumnProfile) -> list[str]:
    while (record := records.next()) is not None:
        line, cells = record
        if _is_blank(cells):
            continue
        header = [cell.strip() for cell in cells]
        header[0] = header[0].removeprefix(_BOM).strip()
        _check_header(header, profile, line)
        return header
    raise CsvFileError("", "the file is empty: expected a header line")


def _check_header(header: list[str], profile: ColumnProfile, line: int) -> None:
    present = set(header)
    missing = [name for name in profile.headers if name not in present]
    if missing:
        folded = {name.casefold(): name for name in header}
        hints = [
            f"{name!r} (the file has {folded[name.casefold()]!r})"
            if name.casefold() in folded
            else repr(name)
            for name in missing
        ]
        listed = ", ".join(repr(name) for name in header if name)
        noun = "column" if len(missing) == 1 else "columns"
        reason = (
            f"missing {noun} {', '.join(hints)} named in {profile.source}; the header has {listed}"
        )
        if any("\x00" in name for name in header):  # "Unicode text" from a spreadsheet
            reason += (
                f"; it holds NUL characters, so the file is likely UTF-16, not "
                f"{profile.encoding}: set encoding: utf-16 in the profile"
            )
        raise CsvFileError(missing[0], reason, line)
    for name in profile.headers:
        if header.count(name) > 1:
            raise CsvFileError(name, "appears more than once in the header", line)


def _rows(records: _Records, header: list[str]) -> Iterator[Row]:
    width = len(header)
    while (record := records.next()) is not None:
        line, cells = record
        if _is_blank(cells):
            continue
        extra = tuple(cells[width:])
        overflow = extra if any(cell.strip() for cell in extra) else ()
        given = len(cells)
        cut = given < width and records.unterminated
        cells = cells[:width] + [""] * (width - given)
        yield Row(line, dict(zip(header, cells, strict=True)), overflow, cut, given if cut else 0)


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)
