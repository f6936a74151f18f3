"""SupplyDelivery and Procedure → usage lines; implants by the Device's UDI, wherever it is."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.domain.inventory import UsageRecord
from suture.formats.fhir import (
    DecodedUsage,
    DeviceIdentification,
    FhirDecodeError,
    decode_resource,
)

HRF = "(01)00844588003288(17)281120(10)LOT4471(21)SN000123"
IMPLANT = DeviceIdentification(
    device_id="stem",
    issuer="GS1",
    device_identifier="00844588003288",
    lot="LOT4471",
    serial="SN000123",
    expiry=date(2028, 11, 20),
    udi=HRF,
)


def delivery(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "SupplyDelivery",
        "identifier": [{"value": "SD-1"}],
        "status": "completed",
        "patient": {"reference": "Patient/p-1"},
        "suppliedItem": {
            "quantity": {"value": 3, "code": "bx"},
            "itemCodeableConcept": {"coding": [{"code": "GAUZE-4X4"}]},
        },
        "occurrenceDateTime": "2026-11-24T10:00:00-06:00",
        "destination": {"reference": "Location/l", "identifier": {"value": "OR-3"}},
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def procedure(**changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "identifier": [{"value": "CASE-1"}],
        "status": "completed",
        "subject": {"reference": "Patient/p-1"},
        "encounter": {"identifier": {"value": "V100"}},
        "performedDateTime": "2026-11-24T09:00:00-06:00",
        "location": {"identifier": {"value": "OR-3"}},
        "contained": [
            {"resourceType": "Device", "id": "stem", "udiCarrier": [{"carrierHRF": HRF}]}
        ],
        "focalDevice": [{"manipulated": {"reference": "#stem"}}],
    }
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def usage(resource: dict[str, Any], **kwargs: Any) -> DecodedUsage:
    record = decode_resource(json.dumps(resource), decoding(**kwargs)).record
    assert isinstance(record, DecodedUsage)
    return record


def refusal(resource: dict[str, Any], **kwargs: Any) -> FhirDecodeError:
    with pytest.raises(FhirDecodeError) as caught:
        usage(resource, **kwargs)
    return caught.value


def test_a_completed_delivery_is_one_usage_line() -> None:
    (line,) = usage(delivery()).lines
    assert (line.item_code, line.quantity, line.uom, line.location) == (
        "GAUZE-4X4",
        Decimal(3),
        "BX",
        "OR-3",
    )
    assert line.used_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert (line.patient_token, line.source) == ("tok(Patient/p-1)", "SupplyDelivery.suppliedItem")


@pytest.mark.parametrize("status", ["in-progress", "abandoned", "entered-in-error"])
def test_a_delivery_that_is_not_completed_used_nothing(status: str) -> None:
    assert usage(delivery(status=status)).lines == ()


@pytest.mark.parametrize("build", [delivery, procedure])
def test_entered_in_error_names_the_usage_lines_the_completed_resource_recorded(
    build: Any,
) -> None:
    completed = usage(build())
    voided = usage(build(status="entered-in-error"))

    assert (voided.lines, voided.voids) == ((), tuple(line.id for line in completed.lines))
    assert usage(build(status="in-progress")).voids == ()


def test_the_official_pump_delivery_is_in_progress_and_yields_no_usage() -> None:
    decoded = usage(golden("supplydelivery-example-pumpdelivery.json"))
    assert (decoded.status, decoded.lines, decoded.patient_token) == ("in-progress", (), None)


def test_a_supplied_device_is_identified_by_its_udi() -> None:
    item = {"itemReference": {"reference": "#stem"}}
    contained = [{"resourceType": "Device", "id": "stem", "udiCarrier": [{"carrierHRF": HRF}]}]
    (line,) = usage(delivery(suppliedItem=item, contained=contained)).lines
    assert (line.device, line.quantity, line.uom) == (IMPLANT, Decimal(1), "EA")


def test_a_supplied_medication_is_named_by_its_identifier() -> None:
    item = {"itemReference": {"reference": "Medication/m-1", "identifier": {"value": "NDC-1"}}}
    (line,) = usage(delivery(suppliedItem=item)).lines
    assert (line.item_code, line.device) == ("NDC-1", None)


def test_a_delivery_without_destination_uses_the_interfaces_default_location() -> None:
    (line,) = usage(delivery(destination=None), default_location="CENTRAL").lines
    assert line.location == "CENTRAL"


def test_a_delivery_without_destination_or_default_is_refused_at_destination() -> None:
    error = refusal(delivery(destination=None))
    assert expressions(error.outcome) == ["SupplyDelivery.destination"]


def test_a_zero_quantity_is_refused_at_its_value() -> None:
    item = {"quantity": {"value": 0}, "itemCodeableConcept": {"coding": [{"code": "G"}]}}
    error = refusal(delivery(suppliedItem=item))
    assert expressions(error.outcome) == ["SupplyDelivery.suppliedItem.quantity.value"]


def test_a_destination_that_is_not_a_location_is_refused() -> None:
    error = refusal(delivery(destination={"reference": "Organization/o"}))
    assert (error.issues[0].code, expressions(error.outcome)) == (
        "value",
        ["SupplyDelivery.destination"],
    )


def test_an_implanted_contained_device_is_a_usage_line_with_its_udi() -> None:
    (line,) = usage(procedure()).lines
    assert line.device == IMPLANT
    assert (line.location, line.encounter_token, line.quantity) == ("OR-3", "tok(V100)", 1)
    assert line.source == "Procedure.focalDevice[0].manipulated"


def test_a_usage_line_becomes_a_usage_record_once_item_and_location_are_resolved() -> None:
    (line,) = usage(procedure()).lines
    record = line.to_record(item_id="ITEM-7", location_id="LOC-3")
    assert record == UsageRecord(
        id=line.id,
        facility_id="FAC-1",
        location_id="LOC-3",
        item_id="ITEM-7",
        quantity=Decimal(1),
        uom="EA",
        used_at=datetime(2026, 11, 24, 15, 0, tzinfo=UTC),
        encounter_token="tok(V100)",
        lot="LOT4471",
        serial="SN000123",
        expiry=date(2028, 11, 20),
        udi=HRF,
        source_system="clinical",
    )


def test_used_devices_and_used_codes_are_lines_too_but_not_medications() -> None:
    changes = {
        "focalDevice": None,
        "usedReference": [{"reference": "#stem"}, {"reference": "Medication/m"}],
        "usedCode": [{"coding": [{"code": "SUT-42"}]}],
    }
    lines = usage(procedure(**changes)).lines
    assert [(line.device is not None, line.item_code) for line in lines] == [
        (True, None),
        (False, "SUT-42"),
    ]


def test_a_device_posted_earlier_is_found_among_known_devices() -> None:
    changes = {"contained": None, "focalDevice": [{"manipulated": {"reference": "Device/stem"}}]}
    (line,) = usage(procedure(**changes), known_devices={"Device/stem": IMPLANT}).lines
    assert line.device == IMPLANT


def test_an_unresolvable_device_is_422_not_found_at_the_reference() -> None:
    error = refusal(golden("procedure-example-implant.json"))
    assert (error.http_status, error.issues[0].code, expressions(error.outcome)) == (
        422,
        "not-found",
        ["Procedure.focalDevice[0].manipulated"],
    )


def test_a_focal_device_that_is_not_a_device_is_refused() -> None:
    error = refusal(procedure(focalDevice=[{"manipulated": {"reference": "Medication/m"}}]))
    assert expressions(error.outcome) == ["Procedure.focalDevice[0].manipulated"]


def test_a_procedure_not_completed_used_nothing() -> None:
    assert usage(procedure(status="in-progress")).lines == ()


def test_the_same_procedure_sent_again_gives_the_same_line_ids() -> None:
    assert [line.id for line in usage(procedure()).lines] == [
        line.id for line in usage(procedure()).lines
    ]


def test_a_performed_string_cannot_place_the_usage_in_time() -> None:
    error = refusal(procedure(performedDateTime=None, performedString="yesterday"))
    assert expressions(error.outcome) == ["Procedure.performed"]
