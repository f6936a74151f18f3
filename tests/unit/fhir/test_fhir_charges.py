"""ChargeItem → canonical charge: each element's mapping, status semantics and refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.domain.revenue import Charge, ChargeType
from suture.formats.fhir import DecodedChargeItem, FhirDecodeError, decode_resource

CPT = "http://www.ama-assn.org/go/cpt"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"


def item(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ChargeItem",
        "identifier": [{"system": "urn:oid:1.2.3", "value": "CI-1"}],
        "status": "billable",
        "code": {
            "coding": [
                {"system": "http://hospital.example.org/cdm", "code": "27800123"},
                {"system": CPT, "code": "27130"},
                {"system": REVENUE, "code": "0278"},
            ]
        },
        "subject": {"reference": "Patient/p-1", "identifier": {"value": "MRN-1"}},
        "context": {"reference": "Encounter/e-1", "identifier": {"value": "V100"}},
        "account": [{"reference": "Account/a-1", "identifier": {"value": "ACC-9"}}],
        "occurrenceDateTime": "2026-11-24T10:15:00-06:00",
        "quantity": {"value": 2},
        "priceOverride": {"value": 1250.50, "currency": "USD"},
        "performingOrganization": {"identifier": {"value": "ORTHO"}},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def decode(resource: dict[str, Any], **kwargs: Any) -> DecodedChargeItem:
    record = decode_resource(json.dumps(resource), decoding("USD", **kwargs)).record
    assert isinstance(record, DecodedChargeItem)
    return record


def refusal(resource: dict[str, Any]) -> FhirDecodeError:
    with pytest.raises(FhirDecodeError) as caught:
        decode(resource)
    return caught.value


def test_a_billable_charge_item_is_a_canonical_charge() -> None:
    decoded = decode(item())
    charge = decoded.charge
    assert charge is not None
    assert charge == Charge(
        id=charge.id,
        facility_id="FAC-1",
        encounter_token="tok(V100)",
        cdm_code="27800123",
        quantity=Decimal(2),
        amount=Decimal("1250.50"),
        service_at=datetime(2026, 11, 24, 16, 15, tzinfo=UTC),
        transaction_type=ChargeType.CHARGE,
        account_token="tok(ACC-9)",
        department_id="ORTHO",
        hcpcs="27130",
        revenue_code="0278",
        source_system="rcm",
    )
    assert (decoded.priced, decoded.patient_token) == (True, "tok(MRN-1)")


def test_the_official_example_keeps_its_price_and_factor() -> None:
    record = decode_resource(json.dumps(golden("chargeitem-example.json")), decoding("EUR")).record
    assert isinstance(record, DecodedChargeItem)
    assert record.charge is not None
    assert (record.charge.cdm_code, record.charge.amount, record.factor) == (
        "01510",
        Decimal(40),
        Decimal("0.8"),
    )
    assert record.charge.department_id == "CARD_INTERMEDIATE_CARE"
    assert record.charge.service_at == datetime(2017, 1, 25, 7, 0, tzinfo=UTC)


def test_the_charge_id_is_the_same_when_the_charge_item_is_sent_again() -> None:
    first, again = decode(item()).charge, decode(item(quantity={"value": 3})).charge
    assert first is not None
    assert again is not None
    assert first.id == again.id
    assert first.id.startswith("CHG-")


def test_the_cdm_system_named_by_the_interface_picks_the_coding() -> None:
    code = {"coding": [{"system": "urn:other", "code": "X1"}, {"system": "urn:cdm", "code": "C7"}]}
    first, named = (
        decode(item(code=code)).charge,
        decode(item(code=code), cdm_system="urn:cdm").charge,
    )
    assert first is not None
    assert named is not None
    assert (first.cdm_code, named.cdm_code) == ("X1", "C7")


def test_a_code_with_only_cpt_has_no_cdm_code_and_is_refused() -> None:
    error = refusal(item(code={"coding": [{"system": CPT, "code": "27130"}]}))
    assert (error.http_status, expressions(error.outcome)) == (422, ["ChargeItem.code.coding"])


def test_without_a_price_the_line_is_unpriced_with_amount_zero_and_its_factor() -> None:
    decoded = decode(item(priceOverride=None, factorOverride=0.8))
    assert decoded.charge is not None
    assert (decoded.charge.amount, decoded.priced, decoded.factor) == (
        Decimal(0),
        False,
        Decimal("0.8"),
    )


def test_a_missing_quantity_is_one() -> None:
    charge = decode(item(quantity=None)).charge
    assert charge is not None
    assert charge.quantity == Decimal(1)


def test_entered_in_error_is_a_credit_with_its_own_id() -> None:
    charge, credit = decode(item()).charge, decode(item(status="entered-in-error")).charge
    assert charge is not None
    assert credit is not None
    assert credit.transaction_type is ChargeType.CREDIT
    assert credit.id != charge.id


@pytest.mark.parametrize("status", ["planned", "not-billable", "aborted", "unknown"])
def test_a_status_that_bills_nothing_decodes_without_a_charge(status: str) -> None:
    decoded = decode(item(status=status))
    assert (decoded.status, decoded.charge) == (status, None)


def test_without_context_the_account_stands_for_the_encounter() -> None:
    charge = decode(item(context=None)).charge
    assert charge is not None
    assert charge.encounter_token == "tok(ACC-9)"


def test_without_context_or_account_the_charge_is_refused_at_context() -> None:
    error = refusal(item(context=None, account=None))
    assert (error.http_status, expressions(error.outcome)) == (422, ["ChargeItem.context"])


def test_a_literal_reference_is_tokenized_with_its_type() -> None:
    charge = decode(item(context={"reference": "Encounter/e-1"})).charge
    assert charge is not None
    assert charge.encounter_token == "tok(Encounter/e-1)"


def test_money_without_a_currency_is_refused_at_the_currency() -> None:
    error = refusal(item(priceOverride={"value": 10}))
    assert (error.http_status, error.issues[0].code) == (422, "required")
    assert expressions(error.outcome) == ["ChargeItem.priceOverride.currency"]


def test_money_in_another_currency_than_the_hubs_is_refused() -> None:
    error = refusal(item(priceOverride={"value": 10, "currency": "EUR"}))
    assert (error.issues[0].code, expressions(error.outcome)) == (
        "business-rule",
        ["ChargeItem.priceOverride.currency"],
    )


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        (
            {"quantity": {"value": 2.00001}},
            "ChargeItem.quantity.value",
            "has more than 4 decimal places",
        ),
        ({"quantity": {"value": 10**14}}, "ChargeItem.quantity.value", "must be less than 10^14"),
        (
            {"priceOverride": {"value": 150.12345, "currency": "USD"}},
            "ChargeItem.priceOverride.value",
            "has more than 4 decimal places",
        ),
    ],
)
def test_a_decimal_the_canonical_model_cannot_hold_exactly_is_refused_at_its_element(
    changes: dict[str, Any], path: str, reason: str
) -> None:
    error = refusal(item(**changes))
    assert [(i.code, i.expression, i.diagnostics) for i in error.issues] == [
        ("value", path, f"{path} {reason}")
    ]


def test_trailing_zeros_beyond_four_places_are_the_same_decimal() -> None:
    text = json.dumps(item()).replace('"quantity": {"value": 2}', '"quantity": {"value": 2.000000}')
    record = decode_resource(text, decoding("USD")).record
    assert isinstance(record, DecodedChargeItem)
    assert record.charge is not None
    assert str(record.charge.quantity) == "2.000000"


def test_a_quantity_with_a_comparator_is_not_a_count() -> None:
    error = refusal(item(quantity={"value": 2, "comparator": ">"}))
    assert expressions(error.outcome) == ["ChargeItem.quantity.comparator"]


@pytest.mark.parametrize(
    ("element", "reference", "path"),
    [
        ("context", {"reference": "Patient/p-1"}, "ChargeItem.context"),
        ("subject", {"reference": "Group/g-1"}, "ChargeItem.subject"),
        ("account", [{"reference": "Encounter/e-1"}], "ChargeItem.account[0]"),
        (
            "performingOrganization",
            {"reference": "Location/l"},
            "ChargeItem.performingOrganization",
        ),
    ],
)
def test_a_reference_to_the_wrong_type_is_422_at_the_reference(
    element: str, reference: Any, path: str
) -> None:
    error = refusal(item(**{element: reference}))
    assert (error.http_status, error.issues[0].code, expressions(error.outcome)) == (
        422,
        "value",
        [path],
    )


def test_a_logical_reference_is_type_checked_by_its_type_element() -> None:
    context = {
        "type": "http://hl7.org/fhir/StructureDefinition/Patient",
        "identifier": {"value": "V100"},
    }
    error = refusal(item(context=context))
    assert expressions(error.outcome) == ["ChargeItem.context"]


def test_a_date_without_time_is_midnight_in_the_facility_zone() -> None:
    charge = decode(item(occurrenceDateTime="2026-11-24")).charge
    assert charge is not None
    assert charge.service_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_a_partial_date_cannot_place_the_service_in_time() -> None:
    error = refusal(item(occurrenceDateTime="2026-11"))
    assert expressions(error.outcome) == ["ChargeItem.occurrenceDateTime"]


def test_the_period_start_then_the_entered_date_give_the_service_time() -> None:
    period = {"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T09:00:00Z"}
    by_period = decode(item(occurrenceDateTime=None, occurrencePeriod=period)).charge
    by_entry = decode(item(occurrenceDateTime=None, enteredDate="2026-11-25T00:00:00Z")).charge
    assert by_period is not None
    assert by_entry is not None
    assert by_period.service_at == datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert by_entry.service_at == datetime(2026, 11, 25, tzinfo=UTC)


def test_no_time_at_all_is_refused_at_occurrence() -> None:
    error = refusal(item(occurrenceDateTime=None))
    assert expressions(error.outcome) == ["ChargeItem.occurrence"]


def test_no_patient_identifier_leaves_the_codec_untokenized() -> None:
    text = repr(decode(item()))
    for identifier in ("MRN-1", "ACC-9"):
        assert f"tok({identifier})" in text
        assert text.count(identifier) == text.count(f"tok({identifier})")


def test_the_interface_may_name_the_source_system_the_authority_registry_checks() -> None:
    charge = decode(item(), source_system="legacy-billing").charge
    assert charge is not None
    assert charge.source_system == "legacy-billing"
