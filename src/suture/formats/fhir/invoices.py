"""Invoice → a supplier invoice (procure-to-pay) or a patient invoice (revenue cycle).

How the codec decides (FHIR R4 invoice.html): an Invoice whose ``subject`` is a Patient or
Group, or whose ``recipient`` is a Patient or RelatedPerson, bills care: it is a
:class:`PatientInvoice`. Otherwise its ``issuer`` Organization is a supplier billing the hospital
(``recipient``, when given, an Organization) and it is a canonical supplier
:class:`~suture.domain.invoicing.Invoice`. An Invoice naming neither a patient nor an issuer is
refused.

Supplier invoice, element by element: ``identifier[0].value`` → ``number`` (required);
``issuer`` → ``supplier_id`` (the sender's code, mapped by the service); ``date`` →
``invoice_date``; each ``lineItem`` → an :class:`~suture.domain.invoicing.InvoiceLine`:
``sequence`` → line number, ``chargeItemCodeableConcept`` code → ``supplier_part_number``, the
``base`` price component's ``factor`` → quantity (1 when absent) and its ``amount`` plus
surcharges less discounts and deductions → extended amount (unit price = extended / quantity,
to 4 places half up);
``tax`` components and header ``totalPriceComponent`` taxes → ``tax``, header surcharges →
``freight``; ``totalGross`` → ``stated_total``, checked later against the lines. Only
``issued`` and ``balanced`` supplier invoices are received: a draft, cancelled or
entered-in-error one is refused (422).

A patient invoice keeps tokens of its patient and account, totals, and the ChargeItems its lines
reference; the hub does not bill patients, it relays them. All money is in the hub's currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from suture.domain.authority import ObjectType
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.formats.fhir.errors import fail
from suture.formats.fhir.references import (
    code_of,
    require_types,
    target,
    token_of,
    type_of,
)
from suture.formats.fhir.scope import Scope
from suture.formats.fhir.values import Settings, day, decimal, moment, money, record_id

_PATIENT_SUBJECTS = ("Patient", "Group")
_PATIENT_RECIPIENTS = ("Patient", "RelatedPerson")
_RECEIVABLE = ("issued", "balanced")
_ZERO = Decimal(0)
_ONE = Decimal(1)
#: A supplier's invoice number is a key of the stored invoice; beyond this it is a broken feed,
#: and PostgreSQL could not index it (as the X12 and CSV codecs bound their codes).
_MAX_NUMBER = 256
#: A unit price to 4 places, half up, as the three-way match rounds them (domain/matching.py):
#: a line of 3 for 100.00 is 33.3333 each, not a quotient the canonical model cannot store.
_PRICE_PLACES = Decimal("0.0001")
_ADD = {"base": 1, "surcharge": 1, "discount": -1, "deduction": -1}


@dataclass(frozen=True, slots=True)
class PatientInvoice:
    """An Invoice to a patient, as tokens, totals and the ChargeItems it bills."""

    id: str
    number: str | None
    facility_id: str
    status: str
    patient_token: str | None
    account_token: str | None
    issued_at: datetime | None
    total_net: Decimal | None
    total_gross: Decimal | None
    charge_items: tuple[str, ...]
    source_system: str


@dataclass(frozen=True, slots=True)
class DecodedInvoice:
    """Exactly one of ``supplier`` and ``patient`` is set."""

    supplier: Invoice | None = None
    patient: PatientInvoice | None = None


def decode_invoice(invoice: Any, scope: Scope) -> DecodedInvoice:
    """A patient or a supplier invoice, decided as the module says."""
    path, resolver = scope.path, scope.resolver
    require_types(
        [
            (invoice.subject, _PATIENT_SUBJECTS, f"{path}.subject"),
            (invoice.recipient, ("Organization", *_PATIENT_RECIPIENTS), f"{path}.recipient"),
            (invoice.issuer, ("Organization",), f"{path}.issuer"),
            (invoice.account, ("Account",), f"{path}.account"),
        ],
        resolver,
    )
    recipient = type_of(invoice.recipient, resolver) if invoice.recipient else None
    if invoice.subject is not None or recipient in _PATIENT_RECIPIENTS:
        return DecodedInvoice(patient=_patient(invoice, scope))
    if invoice.issuer is None:
        reason = f"{path}.issuer is required: a supplier invoice names the supplier"
        raise fail("required", reason, f"{path}.issuer")
    return DecodedInvoice(supplier=_supplier(invoice, path, scope.settings))


def _number(invoice: Any) -> str | None:
    for identifier in invoice.identifier or []:
        if identifier.value:
            return str(identifier.value).strip()
    return None


def _number_index(invoice: Any) -> int:
    """Which identifier :func:`_number` read."""
    return next(i for i, identifier in enumerate(invoice.identifier) if identifier.value)


def _patient(invoice: Any, scope: Scope) -> PatientInvoice:
    path, key, settings, tokenize, resolver = (
        scope.path,
        scope.key,
        scope.settings,
        scope.tokenize,
        scope.resolver,
    )
    person = invoice.subject or invoice.recipient
    charge_items = []
    for index, line in enumerate(invoice.lineItem or []):
        reference = line.chargeItemReference
        if reference is not None:
            found = target(reference)
            if found.resource_type not in (None, "ChargeItem"):
                where = f"{path}.lineItem[{index}].chargeItemReference"
                raise fail("value", f"{where} must reference ChargeItem", where)
            charge_items.append(found.key or "")
    return PatientInvoice(
        id=record_id("PIN", settings.facility_id, "Invoice", key),
        number=_number(invoice),
        facility_id=settings.facility_id,
        status=str(invoice.status),
        patient_token=token_of(person, tokenize, resolver),
        account_token=token_of(invoice.account, tokenize, resolver),
        issued_at=moment(invoice.date, f"{path}.date", settings.zone) if invoice.date else None,
        total_net=money(invoice.totalNet, f"{path}.totalNet", settings),
        total_gross=money(invoice.totalGross, f"{path}.totalGross", settings),
        charge_items=tuple(charge_items),
        source_system=settings.source_for(ObjectType.CHARGE),  # patient billing is the RCM's
    )


def _supplier(invoice: Any, path: str, settings: Settings) -> Invoice:
    if invoice.status not in _RECEIVABLE:
        reason = f"{path}.status: only an issued or balanced supplier invoice can be received"
        raise fail("business-rule", reason, f"{path}.status")
    number = _number(invoice)
    if number is None:
        reason = f"{path}.identifier is required: the supplier's invoice number"
        raise fail("required", reason, f"{path}.identifier")
    if len(number) > _MAX_NUMBER:  # the key of stored invoices (supplier, number): indexed
        where = f"{path}.identifier[{_number_index(invoice)}].value"
        reason = (
            f"{where} is {len(number)} characters long; an invoice number is at most {_MAX_NUMBER}"
        )
        raise fail("value", reason, where)
    if invoice.date is None:
        raise fail("required", f"{path}.date is required: the invoice date", f"{path}.date")
    supplier = code_of(invoice.issuer)
    if not supplier:
        reason = f"{path}.issuer needs an identifier or a reference id: the supplier's code"
        raise fail("required", reason, f"{path}.issuer")
    tax, freight = _ZERO, _ZERO
    lines = []
    for index, item in enumerate(invoice.lineItem or []):
        line, line_tax = _line(item, f"{path}.lineItem[{index}]", index, settings)
        lines.append(line)
        tax += line_tax
    for index, component in enumerate(invoice.totalPriceComponent or []):
        amount = money(component.amount, f"{path}.totalPriceComponent[{index}].amount", settings)
        if amount is not None and component.type == "tax":
            tax += amount
        elif amount is not None and component.type == "surcharge":
            freight += amount
    return Invoice(
        id=record_id("INV", settings.facility_id, "Invoice", supplier, number),
        number=number,
        supplier_id=supplier,
        facility_id=settings.facility_id,
        invoice_date=_date(invoice.date, f"{path}.date", settings),
        lines=lines,
        freight=freight,
        tax=tax,
        stated_total=money(invoice.totalGross, f"{path}.totalGross", settings),
        source_system=settings.source_for(ObjectType.INVOICE),
    )


def _date(value: Any, path: str, settings: Settings) -> date:
    return day(value, path, settings.zone)


def _line(item: Any, path: str, index: int, settings: Settings) -> tuple[InvoiceLine, Decimal]:
    if item.chargeItemReference is not None:
        where = f"{path}.chargeItemReference"
        reason = f"{where}: a supplier invoice line names its item by chargeItemCodeableConcept"
        raise fail("not-supported", reason, where)
    concept = item.chargeItemCodeableConcept
    codes = [c.code for c in (concept.coding or []) if c.code] if concept is not None else []
    extended, tax, quantity, based = _ZERO, _ZERO, _ONE, False
    for number, component in enumerate(item.priceComponent or []):
        where = f"{path}.priceComponent[{number}]"
        amount = money(component.amount, f"{where}.amount", settings) or _ZERO
        if component.type == "tax":
            tax += amount
        elif component.type in _ADD:
            extended += _ADD[str(component.type)] * amount
        if component.type == "base":
            based = True
            if component.factor is not None:
                quantity = decimal(component.factor, f"{where}.factor")
    if not based:
        reason = f"{path}.priceComponent needs a base component: the line's price"
        raise fail("required", reason, f"{path}.priceComponent")
    if quantity == 0:
        raise fail(
            "value", f"{path}.priceComponent.factor must not be zero", f"{path}.priceComponent"
        )
    line = InvoiceLine(
        line_number=int(item.sequence) if item.sequence else index + 1,
        item_id=None,
        quantity=quantity,
        uom="EA",
        unit_price=(extended / quantity).quantize(_PRICE_PLACES, rounding=ROUND_HALF_UP),
        supplier_part_number=str(codes[0]).strip() if codes else None,
    )
    return line, tax
