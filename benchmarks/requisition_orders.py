"""Requisitions per second from raised to 850 queued, exactly once, beside the bare encoding.

Procure-to-pay's ordering half (docs/workflows.md): ``--requisitions`` replenishment
requisitions of two lines (gloves on contract, gauze off contract from a second supplier) are
stored and published ``purchasing.requisition.raised`` in batches of 500, then the embedded
dispatcher's loop (``MessageBus.run_once``) runs the three steps (approval policy, POs, 850s)
until no work is due. Every requisition is auto-approved by the shipped policy (under $1,000),
so each becomes two POs, two 850s and one ``contract_price_mismatch`` item. The run is verified:
one approval state ``ordered`` per requisition, two POs and two 850 deliveries each, and per
partner control numbers 1..N without a gap.

Beside it, in the same run, the **bare** baseline: the same POs built in memory and encoded with
``write_850`` alone (no database, no bus): what the X12 work costs by itself.

    python benchmarks/requisition_orders.py [--requisitions 2000] [--quick]

SQLite only (a temporary file). Figures from a shared machine are indicative.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.approval import ApprovalStatus
from suture.domain.purchasing import Requisition, RequisitionLine, RequisitionStatus
from suture.eventlog.events import RequisitionRaised
from suture.formats.x12 import ControlNumbers, TradingPartnerProfile, write_850
from suture.services.unit_of_work import UnitOfWork

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
from requisition_world import (  # the tests' hospital
    REQUESTED_AT,
    Ordering,
    build_bus,
    seed_ordering,
)
from usage_world import seed

BATCH = 500


def requisition(world: Ordering, n: int) -> Requisition:
    return Requisition(
        id=world.id(f"B{n}"), number=world.id(f"B{n}"), facility_id=world.facility_id,
        department_id=world.department_id, location_id=world.location_id,
        requested_at=REQUESTED_AT, status=RequisitionStatus.PENDING_APPROVAL,
        lines=[
            RequisitionLine(line_number=1, item_id=world.supply, quantity=Decimal(1), uom="CS"),
            RequisitionLine(line_number=2, item_id=world.gauze, quantity=Decimal(2), uom="BX"),
        ],
    )  # fmt: skip


def run_pipeline(path: Path, count: int) -> tuple[float, Ordering, list[object]]:
    engine = create_engine(f"sqlite:///{path}")
    ensure_schema(engine)

    def uow() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    world = Ordering(uuid.uuid4().hex[:12])
    with uow() as unit:
        seed(unit, world, supply_on_hand=10**6)
    with uow() as unit:
        seed_ordering(unit, world)
    bus = build_bus(uow)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        with uow() as unit:
            for n in range(start, min(start + BATCH, count)):
                req = requisition(world, n)
                unit.requisitions.add(req)
                payload = RequisitionRaised(
                    requisition_id=req.id, facility_id=req.facility_id,
                    location_id=req.location_id, department_id=req.department_id,
                    item_id=world.supply, quantity=Decimal(1), uom="CS",
                    reason="replenishment", line_count=2,
                )  # fmt: skip
                bus.publish(unit, bus.envelope(
                    "purchasing.requisition.raised", payload.model_dump(mode="json"),
                    idempotency_key=f"requisition:{req.id}", correlation_id=req.id,
                    source_facility=req.facility_id,
                ))  # fmt: skip
            unit.commit()
    while bus.run_once(limit=500):
        pass
    elapsed = time.perf_counter() - started
    orders: list[object] = []
    with uow() as unit:
        ordered = unit.requisition_approvals.list(status=ApprovalStatus.ORDERED, limit=count + 1)
        for approval in ordered:
            orders += [unit.purchase_orders.by_number(n) for n in approval.purchase_orders]
        deliveries = unit.deliveries.count_by_status()
        partners = [unit.trading_partners.get(s) for s in (world.supplier_id,
                                                            world.second_supplier)]  # fmt: skip
    queued = sum(sum(per.values()) for per in deliveries.values())
    controls = [p.last_control_number if p else 0 for p in partners]
    problems = []
    if len(ordered) != count:
        problems.append(f"{len(ordered)} requisitions ordered, expected {count}")
    if len(orders) != 2 * count or queued != 2 * count:
        problems.append(f"{len(orders)} POs and {queued} 850s, expected {2 * count} each")
    if controls != [count, count]:
        problems.append(f"control numbers end at {controls}, expected {count} each")
    if problems:
        raise SystemExit("verification failed: " + "; ".join(problems))
    engine.dispose()
    return elapsed, world, orders


def run_bare(orders: list[object]) -> float:
    profile = TradingPartnerProfile("ZZ", "SUTUREHUB", "ZZ", "ORTHO", segment_terminator="~\n")
    started = time.perf_counter()
    for number, order in enumerate(orders, start=1):
        write_850(order, profile, ControlNumbers(number, number), REQUESTED_AT)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requisitions", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="200 requisitions: a smoke test")
    args = parser.parse_args()
    count = 200 if args.quick else args.requisitions
    with tempfile.TemporaryDirectory() as folder:
        elapsed, _, orders = run_pipeline(Path(folder) / "bench.db", count)
    bare = run_bare(orders)
    print(f"requisitions: {count} (two lines, two suppliers, one off contract), SQLite")
    print(f"pipeline   raised → approved → 2 POs → 2 850s queued: {elapsed:7.2f} s  "
          f"{count / elapsed:9.0f} requisitions/s  {2 * count / elapsed:9.0f} POs/s")  # fmt: skip
    print(f"bare       write_850 of the same {len(orders)} POs:        {bare:7.2f} s  "
          f"{len(orders) / bare:9.0f} POs/s")  # fmt: skip
    print("verified: every requisition ordered once, 2 POs and 2 850s each, no control gap")


if __name__ == "__main__":
    main()
