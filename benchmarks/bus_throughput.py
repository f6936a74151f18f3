"""Events per second through the message bus, end to end, beside a bare batched insert.

DESIGN.md §10: the usage pipeline, exactly-once, should reach at least 0.3 of a bare batched
insert of the same rows. Per database (SQLite, then PostgreSQL in a throwaway database
``suture_bench_<hex>`` created and dropped here), this script:

1. **publishes** ``--events`` ``supply.usage.recorded`` v2 events through ``MessageBus.publish``
   (payload validated against the registry, one work item each), ``--batch`` events per unit of
   work and commit;
2. **drains** them with ``MessageBus.run_once(--drain-batch)`` until no work is left; the
   handler reads the payload and writes one effect row, ``uow.usage.add(UsageRecord(...))``,
   which commits with the tracking row (exactly once, DESIGN.md §3 guarantee 2);
3. checks the outcome: one usage row and one tracking row per event, no work left;
4. measures the **bare baseline in the same run**: the same event rows and usage rows inserted
   with SQLAlchemy Core ``executemany``, ``--batch`` events' rows per transaction, no bus. By
   default into the real ``events`` and ``usage_records`` tables of a fresh database (same keys
   and indexes: the unique idempotency key is part of what storing an event means);
   ``--bare plain`` uses column-only copies without keys or indexes, as ``seed_large.py`` does.
   Only the inserts and commits are timed; the rows are built beforehand.

Columns: publish rate (events/s over the publishing time), drain rate (events/s over the
draining time), end to end (events over both), the bare rate (events, each with its usage row,
per second) and end to end over bare. Transports other than the embedded dispatcher plug in at
:func:`drain_through` (marked there). The defaults (20,000 events) take about two minutes on 2
cores with PostgreSQL.

    .venv/bin/python benchmarks/bus_throughput.py --pg-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from suture.adapters.db import eventlog_tables, tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.inventory import UsageRecord
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import build_registry
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

EVENT_TYPE = "supply.usage.recorded"
HANDLER = "record_usage"
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def record_usage(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """The effect: one usage row per event, written through the unit of work."""
    p = envelope.payload
    uow.usage.add(
        UsageRecord(
            id=p["usage_id"],
            facility_id=p["facility_id"],
            location_id=p["location_id"],
            item_id=p["item_id"],
            quantity=Decimal(p["quantity"]),
            uom=p["uom"],
            used_at=datetime.fromisoformat(p["used_at"]),
            encounter_token=p.get("encounter_token"),
            department_id=p.get("department_id"),
            lot=p.get("lot"),
            serial=p.get("serial"),
            source_system=envelope.source_system,
        )
    )


def payloads(count: int) -> list[dict[str, Any]]:
    """``count`` distinct v2 usage payloads across 4 facilities and 1,000 items."""
    run = uuid.uuid4().hex[:8]
    return [
        {
            "usage_id": f"U-{run}-{n:07d}",
            "facility_id": f"fac-{n % 4}",
            "location_id": f"loc-{n % 40}",
            "item_id": f"item-{n % 1000:04d}",
            "quantity": str(1 + n % 5),
            "uom": "EA",
            "used_at": (AT + timedelta(seconds=n)).isoformat(),
            "encounter_token": f"enc-{n // 10:06d}",
            "department_id": f"dept-{n % 12}",
            "lot": f"LOT{n % 97}",
        }
        for n in range(count)
    ]


def new_bus(engine: sa.Engine) -> MessageBus:
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {HANDLER: record_usage},
        {EVENT_TYPE: [HANDLER]},
        registry=build_registry(),
        source_system="bench",
    )


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Figure:
    events: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    database: str
    transport: str
    publish: Figure
    drain: Figure
    bare: Figure
    checks: list[str] = field(default_factory=list)

    @property
    def end_to_end(self) -> Figure:
        return Figure(self.publish.events, self.publish.seconds + self.drain.seconds)


# --- the bus ---------------------------------------------------------------------------------


def publish_all(bus: MessageBus, items: list[dict[str, Any]], batch: int) -> Figure:
    """Every payload published through ``bus.publish``, ``batch`` per unit of work."""
    began = time.perf_counter()
    for start in range(0, len(items), batch):
        with bus.uow() as uow:
            for payload in items[start : start + batch]:
                envelope = bus.envelope(
                    EVENT_TYPE, payload, idempotency_key=payload["usage_id"],
                    correlation_id=payload["encounter_token"],
                    source_facility=payload["facility_id"],
                )  # fmt: skip
                bus.publish(uow, envelope)
            uow.commit()
    return Figure(len(items), time.perf_counter() - began)


def drain_through(engine: sa.Engine, transport: str, args: argparse.Namespace) -> Figure:
    """Process every pending event through ``transport``; events handled and the time taken.

    ``embedded``: the in-process dispatcher's loop, ``MessageBus.run_once`` until it finds no
    work. ----- NATS GOES HERE -----: add ``nats-1`` / ``nats-2`` (one and two ``suture worker``
    processes on PostgreSQL) once ``adapters/nats`` offers a worker loop: relay the committed
    outbox to JetStream, run the workers until the lag is zero, and return the same Figure; then
    list the transports in :func:`transports_for`.
    """
    if transport == "embedded":
        bus = new_bus(engine)
        handled = 0
        began = time.perf_counter()
        while taken := bus.run_once(args.drain_batch):
            handled += taken
        return Figure(handled, time.perf_counter() - began)
    raise SystemExit(f"transport {transport!r} is not wired into this benchmark yet")


def transports_for(database: str) -> list[str]:
    """The transports measured on a database (NATS, once added: PostgreSQL only)."""
    return ["embedded"]


def check(engine: sa.Engine, expected: int) -> list[str]:
    """Exactly once: one effect and one tracking row per event, and no work left."""
    count = sa.func.count()
    with engine.connect() as connection:
        found = {
            "usage rows": connection.scalar(sa.select(count).select_from(tables.usage_records)),
            "tracking rows": connection.scalar(
                sa.select(count).select_from(eventlog_tables.tracking)
            ),
            "work left": connection.scalar(
                sa.select(count).select_from(eventlog_tables.handler_work)
            ),
        }
    wanted = {"usage rows": expected, "tracking rows": expected, "work left": 0}
    return [
        f"{name} {found[name]} != {wanted[name]}" for name in wanted if found[name] != wanted[name]
    ]


# --- the bare baseline -----------------------------------------------------------------------


def bare_rows(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The event rows and usage rows the bus writes for ``items``, built as its stores do."""
    bus = new_bus(sa.create_engine("sqlite://"))  # only for envelope ids; never connects
    events, usage = [], []
    for p in items:
        envelope = bus.envelope(
            EVENT_TYPE, p, idempotency_key=p["usage_id"], correlation_id=p["encounter_token"],
            source_facility=p["facility_id"],
        )  # fmt: skip
        events.append({
            "id": str(envelope.id), "type": envelope.type,
            "schema_version": envelope.schema_version, "occurred_at": envelope.occurred_at,
            "recorded_at": envelope.recorded_at, "source_system": envelope.source_system,
            "source_facility": envelope.source_facility, "trace_id": envelope.trace_id,
            "correlation_id": envelope.correlation_id, "causation_id": None,
            "idempotency_key": envelope.idempotency_key,
            "payload": json.dumps(p, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        })  # fmt: skip
        usage.append({
            "id": p["usage_id"], "facility_id": p["facility_id"], "location_id": p["location_id"],
            "item_id": p["item_id"], "quantity": Decimal(p["quantity"]), "uom": p["uom"],
            "used_at": datetime.fromisoformat(p["used_at"]),
            "encounter_token": p["encounter_token"], "department_id": p["department_id"],
            "lot": p["lot"], "serial": None, "expiry": None, "udi": None,
            "source_system": "bench",
        })  # fmt: skip
    return events, usage


def bare_insert(engine: sa.Engine, items: list[dict[str, Any]], args: argparse.Namespace) -> Figure:
    """The same rows, Core ``executemany``, one transaction per ``--batch`` events."""
    events, usage = bare_rows(items)
    plain = sa.MetaData()
    targets = [eventlog_tables.events, tables.usage_records]
    if args.bare == "plain":
        targets = [
            sa.Table(f"bare_{t.name}", plain, *(sa.Column(c.name, c.type) for c in t.columns))
            for t in targets
        ]
        plain.create_all(engine)
    event_insert, usage_insert = (sa.insert(t) for t in targets)
    began = time.perf_counter()
    with engine.connect() as connection:
        for start in range(0, len(items), args.batch):
            connection.execute(event_insert, events[start : start + args.batch])
            connection.execute(usage_insert, usage[start : start + args.batch])
            connection.commit()
    seconds = time.perf_counter() - began
    if args.bare == "plain":
        plain.drop_all(engine)
    return Figure(len(items), seconds)


# --- runs per database -----------------------------------------------------------------------


def measure(database: str, fresh: Callable[[], Any], args: argparse.Namespace) -> Iterator[Row]:
    """Per transport: publish and drain in a fresh database, then the bare insert in another."""
    items = payloads(args.events)
    for transport in transports_for(database):
        print(f"  {database}/{transport}: publishing {args.events:,} events …", flush=True)
        with fresh() as engine:
            published = publish_all(new_bus(engine), items, args.batch)
            print(f"  {database}/{transport}: draining …", flush=True)
            drained = drain_through(engine, transport, args)
            problems = check(engine, args.events)
        print(f"  {database}: bare insert …", flush=True)
        with fresh() as engine:
            bare = bare_insert(engine, items, args)
        yield Row(database, transport, published, drained, bare, problems)


@contextmanager
def sqlite_database() -> Iterator[sa.Engine]:
    with tempfile.TemporaryDirectory(prefix="suture_bench_") as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'bus.db'}")
        try:
            ensure_schema(engine)
            yield engine
        finally:
            engine.dispose()


