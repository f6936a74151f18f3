"""Events per second through the message bus, end to end, beside a bare batched insert.

DESIGN.md §10: the usage pipeline, exactly-once, should reach at least 0.3 of a bare batched
insert of the same rows. Per database (SQLite, then PostgreSQL in a throwaway database
``suture_bench_<hex>`` created and dropped here), this script:

1. **publishes** ``--events`` ``supply.usage.recorded`` v2 events through
   ``MessageBus.publish_many`` (payloads validated against the registry, one work item each),
   ``--batch`` events per call, unit of work and commit, as an ingest path publishes; the
   ``publish1`` column is the same through ``MessageBus.publish``, one event at a time
   (``--single`` events in a database of their own), so the batched figure misleads nobody;
2. **drains** them with ``MessageBus.run_once(--drain-batch)`` until no work is left; the
   handler reads the payload and writes one effect row, ``uow.usage.add(UsageRecord(...))``,
   which commits with the tracking row (exactly once, DESIGN.md §3 guarantee 2). By default the
   handler has a batch form too (``uow.usage.add_many``, one statement per batch), as a
   production handler may; ``--handler single`` measures the one-event form alone;
3. on PostgreSQL with ``--nats-url``, does it again through **NATS JetStream** with one and two
   worker processes (``nats-1``, ``nats-2``): this script run as ``--worker``, the production
   loop ``adapters.nats.worker.run_worker`` (relay, consumer, sweep) with the same bus, on a
   stream of this run alone; the workers start first, the events are published beside them,
   and the clock stops when every event has its tracking row;
4. checks the outcome: one usage row and one tracking row per event, no work left;
5. measures the **bare baseline in the same run**, before and after each transport (the two
   together make the figure): the rows the bus leaves behind, inserted
   with SQLAlchemy Core ``executemany``, ``--batch`` events' rows per transaction, no bus: per
   event its ``events`` row, its ``usage_records`` row (the handler's effect) and its
   ``tracking`` row (the exactly-once record, DESIGN.md §3 guarantee 2). Not the ``handler_work``
   item, which the bus writes and deletes again, nor a NATS publication row: those are the
   bus's own means, and their cost is what the ratio measures. By default into the real tables
   of a fresh database (same keys and indexes: the unique idempotency key is part of what
   storing an event means); ``--bare plain`` uses column-only copies without keys or indexes,
   as ``seed_large.py`` does. Only the inserts and commits are timed; the rows are built
   beforehand.

Every process of the run (this one, and each NATS worker once connected) first sets the
garbage collector as ``suture serve`` and ``suture worker`` do once started
(``suture.entrypoints.collector.settle_collector``), so the bus and the bare insert alike run as
in production; ``--collector default`` keeps Python's own settings, for comparison.

Columns: per-event publish rate, batched publish rate (events/s over the publishing time), drain
rate (events/s over the draining time), end to end (events over both; for NATS, over the time
from the first publication to the last tracking row), the bare rate (events, each with its usage
and tracking rows, per second) and end to end over bare. The defaults (20,000 events) take a
few minutes on 2 cores with PostgreSQL and NATS.

    .venv/bin/python benchmarks/bus_throughput.py \
        --pg-url postgresql+psycopg://postgres@127.0.0.1/x --nats-url nats://127.0.0.1:4222
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
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
from suture.adapters.nats.stream import NatsEventStream, StreamSettings
from suture.adapters.nats.worker import WorkerOptions, run_worker
from suture.domain.inventory import UsageRecord
from suture.entrypoints.collector import settle_collector
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import build_registry
from suture.services.handlers import HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.unit_of_work import UnitOfWork

EVENT_TYPE = "supply.usage.recorded"
HANDLER = "record_usage"
AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def usage_of(envelope: Envelope) -> UsageRecord:
    p = envelope.payload
    return UsageRecord(
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


def record_usage(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """The effect: one usage row per event, written through the unit of work."""
    uow.usage.add(usage_of(envelope))


def record_usages(batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork) -> None:
    """The batch form of :func:`record_usage`: the same rows, one ``add_many``."""
    uow.usage.add_many(usage_of(envelope) for envelope, _ in batch)


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


def new_bus(engine: sa.Engine, *, batched: bool = True) -> MessageBus:
    """The bus of the benchmark: one handler, in batch form too unless ``batched`` is False."""
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {HANDLER: record_usage},
        {EVENT_TYPE: [HANDLER]},
        batch_handlers={HANDLER: record_usages} if batched else None,
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
    single: Figure | None = None
    overlapped: bool = False
    checks: list[str] = field(default_factory=list)

    @property
    def end_to_end(self) -> Figure:
        """Publish, then drain; or, publishing beside the workers, the processing time alone."""
        if self.overlapped:
            return self.drain
        return Figure(self.publish.events, self.publish.seconds + self.drain.seconds)


# --- the bus ---------------------------------------------------------------------------------


def envelopes_of(bus: MessageBus, items: list[dict[str, Any]]) -> list[Envelope]:
    return [
        bus.envelope(
            EVENT_TYPE,
            payload,
            idempotency_key=payload["usage_id"],
            correlation_id=payload["encounter_token"],
            source_facility=payload["facility_id"],
        )
        for payload in items
    ]


def publish_all(bus: MessageBus, items: list[dict[str, Any]], batch: int) -> Figure:
    """Every payload published through ``bus.publish_many``, ``batch`` per unit of work.

    The envelopes are built inside the timed loop: building them is part of publishing.
    """
    began = time.perf_counter()
    for start in range(0, len(items), batch):
        with bus.uow() as uow:
            bus.publish_many(uow, envelopes_of(bus, items[start : start + batch]))
            uow.commit()
    return Figure(len(items), time.perf_counter() - began)


def publish_one_by_one(bus: MessageBus, items: list[dict[str, Any]], batch: int) -> Figure:
    """The same through ``bus.publish``, one event at a time (``batch`` per unit of work)."""
    began = time.perf_counter()
    for start in range(0, len(items), batch):
        with bus.uow() as uow:
            for envelope in envelopes_of(bus, items[start : start + batch]):
                bus.publish(uow, envelope)
            uow.commit()
    return Figure(len(items), time.perf_counter() - began)


def drain_through(engine: sa.Engine, transport: str, args: argparse.Namespace) -> Figure:
    """Process every pending event through the embedded dispatcher; events handled and time.

    ``MessageBus.run_once(--drain-batch)`` until it finds no work. The NATS transports run
    beside the publisher instead (:func:`through_nats`).
    """
    if transport != "embedded":
        raise SystemExit(f"transport {transport!r} is not the embedded dispatcher")
    bus = new_bus(engine, batched=args.handler == "batched")
    handled = 0
    began = time.perf_counter()
    while taken := bus.run_once(args.drain_batch):
        handled += taken
    return Figure(handled, time.perf_counter() - began)


def transports_for(database: str, args: argparse.Namespace) -> list[str]:
    """The transports measured on a database: NATS on PostgreSQL only, with one and two workers."""
    if database == "postgresql" and args.nats_url:
        return ["embedded", "nats-1", "nats-2"]
    return ["embedded"]


# --- NATS JetStream: ``suture worker`` loops in subprocesses ---------------------------------


def stream_settings(nats_url: str, tag: str) -> StreamSettings:
    """A stream, subjects and consumer of this run alone (streams may not share subjects)."""
    return StreamSettings(
        url=nats_url, stream=f"BENCH_{tag}", subject_prefix=f"bench_{tag}.events",
        consumer="workers",
    )  # fmt: skip


async def _with_stream(settings: StreamSettings, *, delete: bool) -> None:
    stream = await NatsEventStream.connect(settings)
    try:
        if delete:
            await stream.delete()
    finally:
        await stream.close()


def work_left(engine: sa.Engine) -> bool:
    """Whether any work item is left: once every event is published (its work committed with
    it), none left means every event has its tracking row (deleted with its insertion).

    An index probe, where counting the tracking rows every 20 ms scanned a growing table beside
    the workers being measured; :func:`check` counts them once at the end.
    """
    with engine.connect() as connection:
        return bool(
            connection.scalar(sa.select(sa.exists().select_from(eventlog_tables.handler_work)))
        )


def through_nats(
    engine: sa.Engine, workers: int, items: list[dict[str, Any]], args: argparse.Namespace
) -> tuple[Figure, Figure]:
    """Publish while ``workers`` worker processes relay and process; (publish, processing).

    Each worker is the production loop (``adapters.nats.worker.run_worker``: relay, consumer,
    sweep) with this script's bus, started and connected before the clock starts. Processing
    is timed from the first publication until every event has its tracking row (no work item
    left, the publisher having committed every event with its work).
    """
    tag = uuid.uuid4().hex[:10]
    settings = stream_settings(args.nats_url, tag)
    asyncio.run(_with_stream(settings, delete=False))
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, __file__, "--worker", url, args.nats_url, tag,
               str(args.drain_batch), args.handler, args.collector]  # fmt: skip
    processes = [  # this script with arguments of this run, no shell
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise SystemExit("a NATS worker did not start")
        began = time.perf_counter()
        published = publish_all(new_bus(engine), items, args.batch)
        deadline = time.monotonic() + args.nats_timeout
        while work_left(engine) and time.monotonic() < deadline:
            time.sleep(0.02)
        processing = Figure(len(items), time.perf_counter() - began)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            out, _ = process.communicate(timeout=60)
            print(f"    worker {process.pid}: {out.strip()}", flush=True)
        asyncio.run(_with_stream(settings, delete=True))
    return published, processing


async def _worker(  # noqa: PLR0917  (the worker process's command line, in order)
    database_url: str, nats_url: str, tag: str, batch: int, handler: str, collector: str
) -> None:
    engine = create_engine(database_url)
    bus = new_bus(engine, batched=handler == "batched")
    stream = await NatsEventStream.connect(stream_settings(nats_url, tag))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # Every item is to come through the stream: the sweep's staleness must not compete.
    options = WorkerOptions(batch=batch, stale_after=timedelta(minutes=10))
    if collector == "settled":  # as `suture worker` does once started
        settle_collector()
    print("ready", flush=True)
    try:
        stats = await run_worker(bus, stream, stop, relay=OutboxRelay(bus.uow), options=options)
    finally:
        await stream.close()
        engine.dispose()
    print(json.dumps(asdict(stats)), flush=True)


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


Rows = list[dict[str, Any]]


def bare_rows(items: list[dict[str, Any]]) -> tuple[Rows, Rows, Rows]:
    """The event, usage and tracking rows the bus leaves for ``items``, built as its stores do."""
    bus = new_bus(sa.create_engine("sqlite://"))  # only for envelope ids; never connects
    processed_at = datetime.now(UTC)
    events, usage, tracking = [], [], []
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
        tracking.append({"handler": HANDLER, "event_id": str(envelope.id),
                         "processed_at": processed_at})  # fmt: skip
    return events, usage, tracking


def bare_insert(engine: sa.Engine, items: list[dict[str, Any]], args: argparse.Namespace) -> Figure:
    """The same rows, Core ``executemany``, one transaction per ``--batch`` events."""
    rows = bare_rows(items)
    plain = sa.MetaData()
    targets = [eventlog_tables.events, tables.usage_records, eventlog_tables.tracking]
    if args.bare == "plain":
        targets = [
            sa.Table(f"bare_{t.name}", plain, *(sa.Column(c.name, c.type) for c in t.columns))
            for t in targets
        ]
        plain.create_all(engine)
    inserts = [sa.insert(t) for t in targets]
    began = time.perf_counter()
    with engine.connect() as connection:
        for start in range(0, len(items), args.batch):
            for insert, table_rows in zip(inserts, rows, strict=True):
                connection.execute(insert, table_rows[start : start + args.batch])
            connection.commit()
    seconds = time.perf_counter() - began
    if args.bare == "plain":
        plain.drop_all(engine)
    return Figure(len(items), seconds)


# --- runs per database -----------------------------------------------------------------------


def measure(database: str, fresh: Callable[[], Any], args: argparse.Namespace) -> Iterator[Row]:
    """Per transport: the bare insert, publish and process in a fresh database, the bare insert
    again; each bare insert in a database of its own.

    The bare figure is the two inserts together (their events over their seconds): measured
    on both sides of the bus, so that a load that rises or falls during the run (the machine
    is shared) weighs on the baseline as on the bus. Before the first transport, ``--single``
    events are published one ``publish`` at a time into a database of their own, for the
    per-event publish figure.
    """
    items = payloads(args.events)
    single: Figure | None = None
    if args.single:
        with fresh() as engine:
            single = publish_one_by_one(new_bus(engine), payloads(args.single), args.batch)
    for transport in transports_for(database, args):
        print(f"  {database}: bare insert …", flush=True)
        with fresh() as engine:
            bare_before = bare_insert(engine, items, args)
        print(f"  {database}/{transport}: publishing {args.events:,} events …", flush=True)
        with fresh() as engine:
            if transport == "embedded":
                published = publish_all(new_bus(engine), items, args.batch)
                print(f"  {database}/{transport}: draining …", flush=True)
                drained = drain_through(engine, transport, args)
                overlapped = False
            else:
                workers = int(transport.removeprefix("nats-"))
                published, drained = through_nats(engine, workers, items, args)
                overlapped = True
            problems = check(engine, args.events)
        print(f"  {database}: bare insert again …", flush=True)
        with fresh() as engine:
            bare_after = bare_insert(engine, items, args)
        bare = Figure(
            bare_before.events + bare_after.events, bare_before.seconds + bare_after.seconds
        )
        yield Row(database, transport, published, drained, bare, single, overlapped, problems)


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
        f"bare: event, usage and tracking rows into "
        f"{'plain copies' if args.bare == 'plain' else 'the real tables'}, "
        f"handler {args.handler}, collector {args.collector}"
    )
    header = (f"{'database':<11} {'transport':<9} {'publish1/s':>10} {'publish/s':>10} "
              f"{'drain/s':>9} {'end-to-end/s':>12} {'bare/s':>9} {'e2e/bare':>8}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        e2e = row.end_to_end
        ratio = e2e.rate / row.bare.rate if row.bare.rate else 0.0
        single = f"{row.single.rate:>10,.0f}" if row.single else f"{'-':>10}"
        drain = f"{'(beside)':>9}" if row.overlapped else f"{row.drain.rate:>9,.0f}"
        print(f"{row.database:<11} {row.transport:<9} {single} {row.publish.rate:>10,.0f} "
              f"{drain} {e2e.rate:>12,.0f} {row.bare.rate:>9,.0f} {ratio:>7.2f}x")  # fmt: skip
        for problem in row.checks:
            print(f"  CHECK FAILED ({row.database}/{row.transport}): {problem}")
    print(
        "publish1: one publish() per event (--single events); publish: publish_many per batch. "
        "nats-N: N worker processes relay and process while the events are published; "
        "end to end is from the first publication to the last tracking row."
    )
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
        default=500,
        help="work items per run_once (the dispatcher's default)",
    )
    parser.add_argument(
        "--handler",
        choices=["batched", "single"],
        default="batched",
        help="the handler with its batch form (one add_many per batch) or in one-event form only",
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
    parser.add_argument(
        "--single",
        type=int,
        default=2_000,
        help="events published one publish() at a time for the per-event figure (0: none)",
    )
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("SUTURE_TEST_NATS_URL") or os.environ.get("SUTURE_BENCH_NATS_URL"),
        help="NATS JetStream server for the nats-1 and nats-2 rows (PostgreSQL only); default: "
        "$SUTURE_TEST_NATS_URL or $SUTURE_BENCH_NATS_URL",
    )
    parser.add_argument(
        "--nats-timeout", type=float, default=600.0, help="seconds to wait for the workers"
    )
    parser.add_argument(
        "--collector",
        choices=["settled", "default"],
        default="settled",
        help="settled (default): this process and the workers set the collector as `suture "
        "serve` and `suture worker` do once started (suture.entrypoints.collector); default: "
        "Python's own settings",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.collector == "settled":  # as `suture serve` does before its embedded dispatcher
        settle_collector()
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
    if sys.argv[1:2] == ["--worker"]:  # a NATS worker process of :func:`through_nats`
        database_url, nats_url, tag, batch, handler, collector = sys.argv[2:8]
        asyncio.run(_worker(database_url, nats_url, tag, int(batch), handler, collector))
    else:
        main()
