"""Decoding a chargemaster row into a :class:`~suture.domain.reconciliation.ChargemasterPrice`.

The charge description master (DESIGN.md §2) as the revenue cycle exports its price list: one
row per CDM code, facility and price period. Row shape (canonical fields; the built-in
profile's headers in brackets): facility_id ["Facility"], cdm_code ["CDM Code"], unit_price
["Price"] and effective_from ["Effective From"] are required; effective_to ["Effective To"]
and description ["Description"] are optional. Reconciliation prices a missed charge with the
price in effect on the day of use (revenue at risk).
"""

from __future__ import annotations

from suture.domain.errors import DomainError
from suture.domain.reconciliation import ChargemasterPrice
from suture.formats.csv.cells import Cells
from suture.formats.csv.errors import RowError
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row


def decode_chargemaster_price(row: Row, profile: ColumnProfile) -> ChargemasterPrice:
    """The price of one row; raises :class:`RowError` listing every bad cell of the row."""
    cells = Cells(row, profile)
    facility_id = cells.text("facility_id", required=True)
    cdm_code = cells.text("cdm_code", required=True)
    unit_price = cells.parse("unit_price", cells.amount, required=True)
    start = cells.parse("effective_from", cells.date, required=True)
    end = cells.parse("effective_to", cells.date)
    if start is not None and end is not None and end < start:
        cells.fail(cells.column("effective_to"), f"{end.isoformat()} is before {start.isoformat()}")
    description = cells.text("description", free=True)
    cells.finish()
    if facility_id is None or cdm_code is None or unit_price is None or start is None:
        raise RowError(row.line_number, "", "incomplete row")  # pragma: no cover - finish raised
    try:
        return ChargemasterPrice(
            facility_id=facility_id, cdm_code=cdm_code, effective_from=start,
            effective_to=end, unit_price=unit_price, description=description,
        )  # fmt: skip
    except DomainError as error:  # the model's own checks, should they grow beyond ours
        raise RowError(row.line_number, cells.column(error.field), error.reason) from None
