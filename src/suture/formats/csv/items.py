"""Decoding an item-master row into an :class:`~suture.formats.csv.records.ItemLine`.

Row shape (canonical fields; the built-in profile's headers in brackets): description
["Description"], manufacturer ["Mfr Name"], catalog_number ["Mfr Catalog No"] and purchase_uom
["UOM"] are required; id ["Item Number"], vendor_number ["Vendor Number"], hibc, unspsc,
is_implant / is_consignment / is_chargeable ["Implant Y/N", ...], cdm_code, hcpcs, revenue_code
["Rev Code"], list_price and active are optional. Packaging levels come from the profile's
``packaging:`` list, one unit with its eaches and GTIN each ("GTIN EA", "Each Per BX",
"GTIN BX", ...).

Without an ``id`` column the item's id is derived from manufacturer and catalog number
(:func:`~suture.formats.csv.keys.item_id_for`), so re-imports find the same item. The vendor
number is carried as it is written, beside an item without a supplier: which supplier it names
(crosswalk, ERP vendor id, or a vendor-master import) only the hub knows.
"""

from __future__ import annotations

import re

from suture.domain.errors import DomainError, SutureError
from suture.domain.identifiers import parse_hibc_primary, validate_gtin, validate_unspsc
from suture.domain.masterdata import Item
from suture.domain.units import Packaging, PackagingLevel
from suture.formats.csv.cells import Cells
from suture.formats.csv.keys import item_id_for
from suture.formats.csv.profile import ColumnProfile, PackagingColumns
from suture.formats.csv.reader import Row
from suture.formats.csv.records import ItemLine

_HCPCS = re.compile(r"[A-Z][0-9]{4}|[0-9]{4}[A-Z0-9]")
_REVENUE_CODE = re.compile(r"[0-9]{3,4}")


def decode_item(row: Row, profile: ColumnProfile) -> ItemLine:
    """The item of one row and its vendor number; raises :class:`RowError` listing every bad
    cell of the row."""
    cells = Cells(row, profile)
    item_id = cells.text("id", required=True) if profile.is_mapped("id") else None
    description = cells.text("description", required=True, free=True)
    manufacturer = cells.text("manufacturer", required=True)
    catalog_number = cells.text("catalog_number", required=True)
    purchase_uom = cells.parse("purchase_uom", cells.uom, required=True)
    packaging = _packaging(cells, profile)
    vendor_number = cells.text("vendor_number")
    is_chargeable = cells.boolean("is_chargeable", default=False)
    cdm_code = cells.text("cdm_code")
    if is_chargeable and cdm_code is None:
        cells.fail(cells.column("cdm_code"), "is required for a chargeable item")
    if packaging is not None and purchase_uom is not None:
        units = [level.uom for level in packaging.levels]
        if purchase_uom not in units:
            cells.fail(
                cells.column("purchase_uom"),
                f"{purchase_uom} is not a packaging level of the item ({', '.join(units)})",
            )
    item = Item(
        id=item_id or item_id_for(manufacturer or "", catalog_number or ""),
        description=description or "",
        manufacturer=manufacturer or "",
        catalog_number=catalog_number or "",
        packaging=packaging or Packaging(()),
        purchase_uom=purchase_uom or "",
        hibc=cells.parse("hibc", lambda value, column: parse_hibc_primary(value, column).code),
        unspsc=cells.parse("unspsc", validate_unspsc),
        is_implant=cells.boolean("is_implant", default=False),
        is_consignment=cells.boolean("is_consignment", default=False),
        is_chargeable=is_chargeable,
        cdm_code=cdm_code,
        hcpcs=cells.parse("hcpcs", _hcpcs),
        revenue_code=cells.parse("revenue_code", _revenue_code),
        list_price=cells.parse("list_price", cells.amount),
        active=cells.boolean("active", default=True),
        source_system=profile.source_system or "suture",
    )
    cells.finish()
    return ItemLine(item, vendor_number)


