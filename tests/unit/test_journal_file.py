"""The journal CSV the file ERP gateway takes (``services/workflows/journal_file.py``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from suture.domain.ledger import JournalEntry, JournalLine
from suture.services.workflows.journal_file import journal_csv, journal_csvs


def entry(usage: str, memo: str = "usage item") -> JournalEntry:
    return JournalEntry(
        id=f"JE-{usage}", facility_id="F1", posting_date=date(2026, 1, 2),
        reference=f"USAGE-{usage}",
        lines=[
            JournalLine(gl_account_id="GL-5100", debit=Decimal("12.50"), cost_center_id="CC1",
                        memo=memo),
            JournalLine(gl_account_id="GL-1400", credit=Decimal("12.5"), memo=memo),
        ],
    )  # fmt: skip


HEADER = "journal_id,facility_id,posting_date,reference,line,gl_account_id,cost_center_id,debit,credit,memo\n"  # noqa: E501


def test_each_line_is_a_row_under_the_header_quoted_where_csv_needs_it() -> None:
    assert journal_csv(entry("U1", 'a "memo", with\nbreak')) == HEADER + (
        'JE-U1,F1,2026-01-02,USAGE-U1,1,GL-5100,CC1,12.50,0,"a ""memo"", with\nbreak"\n'
        'JE-U1,F1,2026-01-02,USAGE-U1,2,GL-1400,,0,12.5,"a ""memo"", with\nbreak"\n'
    )


def test_a_batch_gives_each_entry_its_own_text_with_its_own_header() -> None:
    entries = [entry("U1"), entry("U2", "x,y"), entry("U3")]

    texts = journal_csvs(entries)

    assert texts == [journal_csv(e) for e in entries]
    assert [text.count("\n") for text in texts] == [3, 3, 3]
    assert texts[1].splitlines()[1] == 'JE-U2,F1,2026-01-02,USAGE-U2,1,GL-5100,CC1,12.50,0,"x,y"'
