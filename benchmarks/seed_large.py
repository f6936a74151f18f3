"""Seeding the large synthetic health system: rows per second, beside a bare batched insert.

Prints, per group of tables (master data, crosswalks, charges, usage):

(a) generating the large profile in memory, no database;
(b) generating and loading it into SQLite through the seed service (``services/synthetic``);
(c) the same on PostgreSQL, in a throwaway database ``suture_bench_<hex>`` created and dropped
    here;

and beside each database figure a **bare baseline measured in the same run**: the rows the seed
wrote, read back and inserted into plain copies of the same tables (same columns and types, no
keys, no indexes) with SQLAlchemy Core ``executemany``, one transaction per batch of the same
size. Only the inserts and commits are timed for the baseline; the seed's figure includes
generating the objects, translating them to rows, upserting and (crosswalks) the per-entry
lookup the no-silent-remap rule needs. The ratio is seed rows/s over baseline rows/s.

Rows are table rows: an item is its header plus one row per packaging level, a contract its
header plus memberships and prices.

The defaults (100,000 items, 500,000 charges, each hospital carrying 35 % of the item master as
the large profile ships, about 465,000 crosswalk entries) take a few minutes on 2 cores with
PostgreSQL. Crosswalk entries are checked against the current mappings a batch at a time
(``CrosswalkRepository.current_many``) and inserted with one ``executemany`` per batch. To scale
up: ``--charges 1000000`` (about +30 s per database), ``--usage 1000000`` (about the same
again). ``--skip-postgres``, ``--item-coverage 0.03`` or ``--charges 0`` shorten a run.

    .venv/bin/python benchmarks/seed_large.py --pg-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from suture.adapters.db import tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.services.synthetic import PROFILES, HealthSystemGenerator, Profile
from suture.services.synthetic.loader import seed

GROUPS = {
    "master data": ("facilities", "cost_centers", "departments", "locations", "gl_accounts",
                    "suppliers", "items", "item_packaging", "contracts", "contract_memberships",
                    "contract_prices", "par_levels"),
    "crosswalks": ("crosswalk_entries",),
    "charges": ("charges",),
    "usage": ("usage_records",),
}  # fmt: skip
#: The loader's kinds in each group: a group's time runs from its first kind's start to its
#: last kind's end.
KINDS = {
    "master data": ("facilities", "par_levels"),
    "crosswalks": ("crosswalks", "crosswalks"),
    "charges": ("charges", "charges"),
    "usage": ("usage", "usage"),
}


@dataclass
class Figure:
    rows: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    name: str
    seed: dict[str, Figure] = field(default_factory=lambda: defaultdict(Figure))
    baseline: dict[str, Figure] = field(default_factory=lambda: defaultdict(Figure))


def generate_in_memory(generator: HealthSystemGenerator, args: argparse.Namespace) -> Run:
    """(a) Every stream generated and counted in table rows, with no database."""
    run = Run("generate (memory)")
    at = datetime.now(UTC)
    start = at - timedelta(days=generator.profile.history_days)
    g = generator
    master: list[Iterable[object]] = [
        g.facilities(), g.cost_centers(), g.departments(), g.locations(), g.gl_accounts(),
        g.suppliers(), g.items(), g.contracts(), g.par_levels(),
    ]  # fmt: skip
    streams: dict[str, Iterable[Iterable[object]]] = {
        "master data": master,
        "crosswalks": [g.crosswalks(at)],
        "charges": [g.charges(args.charges, start)],
        "usage": [g.usage(args.usage, start)],
    }
    for group, parts in streams.items():
        began = time.perf_counter()
        run.seed[group].rows = sum(_rows(obj) for part in parts for obj in part)
        run.seed[group].seconds = time.perf_counter() - began
    return run


def _rows(obj: object) -> int:
    packaging = getattr(obj, "packaging", None)
    if packaging is not None:
        return 1 + len(packaging.levels)
    return 1 + len(getattr(obj, "memberships", ())) + len(getattr(obj, "prices", ()))


def seed_and_compare(
    name: str, engine: sa.Engine, generator: HealthSystemGenerator, args: argparse.Namespace
) -> Run:
    """(b)/(c) The seed service into ``engine``, then the bare baseline on the same rows."""
    run = Run(name)
    ensure_schema(engine)
    marks: dict[str, list[float]] = defaultdict(list)

    def progress(kind: str, done: int, total: int | None) -> None:
        marks[kind].append(time.perf_counter())
        if done == 0:
            print(f"  {name}: {kind} …", flush=True)

    seed(
        lambda: SqlAlchemyUnitOfWork(engine), generator, datetime.now(UTC),
        batch_size=args.batch_size, progress=progress,
        history_charges=args.charges, history_usage=args.usage,
    )  # fmt: skip
    for group, names in GROUPS.items():
        first, last = KINDS[group]
        run.seed[group].seconds = marks[last][-1] - marks[first][0]
        with engine.connect() as connection:
            run.seed[group].rows = sum(
                connection.scalar(sa.select(sa.func.count()).select_from(tables.metadata.tables[n]))
                or 0
                for n in names
            )
        print(f"  {name}: bare baseline for {group} …", flush=True)
        for table_name in names:
            rows, seconds = bare_insert(engine, tables.metadata.tables[table_name], args)
            run.baseline[group].rows += rows
            run.baseline[group].seconds += seconds
    return run


def bare_insert(engine: sa.Engine, table: sa.Table, args: argparse.Namespace) -> tuple[int, float]:
    """Copy ``table``'s rows into a plain table of the same columns; time the inserts only."""
    plain_metadata = sa.MetaData()
    columns = [sa.Column(column.name, column.type) for column in table.columns]
    bare = sa.Table(f"bare_{table.name}", plain_metadata, *columns)
    plain_metadata.create_all(engine)
    reader_engine = engine
    if engine.dialect.name == "sqlite":  # a reader that does not take the write lock
        reader_engine = create_engine(str(engine.url), sqlite_begin="DEFERRED")
    rows = seconds = 0.0
    insert = sa.insert(bare)
    try:
        with reader_engine.connect() as reader, engine.connect() as writer:
            result = reader.execution_options(stream_results=True).execute(sa.select(table))
            for chunk in result.partitions(args.batch_size):
                values = [row._asdict() for row in chunk]
                began = time.perf_counter()
                writer.execute(insert, values)
                writer.commit()
                seconds += time.perf_counter() - began
                rows += len(values)
    finally:
        if reader_engine is not engine:
            reader_engine.dispose()
        plain_metadata.drop_all(engine)
    return int(rows), seconds


