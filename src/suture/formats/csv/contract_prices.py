"""Decoding a contract-price row into a :class:`~suture.formats.csv.records.ContractLine`.

GPO and local contract files are flat: the contract's header repeats on every row, and each row
adds a facility's membership, a price line, or both. Row shape (canonical fields; the built-in
profile's headers in brackets):

- contract header, on every row: contract_number ["Contract Number"], contract_name
  ["Contract Name"], vendor_number ["Vendor Number"], contract_start ["Contract Start"] and
  tier ["Tier"] are required; contract_id, gpo ["GPO"] and contract_end ["Contract End"] are
  optional. Rows of one contract must agree on the header; the service checks that.
- membership: facility_id ["Facility"], with member_from / member_to ["Member From",
  "Member To"]; a blank start means the contract's start.
- price line: the item as item_id ["Item Number"], gtin ["GTIN"], or manufacturer and
  catalog_number ["Mfr Name", "Mfr Catalog No"]; uom ["UOM"], unit_price ["Contract Price"],
  and price_from / price_to ["Price Start", "Price End"], blank meaning the contract's dates.

The row's tier is the membership's tier and the price line's tier. The vendor number is
carried as written (:attr:`ContractLine.vendor_number`); the service resolves the supplier.
"""

from __future__ import annotations

from datetime import date

from suture.domain.contracts import Contract, ContractMembership
from suture.domain.errors import DomainError
from suture.domain.identifiers import validate_gtin
from suture.formats.csv.cells import Cells
from suture.formats.csv.errors import RowError
from suture.formats.csv.keys import contract_id_for
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row
from suture.formats.csv.records import ContractLine, ItemRef, PriceLine

_PRICE_FIELDS = ("item_id", "gtin", "manufacturer", "catalog_number", "uom", "unit_price")


def decode_contract_price(row: Row, profile: ColumnProfile) -> ContractLine:
    """The contract line of one row; raises :class:`RowError` listing every bad cell."""
    cells = Cells(row, profile)
    contract_id = (
        cells.text("contract_id", required=True) if profile.is_mapped("contract_id") else None
    )
    number = cells.text("contract_number", required=True)
    vendor_number = cells.text("vendor_number", required=True)
    name = cells.text("contract_name", required=True, free=True)
    start = cells.parse("contract_start", cells.date, required=True)
    end = _until(cells, "contract_end", start)
    tier = cells.text("tier", required=True)
    membership = _membership(cells, start, tier)
    price = _price_line(cells, tier)
    if membership is None and price is None and not cells.errors:
        cells.fail("", "has neither a facility (a membership) nor an item and price (a price line)")
    gpo = cells.text("gpo")
    cells.finish()
    try:
        contract = Contract(
            id=contract_id or contract_id_for(number or ""),
            number=number or "",
            supplier_id="",  # the service resolves vendor_number
            name=name or "",
            effective_from=start or date.min,
            effective_to=end,
            gpo=gpo,
            source_system=profile.source_system or "suture",
        )
    except DomainError as error:  # the model's own checks, should they grow beyond ours
        raise RowError(row.line_number, cells.column(error.field), error.reason) from None
    return ContractLine(
        contract=contract, vendor_number=vendor_number or "", membership=membership, price=price
    )


def _until(cells: Cells, name: str, start: date | None) -> date | None:
    """An end date, refused when it falls before ``start``."""
    end = cells.parse(name, cells.date)
    if end is not None and start is not None and end < start:
        cells.fail(cells.column(name), f"{end.isoformat()} is before the start {start.isoformat()}")
    return end


def _membership(cells: Cells, start: date | None, tier: str | None) -> ContractMembership | None:
    facility_id = cells.text("facility_id")
    if facility_id is None:
        return None
    member_from = cells.parse("member_from", cells.date) or start
    member_to = _until(cells, "member_to", member_from)
    if member_from is None or tier is None:
        return None
    try:
        return ContractMembership(
            facility_id=facility_id, tier=tier, effective_from=member_from, effective_to=member_to
        )
    except DomainError as error:  # never silently: _until has usually recorded it already
        if not cells.errors:
            cells.fail(cells.column("facility_id"), error.reason)
        return None


def _price_line(cells: Cells, tier: str | None) -> PriceLine | None:
    if not any(cells.raw(name) for name in _PRICE_FIELDS):
        return None
    ref = ItemRef(
        item_id=cells.text("item_id"),
        gtin=cells.parse("gtin", validate_gtin),
        manufacturer=cells.text("manufacturer"),
        catalog_number=cells.text("catalog_number"),
    )
    named = ref.item_id or ref.gtin or (ref.manufacturer and ref.catalog_number)
    if not named and not cells.raw("gtin"):
        half = "catalog_number" if ref.manufacturer else "manufacturer"
        if ref.manufacturer or ref.catalog_number:
            cells.fail(cells.column(half), "is required to find the item by catalog number")
        else:
            cells.fail(
                cells.column("item_id"), "a price line needs its item: id, GTIN or catalog no"
            )
    uom = cells.parse("uom", cells.uom, required=True)
    unit_price = cells.parse("unit_price", cells.amount, required=True)
    price_from = cells.parse("price_from", cells.date)
    price_to = _until(cells, "price_to", price_from)
    if not named or uom is None or unit_price is None or tier is None:
        return None
    return PriceLine(ref, tier, uom, unit_price, price_from, price_to)
