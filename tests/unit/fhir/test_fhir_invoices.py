"""Invoice → supplier invoice (issuer Organization billing the hospital) or patient invoice
(subject or recipient a patient)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.domain.invoicing import Invoice, InvoiceLine
from suture.formats.fhir import DecodedInvoice, FhirDecodeError, PatientInvoice, decode_resource


def decode(resource: dict[str, Any], currency: str = "EUR") -> DecodedInvoice:
    record = decode_resource(json.dumps(resource), decoding(currency)).record
    assert isinstance(record, DecodedInvoice)
    return record


def refusal(resource: dict[str, Any]) -> FhirDecodeError:
    with pytest.raises(FhirDecodeError) as caught:
        decode(resource)
    return caught.value


def supplier_invoice(**changes: Any) -> dict[str, Any]:
    resource = golden("awkward-supplier-invoice.json")
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def test_an_issuer_organization_billing_the_hospital_is_a_supplier_invoice() -> None:
    decoded = decode(supplier_invoice())
    assert decoded.patient is None
    assert decoded.supplier == Invoice(
        id=decoded.supplier.id if decoded.supplier else "",
        number="INV-88123",
        supplier_id="V-ACME",
        facility_id="FAC-1",
        invoice_date=date(2026, 11, 20),
        lines=[
            InvoiceLine(
                line_number=1,
                item_id=None,
                quantity=Decimal(2),
                uom="EA",
                unit_price=Decimal(1150),
                supplier_part_number="HIP-STEM-12",
            ),
            InvoiceLine(
                line_number=2,
                item_id=None,
                quantity=Decimal(1),
                uom="EA",
                unit_price=Decimal(800),
                supplier_part_number="CUP-52",
            ),
        ],
        freight=Decimal(25),
        tax=Decimal(46),
        stated_total=Decimal(3171),
        source_system="erp",
    )


def test_the_supplier_invoice_totals_agree_with_its_lines() -> None:
    invoice = decode(supplier_invoice()).supplier
    assert invoice is not None
    assert invoice.computed_total == invoice.stated_total


def test_a_unit_price_that_does_not_divide_evenly_is_rounded_to_four_places_half_up() -> None:
    line = {
        "sequence": 1,
        "chargeItemCodeableConcept": {"coding": [{"code": "GAUZE"}]},
        "priceComponent": [
            {"type": "base", "factor": 3, "amount": {"value": 100, "currency": "EUR"}},
            {"type": "surcharge", "amount": {"value": 0.0001, "currency": "EUR"}},
        ],
    }
    invoice = decode(supplier_invoice(lineItem=[line], totalPriceComponent=None)).supplier
    assert invoice is not None
    assert [(li.quantity, str(li.unit_price)) for li in invoice.lines] == [(3, "33.3334")]


@pytest.mark.parametrize("status", ["draft", "cancelled", "entered-in-error"])
def test_a_supplier_invoice_that_is_not_issued_is_not_received(status: str) -> None:
    error = refusal(supplier_invoice(status=status))
    assert (error.issues[0].code, expressions(error.outcome)) == (
        "business-rule",
        ["Invoice.status"],
    )


def test_a_supplier_invoice_needs_its_number() -> None:
    error = refusal(supplier_invoice(identifier=None))
    assert expressions(error.outcome) == ["Invoice.identifier"]


def test_a_supplier_invoice_number_longer_than_any_code_is_refused_at_it() -> None:
    error = refusal(supplier_invoice(identifier=[{"value": "N" * 257}]))

    assert (error.http_status, error.issues[0].diagnostics, expressions(error.outcome)) == (
        422,
        "Invoice.identifier[0].value is 257 characters long; an invoice number is at most 256",
        ["Invoice.identifier[0].value"],
    )


def test_a_line_without_a_base_price_is_refused_at_its_components() -> None:
    line = {"chargeItemCodeableConcept": {"text": "x"}, "priceComponent": [{"type": "tax"}]}
    error = refusal(supplier_invoice(lineItem=[line]))
    assert expressions(error.outcome) == ["Invoice.lineItem[0].priceComponent"]


def test_a_component_amount_without_currency_is_refused_at_it() -> None:
    line = {
        "chargeItemCodeableConcept": {"text": "x"},
        "priceComponent": [{"type": "base", "amount": {"value": 5}}],
    }
    error = refusal(supplier_invoice(lineItem=[line]))
    assert expressions(error.outcome) == ["Invoice.lineItem[0].priceComponent[0].amount.currency"]


def test_an_invoice_naming_neither_patient_nor_issuer_is_refused_at_issuer() -> None:
    error = refusal(supplier_invoice(issuer=None))
    assert (error.http_status, expressions(error.outcome)) == (422, ["Invoice.issuer"])


def test_an_issuer_that_is_not_an_organization_is_refused() -> None:
    error = refusal(supplier_invoice(issuer={"reference": "Practitioner/x"}))
    assert expressions(error.outcome) == ["Invoice.issuer"]


def test_the_official_example_bills_a_patient() -> None:
    decoded = decode(golden("invoice-example.json"))
    assert decoded.supplier is None
    assert decoded.patient == PatientInvoice(
        id=decoded.patient.id if decoded.patient else "",
        number="654321",
        facility_id="FAC-1",
        status="issued",
        patient_token="tok(Patient/example)",
        account_token="tok(Account/example)",
        issued_at=datetime(2017, 1, 25, 7, 0, tzinfo=UTC),
        total_net=Decimal(40),
        total_gross=Decimal(48),
        charge_items=(),
        source_system="rcm",
    )


def test_a_patient_recipient_makes_a_patient_invoice_listing_its_charge_items() -> None:
    resource = {
        "resourceType": "Invoice",
        "status": "issued",
        "recipient": {"reference": "Patient/p-1"},
        "lineItem": [{"chargeItemReference": {"reference": "ChargeItem/c-1"}}],
    }
    patient = decode(resource).patient
    assert patient is not None
    assert (patient.patient_token, patient.charge_items) == (
        "tok(Patient/p-1)",
        ("ChargeItem/c-1",),
    )


def test_patient_invoice_money_in_another_currency_is_refused() -> None:
    with pytest.raises(FhirDecodeError) as caught:
        decode(golden("invoice-example.json"), currency="USD")
    assert expressions(caught.value.outcome) == ["Invoice.totalNet.currency"]
