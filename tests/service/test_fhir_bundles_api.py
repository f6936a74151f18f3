"""``POST /fhir/R4`` with batch and transaction Bundles, and store-before-answer, on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir_api_support import (
    UNKNOWN_UDI,
    api,
    body,
    bundle,
    charge_item,
    count,
    device,
    hub,
    procedure,
    raw_of,
    supply_delivery,
    writer,
)

from suture.bootstrap import Hub
from suture.domain.exceptions import ExceptionType
from suture.domain.messages import MessageStatus

__all__ = ["api", "hub"]  # fixtures


def post(api: TestClient, hub: Hub, resource: dict[str, Any]) -> Any:
    return api.post("/fhir/R4", content=body(resource), headers=writer(hub, ["fac-gh"]))


def statuses(answer: Any) -> list[str]:
    return [entry["response"]["status"] for entry in answer.json()["entry"]]


def test_a_batch_applies_what_it_can_and_answers_each_entry(api: TestClient, hub: Hub) -> None:
    sent = bundle(
        "batch",
        charge_item("CI-1"),
        charge_item("CI-2", status="invoiced"),
        supply_delivery(item="NOPE"),
        charge_item("CI-3"),
    )
    answer = post(api, hub, sent)
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "batch-response"
    assert statuses(answer) == [
        "201 Created",
        "422 Unprocessable Entity",
        "422 Unprocessable Entity",
        "201 Created",
    ]
    entries = answer.json()["entry"]
    assert entries[1]["response"]["outcome"]["issue"][0]["expression"] == [
        "Bundle.entry[1].resource.status"
    ]
    assert entries[2]["response"]["outcome"]["issue"][0]["code"] == "not-found"
    assert entries[0]["response"]["location"].startswith("ChargeItem/")
    assert count(hub, "charges") == 2
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.PROCESSED
    (item,) = hub.work_queue.list()
    assert item.type is ExceptionType.MISSING_ITEM_MAPPING


def test_a_transaction_applies_every_entry(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, bundle("transaction", charge_item("CI-1"), supply_delivery()))
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "transaction-response"
    assert statuses(answer) == ["201 Created", "201 Created"]
    assert (count(hub, "charges"), count(hub, "usage")) == (1, 1)


def test_a_bundle_posted_to_the_base_with_a_trailing_slash_is_applied_not_redirected(
    api: TestClient, hub: Hub
) -> None:
    sent = bundle("transaction", charge_item("CI-1"), supply_delivery())
    answer = api.post(
        "/fhir/R4/", content=body(sent), headers=writer(hub, ["fac-gh"]), follow_redirects=False
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "transaction-response"
    assert (count(hub, "charges"), count(hub, "usage")) == (1, 1)


def test_a_transaction_with_an_invalid_entry_applies_nothing(api: TestClient, hub: Hub) -> None:
    sent = bundle("transaction", charge_item("CI-1"), charge_item("CI-2", status="invoiced"))
    answer = post(api, hub, sent)
    assert answer.status_code == 422
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[1].resource.status"]
    assert count(hub, "charges") == 0
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.FAILED


def test_a_transaction_whose_last_entry_cannot_be_applied_rolls_back_the_first(
    api: TestClient, hub: Hub
) -> None:
    answer = post(api, hub, bundle("transaction", charge_item("CI-1"), supply_delivery("NOPE")))
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"][0].startswith("Bundle.entry[1].resource")
    assert (count(hub, "charges"), count(hub, "usage")) == (0, 0)
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.FAILED
    (item,) = hub.work_queue.list()
    assert item.type is ExceptionType.MISSING_ITEM_MAPPING


def test_an_entrys_unknown_location_is_named_at_its_element_in_the_bundle(
    api: TestClient, hub: Hub
) -> None:
    delivery = supply_delivery(location="NOPE")
    answer = post(api, hub, bundle("transaction", charge_item("CI-1"), delivery))
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.destination"]


def test_a_procedure_finds_its_device_entry_by_urn_uuid(api: TestClient, hub: Hub) -> None:
    implant = procedure()
    del implant["contained"]
    implant["focalDevice"] = [{"manipulated": {"reference": "urn:uuid:0d1e"}}]
    sent = bundle("transaction", implant, device())
    sent["entry"][1]["fullUrl"] = "urn:uuid:0d1e"
    answer = post(api, hub, sent)
    assert answer.status_code == 200, answer.text
    assert count(hub, "usage") == 1


def test_the_same_bundle_again_applies_nothing_twice(api: TestClient, hub: Hub) -> None:
    sent = bundle("batch", charge_item("CI-1"), device(UNKNOWN_UDI))
    first = post(api, hub, sent)
    again = post(api, hub, sent)
    assert statuses(first) == ["201 Created", "422 Unprocessable Entity"]
    assert statuses(again) == ["200 OK", "422 Unprocessable Entity"]
    assert count(hub, "charges") == 1
    assert len(hub.inbox.list(interface="fhir")) == 1


def test_another_bundle_type_is_422_at_bundle_type(api: TestClient, hub: Hub) -> None:
    answer = post(api, hub, bundle("collection", charge_item()))
    assert answer.status_code == 422
    assert answer.json()["issue"][0]["expression"] == ["Bundle.type"]


def test_a_failure_while_applying_leaves_the_raw_message_stored_and_retried_on_resend(
    api: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> bool:
        raise RuntimeError("the event log is down")

    with monkeypatch.context() as patched:
        patched.setattr(hub.bus, "publish", broken)
        with pytest.raises(RuntimeError):
            post(api, hub, bundle("batch", charge_item("CI-1")))
    (message,) = hub.inbox.list(interface="fhir")
    assert message.status is MessageStatus.RECEIVED
    assert raw_of(hub, message.id) == body(bundle("batch", charge_item("CI-1")))
    assert count(hub, "charges") == 0
    again = post(api, hub, bundle("batch", charge_item("CI-1")))
    assert statuses(again) == ["201 Created"]
    assert count(hub, "charges") == 1