def postgres_database(url: str) -> Callable[[], Any]:
    @contextmanager
    def fresh() -> Iterator[sa.Engine]:
        name = f"suture_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(
            make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = create_engine(make_url(url).set(database=name).render_as_string(False))
        try:
            ensure_schema(engine)
            yield engine
        finally:
            engine.dispose()
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    return fresh


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    print()
    print(
        f"{args.events:,} events, publish batch {args.batch}, drain batch {args.drain_batch}, "
        f"bare into {'plain copies' if args.bare == 'plain' else 'the real tables'}"
    )
    header = (f"{'database':<11} {'transport':<9} {'publish/s':>10} {'drain/s':>9} "
              f"{'end-to-end/s':>12} {'bare/s':>9} {'e2e/bare':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        e2e = row.end_to_end
        ratio = e2e.rate / row.bare.rate if row.bare.rate else 0.0
        print(f"{row.database:<11} {row.transport:<9} {row.publish.rate:>10,.0f} "
              f"{row.drain.rate:>9,.0f} {e2e.rate:>12,.0f} {row.bare.rate:>9,.0f} "
              f"{ratio:>7.2f}x")  # fmt: skip
        for problem in row.checks:
            print(f"  CHECK FAILED ({row.database}/{row.transport}): {problem}")
    print()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument(
        "--batch",
        type=int,
        default=500,
        help="events per publishing transaction and per bare transaction",
    )
    parser.add_argument(
        "--drain-batch",
        type=int,
        default=100,
        help="work items per run_once (the dispatcher's default)",
    )
    parser.add_argument(
        "--bare",
        choices=["schema", "plain"],
        default="schema",
        help="bare insert into the real tables (schema) or into keyless copies",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SUTURE_TEST_PG_URL") or os.environ.get("SUTURE_BENCH_PG_URL"),
        help="PostgreSQL server (postgresql+psycopg://user@host/db); throwaway databases are "
        "created beside db; default: $SUTURE_TEST_PG_URL or $SUTURE_BENCH_PG_URL",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    rows: list[Row] = []
    if not args.skip_sqlite:
        print("SQLite …", flush=True)
        rows += measure("sqlite", sqlite_database, args)
    if args.skip_postgres or not args.pg_url:
        print("PostgreSQL skipped: no --pg-url, SUTURE_TEST_PG_URL or SUTURE_BENCH_PG_URL")
    else:
        print("PostgreSQL …", flush=True)
        rows += measure("postgresql", postgres_database(args.pg_url), args)
    print_table(rows, args)
    if any(row.checks for row in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
