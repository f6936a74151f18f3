"""A usage workflow killed between its steps resumes and completes the rest exactly once.

Issue 5, "Done means": the worker runs in a subprocess (``usage_worker.py``) and SIGKILLs itself
inside the cost step, after that step wrote its journal but before it committed: stock has
moved, no journal is posted. A second worker then finishes, and every usage has moved its stock
once, raised its requisition or POs once, and posted one journal with one ERP delivery.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from usage_world import World, build_bus, new_world, seed

from suture.adapters.db import tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.usage_workflow import UsageStep
from suture.services.unit_of_work import UnitOfWork

WORKER = Path(__file__).resolve().with_name("usage_worker.py")


@pytest.fixture
def sqlite_file_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "usage.db"
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


def run_worker(engine: sa.Engine, *args: str) -> int:
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, str(WORKER), "--database-url", url, *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False).returncode


def record(uow: Callable[[], UnitOfWork], world: World) -> None:
    """Six gloves usages of 5 (30 on hand: the third, 20 to 15, crosses the reorder point)
    and two consigned knees."""
    bus = build_bus(uow)
    for n in range(1, 7):
        bus.execute(world.usage(n, quantity=Decimal(5)))
    for n in (7, 8):
        bus.execute(world.usage(n, world.implant))


def steps(uow: Callable[[], UnitOfWork], world: World) -> list[UsageStep | None]:
    with uow() as unit:
        found = [unit.usage_workflows.get(world.id(f"U{n}")) for n in range(1, 9)]
    return [w.step if w else None for w in found]


def per_usage(connection: sa.Connection, table: sa.Table, column: str, world: World) -> int:
    query = sa.select(sa.func.count()).where(table.c[column].like(f"%-{world.run}"))
    return int(connection.execute(query).scalar_one())


def test_a_worker_killed_after_stock_moved_but_before_the_journal_completes_once_restarted(
    crash_engine: sa.Engine,
) -> None:
    uow: Callable[[], UnitOfWork] = lambda: SqlAlchemyUnitOfWork(crash_engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world)
    record(uow, world)

    killed = run_worker(crash_engine, "--die-in", "cost_attribution")
    between = steps(uow, world)
    with crash_engine.connect() as connection:
        journals_between = per_usage(connection, tables.journal_entries, "id", world)
    finished = run_worker(crash_engine)

    assert (killed, between, journals_between) == (-signal.SIGKILL, [UsageStep.STOCKED] * 8, 0)
    assert (finished, steps(uow, world)) == (0, [UsageStep.COSTED] * 8)
    with uow() as unit:
        gloves = unit.stock.get(world.location_id, world.supply)
        knees = unit.stock.get(world.location_id, world.implant)
    assert gloves is not None
    assert knees is not None
    assert (gloves.on_hand, knees.consigned_on_hand) == (0, 0)  # 30 - 6 x 5; 2 - 2
    with crash_engine.connect() as connection:
        counts = {
            name: per_usage(connection, table, column, world)
            for name, table, column in (
                ("journals", tables.journal_entries, "id"),
                ("requisitions", tables.requisitions, "id"),
                ("purchase orders", tables.purchase_orders, "id"),
            )
        }
        deliveries = connection.execute(
            sa.text("SELECT count(*) FROM deliveries WHERE idempotency_key LIKE :key"),
            {"key": f"journal-JE-U%-{world.run}"},
        ).scalar_one()
    # a requisition when the third usage crosses 20; PO-PAST plus bill-only and restock per knee
    assert (counts, deliveries) == (
        {"journals": 8, "requisitions": 1, "purchase orders": 5},
        8,
    )
