"""Two appenders, each with its own engine, record 2 × 200 actions at once (PostgreSQL, SQLite).

The chain must stay linear: every action recorded once, sequence numbers 1…400 without a gap or
a duplicate, each row following the one before it, so the chain verifies. Without the chain-head
lock two transactions would read the same head and one would fail on the primary key (or, with
a different sequence rule, fork the chain).
"""

from __future__ import annotations

import itertools
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import Actor, AuditKey
from suture.domain.masterdata import Facility
from suture.services.audit import AuditTrail
from suture.services.clock import system_clock

PER_APPENDER = 200
KEY = AuditKey.from_secret("the-hub-secret-for-the-concurrency-test")


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def engines(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[list[sa.Engine]]:
    """Two engines (two connection pools) on one database whose chain is this test's alone."""
    if request.param == "postgres":
        url = request.getfixturevalue("own_postgres_engine").url
        rendered = url.render_as_string(hide_password=False)
    else:
        shutil.copyfile(sqlite_template, tmp_path / "audit.db")
        rendered = f"sqlite:///{tmp_path / 'audit.db'}"
    made = [create_engine(rendered), create_engine(rendered)]
    try:
        yield made
    finally:
        for engine in made:
            engine.dispose()


def test_two_concurrent_appenders_leave_one_linear_chain_that_verifies(
    engines: list[sa.Engine],
) -> None:
    trails = [AuditTrail(lambda e=e: SqlAlchemyUnitOfWork(e), KEY, system_clock) for e in engines]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def append(index: int) -> None:
        actor = Actor(f"appender-{index}", "test")
        barrier.wait()
        try:
            for n in range(PER_APPENDER):
                facility = f"F{index}-{n}"
                with SqlAlchemyUnitOfWork(engines[index]) as uow:  # a write and its record
                    uow.facilities.add(Facility(id=facility, code=facility, name="Concurrent"))
                    trails[index].record(
                        uow, actor, "facility.create", target_type="facility", target_id=facility
                    )
                    uow.commit()
        except BaseException as error:  # reported below, with the chain
            failures.append(error)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verification = trails[0].verify()
    records = trails[0].list(limit=1000)

    assert failures == []
    assert (verification.intact, verification.checked) == (True, 2 * PER_APPENDER)
    assert [r.seq for r in records] == list(range(1, 2 * PER_APPENDER + 1))
    assert {r.entry.target_id for r in records} == {
        f"F{i}-{n}" for i in range(2) for n in range(PER_APPENDER)
    }
    assert all(b.previous_hash == a.hash for a, b in itertools.pairwise(records))
