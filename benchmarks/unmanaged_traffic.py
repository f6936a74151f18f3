"""What the unmanaged-traffic hook costs the inbox's group commit, beside the inbox without it.

``services/unmanaged_traffic.py`` records inbound traffic on unregistered routes in the
transaction that stores it. This script stores ``--batches`` groups of ``--size`` distinct
messages through ``Inbox.receive_many`` on a fresh SQLite file per run, in four variants,
interleaved over ``--rounds`` rounds, and prints the median and best messages per second and the
SQL statements each variant ran:

- **no hook** (the baseline): the inbox with a monitor that records nothing;
- **managed**: the route is registered; the routes are cached, reloaded every 5 s;
- **unmanaged**: no route is registered: one upsert per batch;
- **managed, select per batch**: the cache off (``refresh=0``): one ``SELECT`` per batch.

Statement counts are exact; rates on a shared machine are noisy: run it when it is quiet.

    .venv/bin/python benchmarks/unmanaged_traffic.py [--batches 100] [--size 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.interfaces import Direction, Interface, InterfaceFormat
from suture.domain.messages import InboundMessage
from suture.services.inbox import Arrival, Inbox
from suture.services.interfaces import InterfaceInventory
from suture.services.unit_of_work import UnitOfWork
from suture.services.unmanaged_traffic import TrafficMonitor

AT = datetime(2026, 11, 25, tzinfo=UTC)
ROUTE = ("mllp", "rcm")


class NoHook(TrafficMonitor):
    def record(self, uow: UnitOfWork, messages: Sequence[InboundMessage]) -> None:
        return None


VARIANTS: dict[str, tuple[Callable[[], TrafficMonitor], bool]] = {
    "no hook": (NoHook, False),
    "managed": (TrafficMonitor, True),
    "unmanaged": (TrafficMonitor, False),
    "managed, select per batch": (lambda: TrafficMonitor(timedelta(0)), True),
}


def run(variant: str, path: Path, batches: int, size: int) -> tuple[float, int]:
    """Seconds and SQL statements to store ``batches`` x ``size`` messages."""
    engine = create_engine(f"sqlite:///{path}")
    ensure_schema(engine)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    monitor, registered = VARIANTS[variant]
    if registered:
        InterfaceInventory(uow, lambda: AT).add(
            Interface(
                name="ehr",
                direction=Direction.INBOUND,
                format=InterfaceFormat.HL7V2,
                channel=ROUTE[0],
                source_system=ROUTE[1],
                target_system="suture",
            )
        )
    inbox = Inbox(uow, traffic=monitor())
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    started = time.perf_counter()
    for batch in range(batches):
        arrivals = [
            Arrival(f"MSH|^~\\&|EPIC|GH|{batch}|{n}|".encode() * 16, *ROUTE) for n in range(size)
        ]
        inbox.receive_many(
            arrivals, format="hl7v2", received_at=AT + timedelta(milliseconds=10 * batch)
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed, statements[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    total = args.batches * args.size
    seconds: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    statements: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="suture-unmanaged-") as tmp:
        for round_number in range(args.rounds):
            for number, variant in enumerate(VARIANTS):
                path = Path(tmp) / f"{round_number}-{number}.db"
                elapsed, statements[variant] = run(variant, path, args.batches, args.size)
                seconds[variant].append(elapsed)
    baseline = statistics.median(seconds["no hook"])
    print(f"{args.batches} batches x {args.size} messages, Inbox.receive_many on SQLite, "
          f"{args.rounds} rounds")  # fmt: skip
    print(f"{'variant':<27} {'median msg/s':>12} {'best msg/s':>11} {'vs no hook':>10} "
          f"{'statements':>10}")  # fmt: skip
    for variant, times in seconds.items():
        median = statistics.median(times)
        print(
            f"{variant:<27} {total / median:>12,.0f} {total / min(times):>11,.0f} "
            f"{baseline / median:>10.2f} {statements[variant]:>10}"
        )


if __name__ == "__main__":
    main()
