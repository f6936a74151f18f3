"""Exception items as the domain defines them: subjects, SLA, overdue, status changes, the trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from suture.domain.errors import DomainError
from suture.domain.exceptions import (
    DEFAULT_SLA_POLICY,
    ActionKind,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionTransitionError,
    ExceptionType,
    SlaPolicy,
    SlaRule,
    subject_of,
)

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
S = ExceptionStatus
T = ExceptionType


def item(type: ExceptionType = T.HANDLER_FAILED, **links: str) -> ExceptionItem:
    links = links or {"event_id": "evt-1", "handler": "record_usage"}
    return ExceptionItem.open(
        id="exc-1", type=type, facility_id="fac-1", reason="boom", at=AT, **links
    )


# --- subjects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("links", "subject"),
    [
        ({"delivery_id": "d1", "event_id": "e1", "handler": "h"}, "delivery:d1"),
        (
            {"event_id": "e1", "handler": "h", "message_id": "m1", "dependency": "item:x"},
            "event:e1/h",
        ),
        ({"event_id": "e1"}, "event:e1"),
        ({"message_id": "m1", "correlation_id": "PO-1"}, "message:m1"),
        ({"dependency": "item:epic/fac-1/item/LOC-42"}, "dependency:item:epic/fac-1/item/LOC-42"),
        ({"correlation_id": "INV-7"}, "correlation:INV-7"),
    ],
)
def test_the_subject_is_the_most_specific_link(links: dict[str, str], subject: str) -> None:
    assert subject_of(**links) == subject


def test_an_item_that_links_nothing_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        ExceptionItem.open(id="x", type=T.MALFORMED_MESSAGE, facility_id=None, reason="r", at=AT)

    assert refused.value.field == "subject"


def test_a_handler_without_its_event_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        subject_of(handler="record_usage", message_id="m1")

    assert refused.value.field == "event_id"


# --- SLA and overdue ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type", "queue", "hours"),
    [
        (T.MISSING_ITEM_MAPPING, "supply-chain", 24),
        (T.MALFORMED_MESSAGE, "integration", 4),
        (T.HANDLER_FAILED, "integration", 4),
        (T.DELIVERY_FAILED, "integration", 2),
        (T.CONTRACT_PRICE_MISMATCH, "accounts-payable", 48),
        (T.DUPLICATE_INVOICE, "accounts-payable", 48),
        (T.PRICE_VARIANCE, "accounts-payable", 48),
        (T.QUANTITY_VARIANCE, "accounts-payable", 48),
        (T.USAGE_WITHOUT_CHARGE, "revenue-integrity", 72),
        (T.PRODUCT_NOT_IN_ERP, "supply-chain", 24),
        (T.ACCOUNT_NOT_IN_ERP, "finance", 48),
    ],
)
def test_a_new_item_goes_to_its_types_queue_due_after_its_types_hours(
    type: ExceptionType, queue: str, hours: int
) -> None:
    opened = item(type)

    assert (opened.queue, opened.sla_due_at, opened.status) == (
        queue,
        AT + timedelta(hours=hours),
        S.OPEN,
    )


def test_a_policy_without_a_rule_for_every_type_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        SlaPolicy({T.HANDLER_FAILED: SlaRule("integration", timedelta(hours=1))})

    assert refused.value.field == "rules"
    assert "missing_item_mapping" in refused.value.reason


def test_a_custom_policy_sets_queue_and_due_time() -> None:
    rules = dict(DEFAULT_SLA_POLICY.rules) | {
        T.HANDLER_FAILED: SlaRule("night-shift", timedelta(minutes=30))
    }
    opened = ExceptionItem.open(
        id="x", type=T.HANDLER_FAILED, facility_id=None, reason="r", at=AT,
        sla=SlaPolicy(rules), message_id="m1",
    )  # fmt: skip

    assert (opened.queue, opened.sla_due_at) == ("night-shift", AT + timedelta(minutes=30))


def test_an_active_item_is_overdue_from_its_due_time_on() -> None:
    opened = item(T.DELIVERY_FAILED)  # due after 2 hours

    assert [opened.is_overdue(AT + timedelta(hours=h)) for h in (1, 2, 3)] == [False, True, True]


def test_a_closed_item_is_never_overdue() -> None:
    closed = item().dismiss("known outage", by="ana", at=AT).item

    assert closed.is_overdue(AT + timedelta(days=30)) is False


def test_overdue_needs_an_aware_time() -> None:
    with pytest.raises(DomainError):
        item().is_overdue(datetime(2025, 3, 2))  # noqa: DTZ001  (naive on purpose)


# --- transitions --------------------------------------------------------------------------------


def test_dismissing_closes_the_item_with_who_when_and_why() -> None:
    later = AT + timedelta(hours=1)

    item_after, action = item().dismiss("  duplicate feed, vendor confirmed ", by="ana", at=later)

    assert (item_after.status, item_after.resolved_at, item_after.resolved_by) == (
        S.DISMISSED,
        later,
        "ana",
    )
    assert item_after.resolution_note == "duplicate feed, vendor confirmed"
    assert action == ExceptionAction(
        item_id="exc-1",
        kind=ActionKind.DISMISSED,
        at=later,
        actor="ana",
        detail="duplicate feed, vendor confirmed",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_dismissing_without_a_reason_is_refused(reason: str) -> None:
    with pytest.raises(ExceptionTransitionError) as refused:
        item().dismiss(reason, by="ana", at=AT)

    assert refused.value.field == "reason"


def test_resolving_without_a_note_is_refused() -> None:
    with pytest.raises(ExceptionTransitionError) as refused:
        item().resolve(" ", by="ana", at=AT)

    assert refused.value.field == "note"


def test_a_retry_puts_the_item_in_progress_and_a_new_failure_opens_it_again() -> None:
    retrying = item().start_retry(by="ana", at=AT).item

    failed, action = retrying.fail_again("timeout again", by="suture", at=AT)

    assert (retrying.status, failed.status, failed.reason) == (
        S.IN_PROGRESS,
        S.OPEN,
        "timeout again",
    )
    assert (action.kind, action.detail) == (ActionKind.FAILED_AGAIN, "timeout again")


def test_a_refused_retry_opens_the_item_again_saying_why() -> None:
    retrying = item().start_retry(by="ana", at=AT).item

    refused, action = retrying.retry_refused("no such work item", by="ana", at=AT)

    assert (refused.status, action.kind, action.detail) == (
        S.OPEN,
        ActionKind.RETRY_REFUSED,
        "no such work item",
    )


@pytest.mark.parametrize("close", ["resolve", "dismiss"])
def test_a_closed_item_is_final(close: str) -> None:
    closed = getattr(item(), close)("done", by="ana", at=AT).item

    with pytest.raises(ExceptionTransitionError):
        closed.start_retry(by="ana", at=AT)
    with pytest.raises(ExceptionTransitionError):
        closed.resolve("again", by="ana", at=AT)
    with pytest.raises(ExceptionTransitionError):
        closed.assign("bob", by="ana", at=AT)


def test_assigning_sets_the_owner_without_changing_the_status() -> None:
    assigned, action = item().assign(" bob ", by="ana", at=AT)

    assert (assigned.owner, assigned.status, action.kind, action.detail) == (
        "bob",
        S.OPEN,
        ActionKind.ASSIGNED,
        "bob",
    )


def test_an_item_is_closed_exactly_when_it_has_a_resolution_time() -> None:
    with pytest.raises(DomainError) as refused:
        ExceptionItem(**{**_fields(item()), "status": S.RESOLVED})

    assert refused.value.field == "resolved_at"


def _fields(value: ExceptionItem) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}
