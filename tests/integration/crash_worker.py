"""The crash scenario of issue 3: a worker process killed with SIGKILL, restarted, verified.

Run as a script, this module is the worker: a :class:`~suture.services.messagebus.MessageBus`
over ``--database-url`` with the two handlers of one scenario run (``--run``), driven forever by
the embedded :class:`~suture.services.dispatcher.Dispatcher` or, with ``--nats-url``, by the
loops of ``suture worker`` (relay, stream consumer, sweep: ``adapters/nats/worker.py``)::

    python tests/integration/crash_worker.py --database-url sqlite:///x.db --run 0f3a…
    python tests/integration/crash_worker.py --database-url postgresql+psycopg://… --run 0f3a… \
        --nats-url nats://127.0.0.1:4222 --stream CRASH_0F3A…

Imported, it is the harness the crash test and ``benchmarks/chaos_kill.py`` share:
:func:`seed` publishes the scenario's events, :func:`chaos` runs the worker and SIGKILLs it at
random moments while work remains, restarting it each time, and :func:`verify` lists every
violation of exactly-once it finds against totals computed from the generator, not the database.

The effects are chosen so a second application shows up instead of being absorbed by a key:

- ``crash-usage-<run>`` writes a usage record under a fresh random id, its ``lot`` naming the
  event; an event applied twice leaves two records with its lot;
- ``crash-stock-<run>`` adds the quantity to a counter row of the event (a stock position:
  read, add, write) and emits a ``test.crash.counted`` event with a fresh idempotency key
  naming the event; twice would leave the counter at twice the quantity and two such events.

The crash loop (``--poison N``): the usage handler SIGKILLs its own process on event number N,
every time; :func:`crash_loop` restarts the worker after each death until the bus's crash-loop
guard has dead-lettered that event and everything else is done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from suture.adapters.db import eventlog_tables, tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.nats.stream import NatsEventStream, StreamSettings
from suture.adapters.nats.worker import WorkerOptions, run_worker
from suture.domain.inventory import StockPosition, UsageRecord
from suture.eventlog.envelope import Envelope
from suture.eventlog.retry import LoopFailure, RetryPolicy
from suture.services.dispatcher import Dispatcher
from suture.services.handlers import Handler, HandlerContext
from suture.services.messagebus import MessageBus
from suture.services.relay import OutboxRelay
from suture.services.unit_of_work import UnitOfWork

WORKER = Path(__file__).resolve()
USED = "test.crash.used"
COUNTED = "test.crash.counted"
ITEMS = tuple(f"ITEM-{letter}" for letter in "ABCDEFG")
USED_AT = datetime(2025, 3, 1, 8, tzinfo=UTC)


# --- the handlers -----------------------------------------------------------------------------


def record_usage(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """A usage record under a fresh id per execution, its lot naming the event."""
    payload = envelope.payload
    uow.usage.add(UsageRecord(
        id=uuid.uuid4().hex, facility_id=payload["facility_id"],
        location_id=payload["location_id"], item_id=payload["item_id"],
        quantity=Decimal(payload["quantity"]), uom="EA", used_at=envelope.occurred_at,
        lot=str(envelope.id),
    ))  # fmt: skip


def count_stock(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """Add the quantity to the event's own counter row and emit one event per execution.

    The counter is a stock position whose item is the event: read, add, write. One row per
    event, because a shared row (one per item) would lose updates whenever two transactions
    run at once (the NATS worker's consumer and sweep do): ``uow.stock.get`` takes no lock.
    """
    payload = envelope.payload
    location, item = payload["location_id"], counter_of(str(envelope.id))
    position = uow.stock.get(location, item) or StockPosition(
        facility_id=payload["facility_id"], location_id=location, item_id=item,
        on_hand=Decimal(0), consigned_on_hand=Decimal(0), updated_at=context.now,
    )  # fmt: skip
    position.on_hand += Decimal(payload["quantity"])
    position.updated_at = context.now
    uow.stock.save(position)
    context.emit(COUNTED, {"of": str(envelope.id)}, idempotency_key=uuid.uuid4().hex)


def poisoned(number: int) -> Handler:
    """:func:`record_usage`, but the process kills itself (SIGKILL) on event number ``number``:
    a handler that takes its worker down every time, before any failure can be recorded."""

    def record_usage_or_die(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        if envelope.payload["n"] == number:
            os.kill(os.getpid(), signal.SIGKILL)
        record_usage(envelope, uow, context)

    return record_usage_or_die


def counter_of(event_id: str) -> str:
    """The item id of an event's counter row."""
    return f"EVENT-{event_id}"


# --- the scenario -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draw:
    """One generated event: its item and quantity."""

    index: int
    item_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Scenario:
    """One run: its random id keeps it apart on a shared database; ``seed`` fixes the draws."""

    run: str
    events: int
    seed: int

    @classmethod
    def new(cls, events: int, seed: int | None = None) -> Scenario:
        if seed is None:
            seed = random.SystemRandom().randrange(2**32)
        return cls(uuid.uuid4().hex[:12], events, seed)

    @property
    def usage_handler(self) -> str:
        return f"crash-usage-{self.run}"

    @property
    def stock_handler(self) -> str:
        return f"crash-stock-{self.run}"

    @property
    def handlers(self) -> tuple[str, str]:
        return (self.usage_handler, self.stock_handler)

    @property
    def facility_id(self) -> str:
        return f"FAC-CRASH-{self.run}"

    @property
    def location_id(self) -> str:
        return f"LOC-CRASH-{self.run}"

    @property
    def correlation_id(self) -> str:
        return f"CRASH-{self.run}"

    @property
    def work(self) -> int:
        """Work items in total: one per event and handler."""
        return self.events * len(self.handlers)

    def draws(self) -> list[Draw]:
        rng = random.Random(self.seed)
        return [Draw(i, rng.choice(ITEMS), rng.randint(1, 9)) for i in range(self.events)]

    def total(self) -> int:
        """The quantity of every draw, summed from the generator alone."""
        return sum(draw.quantity for draw in self.draws())


def build_bus(
    engine: sa.Engine,
    scenario_run: str,
    *,
    lease: timedelta = timedelta(seconds=2),
    poison: int | None = None,
    max_attempts: int = 8,
) -> MessageBus:
    """The bus of one run: the two handlers, subscribed to the run's events; with ``poison``,
    the usage handler kills its process on that event number (:func:`poisoned`)."""
    usage, stock = f"crash-usage-{scenario_run}", f"crash-stock-{scenario_run}"
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {usage: record_usage if poison is None else poisoned(poison), stock: count_stock},
        {USED: [usage, stock]},
        lease=lease,
        retry=RetryPolicy(max_attempts=max_attempts),
    )


