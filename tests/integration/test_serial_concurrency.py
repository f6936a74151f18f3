"""One implant serial is used once, even by two workers at two locations at the same instant.

The usage workflow locks the stock positions it moves, one per (location, item): two usages of
the same serialized unit at two locations take different row locks, so each could read the
serial unused before the other committed. ``serials_used`` takes a transaction-scoped advisory
lock per (item, serial) on PostgreSQL; the second worker waits for the first to commit, then
reads its usage. The first transaction is held open while the second asks, and the test waits
for PostgreSQL to report the second one waiting (``pg_locks``), so no timing is involved.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.repositories.usage_workflow import UsageWorkflowRepository
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.costing import PriceSource
from suture.domain.inventory import UsageRecord
from suture.domain.usage_workflow import UsageStep, UsageWorkflow

AT = datetime(2025, 3, 3, 14, tzinfo=UTC)
WAITING = sa.text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = :pid"
)


def started(
    usage_id: str, location_id: str, item_id: str, serial: str
) -> tuple[UsageRecord, UsageWorkflow]:
    record = UsageRecord(id=usage_id, facility_id="fac", location_id=location_id,
                         item_id=item_id, quantity=Decimal(1), uom="EA", used_at=AT,
                         serial=serial)  # fmt: skip
    workflow = UsageWorkflow(
        usage_id=usage_id, facility_id="fac", location_id=location_id, item_id=item_id,
        step=UsageStep.STOCKED, eaches=Decimal(1), consigned=True, stockout=False,
        price_source=PriceSource.CONTRACT, unit_price=Decimal(2500), amount=Decimal(2500),
        started_at=AT, updated_at=AT,
    )  # fmt: skip
    return record, workflow


@pytest.mark.postgres
def test_a_second_worker_waits_for_the_first_then_finds_the_serial_used(
    postgres_engine: sa.Engine,
) -> None:
    run = uuid.uuid4().hex
    unit = (f"knee-{run}", "SN-77")
    record, workflow = started(f"U1-{run}", "OR-1", *unit)
    second_engine = create_engine(postgres_engine.url.render_as_string(hide_password=False))
    seen: list[dict[tuple[str, str], str]] = []
    pid: list[int] = []
    asked = threading.Event()

    def second_worker() -> None:
        with second_engine.connect() as connection:
            pid.append(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            asked.set()
            seen.append(UsageWorkflowRepository(connection).serials_used([unit]))
            connection.rollback()

    try:
        with SqlAlchemyUnitOfWork(postgres_engine) as first:
            before = first.usage_workflows.serials_used([unit])
            first.usage.add_many([record])
            first.usage_workflows.start_many([workflow])
            thread = threading.Thread(target=second_worker)
            thread.start()
            asked.wait()
            waited = _waits_until_blocked_or_done(postgres_engine, pid[0], thread)
            first.commit()
        thread.join()
    finally:
        second_engine.dispose()

    assert (before, waited, seen) == ({}, True, [{unit: record.id}])


def _waits_until_blocked_or_done(engine: sa.Engine, pid: int, thread: threading.Thread) -> bool:
    """True once PostgreSQL reports ``pid`` waiting for an advisory lock; False if the thread
    finished without waiting (the race the lock closes)."""
    with engine.connect() as monitor:
        while thread.is_alive():
            if monitor.execute(WAITING, {"pid": pid}).scalar_one():
                return True
            monitor.rollback()  # a fresh snapshot of pg_locks for the next look
            thread.join(0.01)
    return False
