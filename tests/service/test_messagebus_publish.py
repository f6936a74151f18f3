"""Publishing a batch: ``MessageBus.publish_many`` appends as ``publish`` does, with one insert
per table.

Each idempotency key is appended once, whether it repeats within the batch or is in the log
already; work items exist only for the events appended; causation and trace ids are kept; a
payload that its schema refuses stops the batch before anything is written. Also here: a
handler's batch form runs where a batch shares one savepoint, and its one-event form where a
failing batch is told apart.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import PayloadError
from suture.eventlog.events import build_registry
from suture.eventlog.retry import RetryPolicy
from suture.services.handlers import BusConfigurationError, HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

AT = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
HANDLER = "note_thing"
EFFECT = "test.effect.recorded"


@pytest.fixture
def uow(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[[], UnitOfWork]]:
    path = tmp_path / "bus.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


def note_thing(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    if envelope.payload.get("fail"):
        raise ConnectionError("downstream unavailable")
    context.emit(EFFECT, {"of": str(envelope.id), "form": "one"}, idempotency_key=uuid4().hex)


def note_things(batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork) -> None:
    for envelope, context in batch:
        if envelope.payload.get("fail"):
            raise ConnectionError("downstream unavailable")
        context.emit(EFFECT, {"of": str(envelope.id), "form": "many"}, idempotency_key=uuid4().hex)


def make_bus(uow: Callable[[], UnitOfWork], *, batched: bool = False) -> MessageBus:
    return MessageBus(
        uow, {HANDLER: note_thing}, {"test.thing.*": [HANDLER]},
        batch_handlers={HANDLER: note_things} if batched else None,
        retry=RetryPolicy(max_attempts=3), clock=lambda: AT, rand=lambda: 0.5,
    )  # fmt: skip


def thing(bus: MessageBus, key: str | None = None, **payload: bool) -> Envelope:
    return bus.envelope(
        "test.thing.happened", dict(payload), idempotency_key=key or uuid4().hex,
        correlation_id="PO-1",
    )  # fmt: skip


def work_of(bus: MessageBus, *envelopes: Envelope) -> list[list[str]]:
    with bus.uow() as u:
        return [[w.handler for w in u.events.work_of(str(e.id))] for e in envelopes]


def effects(bus: MessageBus) -> list[tuple[str, str]]:
    """(cause, form) of every effect event, in log order."""
    with bus.uow() as u:
        found = u.events.by_correlation_id("PO-1")
    return [(e.payload["of"], e.payload["form"]) for e in found if e.type == EFFECT]


def test_publish_many_appends_a_key_repeated_in_the_batch_or_stored_already_once(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    stored = thing(bus, "K-stored")
    with bus.uow() as u:
        bus.publish(u, stored)
        u.commit()
    first, repeated, again, other = (
        thing(bus, "K-1"), thing(bus, "K-1"), thing(bus, "K-stored"), thing(bus, "K-2")
    )  # fmt: skip

    with bus.uow() as u:
        appended = bus.publish_many(u, [first, repeated, again, other])
        u.commit()
    with bus.uow() as u:
        found = [u.events.get(str(e.id)) for e in (first, repeated, again, other)]

    assert appended == 2
    assert found == [first, None, None, other]
    assert work_of(bus, stored, first, repeated, again, other) == [
        [HANDLER], [HANDLER], [], [], [HANDLER],
    ]  # fmt: skip


def test_publish_many_keeps_the_cause_and_trace_of_each_event(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow)
    cause = thing(bus)
    batch = [
        bus.envelope(
            "test.thing.happened",
            {"n": n},
            idempotency_key=uuid4().hex,
            correlation_id="PO-1",
            trace_id=cause.trace_id,
            causation_id=cause.id,
        )
        for n in range(3)
    ]

    with bus.uow() as u:
        bus.publish_many(u, batch)
        u.commit()
    with bus.uow() as u:
        stored = [u.events.get(str(e.id)) for e in batch]

    assert [(e.causation_id, e.trace_id) for e in stored if e] == [(cause.id, cause.trace_id)] * 3


def test_publish_many_writes_nothing_when_one_payload_is_refused(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = MessageBus(uow, {}, registry=build_registry())
    good = bus.envelope(
        "supply.usage.recorded", {"usage_id": "U-1"}, idempotency_key="U-1", correlation_id="E"
    )

    with bus.uow() as u, pytest.raises(PayloadError):
        bus.publish_many(u, [good])
    with bus.uow() as u:
        assert u.events.get(str(good.id)) is None


def test_publish_many_of_nothing_appends_nothing(uow: Callable[[], UnitOfWork]) -> None:
    bus = make_bus(uow)
    with bus.uow() as u:
        assert bus.publish_many(u, []) == 0


def test_a_batch_form_handles_a_batch_and_the_one_event_form_tells_a_failing_batch_apart(
    uow: Callable[[], UnitOfWork],
) -> None:
    bus = make_bus(uow, batched=True)
    calm = [thing(bus), thing(bus)]
    with bus.uow() as u:
        bus.publish_many(u, calm)
        u.commit()
    bus.run_once(10)
    stormy = [thing(bus), thing(bus, fail=True), thing(bus)]
    with bus.uow() as u:
        bus.publish_many(u, stormy)
        u.commit()
    bus.run_once(10)

    assert effects(bus) == [
        (str(calm[0].id), "many"), (str(calm[1].id), "many"),
        (str(stormy[0].id), "one"), (str(stormy[2].id), "one"),
    ]  # fmt: skip
    assert work_of(bus, *calm, *stormy) == [[], [], [], [HANDLER], []]


def test_a_batch_form_needs_its_one_event_handler(uow: Callable[[], UnitOfWork]) -> None:
    with pytest.raises(BusConfigurationError, match="one-event handler"):
        MessageBus(uow, {}, batch_handlers={HANDLER: note_things})