def seed(engine: sa.Engine, scenario: Scenario, *, batch: int = 1000) -> list[str]:
    """Publish the scenario's events, ``batch`` per transaction; their ids in order."""
    bus = build_bus(engine, scenario.run)
    ids: list[str] = []
    draws = scenario.draws()
    for start in range(0, len(draws), batch):
        with bus.uow() as uow:
            for draw in draws[start : start + batch]:
                envelope = bus.envelope(
                    USED, {
                        "n": draw.index, "facility_id": scenario.facility_id,
                        "location_id": scenario.location_id, "item_id": draw.item_id,
                        "quantity": str(draw.quantity),
                    },
                    idempotency_key=f"{scenario.run}-{draw.index}",
                    correlation_id=scenario.correlation_id, occurred_at=USED_AT,
                )  # fmt: skip
                bus.publish(uow, envelope)
                ids.append(str(envelope.id))
            uow.commit()
    return ids


# --- progress and verification ----------------------------------------------------------------


def done(connection: sa.Connection, scenario: Scenario) -> int:
    """Tracking rows of the run: work items processed so far."""
    tracking = eventlog_tables.tracking
    query = sa.select(sa.func.count()).where(tracking.c.handler.in_(scenario.handlers))
    return int(connection.execute(query).scalar_one())


def verify(engine: sa.Engine, scenario: Scenario, event_ids: Sequence[str]) -> list[str]:
    """Every violation of "each effect exactly once, nothing left over"; empty when none."""
    expected = set(event_ids)
    problems: list[str] = []
    with engine.connect() as connection:
        lots = _count_by(connection, tables.usage_records.c.lot,
                         tables.usage_records.c.facility_id == scenario.facility_id)  # fmt: skip
        problems += _exactly_once("usage records", lots, expected)
        counted = Counter(
            json.loads(payload)["of"] for payload in connection.execute(
                sa.select(eventlog_tables.events.c.payload).where(
                    (eventlog_tables.events.c.correlation_id == scenario.correlation_id)
                    & (eventlog_tables.events.c.type == COUNTED)
                )
            ).scalars()
        )  # fmt: skip
        problems += _exactly_once(f"{COUNTED} events", counted, expected)
        problems += _totals(connection, scenario, event_ids)
        problems += _bookkeeping(connection, scenario, expected)
    return problems


