"""A message whose handler kills its worker every time ends in dead letter, not in a crash loop.

The crash-loop guard (``services/messagebus.py``): a claim counts the attempt, committed before
the handler runs, so a worker SIGKILLed inside a handler has spent it all the same. The worker
(``crash_worker.py --poison N``) kills itself on event N, every time, and is restarted after each
death; after the configured attempts (3 here) that event's work is dead-lettered with the reason
and an exception item, and every other effect is applied exactly once: its batch-mates, killed
with it once, are then run alone and spend no further attempt. On the embedded dispatcher
(SQLite and PostgreSQL) and on the ``suture worker`` loops with NATS JetStream.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from crash_worker import Scenario, crash_loop, delete_stream, seed, verify

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionType, subject_of

EVENTS = 300
POISON = 137
MAX_ATTEMPTS = 3
#: Fast restarts: the poisoned batch comes back once its lease (seconds) has run out.
WORKER = ["--poison", str(POISON), "--max-attempts", str(MAX_ATTEMPTS), "--lease", "0.5"]


@pytest.fixture
def sqlite_file_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "crash_loop.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loop_engine(request: pytest.FixtureRequest) -> sa.Engine:
    name = "postgres_engine" if request.param == "postgres" else "sqlite_file_engine"
    engine: sa.Engine = request.getfixturevalue(name)
    return engine


def expected_problems(run: Scenario, event_ids: Sequence[str]) -> list[str]:
    """What :func:`verify` must find: the poisoned event's usage effect alone is missing."""
    poisoned, quantity = event_ids[POISON], run.draws()[POISON].quantity
    generated = run.total()
    return [
        f"usage records: 1 events without effect, e.g. {poisoned}",
        f"usage total {generated - quantity} != generated {generated}",
        "work items left: {'dead': 1}",
        f"{run.usage_handler}: {EVENTS - 1} tracking rows for {EVENTS} events",
        "failed attempts recorded, e.g. "
        f"[('dead_letter', 'worker died while handling it {MAX_ATTEMPTS} times "
        f"(attempt {MAX_ATTEMPTS})')]",
    ]


def dead_letter_of(engine: sa.Engine, run: Scenario, event_id: str) -> tuple[object, ...]:
    """(status, attempts) of the poisoned work item and the reasons of its open exceptions."""
    with SqlAlchemyUnitOfWork(engine) as uow:
        item = uow.events.lock_work(run.usage_handler, event_id)
        subject = subject_of(event_id=event_id, handler=run.usage_handler)
        opened = uow.exceptions.find_open_for_subject(subject)
    assert item is not None
    return item.status, item.attempts, [(e.type, e.reason) for e in opened]


def expected_dead_letter(run: Scenario) -> tuple[object, ...]:
    reason = (
        f"{run.usage_handler} failed: worker died while handling it {MAX_ATTEMPTS} times; "
        f"gave up after {MAX_ATTEMPTS} attempts"
    )
    return "dead", MAX_ATTEMPTS, [(ExceptionType.HANDLER_FAILED, reason)]


def test_a_handler_that_kills_its_worker_dead_letters_after_the_attempts_and_nothing_else_does(
    loop_engine: sa.Engine, tmp_path: Path
) -> None:
    run = Scenario.new(EVENTS, seed=POISON)
    event_ids = seed(loop_engine, run)

    starts = crash_loop(loop_engine, run, log=tmp_path / "worker.log", worker_args=WORKER)

    assert verify(loop_engine, run, event_ids) == expected_problems(run, event_ids)
    assert dead_letter_of(loop_engine, run, event_ids[POISON]) == expected_dead_letter(run)
    assert starts == MAX_ATTEMPTS + 1  # one death per attempt, then the run settles


@pytest.mark.postgres
def test_a_nats_worker_killed_by_a_handler_dead_letters_it_after_the_attempts(
    own_postgres_engine: sa.Engine, nats_url: str, tmp_path: Path
) -> None:
    run = Scenario.new(EVENTS, seed=POISON)
    stream = f"LOOP_{run.run.upper()}"
    event_ids = seed(own_postgres_engine, run)
    nats = ["--nats-url", nats_url, "--stream", stream, "--ack-wait", "2", "--stale-after", "2"]

    try:
        starts = crash_loop(
            own_postgres_engine, run, log=tmp_path / "worker.log", worker_args=[*WORKER, *nats]
        )
    finally:
        delete_stream(nats_url, stream)

    assert verify(own_postgres_engine, run, event_ids) == expected_problems(run, event_ids)
    assert dead_letter_of(own_postgres_engine, run, event_ids[POISON]) == expected_dead_letter(run)
    assert starts == MAX_ATTEMPTS + 1
