"""Two workers, each with its own bus and engine, share 2,000 events on PostgreSQL.

Every event's effect must be applied exactly once: claims skip each other's locked rows, the
lease keeps a claimed item away from the other worker, and the tracking row is the last word.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

EVENTS = 2000
EFFECT = "test.effect.recorded"


def record_effect(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """One new event per execution, so an effect applied twice would show as two events."""
    context.emit(EFFECT, {"of": str(envelope.id)}, idempotency_key=uuid4().hex)


def bus_on(engine: sa.Engine, handler: str) -> MessageBus:
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {handler: record_effect},
        {"test.concurrent.happened": [handler]},
    )


@pytest.mark.postgres
def test_two_workers_apply_each_of_2000_effects_exactly_once(postgres_engine: sa.Engine) -> None:
    handler, correlation = f"record-{uuid4().hex[:10]}", f"BATCH-{uuid4().hex}"
    publisher = bus_on(postgres_engine, handler)
    with publisher.uow() as uow:
        for index in range(EVENTS):
            publisher.publish(uow, publisher.envelope(
                "test.concurrent.happened", {"n": index}, idempotency_key=uuid4().hex,
                correlation_id=correlation,
                occurred_at=datetime(2025, 3, 1, tzinfo=UTC),
            ))  # fmt: skip
        uow.commit()
    second = create_engine(postgres_engine.url.render_as_string(hide_password=False))
    workers = [bus_on(postgres_engine, handler), bus_on(second, handler)]
    taken = [0, 0]
    barrier = threading.Barrier(2)

    def work(index: int) -> None:
        barrier.wait()
        while n := workers[index].run_once(25):
            taken[index] += n

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with publisher.uow() as uow:
            found = uow.events.by_correlation_id(correlation, limit=10 * EVENTS)
            effects = [e.payload["of"] for e in found if e.type == EFFECT]
            lag = uow.events.lag(handlers=[handler])
    finally:
        second.dispose()

    assert (len(effects), len(set(effects))) == (EVENTS, EVENTS)
    assert (sum(taken), lag.pending) == (EVENTS, 0)
    assert all(taken)