def _count_by(
    connection: sa.Connection, column: sa.ColumnElement[str | None], where: sa.ColumnElement[bool]
) -> Counter[str]:
    rows = connection.execute(sa.select(column, sa.func.count()).where(where).group_by(column))
    return Counter({str(key): int(count) for key, count in rows})


def _exactly_once(what: str, counts: Counter[str], expected: set[str]) -> list[str]:
    missing = expected - counts.keys()
    twice = {key: n for key, n in counts.items() if n > 1}
    stray = counts.keys() - expected
    problems = []
    if missing:
        problems.append(f"{what}: {len(missing)} events without effect, e.g. {min(missing)}")
    if twice:
        key = min(twice)
        problems.append(
            f"{what}: {len(twice)} events applied twice or more, e.g. {key} x{twice[key]}"
        )
    if stray:
        problems.append(f"{what}: {len(stray)} effects of unknown events")
    return problems


def _totals(connection: sa.Connection, scenario: Scenario, event_ids: Sequence[str]) -> list[str]:
    draws = scenario.draws()
    generated = Decimal(scenario.total())
    usage, stock = tables.usage_records, tables.stock_positions
    used = Decimal(connection.execute(
        sa.select(sa.func.coalesce(sa.func.sum(usage.c.quantity), 0))
        .where(usage.c.facility_id == scenario.facility_id)
    ).scalar_one())  # fmt: skip
    counted = {
        item: Decimal(value) for item, value in connection.execute(
            sa.select(stock.c.item_id, stock.c.on_hand)
            .where(stock.c.location_id == scenario.location_id)
        )
    }  # fmt: skip
    expected = {
        counter_of(event): Decimal(d.quantity) for event, d in zip(event_ids, draws, strict=True)
    }
    wrong = sorted(item for item in expected.keys() | counted.keys()
                   if counted.get(item) != expected.get(item))  # fmt: skip
    problems = []
    if used != generated:
        problems.append(f"usage total {used.normalize():f} != generated {generated}")
    if wrong:
        first = wrong[0]
        found, generated_one = counted.get(first), expected.get(first)
        problems.append(f"{len(wrong)} counters off, e.g. {first}: {found} != {generated_one}")
    counter_total = sum(counted.values(), Decimal(0))
    if counter_total != generated:
        problems.append(f"counter total {counter_total.normalize():f} != generated {generated}")
    return problems


def _bookkeeping(connection: sa.Connection, scenario: Scenario, expected: set[str]) -> list[str]:
    problems = []
    work, tracking = eventlog_tables.handler_work, eventlog_tables.tracking
    left = connection.execute(
        sa.select(work.c.status, sa.func.count())
        .where(work.c.handler.in_(scenario.handlers))
        .group_by(work.c.status)
    ).all()
    if left:
        problems.append(f"work items left: {dict(left)}")  # pending, parked or dead
    for handler in scenario.handlers:
        tracked = _count_by(connection, tracking.c.event_id, tracking.c.handler == handler)
        if set(tracked) != expected:
            problems.append(f"{handler}: {len(tracked)} tracking rows for {len(expected)} events")
    attempts = eventlog_tables.handler_attempts
    killed = (attempts.c.error_kind == "worker_died") & (attempts.c.outcome == "retry")
    failed = connection.execute(  # a killed worker's batch is logged, and expected here
        sa.select(attempts.c.outcome, attempts.c.error)
        .where(attempts.c.handler.in_(scenario.handlers), ~killed)
        .order_by(attempts.c.id)
        .limit(3)
    ).all()
    if failed:
        problems.append(f"failed attempts recorded, e.g. {[tuple(row) for row in failed]}")
    return problems


# --- killing the worker -----------------------------------------------------------------------


class ChaosError(Exception):
    """The scenario could not be run as specified (the worker died, stalled or ran out)."""


