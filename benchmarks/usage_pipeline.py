"""Usage events per second through the whole usage workflow, exactly once, beside a bare insert.

DESIGN.md §10: "usage pipeline end to end (usage → stock → replenishment → cost → expected
charge), exactly-once: ≥ 3,000 events/s on SQLite; ≥ 0.3 of a bare batched insert of the same
rows". Per database, in the same run:

1. **pipeline**: ``--events`` ``supply.usage.recorded`` events are published in batches of 1,000
   (the outbox, as an ingest publishes them), then the embedded dispatcher's loop
   (``MessageBus.run_once``) runs both workflow steps until no work is due. The clock runs from
   the first publish to the last commit. The run is then verified: every usage costed once,
   one journal and one ERP delivery per usage, stock moved by exactly the quantities generated.
2. **bare**: every row the pipeline left is found by primary key against a snapshot taken
   before the first publish (usage records, workflow states, journals and their lines, ERP
   deliveries and their target, expected charges, requisitions and POs, the off-contract
   exception and its action; the bus's transient work items are not rows it leaves, and the
   stock positions it only updates are not counted), read back, and inserted again into a
   fresh database with one ``executemany`` per table per 1,000 usages and a commit per batch:
   the same rows, with no lookups and no bus. The rows the target gained are counted per table
   and must be exactly those. Measured twice: the business rows alone (the stricter baseline,
   and the ratio the target is checked against), and with the event-log rows the pipeline left
   too (its events and tracking rows: every row the run leaves that a consumer reads, the
   definition ``bus_throughput.py`` uses for its bare insert).

Both run under the collector settings ``suture serve`` and ``suture worker`` set once started
(``suture.entrypoints.collector.settle_collector``), on SQLite with WAL checkpoints in a
background thread as ``suture serve`` opens its database (``sqlite_background_checkpoints``;
the thread's CPU is the process's, so it is counted), and each figure is given per second of
wall time and per CPU second of this process, with the pipeline's ratio to each baseline by
both. On the shared 2-core machine wall time is mostly waiting for a core, so the CPU figures
are the ones that compare across runs (on PostgreSQL they leave out the server's own work).

The mix: 80 % gloves (owned stock, contract price), 10 % consigned knee implants (bill-only and
restock POs, chargeable), 10 % sutures off contract (costed at the last price paid, flagged).
Stock is deep, so replenishment is checked on every usage but seldom raised.

    python benchmarks/usage_pipeline.py [--events 20000] [--database sqlite|postgres|both]

PostgreSQL comes from ``SUTURE_BENCH_PG_URL`` or ``SUTURE_TEST_PG_URL``, in a scratch schema.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from suture.adapters.db import delivery_tables, eventlog_tables, tables, usage_tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema, scratch_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.inventory import StockPosition
from suture.domain.usage_workflow import UsageStep
from suture.entrypoints.collector import settle_collector
from suture.eventlog.events import SupplyUsageRecorded
from suture.services.unit_of_work import UnitOfWork

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
from usage_world import USED_AT, World, build_bus, new_world, seed  # the tests' hospital

PUBLISH_BATCH = 1000
DEEP = 10**9


def draws(world: World, events: int, seed_value: int) -> list[tuple[str, int]]:
    rng = random.Random(seed_value)
    items = [world.supply] * 8 + [world.implant, world.offcontract]
    return [(rng.choice(items), rng.randint(1, 3)) for _ in range(events)]


def deepen(uow: UnitOfWork, world: World) -> None:
    """Stock deep enough that no usage runs out (a stockout is a rule, not the common path)."""
    for item_id in (world.supply, world.implant, world.offcontract):
        position = uow.stock.get(world.location_id, item_id)
        if position is None:
            position = StockPosition(
                facility_id=world.facility_id, location_id=world.location_id, item_id=item_id,
                on_hand=Decimal(0), consigned_on_hand=Decimal(0), updated_at=USED_AT,
            )  # fmt: skip
        position.on_hand = Decimal(DEEP)
        position.consigned_on_hand = Decimal(DEEP)
        uow.stock.save(position)
    uow.commit()


@dataclass(frozen=True, slots=True)
class Timed:
    """Wall seconds, and CPU seconds of this process (the figure that load does not move: on
    the shared machine, wall time is mostly waiting for a core)."""

    wall: float
    cpu: float


def pipeline(
    engine: sa.Engine, events: int, batch: int
) -> tuple[Timed, list[str], tuple[Left, Left]]:
    """Run ``events`` usages through the workflow: the time taken, any problem found (none
    expected), and the rows the run left (business, event log)."""
    uow: Callable[[], UnitOfWork] = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world)
    with uow() as unit:
        deepen(unit, world)
    bus = build_bus(uow)
    plan = draws(world, events, 7)
    before = keys_of(engine)
    settle_collector()
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, events, PUBLISH_BATCH):
        envelopes = []
        for n in range(start, min(start + PUBLISH_BATCH, events)):
            item_id, quantity = plan[n]
            usage_id = world.id(f"U{n}")
            payload = SupplyUsageRecorded(
                usage_id=usage_id, facility_id=world.facility_id,
                location_id=world.location_id, item_id=item_id, quantity=Decimal(quantity),
                uom="EA", used_at=USED_AT, encounter_token=world.id(f"ENC{n % 97}"),
            ).model_dump(mode="json")  # fmt: skip
            envelopes.append(bus.envelope(
                "supply.usage.recorded", payload, idempotency_key=f"usage:bench:{usage_id}",
                correlation_id=usage_id, source_system="epic",
                source_facility=world.facility_id,
            ))  # fmt: skip
        with bus.uow() as unit:
            bus.publish_many(unit, envelopes)
            unit.commit()
    while bus.run_once(batch):
        pass
    timed = Timed(time.perf_counter() - started, time.process_time() - cpu)
    return timed, verify(engine, world, plan), rows_left(engine, before)


def verify(engine: sa.Engine, world: World, plan: list[tuple[str, int]]) -> list[str]:
    """Exactly once, against the generator: every problem found (none expected)."""
    problems = []
    run = f"%-{world.run}"
    with engine.connect() as connection:
        flows = usage_tables.usage_workflows
        costed = connection.execute(
            sa.select(sa.func.count()).where(
                flows.c.usage_id.like(run) & (flows.c.step == UsageStep.COSTED.value)
            )
        ).scalar_one()
        journals = connection.execute(
            sa.select(sa.func.count()).where(tables.journal_entries.c.id.like(run))
        ).scalar_one()
        deliveries = connection.execute(
            sa.select(sa.func.count()).where(
                delivery_tables.deliveries.c.idempotency_key.like(f"journal-JE-{run}")
            )
        ).scalar_one()
        stock = dict(connection.execute(
            sa.select(tables.stock_positions.c.item_id,
                      tables.stock_positions.c.on_hand + tables.stock_positions.c.consigned_on_hand)
            .where(tables.stock_positions.c.location_id == world.location_id)
        ).all())  # fmt: skip
    if costed != len(plan):
        problems.append(f"{costed} usages costed of {len(plan)}")
    if journals != len(plan) or deliveries != len(plan):
        problems.append(f"{journals} journals and {deliveries} deliveries for {len(plan)}")
    for item_id in (world.supply, world.implant, world.offcontract):
        used = sum(q for i, q in plan if i == item_id)
        if Decimal(stock[item_id]) != 2 * DEEP - used:
            problems.append(f"{item_id}: stock {stock[item_id]} != {2 * DEEP - used}")
    return problems


#: Tables whose rows the bus deletes once done (work items): not rows the run leaves.
TRANSIENT = frozenset({eventlog_tables.handler_work.name})
#: The event log's tables: the second baseline adds their rows to the business rows.
LOG = frozenset({eventlog_tables.events.name, eventlog_tables.tracking.name})

Keys = dict[str, set[tuple[Any, ...]]]
Left = list[tuple[sa.Table, list[dict[str, Any]]]]


def keys_of(engine: sa.Engine) -> Keys:
    """The primary keys of every row of every table, before the run."""
    found: Keys = {}
    with engine.connect() as connection:
        for table in tables.metadata.sorted_tables:
            key = list(table.primary_key.columns)
            found[table.name] = set(map(tuple, connection.execute(sa.select(*key)).all()))
    return found


def rows_left(engine: sa.Engine, before: Keys) -> tuple[Left, Left]:
    """Every row the run left, per table in dependency order (parents first): the business
    rows, and the event log's (its events and tracking rows). Rows only updated (stock
    positions) and the transient work items are not among them."""
    business: Left = []
    log: Left = []
    with engine.connect() as connection:
        for table in tables.metadata.sorted_tables:
            if table.name in TRANSIENT:
                continue
            key = [column.name for column in table.primary_key.columns]
            old = before[table.name]
            query = sa.select(table).order_by(*table.primary_key.columns)
            new = [
                _copy(table, row)
                for row in connection.execute(query)
                if tuple(row._mapping[name] for name in key) not in old
            ]
            if new:
                (log if table.name in LOG else business).append((table, new))
    return business, log


def count_rows(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in tables.metadata.sorted_tables
        }


def bare(target: sa.Engine, left: Left, events: int) -> tuple[Timed, int, list[str]]:
    """Insert ``left`` (rows per table) into ``target`` in batches, one ``executemany`` per
    table per 1,000 usages and a commit per batch; the time taken, the rows written, and any
    difference between what the target gained and ``left`` (none expected)."""
    batches = max(1, events // PUBLISH_BATCH)
    chunks: list[list[tuple[sa.Table, list[dict[str, Any]]]]] = [[] for _ in range(batches)]
    batch_of: dict[str, int] = {}  # a header's batch, which its lines join
    for table, found in left:
        parent = _PARENTS.get(table.name)
        per: list[list[dict[str, Any]]] = [[] for _ in range(batches)]
        size = -(-len(found) // batches) or 1
        for index, row in enumerate(found):
            b = batch_of[row[parent]] if parent else min(index // size, batches - 1)
            if "id" in row and not parent:
                batch_of[row["id"]] = b
            per[b].append(row)
        for b, rows_of_batch in enumerate(per):
            chunks[b].append((table, rows_of_batch))
    rows = sum(len(found) for _, found in left)
    before = count_rows(target)
    settle_collector()
    started, cpu = time.perf_counter(), time.process_time()
    with target.connect() as connection:
        for chunk in chunks:
            with connection.begin():
                for table, rows_of_batch in chunk:
                    if rows_of_batch:
                        connection.execute(sa.insert(table), rows_of_batch)
    timed = Timed(time.perf_counter() - started, time.process_time() - cpu)
    after = count_rows(target)
    wanted = {table.name: len(found) for table, found in left}
    gained = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    problems = [] if gained == wanted else [f"the bare insert wrote {gained}, not {wanted}"]
    return timed, rows, problems


#: Line tables and the column naming their header: lines go in with their header's batch.
_PARENTS = {
    "journal_lines": "journal_entry_id",
    "requisition_lines": "requisition_id",
    "purchase_order_lines": "purchase_order_id",
}


def _copy(table: sa.Table, row: sa.Row[Any]) -> dict[str, Any]:
    values = dict(row._mapping)
    if table is eventlog_tables.events:
        del values["position"]  # an identity: the target assigns its own
    return values


@contextmanager
def databases(kind: str, pg_url: str | None) -> Iterator[list[sa.Engine]]:
    """Three fresh migrated databases of ``kind``: the pipeline's and two bare inserts'."""
    names = ("pipeline", "bare", "barelog")
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            # As ``suture serve`` opens its database: WAL checkpoints (and their fsync) in a
            # thread of their own rather than in whichever commit crosses the threshold.
            engines = [
                create_engine(f"sqlite:///{Path(folder) / name}.db",
                              sqlite_background_checkpoints=True)
                for name in names
            ]  # fmt: skip
            for engine in engines:
                ensure_schema(engine)
            try:
                yield engines
            finally:
                for engine in engines:
                    engine.dispose()
        return
    if pg_url is None:
        raise SystemExit("postgres: no URL")
    with ExitStack() as stack:
        urls = [stack.enter_context(scratch_schema(pg_url, f"bench_{name}")) for name in names]
        engines = [create_engine(url) for url in urls]
        try:
            yield engines
        finally:
            for engine in engines:
                engine.dispose()


def _rates(events: int, timed: Timed, pipeline: Timed | None = None) -> str:
    """Events per second of wall time (seconds) and per CPU second of this process; beside a
    baseline, the pipeline's ratio to it by each."""
    text = (f"{events / timed.wall:6.0f} events/s ({timed.wall:.2f} s), "
            f"{events / timed.cpu:6.0f} per CPU s")  # fmt: skip
    if pipeline is None:
        return text
    return f"{text}: ratio {timed.wall / pipeline.wall:.2f}, by CPU {timed.cpu / pipeline.cpu:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="work items per bus batch")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    pg_url = os.environ.get("SUTURE_BENCH_PG_URL") or os.environ.get("SUTURE_TEST_PG_URL")
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    failed = False
    print(f"usage pipeline: {args.events} usage events, bus batch {args.batch}")
    for kind in kinds:
        if kind == "postgres" and not pg_url:
            print("postgres: skipped (set SUTURE_BENCH_PG_URL or SUTURE_TEST_PG_URL)")
            continue
        with databases(kind, pg_url) as (engine, bare_engine, log_engine):
            timed, problems, (business, log) = pipeline(engine, args.events, args.batch)
            bare_timed, rows, missed = bare(bare_engine, business, args.events)
            log_timed, log_rows, log_missed = bare(log_engine, business + log, args.events)
        problems += missed + log_missed
        per_table = ", ".join(f"{table.name} {len(found)}" for table, found in business + log)
        print(
            f"{kind:>8}: pipeline {_rates(args.events, timed)}, exactly once: "
            f"{'yes' if not problems else 'NO: ' + '; '.join(problems)}\n"
            f"{'':>10}rows it left: {per_table}\n"
            f"{'':>10}bare insert of its {rows} business rows "
            f"{_rates(args.events, bare_timed, timed)}\n"
            f"{'':>10}with its {log_rows - rows} event-log rows too "
            f"{_rates(args.events, log_timed, timed)}"
        )
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
