"""``POST /fhir/R4/{type}`` and ``GET /fhir/R4/metadata`` on a real hub on SQLite."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi.testclient import TestClient
from fhir_api_support import (
    MRN,
    UNKNOWN_UDI,
    VISIT,
    api,
    body,
    charge_item,
    count,
    device,
    hub,
    message_id_of,
    patient_invoice,
    procedure,
    raw_of,
    supplier_invoice,
    supply_delivery,
    supply_request,
    writer,
)
from structlog.testing import capture_logs

from suture.bootstrap import Hub
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Item
from suture.domain.messages import MessageStatus
from suture.domain.purchasing import RequisitionStatus
from suture.domain.units import Packaging, PackagingLevel
from suture.entrypoints.api.fhir import RESOURCE_TYPES
from suture.formats.fhir import SUPPORTED_TYPES

__all__ = ["api", "hub"]  # fixtures


def post(api: TestClient, hub: Hub, kind: str, resource: dict[str, object], **params: str):  # type: ignore[no-untyped-def]
    headers = writer(hub, ["fac-gh"])
    return api.post(f"/fhir/R4/{kind}", content=body(resource), headers=headers, params=params)


def only_exception(hub: Hub) -> tuple[ExceptionType, str]:
    (item,) = hub.work_queue.list()
    return item.type, item.reason


def test_the_route_takes_exactly_the_types_the_codec_maps() -> None:
    assert set(RESOURCE_TYPES) == set(SUPPORTED_TYPES)


def test_metadata_is_the_capability_statement_without_a_token(api: TestClient) -> None:
    answer = api.get("/fhir/R4/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/fhir+json"
    statement = answer.json()
    assert statement["resourceType"] == "CapabilityStatement"
    (rest,) = statement["rest"]
    assert {r["type"] for r in rest["resource"]} == set(SUPPORTED_TYPES)
    assert [i["code"] for i in rest["interaction"]] == ["batch", "transaction"]


def test_a_charge_item_is_stored_raw_posted_and_answered_201_with_a_location(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "ChargeItem", charge_item())
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/fhir+json"
    location = answer.headers["location"]
    assert location.startswith("/fhir/R4/ChargeItem/")
    message = hub.inbox.get(message_id_of(location), with_raw=True)
    assert (message.raw, message.format, message.interface) == (
        body(charge_item()),
        "fhir",
        "fhir",
    )
    assert (message.status, message.facility_id) == (MessageStatus.PROCESSED, "fac-gh")
    with hub.uow_factory() as uow:
        (charge,) = uow.charges.list()
        events = uow.events.by_trace_id(message.trace_id)
    assert (charge.facility_id, charge.cdm_code, charge.quantity, charge.amount) == (
        "fac-gh",
        "CDM100",
        Decimal(2),
        Decimal("150.25"),
    )
    assert charge.encounter_token.startswith("tok_")
    assert message.correlation_id == charge.encounter_token  # suture trace finds it by visit
    assert answer.json()["issue"][0]["diagnostics"] == f"recorded as charge {charge.id}"
    assert [(e.type, e.payload["charge_id"]) for e in events] == [("charge.posted", charge.id)]


def test_the_same_bytes_again_are_200_with_the_first_location(api: TestClient, hub: Hub) -> None:
    first = post(api, hub, "ChargeItem", charge_item())
    again = post(api, hub, "ChargeItem", charge_item())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["location"] == first.headers["location"]
    assert count(hub, "charges") == 1


def test_a_charge_item_posted_with_a_trailing_slash_is_created_not_redirected(
    api: TestClient, hub: Hub
) -> None:
    answer = api.post("/fhir/R4/ChargeItem/", content=body(charge_item()),
                      headers=writer(hub, ["fac-gh"]), follow_redirects=False)  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"].startswith("/fhir/R4/ChargeItem/")
    assert count(hub, "charges") == 1


def test_a_charge_item_resent_with_other_bytes_finds_its_charge(api: TestClient, hub: Hub) -> None:
    post(api, hub, "ChargeItem", charge_item())
    answer = post(api, hub, "ChargeItem", charge_item(quantity={"value": 2.0}))
    assert answer.status_code == 201
    assert count(hub, "charges") == 1


def test_an_invalid_resource_is_an_operation_outcome_with_the_fhirpath_and_raw_kept(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "ChargeItem", charge_item(status="invoiced"))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/fhir+json"
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["expression"] for i in outcome["issue"]] == [["ChargeItem.status"]]
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.FAILED
    assert raw_of(hub, message.id) == body(charge_item(status="invoiced"))
    assert only_exception(hub)[0] is ExceptionType.MALFORMED_MESSAGE


def test_a_structural_fault_is_400(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "ChargeItem", charge_item(quantity="two"))
    assert answer.status_code == 400
    assert answer.json()["issue"][0]["expression"] == ["ChargeItem.quantity"]


def test_a_resource_of_another_type_than_the_url_is_400(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "Device", charge_item())
    assert answer.status_code == 400


def test_patient_identifiers_never_reach_an_error_or_a_stored_reason(
    api: TestClient, hub: Hub
) -> None:
    resource = charge_item()
    del resource["context"]  # a charge needs a visit: refused, the subject's MRN in the body
    answer = post(api, hub, "ChargeItem", resource)
    texts = [answer.text, *(item.reason for item in hub.work_queue.list())]
    texts += [str(m.status_reason) for m in hub.inbox.list(interface="fhir")]
    assert answer.status_code == 422
    assert not [text for text in texts if MRN in text or VISIT in text]


def test_a_device_identifies_its_item_by_gtin(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "Device", device())
    assert answer.status_code == 201, answer.text
    assert answer.json()["issue"][0]["diagnostics"] == "the Device identifies item item-hip"


def test_an_unknown_device_is_422_naming_the_udi_with_a_missing_item_mapping(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "Device", device(UNKNOWN_UDI))
    assert answer.status_code == 422
    (issue,) = answer.json()["issue"]
    assert (issue["code"], issue["expression"]) == (
        "not-found",
        ["Device.udiCarrier[0].carrierHRF"],
    )
    (message,) = hub.inbox.list(interface="fhir")
    assert (message.status, raw_of(hub, message.id)) == (
        MessageStatus.FAILED,
        body(device(UNKNOWN_UDI)),
    )
    assert only_exception(hub)[0] is ExceptionType.MISSING_ITEM_MAPPING


def test_a_supplier_invoice_is_stored_for_the_supplier_its_gln_names(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "Invoice", supplier_invoice())
    assert answer.status_code == 201, answer.text
    with hub.uow_factory() as uow:
        (invoice,) = uow.invoices.list()
    assert (invoice.number, invoice.supplier_id, invoice.facility_id) == (
        "INV-77",
        "sup-1",
        "fac-gh",
    )
    assert invoice.stated_total == Decimal(100)


def test_an_invoice_of_an_unknown_supplier_is_422_with_an_unknown_supplier_item(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "Invoice", supplier_invoice(issuer="NOBODY"))
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"] == ["Invoice.issuer"]
    assert only_exception(hub)[0] is ExceptionType.UNKNOWN_SUPPLIER
    assert count(hub, "invoices") == 0


def test_a_patient_invoice_is_recorded_as_received_and_stores_no_record(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, "Invoice", patient_invoice())
    assert answer.status_code == 201, answer.text
    assert "patient Invoice" in answer.json()["issue"][0]["diagnostics"]
    assert count(hub, "invoices") == 0
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.PROCESSED


def test_a_supply_request_becomes_a_requisition_pending_approval(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "SupplyRequest", supply_request())
    assert answer.status_code == 201, answer.text
    with hub.uow_factory() as uow:
        (requisition,) = uow.requisitions.list()
    assert (requisition.number, requisition.status, requisition.facility_id) == (
        "REQ-5",
        RequisitionStatus.PENDING_APPROVAL,
        "fac-gh",
    )
    assert [(line.item_id, line.quantity) for line in requisition.lines] == [
        ("item-hip", Decimal(3))
    ]


def test_an_active_supply_request_is_routed_by_the_approval_policy(
    api: TestClient, hub: Hub
) -> None:
    assert post(api, hub, "SupplyRequest", supply_request()).status_code == 201
    while hub.bus.run_once():
        pass

    with hub.uow_factory() as uow:
        (requisition,) = uow.requisitions.list()
    approval = hub.requisitions.show(requisition.id).approval
    assert approval is not None
    assert (approval.reason, approval.facility_id) == ("department", "fac-gh")


def test_a_supply_delivery_is_recorded_as_usage_at_its_location(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "SupplyDelivery", supply_delivery())
    assert answer.status_code == 201, answer.text
    message = hub.inbox.get(message_id_of(answer.headers["location"]))
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()
        (event,) = uow.events.by_trace_id(message.trace_id)
    assert (event.type, event.schema_version) == ("supply.usage.recorded", 2)
    assert (event.payload["usage_id"], event.payload["uom"]) == (usage.id, "EA")
    assert (usage.item_id, usage.location_id, usage.quantity, usage.uom) == (
        "item-hip",
        "loc-or1",
        Decimal(1),
        "EA",
    )


def test_a_procedures_implant_is_recorded_as_usage_with_its_udi(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "Procedure", procedure())
    assert answer.status_code == 201, answer.text
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()
    assert (usage.item_id, usage.lot, usage.serial) == ("item-hip", "LOT7", "SN1")
    assert usage.encounter_token is not None
    assert usage.encounter_token.startswith("tok_")


def test_a_procedures_used_code_is_one_of_the_items_base_unit_even_when_it_is_not_ea(
    api: TestClient, hub: Hub
) -> None:
    with hub.uow_factory() as uow:
        uow.items.add(
            Item(id="item-mitts", description="Mitts", manufacturer="Acme", catalog_number="M1",
                 packaging=Packaging((PackagingLevel("PR", 1), PackagingLevel("BX", 20))),
                 purchase_uom="BX")
        )  # fmt: skip
        uow.commit()
    used = procedure() | {"focalDevice": None, "contained": None,
                          "usedCode": [{"coding": [{"code": "item-mitts"}]}]}  # fmt: skip
    answer = post(api, hub, "Procedure", {k: v for k, v in used.items() if v is not None})

    assert answer.status_code == 201, answer.text
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()
    assert (usage.item_id, usage.quantity, usage.uom) == ("item-mitts", Decimal(1), "PR")


def test_a_supply_delivery_entered_in_error_after_its_usage_opens_a_usage_reversal_item(
    api: TestClient, hub: Hub
) -> None:
    recorded = post(api, hub, "SupplyDelivery", supply_delivery())
    voided = post(api, hub, "SupplyDelivery", supply_delivery() | {"status": "entered-in-error"})
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()

    assert (recorded.status_code, voided.status_code) == (201, 201)
    assert [i["diagnostics"] for i in voided.json()["issue"]] == [
        f"an entered-in-error SupplyDelivery of usage {usage.id}, recorded already: not "
        "reversed by the hub (usage_reversal item opened)"
    ]
    assert only_exception(hub) == (
        ExceptionType.USAGE_REVERSAL,
        f"SupplyDelivery entered-in-error after its usage was recorded: usage {usage.id} "
        "(item item-hip, 1 EA at loc-or1): its stock move, cost journal, expected charge and "
        "any bill-only PO stand; the hub does not reverse usage: reverse them by hand",
    )


def test_a_supply_delivery_corrected_after_its_usage_opens_a_usage_reversal_item(
    api: TestClient, hub: Hub
) -> None:
    post(api, hub, "SupplyDelivery", supply_delivery())
    corrected = supply_delivery()
    corrected["suppliedItem"]["quantity"]["value"] = 2
    answer = post(api, hub, "SupplyDelivery", corrected)
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()

    assert answer.status_code == 201
    assert (usage.quantity, only_exception(hub)) == (Decimal(1), (
        ExceptionType.USAGE_REVERSAL,
        f"SupplyDelivery sent again with 2 EA of item item-hip at loc-or1 after usage "
        f"{usage.id} was recorded with 1 EA of item item-hip at loc-or1: the hub does not "
        "correct usage: adjust its stock move, cost journal and expected charge by hand",
    ))  # fmt: skip


def test_a_supply_delivery_entered_in_error_before_any_usage_used_nothing(
    api: TestClient, hub: Hub
) -> None:
    voided = post(api, hub, "SupplyDelivery", supply_delivery() | {"status": "entered-in-error"})

    assert voided.status_code == 201
    assert count(hub, "usage") == 0
    assert hub.work_queue.list() == []


def test_usage_of_an_unknown_item_is_422_and_records_nothing(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "SupplyDelivery", supply_delivery(item="NOPE"))
    assert answer.status_code == 422
    assert count(hub, "usage") == 0
    assert only_exception(hub)[0] is ExceptionType.MISSING_ITEM_MAPPING


def test_usage_at_an_unknown_location_is_422_naming_the_location_element(
    api: TestClient, hub: Hub
) -> None:
    delivered = post(api, hub, "SupplyDelivery", supply_delivery(location="NOPE"))
    implanted = post(api, hub, "Procedure", procedure() | {"location": {"reference": "Location/X"}})

    assert [(a.status_code, a.json()["issue"]) for a in (delivered, implanted)] == [
        (422, [{
            "severity": "error", "code": "not-found",
            "diagnostics": f"{element}: the location maps to no location of the facility",
            "expression": [element],
        }])
        for element in ("SupplyDelivery.destination", "Procedure.location")
    ]  # fmt: skip
    assert count(hub, "usage") == 0


def test_usage_in_a_unit_the_item_is_not_packed_in_is_422_uom_mismatch_not_a_dead_letter(
    api: TestClient, hub: Hub
) -> None:
    delivery = supply_delivery()
    delivery["suppliedItem"]["quantity"] = {"value": 1, "unit": "box"}
    answer = post(api, hub, "SupplyDelivery", delivery)
    while hub.bus.run_once():
        pass

    assert (answer.status_code, answer.json()["issue"]) == (422, [{
        "severity": "error", "code": "value",
        "diagnostics": "SupplyDelivery.suppliedItem.quantity: unit BOX is not a unit of item "
                       "item-hip, which has EA",
        "expression": ["SupplyDelivery.suppliedItem.quantity"],
    }])  # fmt: skip
    assert count(hub, "usage") == 0
    assert only_exception(hub)[0] is ExceptionType.UOM_MISMATCH


def test_a_quantity_the_hub_cannot_store_exactly_is_422_at_it_not_a_503_to_retry(
    api: TestClient, hub: Hub
) -> None:
    delivery = supply_delivery()
    delivery["suppliedItem"]["quantity"]["value"] = 1.00001
    answer = post(api, hub, "SupplyDelivery", delivery)

    assert answer.status_code == 422
    assert [i["expression"] for i in answer.json()["issue"]] == [
        ["SupplyDelivery.suppliedItem.quantity.value"]
    ]
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.FAILED
    assert only_exception(hub)[0] is ExceptionType.MALFORMED_MESSAGE
    assert count(hub, "usage") == 0


def test_a_supplier_invoice_line_whose_unit_price_does_not_divide_evenly_is_received(
    api: TestClient, hub: Hub
) -> None:
    invoice = supplier_invoice()
    invoice["lineItem"][0]["priceComponent"][0] |= {
        "factor": 3,
        "amount": {"value": 100, "currency": "USD"},
    }
    answer = post(api, hub, "Invoice", invoice)

    assert answer.status_code == 201, answer.text
    with hub.uow_factory() as uow:
        (stored,) = uow.invoices.list()
    assert [(line.quantity, line.unit_price) for line in stored.lines] == [
        (Decimal(3), Decimal("33.3333"))
    ]


def test_a_client_of_one_facility_posts_for_it_by_default_and_not_for_another(
    api: TestClient, hub: Hub
) -> None:
    headers = writer(hub, ["fac-gh"])
    refused = api.post(
        "/fhir/R4/ChargeItem",
        content=body(charge_item()),
        headers=headers,
        params={"facility_id": "fac-st"},
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert hub.inbox.list(interface="fhir") == []


def test_a_client_of_several_facilities_must_name_one(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["fac-gh", "fac-st"])
    answer = api.post("/fhir/R4/ChargeItem", content=body(charge_item()), headers=headers)
    assert answer.status_code == 403
    assert hub.inbox.list(interface="fhir") == []
    named = api.post(
        "/fhir/R4/ChargeItem",
        content=body(charge_item()),
        headers=headers,
        params={"facility_id": "fac-st"},
    )
    assert named.status_code == 201
    (message,) = hub.inbox.list(interface="fhir")
    assert message.facility_id == "fac-st"


def test_an_unknown_facility_is_422_before_anything_is_stored(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["*"])
    answer = api.post(
        "/fhir/R4/ChargeItem",
        content=body(charge_item()),
        headers=headers,
        params={"facility_id": "fac-x"},
    )
    assert answer.status_code == 422
    assert answer.json()["resourceType"] == "OperationOutcome"
    assert hub.inbox.list(interface="fhir") == []


def test_an_unsupported_type_is_404_and_metadata_takes_no_post(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["fac-gh"])
    assert api.post("/fhir/R4/Patient", content=b"{}", headers=headers).status_code == 404
    assert api.post("/fhir/R4/metadata", content=b"{}", headers=headers).status_code == 405


def test_other_content_types_are_415(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["fac-gh"]) | {"content-type": "text/plain"}
    answer = api.post("/fhir/R4/ChargeItem", content=body(charge_item()), headers=headers)
    assert answer.status_code == 415
    assert answer.json()["issue"][0]["code"] == "not-supported"


def test_plain_application_json_is_accepted(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["fac-gh"]) | {"content-type": "application/json; charset=utf-8"}
    answer = api.post("/fhir/R4/ChargeItem", content=body(charge_item()), headers=headers)
    assert answer.status_code == 201


def test_writing_needs_the_system_write_scope(api: TestClient, hub: Hub) -> None:
    from suture.domain.access import Scope  # noqa: PLC0415

    headers = writer(hub, ["fac-gh"], {Scope.SYSTEM_READ})
    answer = api.post("/fhir/R4/ChargeItem", content=body(charge_item()), headers=headers)
    assert answer.status_code == 403
    assert hub.inbox.list(interface="fhir") == []


def test_not_json_is_400_and_kept(api: TestClient, hub: Hub) -> None:
    headers = writer(hub, ["fac-gh"])
    answer = api.post("/fhir/R4/ChargeItem", content=b"{not json", headers=headers)
    assert answer.status_code == 400
    (message,) = hub.inbox.list(interface="fhir")
    assert raw_of(hub, message.id) == b"{not json"
    assert json.loads(answer.text)["resourceType"] == "OperationOutcome"


def test_patient_identifiers_never_reach_the_logs(api: TestClient, hub: Hub) -> None:
    resource = charge_item()
    del resource["context"]
    with capture_logs() as logs:
        post(api, hub, "ChargeItem", charge_item("CI-9"))
        post(api, hub, "ChargeItem", resource)
        post(api, hub, "Procedure", procedure(UNKNOWN_UDI))
    assert logs  # the access log saw the requests
    assert not [entry for entry in logs if MRN in repr(entry) or VISIT in repr(entry)]


def test_a_fhir_submission_is_recorded_in_the_audit_trail(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, "ChargeItem", charge_item())
    (record,) = hub.audit.list(action="message.ingest")
    assert (record.entry.actor.scope, str(record.entry.outcome)) == ("system:write", "success")
    assert record.entry.after == (
        f"message_id={message_id_of(answer.headers['location'])} format=fhir status=201 "
        "duplicate=False"
    )
