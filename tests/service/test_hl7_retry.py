"""A failed HL7 v2 message retried from the exception queue once its cause is fixed (DESIGN.md
§5): the bus's ``hl7_decode`` handler decodes the stored bytes again and applies them, marks the
message processed and resolves the item, whether or not an MLLP listener (and its recovery
sweep) runs in the process; a retry that fails again opens the item again with the new reason."""

from __future__ import annotations

from fhir_api_support import count, hub

from suture.bootstrap import Hub
from suture.domain.exceptions import ExceptionItem, ExceptionStatus
from suture.domain.masterdata import Facility
from suture.domain.messages import MessageStatus

__all__ = ["hub"]  # fixture


def dft(facility: str = "NEW", control_id: str = "C1") -> bytes:
    """A DFT^P03 of two charges from ``facility`` (MSH-4)."""
    return (
        f"MSH|^~\\&|EPIC|{facility}|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        "PID|1||MRN4455^^^GH^MR||DOE^JANE\r"
        "PV1|1|I|4W^401^1^GH||||||||||||||||V778899\r"
        "FT1|1|T1||20250301080000||CG|CDM100|||2|50.00||LAB\r"
        "FT1|2|T2||20250301080000||CG|CDM200|||1|15.00||LAB\r"
    ).encode()


def drain(hub: Hub) -> None:
    """Run the bus until no work is due (what `suture serve`'s dispatcher does)."""
    for _ in range(20):
        if hub.bus.run_once() == 0:
            return


def add_new_facility(hub: Hub) -> None:
    with hub.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-new", code="NEW", name="New wing", timezone="UTC"))
        uow.commit()


def item(hub: Hub) -> ExceptionItem:
    (only,) = [i for i in hub.work_queue.list(statuses=None) if i.message_id]
    return only


def test_a_message_retried_after_its_facility_exists_is_applied_and_its_item_resolved(
    hub: Hub,
) -> None:
    refused = hub.hl7_ingest.handle(dft(), "mllp", "epic")
    failed = item(hub)
    assert (refused.code, count(hub, "charges")) == ("AE", 0)
    assert "MSH-4" in failed.reason
    add_new_facility(hub)

    hub.work_queue.retry(failed.id, by="ana")
    drain(hub)

    message = hub.inbox.get(refused.message_id)
    assert (message.status, item(hub).status, count(hub, "charges")) == (
        MessageStatus.PROCESSED, ExceptionStatus.RESOLVED, 2,
    )  # fmt: skip
    assert message.facility_id == "fac-new"
    with hub.uow_factory() as uow:
        assert {c.facility_id for c in uow.charges.list()} == {"fac-new"}


def test_a_retry_that_fails_again_opens_the_item_again_with_the_reason(hub: Hub) -> None:
    refused = hub.hl7_ingest.handle(dft(), "mllp", "epic")
    failed = item(hub)

    hub.work_queue.retry(failed.id, by="ana")
    assert item(hub).status is ExceptionStatus.IN_PROGRESS
    drain(hub)

    again = item(hub)
    message = hub.inbox.get(refused.message_id)
    assert (again.id, again.status, message.status, count(hub, "charges")) == (
        failed.id, ExceptionStatus.OPEN, MessageStatus.FAILED, 0,
    )  # fmt: skip
    assert "MSH-4" in again.reason


def test_the_recovery_sweep_reaching_a_retried_message_first_resolves_its_item(hub: Hub) -> None:
    refused = hub.hl7_ingest.handle(dft(), "mllp", "epic")
    failed = item(hub)
    add_new_facility(hub)
    hub.work_queue.retry(failed.id, by="ana")

    swept = hub.hl7_ingest.recover()  # the MLLP listener's sweep, before the bus runs
    drain(hub)  # the handler then finds the message processed: nothing more

    message = hub.inbox.get(refused.message_id)
    assert (swept, message.status, item(hub).status, count(hub, "charges")) == (
        1, MessageStatus.PROCESSED, ExceptionStatus.RESOLVED, 2,
    )  # fmt: skip
