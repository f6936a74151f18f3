"""Device with a udiCarrier → item identification by GTIN or HIBC plus lot, serial, expiry."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.formats.fhir import DeviceIdentification, FhirDecodeError, decode_resource

GS1_HRF = "(01)00844588003288(17)281120(10)LOT4471(21)SN000123"


def device(carrier: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Device",
        "id": "stem",
        "status": "active",
        "udiCarrier": [carrier if carrier is not None else {"carrierHRF": GS1_HRF}],
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def identify(resource: dict[str, Any]) -> DeviceIdentification:
    record = decode_resource(json.dumps(resource), decoding()).record
    assert isinstance(record, DeviceIdentification)
    return record


def refusal(resource: dict[str, Any]) -> FhirDecodeError:
    with pytest.raises(FhirDecodeError) as caught:
        identify(resource)
    return caught.value


def test_a_gs1_barcode_gives_gtin_lot_serial_and_expiry() -> None:
    assert identify(device()) == DeviceIdentification(
        device_id="stem",
        issuer="GS1",
        device_identifier="00844588003288",
        lot="LOT4471",
        serial="SN000123",
        expiry=date(2028, 11, 20),
        udi=GS1_HRF,
    )


def test_the_official_example_writes_application_identifiers_in_braces() -> None:
    found = identify(golden("device-example-udi1.json"))
    assert (found.device_identifier, found.lot, found.serial, found.expiry) == (
        "00844588003288",
        "7654321D",
        "10987654d321",
        date(2014, 11, 20),
    )


def test_an_hibc_barcode_gives_the_labeler_product_and_unit() -> None:
    found = identify(device({"carrierHRF": "+A99912345/$$52001510X33"}))
    assert (found.issuer, found.device_identifier, found.lot, found.expiry) == (
        "HIBCC",
        "A99912345",
        "10X3",
        date(2020, 1, 15),
    )


def test_device_fields_fill_in_what_the_barcode_lacks() -> None:
    resource = device(
        {"carrierHRF": "(01)00844588003288"},
        lotNumber="L-9",
        serialNumber="S-1",
        expirationDate="2029-01-31",
    )
    found = identify(resource)
    assert (found.lot, found.serial, found.expiry) == ("L-9", "S-1", date(2029, 1, 31))


def test_a_device_identifier_without_barcode_is_taken_with_its_issuer() -> None:
    carrier = {
        "deviceIdentifier": "00844588003288",
        "issuer": "http://hl7.org/fhir/NamingSystem/gs1-di",
    }
    found = identify(device(carrier, lotNumber="L-9"))
    assert (found.issuer, found.device_identifier, found.lot, found.udi) == (
        "GS1",
        "00844588003288",
        "L-9",
        None,
    )


def test_a_barcode_that_does_not_verify_is_422_at_carrier_hrf_with_the_udi_reason() -> None:
    error = refusal(golden("awkward-device-hibc-bad-check.json"))
    assert (error.http_status, expressions(error.outcome)) == (
        422,
        ["Device.udiCarrier[0].carrierHRF"],
    )
    assert "check character" in error.issues[0].diagnostics


def test_a_gtin_with_a_wrong_check_digit_is_refused() -> None:
    error = refusal(device({"carrierHRF": "(01)00844588003289(10)A"}))
    assert expressions(error.outcome) == ["Device.udiCarrier[0].carrierHRF"]


def test_a_stated_device_identifier_that_contradicts_the_barcode_is_refused() -> None:
    error = refusal(device({"deviceIdentifier": "09504000059118", "carrierHRF": GS1_HRF}))
    assert (error.issues[0].code, expressions(error.outcome)) == (
        "business-rule",
        ["Device.udiCarrier[0].deviceIdentifier"],
    )


def test_a_gtin_stated_without_leading_zeros_agrees_with_the_barcode() -> None:
    found = identify(device({"deviceIdentifier": "844588003288", "carrierHRF": GS1_HRF}))
    assert found.device_identifier == "00844588003288"


def test_a_device_without_udi_carrier_is_refused_at_udi_carrier() -> None:
    error = refusal(device(udiCarrier=None))
    assert (error.http_status, expressions(error.outcome)) == (422, ["Device.udiCarrier"])


def test_a_carrier_with_neither_barcode_nor_identifier_is_refused() -> None:
    error = refusal(device({"entryType": "manual"}))
    assert expressions(error.outcome) == ["Device.udiCarrier[0].deviceIdentifier"]
