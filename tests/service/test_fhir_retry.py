"""A failed FHIR message retried from the exception queue once its cause is fixed (DESIGN.md §5):
the bus's ``fhir_decode`` handler applies the stored bytes, marks the message processed and
resolves the item; a retry that fails again opens the item again with the new reason."""

from __future__ import annotations

from fastapi.testclient import TestClient
from fhir_api_support import (
    api,
    body,
    bundle,
    count,
    hub,
    supply_delivery,
    writer,
)

from suture.bootstrap import Hub
from suture.domain.exceptions import ExceptionItem, ExceptionStatus
from suture.domain.masterdata import Location, LocationKind
from suture.domain.messages import MessageStatus

__all__ = ["api", "hub"]  # fixtures


def post(api: TestClient, hub: Hub, path: str, resource: dict[str, object]):  # type: ignore[no-untyped-def]
    return api.post(path, content=body(resource), headers=writer(hub, ["fac-gh"]))


def drain(hub: Hub) -> None:
    """Run the bus until no work is due (what `suture serve`'s dispatcher does)."""
    for _ in range(20):
        if hub.bus.run_once() == 0:
            return


def add_or2(hub: Hub) -> None:
    with hub.uow_factory() as uow:
        uow.locations.add(
            Location(id="loc-or2", facility_id="fac-gh", code="OR2", name="OR 2",
                     kind=LocationKind.OPERATING_ROOM)
        )  # fmt: skip
        uow.commit()


def item(hub: Hub) -> ExceptionItem:
    """The one item on a FHIR message (applied usage may open others, of its workflow)."""
    (only,) = [i for i in hub.work_queue.list(statuses=None) if i.message_id]
    return only


def test_a_resource_retried_after_its_location_exists_is_applied_and_its_item_resolved(
    api: TestClient, hub: Hub
) -> None:
    refused = post(api, hub, "/fhir/R4/SupplyDelivery", supply_delivery(location="OR2"))
    failed = item(hub)
    assert refused.status_code == 422
    assert "SupplyDelivery.destination" in failed.reason
    add_or2(hub)

    hub.work_queue.retry(failed.id, by="ana")
    drain(hub)

    message = hub.inbox.get(failed.message_id or "")
    assert (message.status, item(hub).status, count(hub, "usage")) == (
        MessageStatus.PROCESSED, ExceptionStatus.RESOLVED, 1,
    )  # fmt: skip
    with hub.uow_factory() as uow:
        (usage,) = uow.usage.list()
    assert usage.location_id == "loc-or2"


def test_a_retry_that_fails_again_opens_the_item_again_with_the_reason(
    api: TestClient, hub: Hub
) -> None:
    post(api, hub, "/fhir/R4/SupplyDelivery", supply_delivery(location="OR2"))
    failed = item(hub)

    hub.work_queue.retry(failed.id, by="ana")
    drain(hub)

    again = item(hub)
    message = hub.inbox.get(failed.message_id or "")
    assert (again.id, again.status, message.status, count(hub, "usage")) == (
        failed.id, ExceptionStatus.OPEN, MessageStatus.FAILED, 0,
    )  # fmt: skip
    assert "SupplyDelivery.destination" in again.reason


def test_a_transaction_bundle_retried_applies_all_its_entries_once_they_all_hold(
    api: TestClient, hub: Hub
) -> None:
    good = supply_delivery()
    bad = supply_delivery(location="OR2") | {"identifier": [{"value": "SD-2"}]}
    refused = post(api, hub, "/fhir/R4", bundle("transaction", good, bad))
    failed = item(hub)
    assert (refused.status_code, count(hub, "usage")) == (422, 0)

    hub.work_queue.retry(failed.id, by="ana")  # the location is still unknown: nothing kept
    drain(hub)
    assert (item(hub).status, count(hub, "usage")) == (ExceptionStatus.OPEN, 0)

    add_or2(hub)
    hub.work_queue.retry(failed.id, by="ana")
    drain(hub)
    message = hub.inbox.get(failed.message_id or "")
    assert (message.status, item(hub).status, count(hub, "usage")) == (
        MessageStatus.PROCESSED, ExceptionStatus.RESOLVED, 2,
    )  # fmt: skip
