"""Bundles of type batch and transaction: each entry decoded, issues named by entry index,
urn:uuid references resolved inside the Bundle."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.formats.fhir import (
    DecodedBundle,
    DecodedChargeItem,
    DecodedUsage,
    DeviceIdentification,
    FhirDecodeError,
    decode_bundle,
)

DEVICE_URL = "urn:uuid:0d4c2b1e-3c59-4f8e-9a57-3b3b7c1f0a01"
PATIENT_URL = "urn:uuid:6f0a0c8e-3c59-4f8e-9a57-3b3b7c1f0a99"


def charge_item(**changes: Any) -> dict[str, Any]:
    resource = golden("awkward-chargeitem-extensions.json")
    resource.update(changes)
    return resource


def entry(
    resource: dict[str, Any] | None, url: str | None = None, method: str = "POST"
) -> dict[str, Any]:
    kind = resource.get("resourceType", "x") if resource is not None else "x"
    found: dict[str, Any] = {"request": {"method": method, "url": kind}}
    if resource is not None:
        found["resource"] = resource
    if url is not None:
        found["fullUrl"] = url
    return found


def bundle(*entries: dict[str, Any], kind: str = "transaction") -> DecodedBundle:
    body = {"resourceType": "Bundle", "type": kind, "entry": list(entries)}
    return decode_bundle(json.dumps(body), decoding())


def test_a_procedure_finds_the_device_of_the_same_transaction_by_urn_uuid() -> None:
    decoded = decode_bundle(json.dumps(golden("awkward-bundle-procedure-device.json")), decoding())
    assert (decoded.ok, decoded.http_status) == (True, 200)
    device, procedure = (entry.decoded for entry in decoded.entries)
    assert device is not None
    assert procedure is not None
    assert isinstance(device.record, DeviceIdentification)
    assert isinstance(procedure.record, DecodedUsage)
    assert procedure.record.lines[0].device == device.record
    assert [e.status for e in decoded.entries] == [201, 201]


def test_an_entry_issue_names_the_entry_index_in_its_path() -> None:
    decoded = bundle(entry(charge_item()), entry(charge_item(status="posted")))
    assert [e.ok for e in decoded.entries] == [True, False]
    assert expressions(decoded.outcome) == ["Bundle.entry[1].resource.status"]


def test_a_failed_transaction_answers_with_the_entries_issues_status() -> None:
    structural = charge_item(quantity={"value": "x"})
    decoded = bundle(entry(charge_item()), entry(structural))
    assert (decoded.ok, decoded.http_status) == (False, 400)
    assert expressions(decoded.outcome) == ["Bundle.entry[1].resource.quantity.value"]


def test_a_batch_answers_200_and_each_entry_carries_its_own_status() -> None:
    decoded = decode_bundle(json.dumps(golden("awkward-bundle-batch-mixed.json")), decoding())
    assert decoded.http_status == 200
    assert [(e.status, e.method) for e in decoded.entries] == [
        (201, "POST"),
        (422, "POST"),
        (422, "GET"),
    ]
    first = decoded.entries[0].decoded
    assert first is not None
    assert isinstance(first.record, DecodedChargeItem)


def test_only_creates_are_taken() -> None:
    decoded = bundle(entry(charge_item(), method="PUT"))
    assert expressions(decoded.outcome) == ["Bundle.entry[0].request.method"]


def test_an_entry_without_request_is_400_at_request() -> None:
    decoded = bundle({"resource": charge_item()})
    assert (decoded.http_status, expressions(decoded.outcome)) == (400, ["Bundle.entry[0].request"])


def test_a_patient_entry_is_not_created_but_its_reference_is_checked_and_tokenized() -> None:
    patient = {"resourceType": "Patient", "identifier": [{"value": "MRN-77"}]}
    item = charge_item(subject={"reference": PATIENT_URL})
    decoded = bundle(entry(patient, PATIENT_URL), entry(item), kind="batch")
    assert [e.status for e in decoded.entries] == [422, 201]
    second = decoded.entries[1].decoded
    assert second is not None
    assert isinstance(second.record, DecodedChargeItem)
    assert second.record.patient_token == "tok(MRN-77)"


def test_a_urn_reference_to_an_entry_of_the_wrong_type_is_refused() -> None:
    patient = {"resourceType": "Patient"}
    item = charge_item(context={"reference": PATIENT_URL})
    decoded = bundle(entry(patient, PATIENT_URL), entry(item), kind="batch")
    assert decoded.entries[1].issues[0].expression == "Bundle.entry[1].resource.context"


def test_the_official_transaction_example_is_reported_entry_by_entry() -> None:
    decoded = decode_bundle(json.dumps(golden("bundle-transaction.json")), decoding())
    assert decoded.http_status == 422
    assert [(e.index, e.issues[0].code) for e in decoded.entries] == [
        (0, "not-supported"),
        (1, "not-supported"),
        *((index, "not-supported") for index in range(2, 10)),
    ]
    assert decoded.entries[5].issues[0].expression == "Bundle.entry[5].request.method"
    assert decoded.entries[7].issues[0].expression == "Bundle.entry[7].request.url"  # $lookup


@pytest.mark.parametrize("kind", ["collection", "document", "searchset", "history"])
def test_a_bundle_that_is_not_a_batch_or_transaction_is_not_supported(kind: str) -> None:
    with pytest.raises(FhirDecodeError) as caught:
        bundle(entry(charge_item()), kind=kind)
    assert (caught.value.http_status, expressions(caught.value.outcome)) == (422, ["Bundle.type"])


def test_a_bundle_type_outside_its_value_set_is_a_400_structure_error() -> None:
    with pytest.raises(FhirDecodeError) as caught:
        bundle(entry(charge_item()), kind="pile")
    assert expressions(caught.value.outcome) == ["Bundle.type"]


def test_an_envelope_fault_names_the_entry() -> None:
    body = {"resourceType": "Bundle", "type": "batch", "entry": [{"fullUrl": 5}]}
    with pytest.raises(FhirDecodeError) as caught:
        decode_bundle(json.dumps(body), decoding())
    assert (caught.value.http_status, expressions(caught.value.outcome)) == (
        400,
        ["Bundle.entry[0].fullUrl"],
    )


def test_a_resource_that_is_not_a_bundle_is_refused() -> None:
    with pytest.raises(FhirDecodeError) as caught:
        decode_bundle(json.dumps(charge_item()), decoding())
    assert expressions(caught.value.outcome) == ["Bundle.resourceType"]


def test_two_entries_with_one_full_url_are_refused_at_the_second() -> None:
    device = golden("awkward-procedure-contained-device.json")["contained"][0]
    decoded = bundle(entry(device, "urn:uuid:1"), entry(device, "urn:uuid:1"), kind="batch")
    assert [e.status for e in decoded.entries] == [201, 400]
    assert expressions(decoded.outcome) == ["Bundle.entry[1].fullUrl"]


def test_a_post_url_naming_another_type_is_refused_at_the_url() -> None:
    wrong = entry(charge_item())
    wrong["request"]["url"] = "Invoice"
    decoded = bundle(wrong)
    assert (decoded.http_status, expressions(decoded.outcome)) == (
        400,
        ["Bundle.entry[0].request.url"],
    )


def test_a_post_url_may_be_absolute() -> None:
    absolute = entry(charge_item())
    absolute["request"]["url"] = "https://hub.example.org/fhir/R4/ChargeItem"
    assert bundle(absolute).ok


def test_an_entry_of_unknown_type_does_not_crash_the_bundle() -> None:
    decoded = bundle(entry({"resourceType": "Gizmo"}), entry(charge_item()), kind="batch")
    assert [e.status for e in decoded.entries] == [400, 201]


def test_no_patient_data_reaches_a_bundle_outcome() -> None:
    name, mrn, birth = "Zebedee Quarterman", "MRN-99812736", "1961-02-30"
    patient = {
        "resourceType": "Patient",
        "identifier": [{"value": mrn}],
        "name": [{"family": name}],
        "birthDate": birth,
    }
    item = charge_item(subject={"reference": PATIENT_URL}, quantity={"value": mrn})
    decoded = bundle(entry(patient, PATIENT_URL), entry(item), entry(item | {"status": name}))
    text = json.dumps(decoded.outcome)
    assert len(decoded.issues) == 3  # a structural fault hides the status check behind it
    for secret in (name, mrn, birth):
        assert secret not in text


def test_a_device_entry_is_read_once_though_a_procedure_uses_it() -> None:
    scans: list[str] = []
    reading = decoding()

    def read_udi(text: str) -> Any:
        scans.append(text)
        return reading.read_udi(text)

    counting = replace(reading, read_udi=read_udi)
    decoded = decode_bundle(json.dumps(golden("awkward-bundle-procedure-device.json")), counting)
    assert decoded.ok
    assert len(scans) == 1
