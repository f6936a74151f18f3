"""X12 810 invoice: the supplier's bill, line by line, with its stated total checked.

BIG gives the invoice date and number and the PO it bills (BIG01-BIG04); IT1 lines carry
quantity invoiced, unit, unit price, basis and product ids by qualifier, with PID descriptions
and line-level SAC allowances and charges; ITD the terms; after the lines, TDS01 states the total
in cents (N2) and SAC segments after TDS are invoice-level allowances and charges.

The total is checked as three-way match will rely on it (DESIGN.md §4): lines (quantity × unit
price) plus charges minus allowances, every SAC05 amount counted once. A difference is a
finding on TDS01 naming both figures, not an error: the invoice is real and someone must look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from suture.formats.x12.elements import (
    MISSING,
    DateReference,
    Party,
    Reference,
    calendar_date,
    date_reference,
    decimal,
    fail,
    free_text,
    implied,
    product_ids,
    reference,
    required,
    text,
)
from suture.formats.x12.envelope import TransactionSet
from suture.formats.x12.errors import X12Finding
from suture.formats.x12.loops import beginning, cut, of, take_parties
from suture.formats.x12.tokenizer import Segment


@dataclass(frozen=True, slots=True)
class AllowanceOrCharge:
    """A SAC: A allowance or C charge, its code (SAC02: D240 freight, H750 tax…), amount."""

    indicator: str
    code: str | None
    amount: Decimal | None
    percent: Decimal | None = None
    description: str | None = None

    @property
    def signed_amount(self) -> Decimal:
        """Charges add to the total, allowances subtract; N (neither) and no amount add zero."""
        amount = self.amount or Decimal(0)
        return {"A": -amount, "C": amount}.get(self.indicator, Decimal(0))


@dataclass(frozen=True, slots=True)
class Terms:
    """ITD terms of sale: type, basis date code, discount %, discount due date and days, net
    due date and days."""

    type_code: str | None
    basis_date_code: str | None
    discount_percent: Decimal | None
    discount_due_date: date | None
    discount_days: int | None
    net_due_date: date | None
    net_days: int | None


@dataclass(frozen=True, slots=True)
class InvoiceLine810:
    """An IT1 line: ``line_id`` is IT101 as sent (often empty)."""

    line_id: str | None
    quantity: Decimal
    uom: str
    unit_price: Decimal
    position: int
    price_basis: str | None = None
    product_ids: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    allowances_charges: tuple[AllowanceOrCharge, ...] = ()

    @property
    def extended_amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Invoice810:
    """One decoded 810; ``stated_total`` is TDS01 in currency units (cents / 100)."""

    control_number: str
    invoice_date: date
    number: str
    lines: tuple[InvoiceLine810, ...]
    po_date: date | None = None
    po_number: str | None = None
    transaction_type: str | None = None
    references: tuple[Reference, ...] = ()
    dates: tuple[DateReference, ...] = ()
    parties: tuple[Party, ...] = ()
    terms: tuple[Terms, ...] = ()
    allowances_charges: tuple[AllowanceOrCharge, ...] = ()
    stated_total: Decimal | None = None
    findings: tuple[X12Finding, ...] = ()

    @property
    def computed_total(self) -> Decimal:
        total = sum((line.extended_amount for line in self.lines), Decimal(0))
        for line in self.lines:
            total += sum((sac.signed_amount for sac in line.allowances_charges), Decimal(0))
        return total + sum((sac.signed_amount for sac in self.allowances_charges), Decimal(0))


def _sac(segment: Segment) -> AllowanceOrCharge:
    indicator = required(segment, 1, "allowance or charge indicator")
    if indicator not in ("A", "C", "N"):
        raise fail(segment, 1, f"{indicator!r} is not A (allowance), C (charge) or N")
    return AllowanceOrCharge(
        indicator=indicator,
        code=text(segment, 2),
        amount=implied(segment, 5),
        percent=decimal(segment, 7, exact=False),
        description=text(segment, 15),
    )


def _whole(segment: Segment, index: int) -> int | None:
    value = decimal(segment, index, exact=False)  # a count of days: the check below says more
    if value is None:
        return None
    if value != value.to_integral():
        raise fail(segment, index, f"{value} is not a whole number of days")
    return int(value)


def _terms(itd: Segment) -> Terms:
    return Terms(
        type_code=text(itd, 1),
        basis_date_code=text(itd, 2),
        discount_percent=decimal(itd, 3, exact=False),
        discount_due_date=calendar_date(itd, 4),
        discount_days=_whole(itd, 5),
        net_due_date=calendar_date(itd, 6),
        net_days=_whole(itd, 7),
    )


def _line(segments: Sequence[Segment]) -> InvoiceLine810:
    it1 = segments[0]
    quantity, price = decimal(it1, 2), decimal(it1, 4)
    if quantity is None:
        raise fail(it1, 2, "quantity invoiced is required", MISSING)
    if price is None:
        raise fail(it1, 4, "unit price is required", MISSING)
    return InvoiceLine810(
        line_id=text(it1, 1),
        quantity=quantity,
        uom=required(it1, 3, "unit of measure"),
        unit_price=price,
        position=it1.position,
        price_basis=text(it1, 5),
        product_ids=product_ids(it1, 6),
        description=free_text(of(segments, "PID")),
        allowances_charges=tuple(_sac(segment) for segment in of(segments, "SAC")),
    )


def decode_810(transaction_set: TransactionSet) -> Invoice810:
    """The invoice in one 810; raises :class:`X12DecodeError` naming the element."""
    header, line_segments, summary = cut(transaction_set.body, "IT1", frozenset({"TDS"}))
    parties, rest = take_parties(header)
    big = beginning(transaction_set, "BIG")
    invoice_date = calendar_date(big, 1)
    if invoice_date is None:
        raise fail(big, 1, "invoice date is required", MISSING)
    tds = of(summary, "TDS")
    invoice = Invoice810(
        control_number=transaction_set.control_number,
        invoice_date=invoice_date,
        number=required(big, 2, "invoice number"),
        po_date=calendar_date(big, 3),
        po_number=text(big, 4),
        transaction_type=text(big, 7),
        lines=tuple(_line(segments) for segments in line_segments),
        references=tuple(reference(segment) for segment in of(rest, "REF")),
        dates=tuple(date_reference(segment) for segment in of(rest, "DTM")),
        parties=tuple(parties),
        terms=tuple(_terms(segment) for segment in of(rest, "ITD")),
        allowances_charges=tuple(_sac(segment) for segment in of(summary, "SAC")),
        stated_total=implied(tds[0], 1) if tds else None,
    )
    if not tds:
        return invoice
    findings = _check_total(invoice, tds[0])
    return invoice if not findings else _with_findings(invoice, findings)


def _check_total(invoice: Invoice810, tds: Segment) -> list[X12Finding]:
    stated, computed = invoice.stated_total, invoice.computed_total
    if stated is None or stated == computed:
        return []
    lines = sum((line.extended_amount for line in invoice.lines), Decimal(0))
    reason = (
        f"stated total {stated} differs from the computed {computed} "
        f"(lines {lines}, allowances and charges {computed - lines})"
    )
    return [X12Finding(tds.position, "TDS", "TDS01", reason)]


def _with_findings(invoice: Invoice810, findings: list[X12Finding]) -> Invoice810:
    return replace(invoice, findings=(*invoice.findings, *findings))