def _packaging(cells: Cells, profile: ColumnProfile) -> Packaging | None:
    """The row's packaging levels, smallest first; None (with errors recorded) when invalid.

    A unit may appear twice only as the same level (a "UOM" column repeating the base unit);
    a GTIN names one level only (GS1 General Specifications §4: one GTIN per trade item).
    """
    levels: dict[str, PackagingLevel] = {}
    gtins: dict[str, str] = {}
    failures = len(cells.errors)
    for spec in profile.packaging:
        level = _level(cells, spec)
        if level is None:
            continue
        column = spec.uom_column or spec.each_per_unit_column or spec.gtin_column or "packaging"
        known = levels.get(level.uom, level)
        if known.each_per_unit != level.each_per_unit:
            cells.fail(column, f"{level.uom} is given twice, holding {known.each_per_unit} and "
                       f"{level.each_per_unit} eaches")  # fmt: skip
            continue
        if level.gtin and gtins.setdefault(level.gtin, level.uom) != level.uom:
            owner = gtins[level.gtin]
            cells.fail(
                spec.gtin_column or column, f"{level.gtin} is also the GTIN of the {owner} level"
            )
            continue
        if known.gtin and level.gtin and known.gtin != level.gtin:
            cells.fail(
                column, f"{level.uom} is given twice, with GTINs {known.gtin} and {level.gtin}"
            )
            continue
        levels[level.uom] = PackagingLevel(level.uom, level.each_per_unit, known.gtin or level.gtin)
    if len(cells.errors) > failures:
        return None
    try:
        return Packaging.of(sorted(levels.values(), key=lambda level: level.each_per_unit))
    except DomainError as error:
        first = profile.packaging[0]
        column = first.uom_column or first.each_per_unit_column or first.gtin_column or "packaging"
        cells.fail(column, f"packaging: {error.reason}")
        return None


def _level(cells: Cells, spec: PackagingColumns) -> PackagingLevel | None:
    """One level of the row, or None when its cells are blank (or bad, with errors recorded)."""
    uom_text = cells.cell(spec.uom_column) if spec.uom_column else ""
    each_text = cells.cell(spec.each_per_unit_column) if spec.each_per_unit_column else ""
    gtin_text = cells.cell(spec.gtin_column) if spec.gtin_column else ""
    uom = spec.uom or (
        cells.convert(spec.uom_column or "", uom_text, cells.uom) if uom_text else None
    )
    each = spec.each_per_unit or (
        cells.convert(spec.each_per_unit_column or "", each_text, cells.whole)
        if each_text
        else None
    )
    gtin = cells.convert(spec.gtin_column or "", gtin_text, validate_gtin) if gtin_text else None
    if spec.uom_column and not uom_text and (each_text or gtin_text):
        cells.fail(spec.uom_column, "is empty but the level has a quantity or a GTIN")
    elif spec.each_per_unit_column and not each_text and (gtin_text or uom_text):
        unit = uom or uom_text
        cells.fail(spec.each_per_unit_column, f"is empty; how many eaches does one {unit} hold?")
    if uom is None or each is None or (gtin_text and gtin is None):
        return None
    return PackagingLevel(uom, each, gtin)


def _hcpcs(value: str, column: str) -> str:
    """A HCPCS Level II code (A1234) or a CPT code (12345, 1234F)."""
    code = value.upper()
    if not _HCPCS.fullmatch(code):
        raise SutureError(column, f"{value!r} is not a HCPCS code like C1776 or a CPT code")
    return code


def _revenue_code(value: str, column: str) -> str:
    """A UB-04 revenue code as four digits; "278" from a spreadsheet that dropped the 0 is 0278."""
    if not (value.isascii() and _REVENUE_CODE.fullmatch(value)):
        raise SutureError(column, f"{value!r} is not a UB-04 revenue code like 0278")
    return value.zfill(4)
