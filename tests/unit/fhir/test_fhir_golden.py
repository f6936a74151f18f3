"""Every file in tests/golden/fhir decodes to the expected record, or fails with a clear
OperationOutcome naming the element, never a crash (issue 4; sources in SOURCES.md).

The official FHIR R4 examples are German or generic, so the hub here keeps euros.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir_support import GOLDEN, decoding

from suture.formats.fhir import (
    DecodedBundle,
    FhirDecodeError,
    decode_bundle,
    decode_resource,
    operation_outcome,
)

FILES = sorted(path.name for path in GOLDEN.glob("*.json"))

#: file -> ("decoded", record type) | (HTTP status, first FHIRPath) | ("bundle", HTTP status)
EXPECTED: dict[str, tuple[Any, str]] = {
    "awkward-bundle-batch-mixed.json": ("bundle", "200"),
    "awkward-bundle-procedure-device.json": ("bundle", "200"),
    "awkward-chargeitem-extensions.json": ("decoded", "DecodedChargeItem"),
    "awkward-chargeitem-missing-status.json": (400, "ChargeItem.status"),
    "awkward-chargeitem-modifier-extension.json": (422, "ChargeItem.modifierExtension"),
    "awkward-chargeitem-wrong-types.json": (400, "ChargeItem.quantity.value"),
    "awkward-contained-unknown-type.json": (400, "ChargeItem.contained[0].resourceType"),
    "awkward-device-hibc-bad-check.json": (422, "Device.udiCarrier[0].carrierHRF"),
    "awkward-not-json.json": (400, ""),
    "awkward-procedure-contained-device.json": ("decoded", "DecodedUsage"),
    "awkward-supplier-invoice.json": ("decoded", "DecodedInvoice"),
    "awkward-unknown-resourcetype.json": (400, "resource.resourceType"),
    "bundle-transaction.json": ("bundle", "422"),
    "chargeitem-example.json": ("decoded", "DecodedChargeItem"),
    "device-example-udi1.json": ("decoded", "DeviceIdentification"),
    "invoice-example.json": ("decoded", "DecodedInvoice"),
    "procedure-example-implant.json": (422, "Procedure.focalDevice[0].manipulated"),
    "supplydelivery-example-pumpdelivery.json": ("decoded", "DecodedUsage"),
    "supplyrequest-example-simpleorder.json": ("decoded", "Requisition"),
}


def outcome_of(name: str) -> tuple[Any, str]:
    body = (GOLDEN / name).read_bytes()
    try:
        if name.startswith(("bundle", "awkward-bundle")):
            bundle: DecodedBundle = decode_bundle(body, decoding())
            return "bundle", str(bundle.http_status)
        decoded = decode_resource(body, decoding())
    except FhirDecodeError as error:
        return error.http_status, error.issues[0].expression
    return "decoded", type(decoded.record).__name__


def test_every_golden_file_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == FILES


@pytest.mark.parametrize("name", FILES)
def test_golden_file_decodes_or_fails_with_a_clear_outcome(name: str) -> None:
    assert outcome_of(name) == EXPECTED[name]


@pytest.mark.parametrize("name", FILES)
def test_every_issue_of_a_golden_file_has_a_code_diagnostics_and_a_valid_outcome(
    name: str,
) -> None:
    body = (GOLDEN / name).read_bytes()
    try:
        if name.startswith(("bundle", "awkward-bundle")):
            issues = decode_bundle(body, decoding()).issues
        else:
            decode_resource(body, decoding())
            issues = ()
    except FhirDecodeError as error:
        issues = error.issues
    for issue in issues:
        assert issue.code
        assert issue.diagnostics
        assert issue.status in (400, 422)
    if issues:
        OperationOutcome.model_validate(operation_outcome(issues))
