"""A three-way match killed mid-run leaves nothing behind and completes exactly once restarted.

The worker runs in a subprocess (``match_worker.py``) and SIGKILLs itself inside the match,
after a run wrote its state, the invoice's status, the AP voucher delivery and the
``purchasing.invoice.matched`` event, before they committed. A second worker then finishes:
every invoice matched once, with one voucher and one event each.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from match_world import (
    World,
    build_bus,
    invoice_line,
    new_world,
    receipt_line,
    receive_invoice,
    record_receipt,
    seed,
)

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.invoicing import InvoiceStatus
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.three_way_match import ERP_TARGET, INVOICE_MATCHED

WORKER = Path(__file__).resolve().with_name("match_worker.py")
NUMBERS = ("A", "B", "C")


@pytest.fixture
def sqlite_file_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "match.db"
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


def statuses(uow: Callable[[], UnitOfWork], world: World) -> list[InvoiceStatus | None]:
    with uow() as unit:
        found = [unit.invoices.get(world.invoice_id(n)) for n in NUMBERS]
    return [i.status if i else None for i in found]


def effects(uow: Callable[[], UnitOfWork], world: World) -> tuple[int, int, int]:
    """Match states, vouchers and matched events of the three invoices."""
    with uow() as unit:
        states = sum(1 for n in NUMBERS if unit.invoice_matches.get(world.invoice_id(n)))
        vouchers = sum(
            len(unit.deliveries.list(target=ERP_TARGET, correlation_id=world.invoice_id(n)))
            for n in NUMBERS
        )
        events = sum(
            1
            for n in NUMBERS
            for e in unit.events.by_correlation_id(world.invoice_id(n))
            if e.type == INVOICE_MATCHED
        )
    return states, vouchers, events


def test_a_worker_killed_inside_the_match_leaves_nothing_and_a_restart_matches_once(
    crash_engine: sa.Engine,
) -> None:
    uow: Callable[[], UnitOfWork] = lambda: SqlAlchemyUnitOfWork(crash_engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world)
    bus, _ = build_bus(uow)
    with uow() as unit:
        record_receipt(bus, unit, world, "1", receipt_line(1, world.glove, "90"))
        for n, number in enumerate(NUMBERS):  # three invoices of 30 on other dates
            receive_invoice(bus, unit, world, number,
                            invoice_line(1, world.glove, "30", "1.00"),
                            invoice_date=date(2025, 3, 20 + n))  # fmt: skip

    killed = run_worker(crash_engine, "--die-in", "three_way_match")
    between = (statuses(uow, world), effects(uow, world))
    finished = run_worker(crash_engine)

    assert killed == -signal.SIGKILL
    assert between == ([InvoiceStatus.RECEIVED] * 3, (0, 0, 0))
    assert finished == 0
    assert statuses(uow, world) == [InvoiceStatus.MATCHED] * 3
    assert effects(uow, world) == (3, 3, 3)
    with uow() as unit:
        attempts = [unit.invoice_matches.get(world.invoice_id(n)) for n in NUMBERS]
    assert [m.attempts if m else None for m in attempts] == [1, 1, 1]
