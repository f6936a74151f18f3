"""SupplyRequest → a requisition to route for approval."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fhir_support import decoding, expressions, golden

from suture.domain.purchasing import Requisition, RequisitionLine, RequisitionStatus
from suture.formats.fhir import FhirDecodeError, decode_resource


def decode(resource: dict[str, Any]) -> Requisition:
    record = decode_resource(json.dumps(resource), decoding()).record
    assert isinstance(record, Requisition)
    return record


def refusal(resource: dict[str, Any]) -> FhirDecodeError:
    with pytest.raises(FhirDecodeError) as caught:
        decode(resource)
    return caught.value


def request(**changes: Any) -> dict[str, Any]:
    resource = golden("supplyrequest-example-simpleorder.json")
    resource.update(changes)
    return {k: v for k, v in resource.items() if v is not None}


def test_the_official_simple_order_is_a_requisition_pending_approval() -> None:
    requisition = decode(request())
    assert requisition == Requisition(
        id=requisition.id,
        number="Order10284",
        facility_id="FAC-1",
        department_id=None,
        location_id=None,
        requested_at=datetime(2016, 12, 31, 6, 0, tzinfo=UTC),
        lines=[RequisitionLine(line_number=1, item_id="BlueTubes", quantity=Decimal(10), uom="EA")],
        status=RequisitionStatus.PENDING_APPROVAL,
        source_system="procurement",
    )


def test_deliver_to_a_location_and_an_organization_requester_are_kept_as_codes() -> None:
    requisition = decode(
        request(
            deliverTo={"reference": "Location/or-core", "identifier": {"value": "OR-CORE"}},
            requester={"reference": "Organization/ortho"},
        )
    )
    assert (requisition.location_id, requisition.department_id) == ("OR-CORE", "ortho")


@pytest.mark.parametrize(
    ("status", "expected"),
    [("draft", RequisitionStatus.DRAFT), ("completed", RequisitionStatus.ORDERED)],
)
def test_statuses_map_to_requisition_statuses(status: str, expected: RequisitionStatus) -> None:
    assert decode(request(status=status)).status is expected


@pytest.mark.parametrize("status", ["suspended", "cancelled", "entered-in-error", "unknown"])
def test_a_request_that_is_not_live_is_not_routed(status: str) -> None:
    error = refusal(request(status=status))
    assert (error.http_status, expressions(error.outcome)) == (422, ["SupplyRequest.status"])


def test_a_contained_device_is_requested_by_its_device_identifier() -> None:
    contained = [
        {
            "resourceType": "Device",
            "id": "d",
            "udiCarrier": [{"carrierHRF": "(01)00844588003288(10)L1"}],
        }
    ]
    requisition = decode(
        request(itemCodeableConcept=None, itemReference={"reference": "#d"}, contained=contained)
    )
    assert requisition.lines[0].item_id == "00844588003288"


def test_a_negative_quantity_is_refused_at_its_value() -> None:
    error = refusal(request(quantity={"value": -2}))
    assert expressions(error.outcome) == ["SupplyRequest.quantity.value"]


def test_a_deliver_to_that_is_a_practitioner_is_refused() -> None:
    error = refusal(request(deliverTo={"reference": "Practitioner/p"}))
    assert expressions(error.outcome) == ["SupplyRequest.deliverTo"]
