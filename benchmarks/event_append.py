"""The cost of raising an event: envelope built, validated, appended to the event log, committed.

Every workflow pays it (the HL7 applier's ``charge.posted``, the usage pipeline's
``supply.usage.recorded``). On a fresh SQLite database this script publishes ``--events``
``charge.posted`` events, shaped as the HL7 applier shapes them (a dict payload, a trace id, a
causation id, a facility), through ``MessageBus.envelope`` and ``MessageBus.publish_many``,
``--batch`` events per unit of work and commit, one handler subscribed (one work item each):

* ``dict``: a dict payload, validated against the schema registry when published (the HL7
  applier's and the CSV ingest's form);
* ``model``: the ``ChargePosted`` model built by the caller, dumped into the envelope and not
  validated again (typed code's form);
* ``bare``: the same event rows, built beforehand, inserted with a plain DB-API
  ``executemany`` into the same ``events`` table (same keys and indexes), per ``--batch`` and
  commit: no envelope, no validation, no work item. The floor the others are measured against.

Each form runs ``--rounds`` times, alternating, in a database of its own each round; the figure
is the best round (events/s, wall µs per event and this process's CPU µs per event: the
latter is the steadier figure on a loaded machine, the wall adding the commits' waits).
``--only dict|model`` runs that form once with no timing table, for ``valgrind
--tool=callgrind`` or cProfile::

    PYTHONPATH=src .venv/bin/python benchmarks/event_append.py
    PYTHONPATH=src valgrind --tool=callgrind .venv/bin/python benchmarks/event_append.py \
        --only dict --events 500
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import ChargePosted, build_registry
from suture.eventlog.ids import idempotency_key
from suture.services.messagebus import MessageBus

EVENT_TYPE = "charge.posted"
HANDLER = "post_charge"
AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def payloads(count: int) -> list[dict[str, Any]]:
    """``count`` distinct ``charge.posted`` payloads, as the HL7 applier writes them."""
    run = uuid.uuid4().hex[:8]
    return [
        {
            "charge_id": f"CH-{run}-{n:07d}",
            "facility_id": f"fac-{n % 4}",
            "encounter_token": f"enc-{n // 2:06d}",
            "cdm_code": f"CDM{n % 500:05d}",
            "hcpcs": None if n % 3 else "C1776",
            "transaction_type": "CG",
            "quantity": str(1 + n % 3),
            "amount": f"{100 + n % 900}.25",
            "service_date": (date(2026, 3, 1) + timedelta(days=n % 20)).isoformat(),
            "department_id": f"dept-{n % 12}",
        }
        for n in range(count)
    ]


def _ignore(*_: object) -> None:
    return None


def new_bus(engine: sa.Engine) -> MessageBus:
    return MessageBus(
        lambda: SqlAlchemyUnitOfWork(engine),
        {HANDLER: _ignore},
        {EVENT_TYPE: [HANDLER]},
        registry=build_registry(),
        source_system="bench",
    )


def envelope_of(bus: MessageBus, payload: dict[str, Any], *, typed: bool) -> Envelope:
    charge = payload["charge_id"]
    return bus.envelope(
        EVENT_TYPE,
        ChargePosted.model_validate(payload) if typed else payload,
        idempotency_key=idempotency_key(EVENT_TYPE, charge),
        correlation_id=payload["encounter_token"],
        trace_id=f"trace-{charge}",
        causation_id=uuid.UUID(int=0x0190_0000_0000_7000_8000_0000_0000_0001),
        occurred_at=AT,
        source_system="his",
        source_facility=payload["facility_id"],
    )


Seconds = tuple[float, float]  # wall, CPU of this process


def publish(engine: sa.Engine, items: list[dict[str, Any]], batch: int, *, typed: bool) -> Seconds:
    """Seconds to build and publish every event, ``batch`` per unit of work and commit."""
    bus = new_bus(engine)
    began, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(items), batch):
        with bus.uow() as uow:
            chunk = items[start : start + batch]
            bus.publish_many(uow, [envelope_of(bus, p, typed=typed) for p in chunk])
            uow.commit()
    return time.perf_counter() - began, time.process_time() - cpu


def bare(engine: sa.Engine, items: list[dict[str, Any]], batch: int) -> Seconds:
    """Seconds to insert the same event rows, built beforehand, with a DB-API executemany."""
    now = datetime.now(UTC).isoformat()
    rows = [
        (str(uuid.uuid4()), EVENT_TYPE, 1, AT.isoformat(), now, "his", p["facility_id"],
         f"trace-{p['charge_id']}", p["encounter_token"], None,
         idempotency_key(EVENT_TYPE, p["charge_id"]),
         json.dumps(p, ensure_ascii=False, separators=(",", ":"), sort_keys=True))
        for p in items
    ]  # fmt: skip
    insert = (
        "INSERT INTO events (id, type, schema_version, occurred_at, recorded_at, source_system,"
        " source_facility, trace_id, correlation_id, causation_id, idempotency_key, payload)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    began, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as connection:
        for start in range(0, len(rows), batch):
            connection.exec_driver_sql(insert, rows[start : start + batch])
            connection.commit()
    return time.perf_counter() - began, time.process_time() - cpu


@contextmanager
def sqlite_database() -> Iterator[sa.Engine]:
    with tempfile.TemporaryDirectory(prefix="suture_bench_") as directory:
        engine = create_engine(f"sqlite:///{Path(directory) / 'events.db'}")
        try:
            ensure_schema(engine)
            yield engine
        finally:
            engine.dispose()


def check(engine: sa.Engine, expected: int) -> None:
    with engine.connect() as connection:
        events = connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
    if events != expected:
        raise SystemExit(f"expected {expected} events, found {events}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["dict", "model"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    items = payloads(args.events)
    if args.only:
        with sqlite_database() as engine:
            publish(engine, items, args.batch, typed=args.only == "model")
            check(engine, len(items))
        return
    forms: dict[str, Callable[[sa.Engine], Seconds]] = {
        "dict": lambda e: publish(e, items, args.batch, typed=False),
        "model": lambda e: publish(e, items, args.batch, typed=True),
        "bare": lambda e: bare(e, items, args.batch),
    }
    best: dict[str, Seconds] = {}
    for _ in range(args.rounds):
        for name, run in forms.items():
            with sqlite_database() as engine:
                wall, cpu = run(engine)
                check(engine, len(items))
            best_wall, best_cpu = best.get(name, (wall, cpu))
            best[name] = (min(best_wall, wall), min(best_cpu, cpu))
    print(f"SQLite, {args.events} charge.posted events, {args.batch} a commit, best of "
          f"{args.rounds} rounds (wall and CPU of this process, each its best)")  # fmt: skip
    print(f"{'form':<6} {'events/s':>10} {'µs/event':>9} {'CPU µs':>7} {'× bare':>7}")
    for name, (wall, cpu) in best.items():
        per_event = 1e6 / args.events
        print(f"{name:<6} {args.events / wall:>10,.0f} {wall * per_event:>9.1f} "
              f"{cpu * per_event:>7.1f} {best['bare'][0] / wall:>7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
