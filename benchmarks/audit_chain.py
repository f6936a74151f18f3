"""What the audit trail costs a write, and how fast ``verify`` walks a long chain.

Per database (SQLite in a temporary file; PostgreSQL with ``--pg-url``, in a scratch schema
created and dropped here), this script measures, in the same run:

1. **audited writes**: ``--writes`` transactions, each inserting one facility and recording it
   with ``AuditTrail.record`` before commit (head lock, HMAC, insert, head update), one writer
   and then ``--writers`` concurrent writers on engines of their own;
2. the **bare baseline**: the same transactions without the audit record;
3. **verify**: a chain of ``--chain`` rows (appended ``--batch`` per transaction), then
   ``AuditTrail.verify()`` over it, with the growth of the process's peak RSS while it ran
   (bounded memory: pages of 1,000 rows).

    .venv/bin/python benchmarks/audit_chain.py --pg-url postgresql+psycopg://postgres@127.0.0.1/x
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema, scratch_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import Actor, AuditKey
from suture.domain.masterdata import Facility
from suture.services.audit import AuditTrail
from suture.services.clock import system_clock

KEY = AuditKey.from_secret("benchmark-secret-benchmark-secret-0123")
ACTOR = Actor("bench", "client-bench", "system:write")


def trail_on(engine: sa.Engine) -> AuditTrail:
    return AuditTrail(lambda: SqlAlchemyUnitOfWork(engine), KEY, system_clock)


def writes(url: str, count: int, writers: int, *, audited: bool) -> float:
    """Transactions per second: ``count`` in all, shared by ``writers`` threads."""
    engines = [create_engine(url) for _ in range(writers)]
    run = uuid.uuid4().hex[:8]

    def write(index: int) -> None:
        engine = engines[index]
        trail = trail_on(engine)
        for n in range(count // writers):
            facility = f"B{run}-{index}-{n}"
            with SqlAlchemyUnitOfWork(engine) as uow:
                uow.facilities.add(Facility(id=facility, code=facility, name="Bench"))
                if audited:
                    trail.record(uow, ACTOR, "facility.create", target_id=facility)
                uow.commit()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for engine in engines:
        engine.dispose()
    return (count // writers) * writers / elapsed


def verify_rate(url: str, rows: int, batch: int) -> tuple[float, int, bool]:
    """Rows verified per second, the peak-RSS growth in KiB while verifying, and the verdict."""
    engine = create_engine(url)
    trail = trail_on(engine)
    done = 0
    while done < rows:
        with SqlAlchemyUnitOfWork(engine) as uow:
            for _ in range(min(batch, rows - done)):
                trail.record(uow, ACTOR, "facility.create", target_id=f"F{done}")
                done += 1
            uow.commit()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    verification = trail.verify()
    elapsed = time.perf_counter() - started
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    engine.dispose()
    return verification.checked / elapsed, grown, verification.intact


def measure(name: str, fresh: Callable[[], str], args: argparse.Namespace) -> None:
    url = fresh()
    bare = writes(url, args.writes, 1, audited=False)
    audited = writes(url, args.writes, 1, audited=True)
    concurrent = writes(url, args.writes, args.writers, audited=True)
    rate, grown, intact = verify_rate(fresh(), args.chain, args.batch)
    print(
        f"{name:>10}: bare {bare:8,.0f} tx/s | audited {audited:8,.0f} tx/s "
        f"({audited / bare:.2f} of bare) | audited, {args.writers} writers {concurrent:8,.0f} tx/s"
    )
    print(
        f"{'':>10}  verify {args.chain:,} rows: {rate:,.0f} rows/s, peak RSS +{grown:,} KiB, "
        f"intact={intact}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--chain", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--pg-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        counter = iter(range(1_000_000))

        def fresh_sqlite() -> str:
            url = f"sqlite:///{Path(directory) / f'audit-{next(counter)}.db'}"
            engine = create_engine(url)
            ensure_schema(engine)
            engine.dispose()
            return url

        measure("sqlite", fresh_sqlite, args)
    if args.pg_url:
        with (
            scratch_schema(args.pg_url, "suture_bench_a") as first,
            scratch_schema(args.pg_url, "suture_bench_b") as second,
        ):
            urls = iter([first, second])
            measure("postgresql", lambda: next(urls), args)


if __name__ == "__main__":
    main()