@dataclass(frozen=True, slots=True)
class Kill:
    """One SIGKILL: the work done when it landed, of ``total``."""

    number: int
    done: int
    total: int


@dataclass(slots=True)
class Chaos:
    """What :func:`chaos` did."""

    kills: list[Kill] = field(default_factory=list)
    starts: int = 0
    seconds: float = 0.0


def chaos(
    engine: sa.Engine,
    scenario: Scenario,
    *,
    kills: int = 5,
    log: Path,
    worker_args: Sequence[str] = (),
    stall_timeout: float = 60.0,
) -> Chaos:
    """Start the worker, SIGKILL it ``kills`` times while work remains, then let it finish.

    The k-th kill lands at a random point of the k-th of ``kills`` equal slices of 5-85 % of
    the work, plus a random delay of up to 50 ms, so each restarted worker has made progress
    before it dies and every kill leaves work behind (checked just before the signal).
    """
    rng = random.Random(scenario.seed)
    total = scenario.work
    low, high = 0.05 * total, 0.85 * total
    width = (high - low) / kills
    targets = [low + width * (k + rng.random()) for k in range(kills)]
    result = Chaos()
    began = time.perf_counter()
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, str(WORKER), "--database-url", url, "--run", scenario.run,
               *worker_args]  # fmt: skip
    reader = create_engine(url, sqlite_begin="DEFERRED")  # reads beside the writer
    try:
        with log.open("ab") as output, reader.connect() as connection:
            driver = _Driver(command, output, log, _progress(connection, scenario), stall_timeout)
            for number, target in enumerate(targets, start=1):
                with driver.worker() as worker:
                    result.starts += 1
                    driver.wait(worker, target)
                    time.sleep(rng.uniform(0, 0.05))
                    at = driver.progress()
                    if at >= total:
                        raise ChaosError(f"kill {number}: no work left ({at}/{total}); seed "
                                         "the scenario with more events")  # fmt: skip
                    os.kill(worker.pid, signal.SIGKILL)
                result.kills.append(Kill(number, at, total))
            with driver.worker() as worker:
                result.starts += 1
                driver.wait(worker, total)
    finally:
        reader.dispose()
    result.seconds = time.perf_counter() - began
    return result


def crash_loop(
    engine: sa.Engine,
    scenario: Scenario,
    *,
    log: Path,
    worker_args: Sequence[str],
    max_starts: int = 20,
    stall_timeout: float = 60.0,
) -> int:
    """Start the worker (given ``--poison``) again each time it dies, until every work item is
    done or dead (the poisoned one); how many times it was started."""
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, str(WORKER), "--database-url", url, "--run", scenario.run,
               *worker_args]  # fmt: skip
    reader = create_engine(url, sqlite_begin="DEFERRED")
    try:
        with log.open("ab") as output, reader.connect() as connection:

            def settled() -> int:
                with connection.begin():
                    return done(connection, scenario) + dead(connection, scenario)

            driver = _Driver(command, output, log, settled, stall_timeout)
            for start in range(1, max_starts + 1):
                with driver.worker() as worker:
                    if driver.wait_or_exit(worker, scenario.work):
                        return start
    finally:
        reader.dispose()
    raise ChaosError(f"not settled after {max_starts} starts:\n{_tail(log)}")


def dead(connection: sa.Connection, scenario: Scenario) -> int:
    """Dead-lettered work items of the run."""
    work = eventlog_tables.handler_work
    query = sa.select(sa.func.count()).where(
        work.c.handler.in_(scenario.handlers), work.c.status == "dead"
    )
    return int(connection.execute(query).scalar_one())


def _progress(connection: sa.Connection, scenario: Scenario) -> Callable[[], int]:
    def read() -> int:
        with connection.begin():  # a fresh snapshot each time
            return done(connection, scenario)

    return read


