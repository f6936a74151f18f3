"""Chaos: a worker SIGKILLed at random moments while it processes 20,000 events.

Issue 3, "Done means": the worker runs in a subprocess (``tests/integration/crash_worker.py``),
is killed with SIGKILL at least five times while work remains and restarted each time; at the
end every event's two effects must be present exactly once, checked against totals computed
from the generator, with no work left pending, parked or dead and one tracking row per event
and handler. The crash test of the suite is the same at 3,000 events.

Per database it prints the kills (work done of the total when each landed), the elapsed time
from the first start to the last item done (restarts, and the claim leases the killed workers
held, included), events per second over that time, and the verification. Exit status 1 on any
violation. Targets:

- ``sqlite``: the embedded dispatcher on a SQLite file in a temporary directory;
- ``postgres``: the embedded dispatcher on PostgreSQL (``--pg-url``, default
  ``SUTURE_TEST_PG_URL``), in a schema of its own, dropped at the end;
- ``postgres+nats``: the ``suture worker`` loops on PostgreSQL with NATS JetStream
  (``--nats-url``, default ``SUTURE_TEST_NATS_URL``), once the NATS transport exists.

    .venv/bin/python benchmarks/chaos_kill.py --pg-url postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema, scratch_schema

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from crash_worker import Scenario, chaos, seed, verify  # the harness the crash test uses

TARGETS = ("sqlite", "postgres", "postgres+nats")


def main() -> int:
    args = _arguments()
    scenario = Scenario.new(args.events, args.seed)
    print(f"chaos_kill: {args.events:,} events x 2 handlers, {args.kills} kills, "
          f"seed {scenario.seed} (--seed to repeat)", flush=True)  # fmt: skip
    failed = False
    with tempfile.TemporaryDirectory(prefix="suture-chaos-") as directory:
        for target in args.targets:
            if target != "sqlite" and not args.pg_url:
                print(f"{target}: skipped, no --pg-url (or SUTURE_TEST_PG_URL)")
                continue
            if target == "postgres+nats" and not args.nats_url:
                print(f"{target}: skipped, no --nats-url (or SUTURE_TEST_NATS_URL)")
                continue
            run = Scenario.new(args.events, scenario.seed)  # a fresh run id, the same draws
            with _database(target, args, Path(directory)) as engine:
                failed |= not _run(target, engine, run, args, Path(directory))
    return 1 if failed else 0


def _run(
    target: str, engine: sa.Engine, scenario: Scenario, args: argparse.Namespace, directory: Path
) -> bool:
    began = time.perf_counter()
    event_ids = seed(engine, scenario)
    seeded = time.perf_counter() - began
    print(f"{target}: seeded {len(event_ids):,} events in {seeded:.1f} s", flush=True)
    worker_args = ["--batch", str(args.batch), "--lease", str(args.lease)]
    if target == "postgres+nats":
        worker_args += ["--nats-url", args.nats_url, "--stream", f"CHAOS_{scenario.run.upper()}"]
    log = directory / f"{target}-worker.log"
    result = chaos(engine, scenario, kills=args.kills, log=log, worker_args=worker_args)
    problems = verify(engine, scenario, event_ids)
    kills = ", ".join(f"{100 * kill.done / kill.total:.0f} %" for kill in result.kills)
    print(f"{target}: {len(result.kills)} kills (at {kills} of {scenario.work:,} work items), "
          f"{result.starts} starts", flush=True)  # fmt: skip
    print(f"{target}: {result.seconds:.1f} s, {scenario.events / result.seconds:,.0f} events/s "
          f"({scenario.work / result.seconds:,.0f} work items/s)", flush=True)  # fmt: skip
    if problems:
        print(f"{target}: VIOLATED exactly-once (seed {scenario.seed}):")
        for problem in problems:
            print(f"  - {problem}")
        print(f"  worker log: {log} (kept: {_keep(log)})")
        return False
    print(f"{target}: verified: every effect exactly once, totals match the generator, "
          "nothing pending, parked or dead, no failed attempt", flush=True)  # fmt: skip
    return True


def _keep(log: Path) -> Path:
    kept = Path(tempfile.gettempdir()) / f"chaos-{uuid.uuid4().hex[:8]}-{log.name}"
    kept.write_bytes(log.read_bytes())
    return kept


@contextmanager
def _database(target: str, args: argparse.Namespace, directory: Path) -> Iterator[sa.Engine]:
    """A migrated database: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if target == "sqlite":
        engine = create_engine(f"sqlite:///{directory / f'chaos-{uuid.uuid4().hex[:8]}.db'}")
        try:
            ensure_schema(engine)
            yield engine
        finally:
            engine.dispose()
        return
    with scratch_schema(args.pg_url, "suture_chaos") as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs per target (at least 5)")
    parser.add_argument("--seed", type=int, help="the draws' and kill points' seed")
    parser.add_argument("--batch", type=int, default=50, help="work items a worker claims")
    parser.add_argument("--lease", type=float, default=2.0, help="claim lease, seconds")
    parser.add_argument("--pg-url", default=os.environ.get("SUTURE_TEST_PG_URL"))
    parser.add_argument("--nats-url", default=os.environ.get("SUTURE_TEST_NATS_URL"))
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    args = parser.parse_args()
    if args.kills < 5:
        parser.error("--kills: issue 3 asks for at least 5")
    return args


if __name__ == "__main__":
    sys.exit(main())
