"""A journal entry as the file ERP gateway takes it: one CSV line per journal line.

The embedded default delivers the ``erp`` target as files (``adapters/file_drop.py``, one file
per delivery named after its idempotency key); ERPs that take batch loads read these. Columns:
``journal_id, facility_id, posting_date, reference, line, gl_account_id, cost_center_id,
debit, credit, memo``; amounts as plain decimals, never floats or exponents.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

from suture.domain.ledger import JournalEntry

HEADER = (
    "journal_id", "facility_id", "posting_date", "reference", "line", "gl_account_id",
    "cost_center_id", "debit", "credit", "memo",
)  # fmt: skip


class _Lines:
    """What a ``csv.writer`` writes to: the text of each row, kept in a list."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


def journal_csv(entry: JournalEntry) -> str:
    """The entry as CSV text with a header row."""
    return journal_csvs([entry])[0]


def journal_csvs(entries: Iterable[JournalEntry]) -> list[str]:
    """:func:`journal_csv` of each entry, with one writer for them all (a workflow step's
    batch): the same text, row by row, as one writer per entry would give."""
    out = _Lines()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    header = out.parts.pop()
    texts = []
    for entry in entries:
        head = (entry.id, entry.facility_id, entry.posting_date.isoformat(), entry.reference)
        writer.writerows(
            (*head, number, line.gl_account_id, line.cost_center_id or "", f"{line.debit:f}",
             f"{line.credit:f}", line.memo)
            for number, line in enumerate(entry.lines, start=1)
        )  # fmt: skip
        texts.append(header + "".join(out.parts))
        out.parts.clear()
    return texts