@dataclass(frozen=True, slots=True)
class _Driver:
    """Starts worker processes and watches the run's progress in the database."""

    command: Sequence[str]
    output: IO[bytes]
    log: Path
    progress: Callable[[], int]
    stall_timeout: float
    poll: float = 0.02

    @contextmanager
    def worker(self) -> Iterator[subprocess.Popen[bytes]]:
        """A worker process, killed (if still running) and reaped when the block ends."""
        process = subprocess.Popen(self.command, stdout=self.output, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()

    def wait(self, worker: subprocess.Popen[bytes], target: float) -> None:
        """Until ``target`` work items are done; fails if the worker exits or stalls."""
        last, moved = -1, time.monotonic()
        while (current := self.progress()) < target:
            if worker.poll() is not None:
                raise ChaosError(f"worker exited with {worker.returncode}:\n{_tail(self.log)}")
            if current != last:
                last, moved = current, time.monotonic()
            elif time.monotonic() - moved > self.stall_timeout:
                raise ChaosError(
                    f"no progress for {self.stall_timeout} s at {current}:\n{_tail(self.log)}"
                )
            time.sleep(self.poll)

    def wait_or_exit(self, worker: subprocess.Popen[bytes], target: float) -> bool:
        """Until ``target`` items are settled (True) or the worker dies (False)."""
        last, moved = -1, time.monotonic()
        while (current := self.progress()) < target:
            if worker.poll() is not None:
                return False
            if current != last:
                last, moved = current, time.monotonic()
            elif time.monotonic() - moved > self.stall_timeout:
                raise ChaosError(
                    f"no progress for {self.stall_timeout} s at {current}:\n{_tail(self.log)}"
                )
            time.sleep(self.poll)
        return True


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- the worker process -----------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--run", required=True, help="the scenario run id (handler names)")
    parser.add_argument("--batch", type=int, default=50, help="work items claimed per round")
    parser.add_argument("--lease", type=float, default=2.0, help="claim lease, seconds")
    parser.add_argument("--nats-url", help="run the NATS worker loops instead of the dispatcher")
    parser.add_argument("--stream", help="the JetStream stream of the run (with --nats-url)")
    parser.add_argument("--ack-wait", type=float, default=5.0, help="NATS redelivery, seconds")
    parser.add_argument("--stale-after", type=float, default=5.0, help="sweep, seconds")
    parser.add_argument("--poison", type=int, help="event number whose usage handler kills us")
    parser.add_argument("--max-attempts", type=int, default=8, help="the bus's retry budget")
    args = parser.parse_args(argv)
    engine = create_engine(args.database_url)
    bus = build_bus(
        engine, args.run, lease=timedelta(seconds=args.lease), poison=args.poison,
        max_attempts=args.max_attempts,
    )  # fmt: skip
    print(f"worker {os.getpid()} started", flush=True)
    if args.nats_url:
        asyncio.run(_run_nats(bus, engine, args))
    else:
        dispatcher = Dispatcher(bus, poll_interval=0.05, batch=args.batch, on_error=_report)
        dispatcher.run(threading.Event())
    return 0


def _report(failure: LoopFailure) -> None:
    print(f"error, carrying on: {failure.error}", file=sys.stderr, flush=True)


def stream_settings(nats_url: str, stream: str, *, ack_wait: float = 5.0) -> StreamSettings:
    """The run's own stream, on subjects no other stream of the server has."""
    return StreamSettings(
        url=nats_url, stream=stream, subject_prefix=f"crash.{stream.lower()}",
        consumer="crash-workers", ack_wait=timedelta(seconds=ack_wait),
    )  # fmt: skip


async def _run_nats(bus: MessageBus, engine: sa.Engine, args: argparse.Namespace) -> None:
    settings = stream_settings(args.nats_url, args.stream, ack_wait=args.ack_wait)
    stream = await NatsEventStream.connect(settings)
    options = WorkerOptions(
        batch=args.batch, lease=timedelta(seconds=args.lease), sweep_interval=0.5,
        stale_after=timedelta(seconds=args.stale_after),
    )  # fmt: skip
    relay = OutboxRelay(lambda: SqlAlchemyUnitOfWork(engine))
    try:
        await run_worker(bus, stream, asyncio.Event(), relay=relay, options=options,
                         on_error=_report)  # fmt: skip
    finally:
        await stream.close()


def delete_stream(nats_url: str, stream: str) -> None:
    """Delete the run's stream (cleanup after a NATS run)."""

    async def delete() -> None:
        connection = await NatsEventStream.connect(stream_settings(nats_url, stream))
        try:
            await connection.delete()
        finally:
            await connection.close()

    asyncio.run(delete())


if __name__ == "__main__":
    sys.exit(main())
