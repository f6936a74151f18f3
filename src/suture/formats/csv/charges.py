"""Decoding a legacy billing system's charge batch row into a :class:`ChargeLine` (the same
canonical :class:`~suture.domain.revenue.Charge` the HL7 DFT^P03 decoder produces; DESIGN.md §2).

Row shape (canonical fields; the built-in profile's headers in brackets):

- required: facility ["Facility"], encounter ["Encounter Number"], cdm_code ["CDM Code"] and
  service_at ["Service Date"] (a date, or a date and time, in the profile's zone);
- account ["Account Number"]: tokenized like the encounter; with an empty encounter cell the
  account stands for the encounter (in US billing the account is per visit), as in the HL7
  decoder; with neither the row is refused;
- transaction_type ["Txn Type"]: CG charge or CD credit. When the column is not mapped or the
  cell is empty, a negative quantity or amount means a credit. Signs are kept as written;
- quantity ["Qty"], 1 when empty; amount ["Amount"], the line's extended amount: when empty
  the line is ``priced=False`` with amount 0 and the service prices it from the CDM;
- department ["Dept"], hcpcs ["HCPCS"] (HCPCS Level II or CPT), revenue_code ["Rev Code"]
  (UB-04, four digits); line_id: the billing system's transaction id.

``facility`` and ``department`` are the billing system's codes: mapping them is the service's
job. Charge ids are deterministic, from ``line_id`` when mapped, else from the row's values and
its line (see :mod:`suture.formats.csv.usage`). Errors never quote a cell
(:mod:`suture.formats.csv.feeds`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from suture.domain.authority import DEFAULT_OWNERS, ObjectType
from suture.domain.errors import SutureError
from suture.domain.revenue import Charge, ChargeType
from suture.formats.csv.errors import RowError
from suture.formats.csv.feeds import FeedCells, Tokenize, feed_id_for
from suture.formats.csv.profile import ColumnProfile
from suture.formats.csv.reader import Row
from suture.formats.csv.records import Decoded

#: The system charges come from by default: the owner of charges in DESIGN.md §1.
CHARGE_SOURCE = DEFAULT_OWNERS[ObjectType.CHARGE]
_TYPES = {"CG": ChargeType.CHARGE, "CD": ChargeType.CREDIT}
_HCPCS = re.compile(r"[A-Z][0-9]{4}|[0-9]{4}[A-Z0-9]")
_REVENUE_CODE = re.compile(r"[0-9]{3,4}")
_ONE = Decimal(1)
_ZERO = Decimal(0)


@dataclass(slots=True)
class ChargeLine:
    """One charge row as a canonical charge, with what the charge model does not carry.

    ``charge.facility_id`` and ``charge.department_id`` are still the billing system's codes.
    """

    charge: Charge
    priced: bool
    line_id: str | None = None


def decode_charge(row: Row, profile: ColumnProfile, *, tokenize: Tokenize) -> ChargeLine:
    """The charge line of one row; raises :class:`RowError` listing every bad cell of the row,
    none of them quoting a value."""
    cells = FeedCells(row, profile, tokenize)
    line_id = cells.text("line_id", required=True) if profile.is_mapped("line_id") else None
    facility = cells.text("facility", required=True)
    encounter = cells.token("encounter")
    account = cells.token("account")
    if encounter is None and account is None and cells.column("encounter") not in cells.reported:
        cells.fail(cells.column("encounter"), "is required (or an account number) but empty")
    cdm = cells.text("cdm_code", required=True)
    service_at = cells.parse("service_at", cells.time, required=True)
    kind = cells.parse("transaction_type", _transaction_type)
    quantity = cells.parse("quantity", cells.number)
    amount = cells.parse("amount", cells.number)
    department = cells.text("department")
    hcpcs = cells.parse("hcpcs", _hcpcs)
    revenue_code = cells.parse("revenue_code", _revenue_code)
    cells.finish()
    attributed = encounter or account
    if facility is None or attributed is None or cdm is None or service_at is None:
        raise RowError(row.line_number, "", "incomplete row")  # pragma: no cover - finish raised
    priced = amount is not None
    quantity = _ONE if quantity is None else quantity
    amount = _ZERO if amount is None else amount
    if kind is None:
        kind = ChargeType.CREDIT if quantity < 0 or amount < 0 else ChargeType.CHARGE
    source = profile.source_system or CHARGE_SOURCE
    key = (
        ("line", line_id)
        if line_id is not None
        else (
            "row", str(row.line_number), attributed, account or "", cdm, service_at.isoformat(),
            str(quantity), str(amount), kind.value,
        )
    )  # fmt: skip
    charge = Charge(
        id=feed_id_for("CHG", source, facility, *key),
        facility_id=facility,
        encounter_token=attributed,
        cdm_code=cdm,
        quantity=quantity,
        amount=amount,
        service_at=service_at,
        transaction_type=kind,
        account_token=account,
        department_id=department,
        hcpcs=hcpcs,
        revenue_code=revenue_code,
        source_system=source,
    )
    return ChargeLine(charge, priced, line_id)


def decode_charge_rows(
    rows: Iterable[Row], profile: ColumnProfile, *, tokenize: Tokenize
) -> Iterator[Decoded[ChargeLine] | RowError]:
    """Each row decoded, or the :class:`RowError` that refused it, in file order, lazily."""
    columns = profile.field_headers()
    for row in rows:
        try:
            yield Decoded(row.line_number, decode_charge(row, profile, tokenize=tokenize), columns)
        except RowError as error:
            yield error


def _transaction_type(value: str, column: str) -> ChargeType:
    kind = _TYPES.get(value.upper())
    if kind is None:
        raise SutureError(column, "is not CG (charge) or CD (credit)")
    return kind


def _hcpcs(value: str, column: str) -> str:
    """A HCPCS Level II code (C1776) or a CPT code (27447, 1234F)."""
    code = value.upper()
    if not _HCPCS.fullmatch(code):
        raise SutureError(column, "is not a HCPCS code like C1776 or a CPT code like 27447")
    return code


def _revenue_code(value: str, column: str) -> str:
    """A UB-04 revenue code as four digits; "278" from a spreadsheet that dropped the 0 is 0278."""
    if not (value.isascii() and _REVENUE_CODE.fullmatch(value)):
        raise SutureError(column, "is not a UB-04 revenue code like 0278")
    return value.zfill(4)
