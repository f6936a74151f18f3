"""Validation: every failure is an OperationOutcome issue at the FHIRPath of the offending
element, with HTTP 400 for what is not valid FHIR and 422 for what breaks this server's rules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir_support import decoding, expressions

from suture.formats.fhir import FhirDecodeError, decode_resource, validate_resource


def charge_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "resourceType": "ChargeItem",
        "status": "billable",
        "code": {"coding": [{"system": "http://hospital.example.org/cdm", "code": "27800123"}]},
        "subject": {"reference": "Patient/p-1"},
        "context": {"reference": "Encounter/e-1"},
        "occurrenceDateTime": "2026-11-24T10:15:00-06:00",
    }
    item.update(changes)
    return {k: v for k, v in item.items() if v is not None}


def refusal(body: Any, **kwargs: Any) -> FhirDecodeError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(FhirDecodeError) as caught:
        decode_resource(raw, decoding(), **kwargs)
    return caught.value


def test_a_body_that_is_not_json_is_refused_with_400_invalid() -> None:
    error = refusal(b'{"resourceType": "ChargeItem",')
    assert (error.http_status, error.issues[0].code) == (400, "invalid")


def test_a_number_too_long_for_python_to_read_is_refused_with_400_not_a_crash() -> None:
    body = json.dumps(charge_item(quantity={"value": 1})).replace(
        '"value": 1', '"value": ' + "9" * 5000
    )

    error = refusal(body.encode())

    assert (error.http_status, error.issues[0].code, error.issues[0].diagnostics) == (
        400, "invalid", "the body is not JSON this server reads: a number of more than 4300 digits",
    )  # fmt: skip


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1f"])
def test_a_string_with_a_control_character_is_refused_at_its_path(character: str) -> None:
    coding = {"system": "http://hospital.example.org/cdm", "code": f"2780{character}0123"}

    error = refusal(charge_item(code={"coding": [coding]}))

    assert (error.http_status, error.issues[0].code, error.issues[0].diagnostics) == (
        400,
        "value",
        f"ChargeItem.code.coding[0].code holds the control character U+{ord(character):04X}; "
        "FHIR strings have none but tab, carriage return and line feed",
    )


def test_tabs_and_line_breaks_in_a_string_are_fine() -> None:
    item = charge_item(note=[{"text": "left knee\r\n\tcemented"}], quantity={"value": 1})

    decode_resource(json.dumps(item).encode(), decoding())  # no FhirDecodeError


def test_a_json_array_is_not_a_resource() -> None:
    assert refusal([1, 2]).outcome["issue"][0]["code"] == "structure"


def test_a_missing_resource_type_is_required() -> None:
    error = refusal({"status": "billable"})
    assert (error.http_status, error.issues[0].code) == (400, "required")


def test_an_unknown_resource_type_is_a_structure_error_at_resource_type() -> None:
    error = refusal(charge_item(resourceType="ChargeThing"))
    assert (error.http_status, expressions(error.outcome)) == (400, ["resource.resourceType"])


def test_a_resource_of_another_type_than_the_endpoint_is_400() -> None:
    error = refusal(charge_item(), expected="Invoice")
    assert (error.http_status, expressions(error.outcome)) == (400, ["ChargeItem.resourceType"])


def test_a_fhir_resource_this_server_does_not_map_is_422_not_supported() -> None:
    error = refusal({"resourceType": "Patient", "active": True})
    assert (error.http_status, error.issues[0].code) == (422, "not-supported")
    assert expressions(error.outcome) == ["Patient.resourceType"]


def test_a_quantity_that_is_not_a_decimal_names_quantity_value() -> None:
    error = refusal(charge_item(quantity={"value": "abc"}))
    assert (error.http_status, expressions(error.outcome)) == (400, ["ChargeItem.quantity.value"])


def test_every_structural_problem_is_reported_at_once() -> None:
    error = refusal(charge_item(subject="Patient/p-1", note={"text": "x"}, color="red"))
    assert sorted(expressions(error.outcome)) == [
        "ChargeItem.color",
        "ChargeItem.note",
        "ChargeItem.subject",
    ]
    assert {issue.code for issue in error.issues} == {"structure"}


def test_list_indexes_appear_in_the_path() -> None:
    error = refusal(charge_item(identifier=[{"value": "a"}, {"system": 5, "value": "b"}]))
    assert expressions(error.outcome) == ["ChargeItem.identifier[1].system"]


def test_a_missing_status_is_required_and_400() -> None:
    error = refusal(charge_item(status=None))
    assert (error.http_status, error.issues[0].code) == (400, "required")
    assert expressions(error.outcome) == ["ChargeItem.status"]


def test_a_status_outside_its_required_value_set_is_422_code_invalid() -> None:
    error = refusal(charge_item(status="posted"))
    assert (error.http_status, error.issues[0].code) == (422, "code-invalid")
    assert expressions(error.outcome) == ["ChargeItem.status"]
    assert "planned|billable|not-billable|aborted|billed|entered-in-error|unknown" in str(error)


REQUESTED = {"quantity": {"value": 1}, "itemCodeableConcept": {"text": "gauze"}}


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"resourceType": "SupplyDelivery", "status": "delivered"}, "SupplyDelivery.status"),
        ({"resourceType": "Invoice", "status": "paid"}, "Invoice.status"),
        (
            {"resourceType": "SupplyRequest", "status": "open", **REQUESTED},
            "SupplyRequest.status",
        ),
        (
            {
                "resourceType": "SupplyRequest",
                "status": "active",
                "priority": "whenever",
                **REQUESTED,
            },
            "SupplyRequest.priority",
        ),
        ({"resourceType": "Device", "status": "broken"}, "Device.status"),
        (
            {"resourceType": "Device", "udiCarrier": [{"entryType": "guess"}]},
            "Device.udiCarrier[0].entryType",
        ),
        (
            {
                "resourceType": "Invoice",
                "status": "issued",
                "lineItem": [
                    {"chargeItemCodeableConcept": {"text": "x"}, "priceComponent": [{"type": "up"}]}
                ],
            },
            "Invoice.lineItem[0].priceComponent[0].type",
        ),
    ],
)
def test_required_bindings_of_each_type_are_checked(resource: dict[str, Any], path: str) -> None:
    with pytest.raises(FhirDecodeError) as caught:
        validate_resource(resource)
    assert (caught.value.http_status, expressions(caught.value.outcome)) == (422, [path])


def test_two_types_of_one_choice_element_name_the_choice() -> None:
    error = refusal(charge_item(occurrencePeriod={"start": "2026-11-24"}))
    assert expressions(error.outcome) == ["ChargeItem.occurrence"]


def test_extensions_are_accepted_and_ignored() -> None:
    item = charge_item(
        extension=[{"url": "http://example.org/batch", "valueString": "B-1"}],
        _status={"extension": [{"url": "http://example.org/source", "valueCode": "rcm"}]},
    )
    assert decode_resource(json.dumps(item), decoding()).resource_type == "ChargeItem"


def test_a_modifier_extension_anywhere_is_refused_422_where_it_is() -> None:
    performer = {
        "actor": {"reference": "Practitioner/1"},
        "modifierExtension": [{"url": "http://example.org/x", "valueBoolean": True}],
    }
    error = refusal(charge_item(performer=[performer]))
    assert (error.http_status, error.issues[0].code) == (422, "not-supported")
    assert expressions(error.outcome) == ["ChargeItem.performer[0].modifierExtension"]


def test_a_contained_resource_of_unknown_type_is_refused_not_crashed_on() -> None:
    error = refusal(charge_item(contained=[{"resourceType": "Gizmo", "id": "g"}]))
    assert (error.http_status, expressions(error.outcome)) == (
        400,
        ["ChargeItem.contained[0].resourceType"],
    )


def test_a_contained_resource_is_validated_with_its_path() -> None:
    device = {"resourceType": "Device", "id": "d", "lotNumber": 5}
    error = refusal(charge_item(contained=[device]))
    assert expressions(error.outcome) == ["ChargeItem.contained[0].lotNumber"]


def test_error_text_never_quotes_patient_data() -> None:
    secret_name, secret_mrn, secret_birth = "Zebedee Quarterman", "MRN-99812736", "1961-02-30"
    item = charge_item(
        subject={"reference": "Patient/p-1", "display": 7},
        identifier=[{"system": 5, "value": secret_mrn}],
        contained=[
            {
                "resourceType": "Patient",
                "id": "p",
                "name": [{"family": secret_name, "given": 3}],
                "birthDate": secret_birth,
            }
        ],
        occurrenceDateTime=secret_birth,
        quantity={"value": secret_mrn},
    )
    text = json.dumps(refusal(item).outcome)
    for secret in (secret_name, secret_mrn, secret_birth, "Zebedee"):
        assert secret not in text


def test_the_outcome_is_a_plain_operation_outcome_with_one_issue_per_problem() -> None:
    outcome = refusal(charge_item(status="posted", quantity={"value": "x"})).outcome
    assert outcome == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "value",
                "diagnostics": "ChargeItem.quantity.value: Decimal value string does not match"
                " spec regex.",
                "expression": ["ChargeItem.quantity.value"],
            }
        ],
    }
