"""The exception repository on SQLite and PostgreSQL: one active item per subject, the trail,
filters, keyset pages and counts.

Every test runs on both databases (the ``engine`` fixture). Tests share one PostgreSQL schema per
session, so each works in a queue and on subjects of its own (random hex) and counts only there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import (
    DEFAULT_SLA_POLICY,
    ActionKind,
    Change,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionType,
    SlaPolicy,
    SlaRule,
)
from suture.eventlog.ids import uuid7

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
S = ExceptionStatus
T = ExceptionType
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def queue() -> str:
    return f"queue-{uuid4().hex[:12]}"


def new_item(
    queue: str,
    *,
    type: ExceptionType = T.HANDLER_FAILED,
    at: datetime = AT,
    facility_id: str | None = "fac-1",
    **links: str,
) -> ExceptionItem:
    """An open item in ``queue`` (a policy sending every type there), on a subject of its own."""
    links = links or {"message_id": f"msg-{uuid4().hex}"}
    policy = SlaPolicy({kind: SlaRule(queue, rule.resolve_within)
                        for kind, rule in DEFAULT_SLA_POLICY.rules.items()})  # fmt: skip
    return ExceptionItem.open(
        id=str(uuid7(at)), type=type, facility_id=facility_id, reason="boom", at=at,
        sla=policy, **links,
    )  # fmt: skip


def opened(item: ExceptionItem) -> Change:
    return Change(item, item.action(ActionKind.OPENED, by="suture", at=item.opened_at))


def add(uow: UowFactory, item: ExceptionItem) -> tuple[ExceptionItem, bool]:
    with uow() as work:
        stored = work.exceptions.add_if_new(opened(item))
        work.commit()
    return stored


def save(uow: UowFactory, change: Change) -> None:
    with uow() as work:
        work.exceptions.save(change)
        work.commit()


def other_engine(engine: sa.Engine) -> sa.Engine:
    return create_engine(engine.url.render_as_string(hide_password=False))


# --- add, get, save ---------------------------------------------------------------------------


def test_an_added_item_reads_back_whole(uow: UowFactory, queue: str) -> None:
    item = new_item(
        queue, event_id="e1", handler="record_usage", message_id="m1", trace_id="t" * 32,
        correlation_id="PO-1", dependency="item:epic/fac-1/item/LOC-42",
    )  # fmt: skip

    assert add(uow, item) == (item, True)
    with uow() as work:
        assert work.exceptions.get(item.id) == item


def test_a_second_item_for_an_active_subject_and_type_returns_the_first(
    uow: UowFactory, queue: str
) -> None:
    first = new_item(queue, message_id="m-dup" + queue)
    second = new_item(queue, message_id="m-dup" + queue, at=AT + timedelta(minutes=5))

    add(uow, first)

    assert add(uow, second) == (first, False)
    with uow() as work:
        assert work.exceptions.get(second.id) is None


def test_the_same_subject_may_have_one_active_item_of_each_type(
    uow: UowFactory, queue: str
) -> None:
    subject = {"event_id": f"e-{queue}", "handler": "record_usage"}
    parked = new_item(queue, type=T.MISSING_ITEM_MAPPING, **subject)
    failed = new_item(queue, type=T.HANDLER_FAILED, **subject)

    assert [add(uow, parked)[1], add(uow, failed)[1]] == [True, True]


def test_after_an_item_is_closed_its_subject_may_open_a_new_one(
    uow: UowFactory, queue: str
) -> None:
    first = new_item(queue, message_id=f"m-{queue}")
    add(uow, first)
    save(uow, first.dismiss("known outage", by="ana", at=AT + timedelta(hours=1)))
    again = new_item(queue, message_id=f"m-{queue}", at=AT + timedelta(hours=2))

    assert add(uow, again) == (again, True)


def test_a_closed_item_cannot_be_added(uow: UowFactory, queue: str) -> None:
    closed = new_item(queue).resolve("fixed", by="ana", at=AT)

    with pytest.raises(StorageError):
        add(uow, closed.item)


def test_saving_writes_the_change_and_appends_to_the_trail(uow: UowFactory, queue: str) -> None:
    item = new_item(queue)
    add(uow, item)
    assigned = item.assign("bob", by="ana", at=AT + timedelta(minutes=1))
    save(uow, assigned)
    dismissed = assigned.item.dismiss("test feed", by="bob", at=AT + timedelta(minutes=2))
    save(uow, dismissed)

    with uow() as work:
        stored, trail = work.exceptions.get(item.id), work.exceptions.actions(item.id)

    assert stored == dismissed.item
    assert trail == [
        ExceptionAction(item_id=item.id, kind=ActionKind.OPENED, at=AT, actor="suture"),
        assigned.action,
        dismissed.action,
    ]


def test_saving_an_item_never_stored_is_refused(uow: UowFactory, queue: str) -> None:
    with pytest.raises(StorageError):
        save(uow, new_item(queue).assign("bob", by="ana", at=AT))


# --- finding active items -----------------------------------------------------------------------


def test_find_open_for_subject_returns_active_items_of_any_or_one_type(
    uow: UowFactory, queue: str
) -> None:
    subject = {"event_id": f"e-{queue}", "handler": "record_usage"}
    parked = new_item(queue, type=T.MISSING_ITEM_MAPPING, **subject)
    failed = new_item(queue, type=T.HANDLER_FAILED, at=AT + timedelta(seconds=1), **subject)
    add(uow, parked)
    add(uow, failed)

    with uow() as work:
        found_all = work.exceptions.find_open_for_subject(parked.subject)
        found_one = work.exceptions.find_open_for_subject(parked.subject, type=T.HANDLER_FAILED)

    assert (found_all, found_one) == ([parked, failed], [failed])


def test_find_open_for_dependency_leaves_closed_items_out(uow: UowFactory, queue: str) -> None:
    dependency = f"item:epic/fac-1/item/{queue}"
    waiting = [
        new_item(queue, type=T.MISSING_ITEM_MAPPING, event_id=f"e{n}-{queue}", handler="h",
                 dependency=dependency, at=AT + timedelta(seconds=n))
        for n in range(3)
    ]  # fmt: skip
    for item in waiting:
        add(uow, item)
    save(uow, waiting[1].dismiss("not ours", by="ana", at=AT))

    with uow() as work:
        found = work.exceptions.find_open_for_dependency(dependency, lock=True)

    assert found == [waiting[0], waiting[2]]


# --- lists and counts ---------------------------------------------------------------------------


def test_list_filters_by_status_type_facility_and_owner(uow: UowFactory, queue: str) -> None:
    a = new_item(queue, type=T.HANDLER_FAILED, facility_id="fac-a", at=AT)
    b = new_item(queue, type=T.DELIVERY_FAILED, facility_id="fac-b", at=AT + timedelta(seconds=1),
                 delivery_id=f"d-{queue}")  # fmt: skip
    c = new_item(queue, type=T.HANDLER_FAILED, facility_id="fac-b", at=AT + timedelta(seconds=2))
    for item in (a, b, c):
        add(uow, item)
    save(uow, c.assign("bob", by="ana", at=AT))
    save(uow, a.dismiss("noise", by="ana", at=AT))

    with uow() as work:
        r = work.exceptions
        found = {
            "open": r.list(queue=queue, statuses=[S.OPEN]),
            "all": r.list(queue=queue),
            "handler": r.list(queue=queue, type=T.HANDLER_FAILED),
            "fac-b": r.list(queue=queue, facility_id="fac-b"),
            "bob": r.list(queue=queue, owner="bob"),
        }

    ids = {name: [item.id for item in items] for name, items in found.items()}
    assert ids == {
        "open": [b.id, c.id],
        "all": [a.id, b.id, c.id],
        "handler": [a.id, c.id],
        "fac-b": [b.id, c.id],
        "bob": [c.id],
    }


def test_overdue_lists_active_items_due_at_or_before_the_time(uow: UowFactory, queue: str) -> None:
    delivery = new_item(queue, type=T.DELIVERY_FAILED, delivery_id=f"d-{queue}")  # due +2h
    handler = new_item(queue, type=T.HANDLER_FAILED, at=AT + timedelta(seconds=1))  # due +4h
    closed = new_item(queue, type=T.DELIVERY_FAILED, at=AT + timedelta(seconds=2),
                      delivery_id=f"d2-{queue}")  # fmt: skip
    for item in (delivery, handler, closed):
        add(uow, item)
    save(uow, closed.resolve("sent", by="suture", at=AT))

    with uow() as work:
        at_2h = work.exceptions.list(queue=queue, overdue_at=AT + timedelta(hours=2))
        at_5h = work.exceptions.list(queue=queue, overdue_at=AT + timedelta(hours=5))

    assert ([i.id for i in at_2h], [i.id for i in at_5h]) == (
        [delivery.id],
        [delivery.id, handler.id],
    )


def test_lists_page_by_id(uow: UowFactory, queue: str) -> None:
    items = [new_item(queue, at=AT + timedelta(seconds=n)) for n in range(5)]
    for item in items:
        add(uow, item)

    with uow() as work:
        first = work.exceptions.list(queue=queue, limit=2)
        second = work.exceptions.list(queue=queue, limit=2, after=first[-1].id)
        last = work.exceptions.list(queue=queue, limit=2, after=second[-1].id)

    assert [first, second, last] == [items[0:2], items[2:4], items[4:]]


def test_a_limit_below_one_is_refused(uow: UowFactory) -> None:
    with uow() as work, pytest.raises(StorageError) as refused:
        work.exceptions.list(limit=0)

    assert refused.value.field == "limit"


def test_counts_by_type_and_status_and_overdue_grow_with_new_items(
    uow: UowFactory, queue: str
) -> None:
    later = AT + timedelta(hours=3)
    with uow() as work:
        before = (work.exceptions.count_by_type_status(), work.exceptions.count_overdue(later))
    delivery = new_item(queue, type=T.DELIVERY_FAILED, delivery_id=f"d-{queue}")  # due +2h
    dismissed = new_item(queue, type=T.UOM_MISMATCH, at=AT + timedelta(seconds=1))
    add(uow, delivery)
    add(uow, dismissed)
    save(uow, dismissed.dismiss("rounding", by="ana", at=AT))

    with uow() as work:
        counts = work.exceptions.count_by_type_status()
        overdue = work.exceptions.count_overdue(later)

    def grown(key: tuple[ExceptionType, ExceptionStatus]) -> int:
        return counts.get(key, 0) - before[0].get(key, 0)

    assert (grown((T.DELIVERY_FAILED, S.OPEN)), grown((T.UOM_MISMATCH, S.DISMISSED))) == (1, 1)
    assert overdue - before[1] == 1


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_two_transactions_opening_the_same_subject_at_once_leave_one_item(
    postgres_engine: sa.Engine, queue: str
) -> None:
    """The second INSERT waits on the unique index for the first transaction, then finds its row."""
    engines = [postgres_engine, other_engine(postgres_engine)]
    subject = {"message_id": f"m-{queue}"}
    items = [new_item(queue, at=AT + timedelta(seconds=n), **subject) for n in range(2)]
    outcomes: list[tuple[ExceptionItem, bool] | BaseException] = []
    inserted = threading.Event()

    def second() -> None:
        try:
            with SqlAlchemyUnitOfWork(engines[1]) as work:
                inserted.wait(timeout=5)
                outcomes.append(work.exceptions.add_if_new(opened(items[1])))
                work.commit()
        except Exception as exc:  # the main thread asserts on whatever the racer met
            outcomes.append(exc)

    racer = threading.Thread(target=second)
    racer.start()
    try:
        with SqlAlchemyUnitOfWork(engines[0]) as work:
            first = work.exceptions.add_if_new(opened(items[0]))
            inserted.set()
            threading.Event().wait(0.3)  # let the racer reach its INSERT and block on the index
            finished_before_commit = list(outcomes)
            work.commit()
        racer.join(timeout=30)
    finally:
        engines[1].dispose()

    with SqlAlchemyUnitOfWork(postgres_engine) as work:
        stored = work.exceptions.list(queue=queue)
    assert (first, finished_before_commit, outcomes) == ((items[0], True), [], [(items[0], False)])
    assert stored == [items[0]]
