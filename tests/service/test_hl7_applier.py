"""The MLLP listener's applier on a real SQLite file: bounded, exactly once, drained on stop.

The writer's side is played by the test: it accepts groups with one :class:`Hl7Ingest` and
hands them over; the applier applies with another whose commits can be held at a gate, so the
test can keep the applier busy while it hands over more than the bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


class Gate:
    """Once armed, holds every unit of work it makes at its start (before it takes SQLite's
    write lock) until opened; ``entered`` is set when one is waiting."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.armed = False
        self.open = threading.Event()
        self.entered = threading.Event()

    def __call__(self) -> Any:
        return _GatedUnitOfWork(SqlAlchemyUnitOfWork(self.engine), self)


class _GatedUnitOfWork:
    def __init__(self, inner: SqlAlchemyUnitOfWork, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate

    def __enter__(self) -> _GatedUnitOfWork:
        if self._gate.armed:
            self._gate.entered.set()
            assert self._gate.open.wait(TIMEOUT)
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    yield made
    made.dispose()


def ingest_on(uow: Callable[[], Any]) -> Hl7Ingest:
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    return Hl7Ingest(uow, Inbox(uow), bus, PhiTokenizer("secret"), lambda: NOW)


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def test_handing_over_blocks_while_the_applier_is_behind_by_its_bound(
    engine: sa.Engine,
) -> None:
    accepting = ingest_on(lambda: SqlAlchemyUnitOfWork(engine))
    gate = Gate(engine)
    applier = Hl7Applier(ingest_on(gate), bound=2, batch=1)
    applier.start()
    assert applier.settle(TIMEOUT)  # the start-up sweep found nothing
    gate.armed = True
    applier.put(accepting.accept_many([dft("P1")]).pending)
    assert gate.entered.wait(TIMEOUT)  # P1 taken; its transaction held at the gate
    applier.put(accepting.accept_many([dft("P2"), dft("P3")]).pending)  # 2 waiting: the bound
    last = accepting.accept_many([dft("P4")]).pending
    handing = threading.Thread(target=applier.put, args=(last,))

    handing.start()
    handing.join(0.5)
    still_blocked, waiting = handing.is_alive(), applier.waiting
    gate.open.set()
    handing.join(TIMEOUT)
    assert applier.settle(TIMEOUT)
    applier.stop()

    assert (still_blocked, waiting) == (True, 2)
    assert not handing.is_alive()
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == 4
    assert count(engine, "SELECT count(*) FROM charges") == 4


def test_stopping_applies_everything_handed_over(engine: sa.Engine) -> None:
    ingest = ingest_on(lambda: SqlAlchemyUnitOfWork(engine))
    applier = Hl7Applier(ingest, batch=3)
    applier.start()
    for number in range(4):
        group = [dft(f"S{number}-{i}") for i in range(5)]
        applier.put(ingest.accept_many(group).pending)

    applier.stop()

    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == 20
    assert count(engine, "SELECT count(*) FROM charges") == 20


def test_starting_applies_what_an_earlier_process_accepted_and_left(engine: sa.Engine) -> None:
    ingest = ingest_on(lambda: SqlAlchemyUnitOfWork(engine))
    ingest.accept_many([dft("L1"), dft("L2")])  # acknowledged; the process died before applying
    applier = Hl7Applier(ingest)

    applier.start()
    assert applier.settle(TIMEOUT)
    applier.stop()

    assert applier.applied == 2
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == 2
