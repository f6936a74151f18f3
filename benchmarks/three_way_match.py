"""Invoice lines per second through the three-way match, end to end, beside a bare insert.

Issue 5 asks for ``benchmarks/three_way_match.py`` (invoice lines per second). Per database, in
the same run:

1. **match**: ``--invoices`` invoices of ``--lines`` lines each, every one on a PO of its own
   whose goods were received beforehand (POs and receipts are set up before the clock starts),
   are stored and announced (``purchasing.invoice.received``) in batches of 1,000 as the inbound
   X12 path does, then the embedded dispatcher's loop (``MessageBus.run_once``) runs the
   ``three_way_match`` handler until no work is due. The clock runs from the first invoice
   stored to the last commit. One invoice in ten bills a price 10 % over its PO and is held on
   a ``price_variance``; the rest are matched, vouchered and announced. The run is verified
   against the generator: every invoice run once, the matched ones with one AP voucher and one
   ``purchasing.invoice.matched`` each, the held ones with one open exception each.
2. **bare**: the same invoices and invoice lines inserted into a fresh database with one
   ``executemany`` per table per 1,000 invoices and a commit per batch: the cost of storing the
   invoices alone, with no match, no bus.

    python benchmarks/three_way_match.py [--quick] [--invoices 2000] [--lines 5]
                                         [--database sqlite|postgres|both] [--pg URL]

PostgreSQL comes from ``--pg``, ``SUTURE_BENCH_PG_URL`` or ``SUTURE_TEST_PG_URL``, in a scratch
schema. Figures from a shared machine are indicative.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from suture.adapters.db import delivery_tables, exception_tables, match_tables, tables
from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema, scratch_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.invoicing import Invoice, InvoiceLine
from suture.domain.purchasing import Receipt, ReceiptLine
from suture.eventlog.events import InvoiceReceived
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.three_way_match import INVOICE_RECEIVED

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "service"))
from match_world import AT, World, build_bus, new_world, purchase_order, seed  # the tests' world

BATCH = 1000
HELD_EVERY = 10


def plan(world: World, invoices: int, lines: int) -> list[Invoice]:
    """The invoices: each on its own PO ``<po>-<n>``, every tenth 10 % over the PO price."""
    made = []
    for n in range(invoices):
        price = Decimal("1.10") if n % HELD_EVERY == 0 else Decimal("1.00")
        made.append(Invoice(
            id=world.id(f"INV{n}"), number=world.id(f"N{n}"), supplier_id=world.supplier_id,
            facility_id=world.facility_id, invoice_date=date(2025, 3, 20),
            purchase_order_number=f"{world.po_number}-{n}",
            lines=[InvoiceLine(line_number=k, item_id=world.glove, quantity=Decimal(10),
                               uom="EA", unit_price=price, po_line_number=k)
                   for k in range(3, 3 + lines)],
        ))  # fmt: skip
    return made


def set_up(uow: UnitOfWork, world: World, invoices: int, lines: int) -> None:
    """A PO per invoice with ``lines`` glove lines of 10 EA, each fully received."""
    template = purchase_order(world, lines=lines)
    for start in range(0, invoices, BATCH):
        orders, receipts = [], []
        for n in range(start, min(start + BATCH, invoices)):
            number = f"{world.po_number}-{n}"
            orders.append(replace(template, id=number, number=number))
            receipts.append(Receipt(
                id=f"R-{number}", number=f"R-{number}", facility_id=world.facility_id,
                location_id=None, received_at=AT, purchase_order_id=number,
                lines=[ReceiptLine(line_number=k, item_id=world.glove, quantity=Decimal(10),
                                   uom="EA", po_line_number=k) for k in range(3, 3 + lines)],
            ))  # fmt: skip
        uow.purchase_orders.add_many(orders)
        uow.receipts.add_many(receipts)
        uow.commit()


def match(
    engine: sa.Engine, invoices: int, lines: int, batch: int
) -> tuple[float, World, list[str]]:
    uow: Callable[[], UnitOfWork] = lambda: SqlAlchemyUnitOfWork(engine)  # noqa: E731
    world = new_world()
    with uow() as unit:
        seed(unit, world)
    with uow() as unit:
        set_up(unit, world, invoices, lines)
    bus, _ = build_bus(uow)
    made = plan(world, invoices, lines)
    started = time.perf_counter()
    for start in range(0, invoices, BATCH):
        chunk = made[start : start + BATCH]
        envelopes = [
            bus.envelope(
                INVOICE_RECEIVED,
                InvoiceReceived(
                    invoice_id=i.id, invoice_number=i.number, supplier_id=i.supplier_id,
                    facility_id=i.facility_id, purchase_order_number=i.purchase_order_number,
                    amount=i.computed_total,
                ).model_dump(mode="json"),
                idempotency_key=f"invoice:{i.id}", correlation_id=i.id,
                source_facility=i.facility_id,
            )
            for i in chunk
        ]  # fmt: skip
        with bus.uow() as unit:
            unit.invoices.add_many(chunk)
            bus.publish_many(unit, envelopes)
            unit.commit()
    while bus.run_once(batch):
        pass
    seconds = time.perf_counter() - started
    return seconds, world, verify(engine, world, invoices)


def verify(engine: sa.Engine, world: World, invoices: int) -> list[str]:
    """Exactly once, against the generator: every problem found (none expected)."""
    run = f"%-{world.run}"
    held = len(range(0, invoices, HELD_EVERY))
    matches, deliveries = match_tables.invoice_matches, delivery_tables.deliveries
    items = exception_tables.exception_items
    with engine.connect() as connection:
        by_status = dict(connection.execute(
            sa.select(matches.c.status, sa.func.count())
            .where(matches.c.invoice_id.like(run)).group_by(matches.c.status)
        ).all())  # fmt: skip
        attempts = connection.execute(
            sa.select(sa.func.max(matches.c.attempts)).where(matches.c.invoice_id.like(run))
        ).scalar_one()
        vouchers = connection.execute(
            sa.select(sa.func.count()).where(deliveries.c.idempotency_key.like(f"voucher-%{run}"))
        ).scalar_one()
        opened = connection.execute(
            sa.select(sa.func.count()).where(
                items.c.correlation_id.like(run) & (items.c.type == "price_variance")
            )
        ).scalar_one()
    problems = []
    if by_status != {"matched": invoices - held, "exception": held}:
        problems.append(f"outcomes {by_status}, expected {invoices - held} matched, {held} held")
    if attempts != 1:
        problems.append(f"an invoice was run {attempts} times")
    if vouchers != invoices - held or opened != held:
        problems.append(f"{vouchers} vouchers and {opened} exceptions")
    return problems


def bare(engine: sa.Engine, world: World, invoices: int, lines: int) -> float:
    """Insert the same invoices and lines with one executemany per table per batch."""
    made = plan(world, invoices, lines)
    started = time.perf_counter()
    with engine.connect() as connection:
        for start in range(0, invoices, BATCH):
            chunk = made[start : start + BATCH]
            heads: list[dict[str, Any]] = [
                {"id": i.id, "number": i.number, "supplier_id": i.supplier_id,
                 "facility_id": i.facility_id, "invoice_date": i.invoice_date,
                 "purchase_order_number": i.purchase_order_number, "freight": i.freight,
                 "tax": i.tax, "stated_total": None, "status": i.status.value,
                 "source_system": i.source_system}
                for i in chunk
            ]  # fmt: skip
            rows: list[dict[str, Any]] = [
                {"invoice_id": i.id, "position": p, "line_number": line.line_number,
                 "item_id": line.item_id, "quantity": line.quantity, "uom": line.uom,
                 "unit_price": line.unit_price, "po_line_number": line.po_line_number,
                 "supplier_part_number": None}
                for i in chunk for p, line in enumerate(i.lines)
            ]  # fmt: skip
            with connection.begin():
                connection.execute(sa.insert(tables.invoices), heads)
                connection.execute(sa.insert(tables.invoice_lines), rows)
    return time.perf_counter() - started


@contextmanager
def databases(kind: str, pg_url: str | None) -> Iterator[list[sa.Engine]]:
    """Two fresh migrated databases of ``kind``: the match's and the bare insert's."""
    names = ("match", "bare")
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engines = [create_engine(f"sqlite:///{Path(folder) / name}.db") for name in names]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5, help="lines per invoice")
    parser.add_argument("--batch", type=int, default=500, help="work items per bus batch")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg", help="PostgreSQL URL (default: SUTURE_BENCH_PG_URL, _TEST_PG_URL)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 100 invoices")
    args = parser.parse_args()
    if args.quick:
        args.invoices = 100
    pg_url = (
        args.pg or os.environ.get("SUTURE_BENCH_PG_URL") or os.environ.get("SUTURE_TEST_PG_URL")
    )
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    lines = args.invoices * args.lines
    failed = False
    print(f"three-way match: {args.invoices} invoices x {args.lines} lines = {lines} lines, "
          f"bus batch {args.batch}")  # fmt: skip
    for kind in kinds:
        if kind == "postgres" and not pg_url:
            print("postgres: skipped (give --pg or set SUTURE_BENCH_PG_URL / SUTURE_TEST_PG_URL)")
            continue
        with databases(kind, pg_url) as (engine, bare_engine):
            seconds, world, problems = match(engine, args.invoices, args.lines, args.batch)
            bare_seconds = bare(bare_engine, world, args.invoices, args.lines)
        rate, bare_rate = lines / seconds, lines / bare_seconds
        print(
            f"{kind:>8}: match {rate:7.0f} invoice lines/s ({args.invoices / seconds:6.0f} "
            f"invoices/s, {seconds:.2f} s), exactly once: "
            f"{'yes' if not problems else 'NO: ' + '; '.join(problems)}\n"
            f"{'':>10}bare insert of the same invoices {bare_rate:7.0f} lines/s "
            f"({bare_seconds:.2f} s): ratio {rate / bare_rate:.3f}"
        )
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
