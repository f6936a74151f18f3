"""The journal-entry repository: balanced entries with their debit and credit lines."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from suture.adapters.db import tables as t
from suture.adapters.db.bulk import delete_in, insert_rows
from suture.adapters.db.errors import storage_errors
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.domain.ledger import JournalEntry, JournalLine

_ENTRY = ("id", "facility_id", "posting_date", "reference", "source_system")
_LINE = (
    "journal_entry_id",
    "position",
    "gl_account_id",
    "debit",
    "credit",
    "cost_center_id",
    "memo",
)
_entry_values = attrgetter(*_ENTRY)


class JournalEntryRepository(AggregateRepository[JournalEntry]):
    table = t.journal_entries
    date_column = "posting_date"
    number_column = "reference"
    lines = (Lines(t.journal_lines, "journal_entry_id"),)

    def to_row(self, obj: JournalEntry) -> Values:
        return {
            "id": obj.id,
            "facility_id": obj.facility_id,
            "posting_date": obj.posting_date,
            "reference": obj.reference,
            "source_system": obj.source_system,
        }

    def to_lines(self, obj: JournalEntry) -> tuple[list[Values], ...]:
        return (
            [
                {
                    "gl_account_id": line.gl_account_id,
                    "debit": line.debit,
                    "credit": line.credit,
                    "cost_center_id": line.cost_center_id,
                    "memo": line.memo,
                }
                for line in obj.lines
            ],
        )

    def _write(self, objs: Sequence[JournalEntry]) -> None:
        """As the generic write (upsert the entries, replace their lines), with the rows built
        as tuples straight from the entries: the cost step writes one entry per usage."""
        connection = self._connection
        lines = [
            (entry.id, position, line.gl_account_id, line.debit, line.credit,
             line.cost_center_id, line.memo)
            for entry in objs
            for position, line in enumerate(entry.lines)
        ]  # fmt: skip
        with storage_errors(self.table.name):
            insert_rows(
                connection, self.table, _ENTRY, [_entry_values(entry) for entry in objs],
                conflict="update", keys=("id",),
            )  # fmt: skip
            delete_in(connection, t.journal_lines, "journal_entry_id", [e.id for e in objs])
            insert_rows(connection, t.journal_lines, _LINE, lines)

    def from_row(self, row: Row, lines: tuple[list[Row], ...]) -> JournalEntry:
        return JournalEntry(
            id=row.id,
            facility_id=row.facility_id,
            posting_date=row.posting_date,
            reference=row.reference,
            lines=[
                JournalLine(
                    gl_account_id=line.gl_account_id,
                    debit=line.debit,
                    credit=line.credit,
                    cost_center_id=line.cost_center_id,
                    memo=line.memo,
                )
                for line in lines[0]
            ],
            source_system=row.source_system,
        )
