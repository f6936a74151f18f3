"""Decoding a vendor-master row into a :class:`~suture.domain.masterdata.Supplier`.

Row shape (canonical fields; the built-in profile's headers in brackets): vendor_number
["Vendor Number"] and name ["Vendor Name"] are required; id, gln ["GLN"], hin ["HIN"], the
remit-to address (remit_line1, remit_city, remit_state, remit_postal_code, remit_country:
["Remit Address", "Remit City", "Remit State", "Remit Zip", "Remit Country"]), payment_terms
["Terms"] and active ["Active Y/N"] are optional. An address is all or nothing: a remit-to
city without a street would send a cheque nowhere.

Without an ``id`` column the supplier id is derived from the vendor number
(:func:`~suture.formats.csv.keys.supplier_id_for`). The vendor number is also the supplier's
``erp_vendor_id``, by which item and contract rows naming it find the supplier.
"""

from __future__ import annotations

import re

from suture.domain.errors import SutureError
from suture.domain.identifiers import validate_gln
from suture.domain.masterdata import Address, Supplier
from suture.formats.csv.cells import Cells
from suture.formats.csv.keys import supplier_id_for
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row

_ADDRESS = ("remit_line1", "remit_city", "remit_state", "remit_postal_code")
_HIN = re.compile(r"[A-Z0-9]{7}(?:[A-Z0-9]{2})?")
_US_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")
_COUNTRY = re.compile(r"[A-Z]{2}")


def decode_supplier(row: Row, profile: ColumnProfile) -> Supplier:
    """The supplier of one row; raises :class:`RowError` listing every bad cell of the row."""
    cells = Cells(row, profile)
    supplier_id = cells.text("id", required=True) if profile.is_mapped("id") else None
    vendor_number = cells.text("vendor_number", required=True)
    supplier = Supplier(
        id=supplier_id or supplier_id_for(vendor_number or ""),
        name=cells.text("name", required=True, free=True) or "",
        erp_vendor_id=vendor_number,
        gln=cells.parse("gln", validate_gln),
        hin=cells.parse("hin", _hin),
        remit_to=_address(cells),
        payment_terms=cells.text("payment_terms") or "NET30",
        active=cells.boolean("active", default=True),
        source_system=profile.source_system or "suture",
    )
    cells.finish()
    return supplier


def _address(cells: Cells) -> Address | None:
    if not any(cells.raw(name) for name in _ADDRESS):
        return None
    line1, city, state, postal_code = (
        cells.text(name, required=True) or "" for name in _ADDRESS
    )  # fmt: skip
    country = (cells.text("remit_country") or "US").upper()
    if not _COUNTRY.fullmatch(country):
        cells.fail(cells.column("remit_country"), f"{country!r} is not a two-letter country code")
    if country == "US" and postal_code and not _US_ZIP.fullmatch(postal_code):
        reason = f"{postal_code!r} is not a US ZIP code (12345 or 12345-6789)"
        if postal_code.isdigit() and len(postal_code) < 5:
            reason += "; a spreadsheet may have dropped its leading zeros"
        cells.fail(cells.column("remit_postal_code"), reason)
    return Address(
        line1=line1, city=city, state=state.upper(), postal_code=postal_code, country=country
    )


def _hin(value: str, column: str) -> str:
    """A Health Industry Number: a 7-character base code, optionally with a 2-character suffix."""
    code = value.upper()
    if not _HIN.fullmatch(code):
        raise SutureError(column, f"{value!r} is not a HIN (7 letters or digits, plus 2 optional)")
    return code
