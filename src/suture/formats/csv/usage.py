"""Decoding a usage feed row (supplies and implants used in procedures) into a
:class:`UsageLine`.

Procedural systems (OR case logs, cath-lab and IR documentation, point-of-use cabinets) export
one row per item used. Row shape (canonical fields; the built-in profile's headers in brackets):

- required: facility ["Facility"], location ["Location"], quantity ["Qty"], uom ["UOM"] and
  used_at ["Procedure Date"], each from a column or the profile's ``defaults``;
- the item, at least one of: item_id (canonical id), item_number ["Item Number"] (the
  exporting system's own number, resolved through the item crosswalk), gtin ["GTIN"], or udi
  ["UDI"] (the scanned string, GS1 or HIBC, kept as scanned for the UDI codec);
- patient identifiers, each tokenized by the caller's ``tokenize`` and never kept: encounter
  ["Visit Number"], case_number ["Case Number"], patient ["MRN"];
- optional: line_id (the exporting system's id of the usage line), department
  ["Department"], lot ["Lot"], serial ["Serial"], expiry ["Expiry"].

Why a :class:`UsageLine` and not a :class:`~suture.domain.inventory.UsageRecord`: the file names
its facility, location and item the way the exporting system knows them (a local item number,
a location code, a GTIN that is a box or a case level, a UDI), and only the hub's stores can
resolve them. The line carries those references beside values already typed (Decimal quantity,
known unit, UTC time, dates); the service resolves the references, then calls
:meth:`UsageLine.to_record`.

``id`` is deterministic so that re-reading a file finds the usage it recorded: derived from the
source system, the facility and ``line_id`` when the profile maps one (re-exports then match
too), else from the row's values and its line in the file (a re-sent file matches; a re-export
in another order does not: map ``line_id`` when the export has one).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from suture.domain.authority import DEFAULT_OWNERS, ObjectType
from suture.domain.errors import SutureError
from suture.domain.inventory import UsageRecord
from suture.formats.csv.errors import RowError
from suture.formats.csv.feeds import FeedCells, Tokenize, feed_id_for
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row
from suture.formats.csv.records import Decoded

#: The system usage comes from by default: the owner of usage in DESIGN.md §1.
USAGE_SOURCE = DEFAULT_OWNERS[ObjectType.USAGE]
_ITEM_FIELDS = ("item_id", "item_number", "gtin", "udi")
_GS = "\x1d"  # GS1 FNC1 as a scanner transmits it
_MAX_UDI = 200  # longer than any GS1 or HIBC UDI carrier holds


@dataclass(frozen=True, slots=True)
class UsageItemRef:
    """How a usage row names its item; several may be given, the service checks they agree.

    ``gtin`` is GTIN-14 and may be a packaging level's; ``udi`` is the string as scanned.
    """

    item_id: str | None = None
    item_number: str | None = None
    gtin: str | None = None
    udi: str | None = None


@dataclass(slots=True)
class UsageLine:
    """One usage row, typed, with facility, location and item still as the file names them.

    Not frozen: one is built per row on the path ``benchmarks/csv_ingest.py`` measures.
    """

    id: str
    facility: str
    location: str
    item: UsageItemRef
    quantity: Decimal
    uom: str
    used_at: datetime
    encounter_token: str | None = None
    case_token: str | None = None
    patient_token: str | None = None
    department: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    line_id: str | None = None
    source_system: str = USAGE_SOURCE

    def to_record(
        self,
        *,
        facility_id: str,
        location_id: str,
        item_id: str,
        department_id: str | None = None,
    ) -> UsageRecord:
        """The canonical usage once the service has resolved the references."""
        return UsageRecord(
            id=self.id,
            facility_id=facility_id,
            location_id=location_id,
            item_id=item_id,
            quantity=self.quantity,
            uom=self.uom,
            used_at=self.used_at,
            encounter_token=self.encounter_token,
            department_id=department_id,
            lot=self.lot,
            serial=self.serial,
            expiry=self.expiry,
            udi=self.item.udi,
            source_system=self.source_system,
        )


def decode_usage(row: Row, profile: ColumnProfile, *, tokenize: Tokenize) -> UsageLine:
    """The usage line of one row; raises :class:`RowError` listing every bad cell of the row,
    none of them quoting a value (see :mod:`suture.formats.csv.feeds`)."""
    cells = FeedCells(row, profile, tokenize)
    line_id = cells.text("line_id", required=True) if profile.is_mapped("line_id") else None
    facility = cells.text("facility", required=True)
    location = cells.text("location", required=True)
    item = _item(cells)
    quantity = cells.parse("quantity", cells.positive, required=True)
    uom = cells.parse("uom", cells.unit, required=True)
    used_at = cells.parse("used_at", cells.time, required=True)
    encounter = cells.token("encounter")
    case = cells.token("case_number")
    patient = cells.token("patient")
    department = cells.text("department")
    lot = cells.text("lot")
    serial = cells.text("serial")
    expiry = cells.parse("expiry", cells.day)
    cells.finish()
    if (
        facility is None
        or location is None
        or item is None
        or quantity is None
        or uom is None
        or used_at is None
    ):  # pragma: no cover - finish() has raised: each None recorded an error
        raise RowError(row.line_number, "", "incomplete row")
    source = profile.source_system or USAGE_SOURCE
    key = (
        ("line", line_id)
        if line_id is not None
        else (
            "row", str(row.line_number), encounter or "", case or "", used_at.isoformat(),
            location, item.item_id or "", item.item_number or "", item.gtin or "",
            item.udi or "", str(quantity), uom, lot or "", serial or "",
        )
    )  # fmt: skip
    return UsageLine(
        id=feed_id_for("USE", source, facility, *key),
        facility=facility,
        location=location,
        item=item,
        quantity=quantity,
        uom=uom,
        used_at=used_at,
        encounter_token=encounter,
        case_token=case,
        patient_token=patient,
        department=department,
        lot=lot,
        serial=serial,
        expiry=expiry,
        line_id=line_id,
        source_system=source,
    )


def decode_usage_rows(
    rows: Iterable[Row], profile: ColumnProfile, *, tokenize: Tokenize
) -> Iterator[Decoded[UsageLine] | RowError]:
    """Each row decoded, or the :class:`RowError` that refused it, in file order, lazily."""
    columns = profile.field_headers()
    for row in rows:
        try:
            yield Decoded(row.line_number, decode_usage(row, profile, tokenize=tokenize), columns)
        except RowError as error:
            yield error


def _item(cells: FeedCells) -> UsageItemRef | None:
    ref = UsageItemRef(
        item_id=cells.text("item_id"),
        item_number=cells.text("item_number"),
        gtin=cells.parse("gtin", cells.gtin),
        udi=cells.parse("udi", _udi),
    )
    if ref.item_id or ref.item_number or ref.gtin or ref.udi:
        return ref
    if not any(cells.raw(name) for name in _ITEM_FIELDS):  # else a bad GTIN or UDI is reported
        mapped = [name for name in _ITEM_FIELDS if cells.profile.is_mapped(name)] or ["item_id"]
        named = ", ".join(cells.column(name) for name in mapped)
        cells.fail(cells.column(mapped[0]), f"the item is missing: give one of {named}")
    return None


def _udi(value: str, column: str) -> str:
    """The UDI as scanned (a GS separator allowed); the UDI codec parses it when the service
    matches the item."""
    if len(value) > _MAX_UDI or not value.replace(_GS, "").isprintable():
        raise SutureError(column, f"is not a UDI: longer than {_MAX_UDI} or has control characters")
    return value
