"""The MLLP listener's applier on a real SQLite file: bounded, exactly once, drained, swept.

The writer's side is played by the test: it accepts groups with an :class:`Hl7Ingest` and hands
them over, then drives the applier as the listener's writer thread does (:meth:`step` when no
frame waits, :meth:`drain` on stop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.entrypoints.hl7_applier import Hl7Applier
from suture.eventlog.events import build_registry
from suture.services.hl7_ingest import Hl7Ingest, Hl7Submission
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

NOW = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
TIMEOUT = 20.0


def dft(control_id: str) -> Hl7Submission:
    raw = (
        f"MSH|^~\\&|EPIC|GH|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        "PID|1||MRN4455^^^GH^MR||DOE^JANE\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||V{control_id}\r"
        f"FT1|1|T{control_id}-1||20250301080000||CG|CDM100|||2|50.00||LAB\r"
    ).encode()
    return Hl7Submission(raw, "mllp", "rcm")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    yield made
    made.dispose()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def ingest_on(engine: sa.Engine, clock: Callable[[], datetime] = lambda: NOW) -> Hl7Ingest:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, clock=clock, registry=build_registry())
    return Hl7Ingest(uow, Inbox(uow), bus, PhiTokenizer("secret"), clock)


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


PROCESSED = "SELECT count(*) FROM inbox_messages WHERE status = 'processed'"


def started(applier: Hl7Applier) -> Hl7Applier:
    """``applier`` past its start-up sweep, as the writer leaves it before the first frame."""
    while applier.pending() and applier.waiting == 0:
        applier.step()
    return applier


def test_handing_over_at_the_bound_applies_the_oldest_first(engine: sa.Engine) -> None:
    ingest = ingest_on(engine)
    applier = started(Hl7Applier(ingest, bound=2, batch=1))
    applier.put(ingest.accept_many([dft("P1")]).pending)
    applier.put(ingest.accept_many([dft("P2"), dft("P3")]).pending)  # 1 waiting: below the bound
    before = count(engine, PROCESSED), applier.waiting

    applier.put(ingest.accept_many([dft("P4")]).pending)  # 3 waiting: at the bound and over it

    assert before == (0, 3)
    assert (count(engine, PROCESSED), applier.waiting) == (2, 2)  # P1 then P2, in order
    processed = "SELECT count(*) FROM inbox_messages WHERE status = 'processed' AND instr(raw, ?)"
    with engine.connect() as connection:
        done = [
            connection.exec_driver_sql(processed, (f"DFT^P03|{c}|".encode(),)).scalar_one()
            for c in ("P1", "P2", "P3", "P4")
        ]
    assert done == [1, 1, 0, 0]


def test_a_step_applies_one_batch_and_drain_applies_the_rest(engine: sa.Engine) -> None:
    ingest = ingest_on(engine)
    applier = started(Hl7Applier(ingest, batch=3))
    for number in range(4):
        group = [dft(f"S{number}-{i}") for i in range(5)]
        applier.put(ingest.accept_many(group).pending)

    applier.step()
    after_one_step = count(engine, PROCESSED), applier.unapplied
    applier.drain()

    assert after_one_step == (3, 17)
    assert count(engine, PROCESSED) == 20
    assert count(engine, "SELECT count(*) FROM charges") == 20
    assert (applier.applied, applier.unapplied, applier.pending()) == (20, 0, False)


def test_settle_waits_for_another_thread_to_apply(engine: sa.Engine) -> None:
    ingest = ingest_on(engine)
    applier = started(Hl7Applier(ingest))
    applier.put(ingest.accept_many([dft("W1"), dft("W2")]).pending)
    unsettled = applier.settle(0.05)
    worker = threading.Thread(target=applier.drain)

    worker.start()
    settled = applier.settle(TIMEOUT)
    worker.join(TIMEOUT)

    assert (unsettled, settled) == (False, True)
    assert count(engine, PROCESSED) == 2


def test_the_start_up_sweep_applies_what_an_earlier_process_left_a_page_a_step(
    engine: sa.Engine,
) -> None:
    ingest = ingest_on(engine)
    ingest.accept_many([dft(f"L{i}") for i in range(5)])  # acknowledged; the process died
    applier = Hl7Applier(ingest, batch=2)
    unsettled = applier.settle(0.01)

    applier.step()
    after_one_step = count(engine, PROCESSED)
    while applier.pending():
        applier.step()

    assert (unsettled, after_one_step) == (False, 2)  # a page: the writer answers in between
    assert applier.settle(0)
    assert applier.applied == 5
    assert count(engine, PROCESSED) == 5


def test_the_periodic_sweep_applies_what_waited_longer_than_its_period(
    engine: sa.Engine,
) -> None:
    clock = Clock()
    ingest = ingest_on(engine, clock)
    applier = started(Hl7Applier(ingest, sweep_seconds=0.2))
    ingest.accept_many([dft("OLD")])  # stored and never handed over: a batch lost to an error
    clock.now = NOW + timedelta(seconds=1)
    ingest.accept_many([dft("NEW")])  # stored later: younger than the period
    idle = applier.pending()

    time.sleep(applier.seconds_to_sweep())
    due = applier.pending()
    while applier.pending():
        applier.step()

    assert (idle, due) == (False, True)
    assert applier.applied == 1
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT status FROM inbox_messages ORDER BY received_at"
        ).all()
    assert [row[0] for row in rows] == ["processed", "received"]


def test_a_batch_is_due_at_once_only_from_min_batch_messages(engine: sa.Engine) -> None:
    ingest = ingest_on(engine)
    applier = started(Hl7Applier(ingest, batch=8, min_batch=3))
    applier.put(ingest.accept_many([dft("M1"), dft("M2")]).pending)
    below = applier.pending(), applier.waiting

    applier.put(ingest.accept_many([dft("M3")]).pending)

    assert below == (False, 2)  # the writer waits for a frame (linger) before applying them
    assert applier.pending()
    applier.step()
    assert (count(engine, PROCESSED), applier.pending(), applier.waiting) == (3, False, 0)
