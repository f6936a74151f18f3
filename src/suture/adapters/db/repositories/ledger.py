"""The journal-entry repository: balanced entries with their debit and credit lines."""

from __future__ import annotations

from suture.adapters.db import tables as t
from suture.adapters.db.repositories.base import AggregateRepository, Lines, Row, Values
from suture.domain.ledger import JournalEntry, JournalLine


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
