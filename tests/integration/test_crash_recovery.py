"""A worker killed with SIGKILL five times loses no event and applies no effect twice.

Issue 3, "Done means": the worker runs in a subprocess (``crash_worker.py``) and is killed at
random moments while work remains, then restarted; at the end every event's effects are present
exactly once, checked against totals computed from the generator. Three variants: the embedded
dispatcher on SQLite and on PostgreSQL, and the ``suture worker`` loops (relay, stream consumer,
sweep) on PostgreSQL with NATS JetStream, on a stream of the run's own. The in-suite size is small
enough to stay fast; ``benchmarks/chaos_kill.py`` runs the same at 20,000 events. A failure
prints the scenario's seed: ``SUTURE_CRASH_SEED=<seed>`` replays its draws and kill points.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from crash_worker import (
    Scenario,
    build_bus,
    chaos,
    count_stock,
    delete_stream,
    record_usage,
    seed,
    verify,
)

from suture.adapters.db.engine import create_engine
from suture.services.handlers import HandlerContext

EVENTS = 3000
KILLS = 5


@pytest.fixture
def sqlite_file_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    """A migrated SQLite file the worker subprocess opens too."""
    path = tmp_path / "crash.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_engine(request: pytest.FixtureRequest) -> sa.Engine:
    name = "postgres_engine" if request.param == "postgres" else "sqlite_file_engine"
    engine: sa.Engine = request.getfixturevalue(name)
    return engine


def scenario() -> Scenario:
    fixed = os.environ.get("SUTURE_CRASH_SEED")
    return Scenario.new(EVENTS, None if fixed is None else int(fixed))


def test_worker_killed_five_times_applies_every_effect_exactly_once(
    crash_engine: sa.Engine, tmp_path: Path
) -> None:
    run = scenario()
    event_ids = seed(crash_engine, run)

    result = chaos(crash_engine, run, kills=KILLS, log=tmp_path / "worker.log")

    assert verify(crash_engine, run, event_ids) == [], f"seed={run.seed}"
    assert (len(result.kills), result.starts) == (KILLS, KILLS + 1), f"seed={run.seed}"


@pytest.mark.postgres
def test_nats_worker_killed_five_times_applies_every_effect_exactly_once(
    own_postgres_engine: sa.Engine, nats_url: str, tmp_path: Path
) -> None:
    run = scenario()
    stream = f"CRASH_{run.run.upper()}"
    event_ids = seed(own_postgres_engine, run)

    try:
        result = chaos(
            own_postgres_engine, run, kills=KILLS, log=tmp_path / "worker.log",
            worker_args=["--nats-url", nats_url, "--stream", stream],
        )  # fmt: skip
    finally:
        delete_stream(nats_url, stream)

    assert verify(own_postgres_engine, run, event_ids) == [], f"seed={run.seed}"
    assert (len(result.kills), result.starts) == (KILLS, KILLS + 1), f"seed={run.seed}"


def test_verification_reports_an_effect_applied_a_second_time(
    sqlite_file_engine: sa.Engine,
) -> None:
    """The oracle itself: without it a crash test passes vacuously."""
    run = Scenario.new(20, seed=7)
    event_ids = seed(sqlite_file_engine, run)
    bus = build_bus(sqlite_file_engine, run.run)
    while bus.run_once():
        pass
    with bus.uow() as uow:
        envelope = uow.events.get(event_ids[0])
        assert envelope is not None
        context = HandlerContext(bus, uow, envelope, bus.clock())
        record_usage(envelope, uow, context)
        count_stock(envelope, uow, context)
        uow.commit()
    first, generated = event_ids[0], run.total()
    quantity = run.draws()[0].quantity

    assert verify(sqlite_file_engine, run, event_ids) == [
        f"usage records: 1 events applied twice or more, e.g. {first} x2",
        f"test.crash.counted events: 1 events applied twice or more, e.g. {first} x2",
        f"usage total {generated + quantity} != generated {generated}",
        f"1 counters off, e.g. EVENT-{first}: {2 * quantity}.0000 != {quantity}",
        f"counter total {generated + quantity} != generated {generated}",
    ]