@dataclass
class ThrowawayDatabase:
    """``suture_bench_<hex>`` on the server of ``url``, dropped on exit."""

    url: str
    name: str = field(default_factory=lambda: f"suture_bench_{uuid.uuid4().hex[:10]}")

    def __enter__(self) -> str:
        self._admin = sa.create_engine(
            make_url(self.url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return make_url(self.url).set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *_: object) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin.dispose()


def print_table(profile: Profile, runs: list[Run], args: argparse.Namespace) -> None:
    print()
    print(
        f"profile large: {profile.hospitals} hospitals, {profile.suppliers} suppliers, "
        f"{profile.items:,} items, item coverage {profile.item_coverage}, "
        f"{args.charges:,} charges, {args.usage:,} usage, batch {args.batch_size}"
    )
    header = (f"{'run':<18} {'group':<12} {'rows':>10} {'seconds':>8} {'rows/s':>9} "
              f"{'bare rows/s':>11} {'seed/bare':>9}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for run in runs:
        totals, bare_totals = Figure(), Figure()
        for group in GROUPS:
            figure, bare = run.seed[group], run.baseline.get(group)
            totals.rows += figure.rows
            totals.seconds += figure.seconds
            if bare is not None:
                bare_totals.rows += bare.rows
                bare_totals.seconds += bare.seconds
            print(_line(run.name, group, figure, bare))
        print(_line(run.name, "total", totals, bare_totals if run.baseline else None))
    print()


def _line(run: str, group: str, figure: Figure, bare: Figure | None) -> str:
    base = f"{run:<18} {group:<12} {figure.rows:>10,} {figure.seconds:>8.2f} {figure.rate:>9,.0f}"
    if bare is None or not bare.rate:
        return base
    return f"{base} {bare.rate:>11,.0f} {figure.rate / bare.rate:>8.2f}x"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=100_000, help="item master size")
    parser.add_argument("--charges", type=int, default=500_000, help="historical charges")
    parser.add_argument("--usage", type=int, default=0, help="historical usage records")
    parser.add_argument(
        "--item-coverage",
        type=float,
        default=0.35,
        help="share of the item master each hospital carries (shipped: 0.35)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("SUTURE_TEST_PG_URL") or os.environ.get("SUTURE_BENCH_PG_URL"),
        help="PostgreSQL server (postgresql+psycopg://user@host/db); a throwaway database is "
        "created beside db; default: $SUTURE_TEST_PG_URL or $SUTURE_BENCH_PG_URL",
    )
    parser.add_argument(
        "--sqlite-path",
        type=Path,
        default=None,
        help="SQLite file to seed (default: a temporary file, removed after)",
    )
    parser.add_argument("--skip-postgres", action="store_true")
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    profile = replace(PROFILES["large"], items=args.items, item_coverage=args.item_coverage)
    generator = HealthSystemGenerator(profile, args.seed)
    print("(a) generating in memory …", flush=True)
    runs = [generate_in_memory(generator, args)]
    print("(b) SQLite …", flush=True)
    with _sqlite_path(args.sqlite_path) as path:
        engine = create_engine(f"sqlite:///{path}")
        try:
            runs.append(seed_and_compare("sqlite", engine, generator, args))
        finally:
            engine.dispose()
    if args.skip_postgres or not args.pg_url:
        print("(c) PostgreSQL skipped: no --pg-url, SUTURE_TEST_PG_URL or SUTURE_BENCH_PG_URL")
    else:
        print("(c) PostgreSQL …", flush=True)
        with ThrowawayDatabase(args.pg_url) as url:
            engine = create_engine(url)
            try:
                runs.append(seed_and_compare("postgresql", engine, generator, args))
            finally:
                engine.dispose()
    print_table(profile, runs, args)


@contextmanager
def _sqlite_path(path: Path | None) -> Iterator[Path]:
    """The given SQLite path, or a file in a temporary directory removed afterwards."""
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="suture_bench_") as directory:
        yield Path(directory) / "seed.db"


if __name__ == "__main__":
    main()
