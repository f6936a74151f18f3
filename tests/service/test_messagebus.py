"""The message bus through a real unit of work on SQLite: exactly once, retries, parking, replay.

A handler's effect here is an event it publishes with a fresh idempotency key each time it
runs, so an effect applied twice would be two events: counting them proves "exactly once".
The clock and the randomness are fixed, so the persisted retry times are exact.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionStatus, ExceptionType, subject_of
from suture.domain.messages import MessageStatus
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey, MissingDependencyError, PayloadError
from suture.eventlog.events import build_registry
from suture.eventlog.retry import Jitter, LoopFailure, RetryPolicy
from suture.eventlog.routing import load_policy
from suture.services.dispatcher import Dispatcher
from suture.services.event_store import WorkStatus
from suture.services.handlers import (
    BusConfigurationError,
    HandlerContext,
    UnknownCommandError,
)
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus, Processing
from suture.services.redrive import REDRIVE_ON_MAPPING, redrive_on_mapping
from suture.services.replay import ReplayError, ReplaySelection
from suture.services.trace import timeline
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
EFFECT = "test.effect.recorded"


class FixedClock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def uow(sqlite_engine: sa.Engine) -> Callable[[], UnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(sqlite_engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def record_effect(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """The effect under test: one new event per execution (a fresh idempotency key each time)."""
    context.emit(EFFECT, {"of": str(envelope.id)}, idempotency_key=uuid4().hex)


class Flaky:
    """Fails with ``error`` while ``failing``; records its effect otherwise."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.failing = True

    def __call__(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        if self.failing:
            raise self.error
        record_effect(envelope, uow, context)


def make_bus(
    uow: Callable[[], UnitOfWork],
    clock: FixedClock,
    handlers: dict[str, Any] | None = None,
    **options: Any,
) -> MessageBus:
    handlers = handlers or {"record_effect": record_effect}
    return MessageBus(
        uow,
        handlers,
        {"test.thing.*": list(handlers)},
        retry=options.pop("retry", RetryPolicy(max_attempts=3)),
        clock=clock,
        rand=lambda: 0.5,
        **options,
    )


def publish(bus: MessageBus, *, key: str | None = None, correlation: str = "PO-1") -> Envelope:
    envelope = bus.envelope(
        "test.thing.happened",
        {"facility_id": "fac-1"},
        idempotency_key=key or uuid4().hex,
        correlation_id=correlation,
    )
    with bus.uow() as u:
        bus.publish(u, envelope)
        u.commit()
    return envelope


def effects(bus: MessageBus, cause: Envelope) -> list[str]:
    with bus.uow() as u:
        found = u.events.by_correlation_id(cause.correlation_id)
    return [e.payload["of"] for e in found if e.type == EFFECT and e.payload["of"] == str(cause.id)]


def work(bus: MessageBus, event: Envelope, handler: str = "record_effect") -> Any:
    with bus.uow() as u:
        return u.events.lock_work(handler, str(event.id))


def open_exceptions(bus: MessageBus, event: Envelope, handler: str) -> list[Any]:
    with bus.uow() as u:
        subject = subject_of(event_id=str(event.id), handler=handler)
        return u.exceptions.find_open_for_subject(subject)


# --- exactly once ----------------------------------------------------------------------------


def test_a_published_event_is_handled_once_with_its_effect_and_tracking_row(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    cause = publish(bus)

    taken = bus.run_once()
    with bus.uow() as u:
        tracked = u.events.is_processed("record_effect", str(cause.id))

    assert (taken, effects(bus, cause), tracked) == (1, [str(cause.id)], True)


def test_redelivering_the_same_work_applies_the_effect_once(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    cause = publish(bus)

    outcomes = [bus.process("record_effect", str(cause.id)) for _ in range(3)]
    bus.run_once()

    assert outcomes == [Processing.DONE, Processing.SKIPPED, Processing.SKIPPED]
    assert effects(bus, cause) == [str(cause.id)]


def test_effects_events_and_tracking_roll_back_together_when_the_handler_raises(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    def publish_then_fail(envelope: Envelope, u: UnitOfWork, context: HandlerContext) -> None:
        record_effect(envelope, u, context)
        raise RuntimeError("after publishing")

    bus = make_bus(uow, clock, {"record_effect": publish_then_fail})
    cause = publish(bus)

    outcome = bus.process("record_effect", str(cause.id))
    with bus.uow() as u:
        tracked = u.events.is_processed("record_effect", str(cause.id))

    assert (outcome, effects(bus, cause), tracked) == (Processing.RETRY, [], False)


def test_an_event_published_twice_with_one_idempotency_key_is_handled_once(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    key = uuid4().hex
    first, duplicate = publish(bus, key=key), publish(bus, key=key)

    bus.run_once()

    with bus.uow() as u:
        stored = u.events.get(str(duplicate.id))

    assert (effects(bus, first), effects(bus, duplicate), stored) == ([str(first.id)], [], None)


def test_events_a_handler_raises_carry_its_cause_trace_and_correlation(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    cause = publish(bus, correlation="INV-9")
    bus.run_once()

    with bus.uow() as u:
        (effect,) = [e for e in u.events.by_trace_id(cause.trace_id) if e.type == EFFECT]

    assert (effect.causation_id, effect.trace_id, effect.correlation_id) == (
        cause.id,
        cause.trace_id,
        "INV-9",
    )


# --- retries, dead letter, parking -----------------------------------------------------------


def test_a_transient_failure_is_retried_at_the_persisted_backoff_time(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    flaky = Flaky(ConnectionError("ERP down"))
    bus = make_bus(uow, clock, {"record_effect": flaky})
    cause = publish(bus)

    first = bus.process("record_effect", str(cause.id))
    after_first = work(bus, cause)
    early = bus.run_once()  # not due yet: 2 s base delay, half of it with rand = 0.5
    clock.advance(seconds=1)
    flaky.failing = False
    on_time = bus.run_once()

    assert first == Processing.RETRY
    assert (after_first.attempts, after_first.next_attempt_at, after_first.last_error) == (
        1, AT + timedelta(seconds=1),
        "ConnectionError (details withheld: not a Suture error)",
    )  # fmt: skip
    assert (early, on_time, effects(bus, cause)) == (0, 1, [str(cause.id)])


def test_after_the_last_attempt_the_work_is_dead_lettered_with_an_exception_item(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock, {"record_effect": Flaky(TimeoutError("slow"))})
    cause = publish(bus)

    outcomes = []
    for _ in range(3):
        outcomes.append(bus.process("record_effect", str(cause.id)))
        clock.advance(minutes=1)
    dead = work(bus, cause)
    (item,) = open_exceptions(bus, cause, "record_effect")

    assert outcomes == [Processing.RETRY, Processing.RETRY, Processing.DEAD]
    assert (dead.status, dead.attempts) == (WorkStatus.DEAD, 3)
    assert "gave up after 3 of 3 attempts" in dead.last_error
    assert (item.type, item.status, item.facility_id, item.correlation_id) == (
        ExceptionType.HANDLER_FAILED,
        ExceptionStatus.OPEN,
        "fac-1",
        "PO-1",
    )


def test_a_permanent_failure_is_dead_lettered_at_once(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock, {"record_effect": Flaky(PayloadError("payload.qty", "missing"))})
    cause = publish(bus)

    outcome = bus.process("record_effect", str(cause.id))

    assert (outcome, work(bus, cause).attempts) == (Processing.DEAD, 1)


def test_missing_master_data_parks_the_work_until_redrive_processes_it(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    dependency = DependencyKey("item", "epic/fac-1/item/LOC-42")
    flaky = Flaky(MissingDependencyError(dependency, "no crosswalk for LOC-42"))
    bus = make_bus(uow, clock, {"record_effect": flaky})
    cause = publish(bus)

    parked = bus.process("record_effect", str(cause.id))
    parked_work = work(bus, cause)
    (item,) = open_exceptions(bus, cause, "record_effect")
    clock.advance(days=30)
    idle = bus.run_once()
    flaky.failing = False
    redriven = bus.redrive(dependency)
    processed = bus.run_once()

    assert parked == Processing.PARKED
    assert (parked_work.status, parked_work.parked_on, parked_work.attempts) == (
        WorkStatus.PARKED,
        "item:epic/fac-1/item/LOC-42",
        0,
    )
    assert item.type is ExceptionType.MISSING_ITEM_MAPPING
    assert (idle, redriven, processed, effects(bus, cause)) == (0, 1, 1, [str(cause.id)])
    assert open_exceptions(bus, cause, "record_effect") == []


# --- replay ----------------------------------------------------------------------------------


def test_a_poison_message_is_dead_lettered_then_after_the_fix_replayed_exactly_once(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    poison = Flaky(ValueError("cannot parse"))
    bus = make_bus(uow, clock, {"record_effect": poison})
    cause = publish(bus)
    for _ in range(3):
        bus.process("record_effect", str(cause.id))
        clock.advance(minutes=5)
    poison.failing = False  # the fix is deployed

    report = bus.replay(ReplaySelection(dead_letter=True, handler="record_effect"))
    bus.run_once()
    again = bus.replay(ReplaySelection(event_ids=(str(cause.id),)))
    bus.run_once()

    assert report.items == (("record_effect", str(cause.id)),)
    assert (again.items, again.already_processed) == ((), 1)
    assert effects(bus, cause) == [str(cause.id)]
    assert open_exceptions(bus, cause, "record_effect") == []


def test_a_replay_dry_run_reports_what_it_would_redrive_and_changes_nothing(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock, {"record_effect": Flaky(ValueError("x"))})
    cause = publish(bus)
    for _ in range(3):
        bus.process("record_effect", str(cause.id))
    before = work(bus, cause)

    report = bus.replay(ReplaySelection(dead_letter=True), dry_run=True)

    assert (report.dry_run, report.items) == (True, (("record_effect", str(cause.id)),))
    assert work(bus, cause) == before


def test_a_range_replay_feeds_only_the_handlers_that_have_not_processed_the_events(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    old = make_bus(uow, clock)
    causes = [publish(old) for _ in range(3)]
    old.run_once()
    late: list[str] = []
    handlers = {
        "record_effect": record_effect,
        "late_subscriber": lambda e, u, c: late.append(str(e.id)),
    }
    bus = make_bus(uow, clock, handlers)

    report = bus.replay(
        ReplaySelection(since=AT, until=AT + timedelta(seconds=1), event_type="test.thing.happened")
    )
    bus.run_once()

    assert (report.events, report.already_processed) == (3, 3)
    assert late == [str(c.id) for c in causes]
    assert [effects(bus, c) for c in causes] == [[str(c.id)] for c in causes]


def test_a_bulk_replay_is_rate_limited_by_sleeping_between_batches(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock, {"record_effect": Flaky(ValueError("x"))})
    for _ in range(5):
        cause = publish(bus)
        for _ in range(3):
            bus.process("record_effect", str(cause.id))
    slept: list[float] = []

    report = bus.replay(
        ReplaySelection(dead_letter=True), rate=2, sleep=slept.append, monotonic=lambda: 0.0
    )

    assert (len(report.items), slept) == (5, [1.0, 1.0])


def test_a_replay_for_a_handler_the_bus_does_not_have_is_refused_naming_those_it_has(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    publish(bus)
    selection = ReplaySelection(since=AT - timedelta(days=1), handler="record_efect")

    with pytest.raises(ReplayError) as refused:
        bus.replay(selection, dry_run=True)

    assert (refused.value.field, refused.value.reason) == (
        "handler",
        "no such handler; one of: record_effect",
    )


def test_a_range_replay_of_an_event_type_the_registry_does_not_know_is_refused(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = MessageBus(
        uow, {"use": lambda e, u, c: None}, {"supply.usage.recorded": ["use"]}, clock=clock,
        registry=build_registry(),
    )  # fmt: skip
    selection = ReplaySelection(since=AT - timedelta(days=1), event_type="supply.usage.recordd")

    with pytest.raises(ReplayError) as refused:
        bus.replay(selection, dry_run=True)

    assert refused.value.field == "event_type"
    assert refused.value.reason.startswith("no such event type; one of: charge.posted, ")
    assert "supply.usage.recorded" in refused.value.reason


def test_a_replay_selection_must_be_exactly_one_bounded_kind() -> None:
    with pytest.raises(ReplayError):
        ReplaySelection(dead_letter=True, event_ids=("x",))
    with pytest.raises(ReplayError):
        ReplaySelection(event_type="test.thing.happened")


def test_retrying_a_dead_lettered_message_republishes_it_once(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    seen: list[str] = []
    bus = MessageBus(
        uow,
        {"decode_message": lambda e, u, c: seen.append(e.payload["message_id"])},
        {"message.received": ["decode_message"]},
        clock=clock,
        registry=build_registry(),
    )
    inbox = Inbox(uow)
    message = inbox.receive(
        b"MSH|^~\\&|x", format="hl7v2", interface="mllp:lab", source_system="lab", received_at=AT
    ).message
    inbox.mark(message.id, MessageStatus.DEAD_LETTERED, "unparseable", AT)

    bus.retry_message(message.id)
    bus.run_once()

    assert (inbox.get(message.id).status, seen) == (MessageStatus.RECEIVED, [message.id])


# --- commands, routing, upcasting, configuration ---------------------------------------------


def test_a_command_runs_its_one_handler_in_one_transaction_and_returns_its_result(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    class Approve:
        number = "PO-7"

    def approve(command: Approve, u: UnitOfWork, context: HandlerContext) -> str:
        context.emit("test.thing.approved", {}, idempotency_key=command.number,
                     correlation_id=command.number)  # fmt: skip
        return "approved"

    bus = make_bus(uow, clock, commands=[(Approve, approve)])

    result = bus.execute(Approve())
    with bus.uow() as u:
        types = [e.type for e in u.events.by_correlation_id("PO-7")]

    assert (result, types) == ("approved", ["test.thing.approved"])
    with pytest.raises(UnknownCommandError):
        bus.execute(object())


def test_two_handlers_for_one_command_or_an_unknown_subscriber_are_refused(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    with pytest.raises(BusConfigurationError):
        make_bus(uow, clock, commands=[(int, record_effect), (int, record_effect)])
    with pytest.raises(BusConfigurationError):
        MessageBus(uow, {}, {"x.y": ["nobody"]})


def test_a_routing_rule_naming_a_handler_subscribes_it(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    text = (
        "- name: review\n"
        "  match: {type: 'test.thing.*', facility: fac-1}\n"
        "  destinations: [review]\n"
    )
    policy = load_policy(text, "test.yaml", destinations={"review", "erp"})
    reviewed: list[str] = []
    bus = MessageBus(uow, {"review": lambda e, u, c: reviewed.append(str(e.id))},
                     policy=policy, clock=clock)  # fmt: skip
    cause = publish(bus)

    bus.run_once()

    assert reviewed == [str(cause.id)]


def test_an_old_event_version_reaches_the_handler_upcast_to_the_latest(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    seen: list[tuple[int, str]] = []
    bus = MessageBus(
        uow, {"use": lambda e, u, c: seen.append((e.schema_version, e.payload["uom"]))},
        {"supply.usage.recorded": ["use"]}, clock=clock, registry=build_registry(),
    )  # fmt: skip
    payload = {"usage_id": "U1", "facility_id": "fac-1", "location_id": "L1", "item_id": "I1",
               "quantity": "2", "used_at": AT.isoformat()}  # fmt: skip
    envelope = bus.envelope("supply.usage.recorded", payload, idempotency_key="U1",
                            correlation_id="ENC-1", schema_version=1)  # fmt: skip
    with bus.uow() as u:
        bus.publish(u, envelope)
        u.commit()

    bus.run_once()

    assert seen == [(2, "EA")]


def test_the_dispatcher_runs_the_bus_until_stopped(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    bus = make_bus(uow, clock)
    causes = [publish(bus) for _ in range(3)]
    stop = threading.Event()

    def idle(_: float) -> None:
        stop.set()

    taken = Dispatcher(bus, batch=2, sleep=idle).run(stop)

    assert taken == 3
    assert [effects(bus, c) for c in causes] == [[str(c.id)] for c in causes]


def test_the_dispatcher_backs_off_exponentially_while_the_database_refuses_connections(
    unreachable_database_url: str, clock: FixedClock
) -> None:
    engine = create_engine(unreachable_database_url)
    bus = make_bus(lambda: SqlAlchemyUnitOfWork(engine), clock)
    stop = threading.Event()
    failures: list[LoopFailure] = []
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 5:
            stop.set()

    backoff = RetryPolicy(
        base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=4), jitter=Jitter.EQUAL
    )
    try:
        Dispatcher(
            bus, sleep=wait, on_error=failures.append, backoff=backoff, rand=lambda: 1.0
        ).run(stop)
    finally:
        engine.dispose()

    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert [(f.loop, f.attempt) for f in failures] == [("dispatcher", n) for n in range(1, 6)]
    assert all("Connection refused" in str(f.error) for f in failures)
    assert not [f for f in failures if "s3cret-pw" in str(f.error)]


def test_the_trace_shows_events_attempts_and_handlers_of_a_business_key(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    flaky = Flaky(ConnectionError("x"))
    bus = make_bus(uow, clock, {"record_effect": flaky})
    cause = publish(bus, correlation="PO-TRACE")
    bus.process("record_effect", str(cause.id))
    clock.advance(minutes=1)
    flaky.failing = False
    bus.run_once()

    kinds = [(e.kind, e.ref) for e in timeline(bus.uow, "PO-TRACE")]

    effect_id = next(ref for kind, ref in kinds if kind == "event" and ref != str(cause.id))
    assert kinds == [
        ("event", str(cause.id)),
        ("attempt", str(cause.id)),
        ("event", effect_id),
        ("processed", str(cause.id)),
    ]


def test_the_trace_of_a_failed_messages_trace_id_shows_the_message(
    uow: Callable[[], UnitOfWork],
) -> None:
    """A message refused before it was decoded has no correlation id: the trace id its ACK and
    its exception item name is the operator's only key to it."""
    inbox = Inbox(uow)
    message = inbox.receive(
        b"MSH|^~\\&|EPIC|GH\r", format="hl7v2", interface=f"mllp-{uuid4().hex[:8]}",
        source_system="epic", received_at=AT,
    ).message  # fmt: skip
    inbox.mark(message.id, MessageStatus.FAILED, "MSH-9: missing", AT)

    entries = timeline(uow, message.trace_id)

    assert [(e.kind, e.ref, e.detail) for e in entries] == [
        ("message", message.id, f"hl7v2 on {message.interface} from epic: failed (MSH-9: missing)")
    ]


def test_a_crosswalk_mapping_event_redrives_the_work_parked_on_it(
    uow: Callable[[], UnitOfWork], clock: FixedClock
) -> None:
    local = f"LOC-{uuid4().hex[:8]}"
    dependency = DependencyKey("item", f"epic/fac-1/item/{local}")
    flaky = Flaky(MissingDependencyError(dependency, f"no crosswalk for {local}"))
    bus = MessageBus(
        uow,
        {"record_effect": flaky, REDRIVE_ON_MAPPING: redrive_on_mapping},
        {"test.thing.*": ["record_effect"], "crosswalk.mapped": [REDRIVE_ON_MAPPING]},
        clock=clock,
    )
    cause = publish(bus)
    bus.run_once()
    flaky.failing = False
    mapped = {
        "source_system": "epic",
        "facility_id": "fac-1",
        "kind": "item",
        "local_code": local,
        "canonical_id": "item-1",
        "mapped_at": AT.isoformat(),
    }
    with bus.uow() as u:
        bus.publish(u, bus.envelope("crosswalk.mapped", mapped, idempotency_key=local,
                                    correlation_id=local))  # fmt: skip
        u.commit()

    bus.run_once()  # the mapping handler re-drives the parked work
    bus.run_once()  # which then runs

    assert effects(bus, cause) == [str(cause.id)]
    assert open_exceptions(bus, cause, "record_effect") == []
