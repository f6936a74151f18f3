"""A journal entry as the file ERP gateway takes it: one CSV line per journal line.

The embedded default delivers the ``erp`` target as files (``adapters/file_drop.py``, one file
per delivery named after its idempotency key); ERPs that take batch loads read these. Columns:
``journal_id, facility_id, posting_date, reference, line, gl_account_id, cost_center_id,
debit, credit, memo``; amounts as plain decimals, never floats or exponents.
"""

from __future__ import annotations

import csv
import io

from suture.domain.ledger import JournalEntry

HEADER = (
    "journal_id", "facility_id", "posting_date", "reference", "line", "gl_account_id",
    "cost_center_id", "debit", "credit", "memo",
)  # fmt: skip


def journal_csv(entry: JournalEntry) -> str:
    """The entry as CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for number, line in enumerate(entry.lines, start=1):
        writer.writerow((
            entry.id, entry.facility_id, entry.posting_date.isoformat(), entry.reference, number,
            line.gl_account_id, line.cost_center_id or "", f"{line.debit:f}", f"{line.credit:f}",
            line.memo,
        ))  # fmt: skip
    return out.getvalue()
