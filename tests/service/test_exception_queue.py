"""The exception work queue as the bus and people use it, on a real unit of work.

The re-drive port is a recording fake: the bus and the delivery queue that implement it are
other components, tested on their own. The clock is fixed and moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.errors import SutureError
from suture.domain.exceptions import (
    ActionKind,
    ExceptionItem,
    ExceptionStatus,
    ExceptionTransitionError,
    ExceptionType,
)
from suture.eventlog.errors import DependencyKey
from suture.services.exceptions import (
    MAX_TEXT,
    CombinedRedrive,
    NotRetryableError,
    UnknownExceptionError,
    WorkQueue,
    open_exception,
    resolve_for_dependency,
    resolve_for_subject,
)
from suture.services.inbox import Inbox

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
S = ExceptionStatus
T = ExceptionType
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = AT

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RecordingRedrive:
    """Records each re-drive; ``then`` runs after recording (to resolve, fail or refuse)."""

    calls: list[tuple[str, ...]] = field(default_factory=list)
    then: Callable[[], None] | None = None

    def retry_event(self, handler: str, event_id: str) -> None:
        self._record("retry_event", handler, event_id)

    def retry_message(self, message_id: str) -> None:
        self._record("retry_message", message_id)

    def retry_delivery(self, delivery_id: str) -> None:
        self._record("retry_delivery", delivery_id)

    def _record(self, *call: str) -> None:
        self.calls.append(call)
        if self.then is not None:
            self.then()


@pytest.fixture
def redrive() -> RecordingRedrive:
    return RecordingRedrive()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def work_queue(uow: UowFactory, redrive: RecordingRedrive, clock: Clock) -> WorkQueue:
    return WorkQueue(uow, redrive, clock)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:12]}"


def fail(uow: UowFactory, type: ExceptionType = T.HANDLER_FAILED, **links: object) -> ExceptionItem:
    """What the bus does on a failure: open an item in its own transaction, then commit."""
    links = {"reason": "handler raised TimeoutError", "at": AT, "facility_id": "fac-1"} | links
    with uow() as work:
        item = open_exception(work, type=type, **links)  # type: ignore[arg-type]
        work.commit()
    return item


def kinds(work_queue: WorkQueue, item_id: str) -> list[tuple[ActionKind, str]]:
    return [(action.kind, action.actor) for action in work_queue.show(item_id).actions]


# --- opening, as the bus and the delivery queue do -------------------------------------------


def test_opening_twice_for_the_same_subject_keeps_one_item_and_one_opened_entry(
    uow: UowFactory, work_queue: WorkQueue
) -> None:
    event = unique("evt")
    first = fail(uow, event_id=event, handler="record_usage")
    second = fail(uow, event_id=event, handler="record_usage", at=AT + timedelta(minutes=1))

    assert second == first
    assert kinds(work_queue, first.id) == [(ActionKind.OPENED, "suture")]


def test_an_item_opens_in_its_types_queue_with_its_links(uow: UowFactory) -> None:
    message, dependency = unique("msg"), DependencyKey("item", unique("epic/fac-1/item/LOC"))

    item = fail(
        uow, T.MISSING_ITEM_MAPPING, reason="no crosswalk for local item", message_id=message,
        trace_id="a" * 32, correlation_id="ENC-1", dependency=dependency,
    )  # fmt: skip

    assert (item.queue, item.sla_due_at, item.subject, item.dependency) == (
        "supply-chain",
        AT + timedelta(hours=24),
        f"message:{message}",
        str(dependency),
    )


def test_a_new_failure_during_a_retry_opens_the_item_again_with_the_new_reason(
    uow: UowFactory, work_queue: WorkQueue
) -> None:
    delivery = unique("dlv")
    item = fail(uow, T.DELIVERY_FAILED, delivery_id=delivery)
    work_queue.retry(item.id, by="ana")

    again = fail(uow, T.DELIVERY_FAILED, delivery_id=delivery, reason="HTTP 503 from ERP")

    assert (again.id, again.status, again.reason) == (item.id, S.OPEN, "HTTP 503 from ERP")
    assert kinds(work_queue, item.id)[-1] == (ActionKind.FAILED_AGAIN, "suture")


def test_a_reason_longer_than_the_limit_is_cut(uow: UowFactory) -> None:
    item = fail(uow, message_id=unique("msg"), reason="x" * (MAX_TEXT + 500))

    assert (len(item.reason), item.reason[-1]) == (MAX_TEXT, "…")


# --- resolving, as the bus does on success ---------------------------------------------------


def test_resolving_a_subject_closes_its_active_items_of_every_type_and_no_others(
    uow: UowFactory,
) -> None:
    event, other = unique("evt"), unique("evt")
    parked = fail(uow, T.MISSING_ITEM_MAPPING, event_id=event, handler="h")
    failed = fail(uow, T.HANDLER_FAILED, event_id=event, handler="h")
    untouched = fail(uow, T.HANDLER_FAILED, event_id=other, handler="h")

    with uow() as work:
        resolved = resolve_for_subject(
            work, event_id=event, handler="h", at=AT + timedelta(hours=1), note="retry succeeded"
        )
        work.commit()
        still_open = work.exceptions.get(untouched.id)

    assert {(i.id, i.status, i.resolution_note, i.resolved_by) for i in resolved} == {
        (parked.id, S.RESOLVED, "retry succeeded", "suture"),
        (failed.id, S.RESOLVED, "retry succeeded", "suture"),
    }
    assert still_open == untouched


def test_resolving_a_dependency_closes_every_item_parked_on_it(
    uow: UowFactory, work_queue: WorkQueue
) -> None:
    dependency = DependencyKey("item", unique("epic/fac-1/item/LOC"))
    parked = [fail(uow, T.MISSING_ITEM_MAPPING, event_id=unique("evt"), handler="h",
                   dependency=dependency) for _ in range(3)]  # fmt: skip

    with uow() as work:
        count = resolve_for_dependency(work, dependency, AT, "crosswalk added; re-driven")
        work.commit()

    statuses = {work_queue.show(item.id).item.status for item in parked}
    assert (count, statuses) == (3, {S.RESOLVED})


# --- retry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("links", "call"),
    [
        (("delivery_id", "message_id"), ("retry_delivery", "delivery_id")),
        (("event_id", "handler", "message_id"), ("retry_event", "handler", "event_id")),
        (("message_id",), ("retry_message", "message_id")),
    ],
)
def test_retry_asks_the_subjects_owner_to_redrive_it_and_marks_the_item_in_progress(
    uow: UowFactory,
    work_queue: WorkQueue,
    redrive: RecordingRedrive,
    links: tuple[str, ...],
    call: tuple[str, ...],
) -> None:
    ids = {name: unique(name) for name in links}
    item = fail(uow, **ids)

    retried = work_queue.retry(item.id, by="ana")

    assert (redrive.calls, retried.status) == ([(call[0], *map(ids.get, call[1:]))], S.IN_PROGRESS)
    assert kinds(work_queue, item.id) == [
        (ActionKind.OPENED, "suture"),
        (ActionKind.RETRIED, "ana"),
    ]


def test_a_retry_that_succeeds_at_once_leaves_the_item_resolved(
    uow: UowFactory, work_queue: WorkQueue, redrive: RecordingRedrive
) -> None:
    message = unique("msg")
    item = fail(uow, T.MALFORMED_MESSAGE, message_id=message)

    def processed() -> None:  # the bus processes the message and resolves its items
        with uow() as work:
            resolve_for_subject(work, message_id=message, at=AT, note="processed on retry")
            work.commit()

    redrive.then = processed

    assert work_queue.retry(item.id, by="ana").status is S.RESOLVED


def test_an_item_about_a_dependency_cannot_be_retried(
    uow: UowFactory, work_queue: WorkQueue, redrive: RecordingRedrive
) -> None:
    item = fail(uow, T.PARKED_DEPENDENCY, dependency=unique("supplier:V"))

    with pytest.raises(NotRetryableError) as refused:
        work_queue.retry(item.id, by="ana")

    assert (refused.value.field, redrive.calls) == ("subject", [])
    assert work_queue.show(item.id).item == item


def test_a_refused_redrive_opens_the_item_again_and_says_why(
    uow: UowFactory, work_queue: WorkQueue, redrive: RecordingRedrive
) -> None:
    item = fail(uow, event_id=unique("evt"), handler="record_usage")

    def refuse() -> None:
        raise SutureError("event_id", "no work for record_usage on that event")

    redrive.then = refuse
    with pytest.raises(SutureError):
        work_queue.retry(item.id, by="ana")

    detail = work_queue.show(item.id)
    assert (detail.item.status, detail.actions[-1].kind, detail.actions[-1].detail) == (
        S.OPEN,
        ActionKind.RETRY_REFUSED,
        "re-drive refused: event_id: no work for record_usage on that event",
    )


def test_combined_redrive_sends_events_and_messages_to_the_bus_and_deliveries_to_the_queue(
    redrive: RecordingRedrive,
) -> None:
    deliveries = RecordingRedrive()
    combined = CombinedRedrive(events=redrive, deliveries=deliveries)

    combined.retry_event("h", "E")
    combined.retry_message("M")
    combined.retry_delivery("D")

    assert (redrive.calls, deliveries.calls) == (
        [("retry_event", "h", "E"), ("retry_message", "M")],
        [("retry_delivery", "D")],
    )


# --- dismiss, resolve, assign ---------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  "])
def test_dismissing_needs_a_reason_and_changes_nothing_without_one(
    uow: UowFactory, work_queue: WorkQueue, reason: str
) -> None:
    item = fail(uow, message_id=unique("msg"))

    with pytest.raises(ExceptionTransitionError) as refused:
        work_queue.dismiss(item.id, by="ana", reason=reason)

    assert refused.value.field == "reason"
    assert (work_queue.show(item.id).item, kinds(work_queue, item.id)) == (
        item,
        [(ActionKind.OPENED, "suture")],
    )


def test_every_operator_action_is_in_the_trail_with_who_when_and_what(
    uow: UowFactory, work_queue: WorkQueue, clock: Clock
) -> None:
    item = fail(uow, T.UNKNOWN_SUPPLIER, message_id=unique("msg"))
    clock.now = AT + timedelta(minutes=10)
    work_queue.assign(item.id, "bob", by="ana")
    clock.now = AT + timedelta(minutes=20)
    dismissed = work_queue.dismiss(item.id, by="bob", reason="test vendor, not real")

    trail = [(a.kind, a.actor, a.at, a.detail) for a in work_queue.show(item.id).actions]
    assert trail == [
        (ActionKind.OPENED, "suture", AT, "handler raised TimeoutError"),
        (ActionKind.ASSIGNED, "ana", AT + timedelta(minutes=10), "bob"),
        (ActionKind.DISMISSED, "bob", AT + timedelta(minutes=20), "test vendor, not real"),
    ]
    assert (dismissed.status, dismissed.owner, dismissed.resolved_at) == (
        S.DISMISSED,
        "bob",
        AT + timedelta(minutes=20),
    )


def test_resolving_by_hand_records_the_note(uow: UowFactory, work_queue: WorkQueue) -> None:
    item = fail(uow, message_id=unique("msg"))

    resolved = work_queue.resolve(item.id, by="ana", note="vendor resent a corrected file")

    assert (resolved.status, resolved.resolution_note, resolved.resolved_by) == (
        S.RESOLVED,
        "vendor resent a corrected file",
        "ana",
    )


def test_acting_on_an_unknown_item_is_refused_naming_it(work_queue: WorkQueue) -> None:
    with pytest.raises(UnknownExceptionError) as refused:
        work_queue.assign("no-such-item", "bob", by="ana")

    assert (refused.value.field, "no-such-item" in refused.value.reason) == ("id", True)


# --- reading ---------------------------------------------------------------------------------


def test_show_links_the_inbound_message_without_its_bytes(
    uow: UowFactory, work_queue: WorkQueue
) -> None:
    received = Inbox(uow).receive(
        b"MSH|^~\\&|bad", format="hl7v2", interface=unique("mllp"), source_system="epic",
        received_at=AT,
    )  # fmt: skip
    item = fail(uow, T.MALFORMED_MESSAGE, message_id=received.message.id, reason="MSH-9 missing")

    detail = work_queue.show(item.id)

    assert detail.message == received.message.without_raw()


def test_list_shows_open_items_by_default_and_overdue_ones_by_the_clock(
    uow: UowFactory, work_queue: WorkQueue, clock: Clock
) -> None:
    facility = unique("fac")
    delivery = fail(uow, T.DELIVERY_FAILED, delivery_id=unique("d"), facility_id=facility)
    handler = fail(uow, message_id=unique("m"), facility_id=facility, at=AT + timedelta(seconds=1))
    closed = fail(uow, message_id=unique("m"), facility_id=facility, at=AT + timedelta(seconds=2))
    work_queue.dismiss(closed.id, by="ana", reason="noise")
    clock.now = AT + timedelta(hours=3)  # past the delivery's 2 h, within the handler's 4 h

    default = work_queue.list(facility_id=facility)
    overdue = work_queue.list(facility_id=facility, overdue=True)
    everything = work_queue.list(facility_id=facility, statuses=None)

    assert [[i.id for i in found] for found in (default, overdue, everything)] == [
        [delivery.id, handler.id],
        [delivery.id],
        [delivery.id, handler.id, closed.id],
    ]


def test_the_audit_hook_runs_in_the_changes_transaction(
    uow: UowFactory, work_queue: WorkQueue
) -> None:
    item = fail(uow, message_id=unique("msg"))
    seen: list[tuple[S, S]] = []

    def failing_audit(_: object, was: ExceptionItem, now: ExceptionItem) -> None:
        seen.append((was.status, now.status))
        raise SutureError("audit", "the audit trail is unavailable")

    with pytest.raises(SutureError):
        work_queue.resolve(item.id, by="ana", note="fixed", audit=failing_audit)
    # the hook saw the change, and its failure rolled the change back: no unaudited action
    assert seen == [(S.OPEN, S.RESOLVED)]
    assert work_queue.show(item.id).item.status is S.OPEN
    assert kinds(work_queue, item.id) == [(ActionKind.OPENED, "suture")]
