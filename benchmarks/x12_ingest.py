"""X12 810 interchanges per second through the whole inbound path, beside storing them only.

DESIGN.md §10 asks every figure to stand beside a baseline measured in the same run. This script
seeds a facility, a supplier (ISA06 ``SUPPLIER``) and ``--orders`` purchase orders on a fresh
SQLite file, builds ``--interchanges`` interchanges of one 810 each (``--lines`` IT1 lines
billing a PO's lines, totals that verify, each its own ISA13), then times:

1. **ingest**: :meth:`suture.services.x12_ingest.X12Ingest.receive` for each interchange: the
   raw bytes committed to the inbox, the envelope read, the sender identified, the invoice and
   its ``purchasing.invoice.received`` event stored, the message marked and a 997 queued, in
   one transaction after the store's;
2. **store only**: :meth:`suture.services.inbox.Inbox.receive` of the same bytes on another
   interface: one committed insert each, the floor of store-before-acknowledge.

It checks that every interchange was processed and every invoice and 997 written, and prints
interchanges and invoice lines per second for both and the ingest's share of the bare rate.

    .venv/bin/python benchmarks/x12_ingest.py --interchanges 2000 --lines 20
    .venv/bin/python benchmarks/x12_ingest.py --quick
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility, Supplier
from suture.domain.messages import MessageStatus
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from suture.eventlog.events import build_registry
from suture.services.deliveries import DeliveryQueue
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.x12_ingest import X12Ingest

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def seed(engine: sa.Engine, orders: int, lines: int) -> None:
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id="fac-1", code="GH", name="General", timezone="UTC"))
        uow.suppliers.add(Supplier(id="SUPPLIER", name="Med Supply Co"))
        uow.purchase_orders.add_many(
            PurchaseOrder(
                id=f"po-{n}", number=f"PO-{n}", facility_id="fac-1", supplier_id="SUPPLIER",
                order_date=date(2025, 2, 20), status=PurchaseOrderStatus.SENT,
                lines=[
                    PurchaseOrderLine(line_number=line, item_id=f"ITEM-{line}",
                                      quantity=Decimal(line % 7 + 1), uom="EA",
                                      unit_price=Decimal(f"{line % 50 + 1}.25"))
                    for line in range(1, lines + 1)
                ],
            )
            for n in range(orders)
        )  # fmt: skip
        uow.commit()


def interchange(number: int, orders: int, lines: int) -> bytes:
    """One interchange (ISA13 ``number``) holding one 810 that bills PO ``number % orders``."""
    body = [f"BIG*20250301*INV-{number}**PO-{number % orders}"]
    total = Decimal(0)
    for line in range(1, lines + 1):
        quantity, price = line % 7 + 1, Decimal(f"{line % 50 + 1}.25")
        total += quantity * price
        body.append(f"IT1*{line}*{quantity}*EA*{price}**IN*ITEM-{line}")
    body += [f"TDS*{int(total * 100)}", f"CTT*{lines}"]
    segments = [
        f"ISA*00*          *00*          *ZZ*SUPPLIER       *ZZ*GENHOSP        *250301*1200*U*"
        f"00401*{number:09d}*0*P*>",
        f"GS*IN*SUPPLIER*GENHOSP*20250301*1200*{number}*X*004010",
        "ST*810*0001", *body, f"SE*{len(body) + 2}*0001",
        f"GE*1*{number}", f"IEA*1*{number:09d}",
    ]  # fmt: skip
    return ("~".join(segments) + "~").encode()


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interchanges", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke test: 50 interchanges")
    args = parser.parse_args()
    if args.quick:
        args.interchanges, args.orders = 50, 10
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        ensure_schema(engine)
        seed(engine, args.orders, args.lines)

        def uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(engine)

        clock = lambda: NOW  # noqa: E731  (a fixed clock: the figures are about the work)
        bus = MessageBus(uow, handlers={}, clock=clock, registry=build_registry())
        inbox = Inbox(uow)
        ingest = X12Ingest(uow, inbox, bus, DeliveryQueue(), clock)
        documents = [
            interchange(n, args.orders, args.lines) for n in range(1, args.interchanges + 1)
        ]

        started = time.perf_counter()
        statuses = [
            ingest.receive(raw, interface="bench", source_system="bench").status
            for raw in documents
        ]
        ingest_seconds = time.perf_counter() - started

        started = time.perf_counter()
        for raw in documents:
            inbox.receive(raw, format="x12", interface="bare", source_system="bench",
                          received_at=NOW)  # fmt: skip
        bare_seconds = time.perf_counter() - started

        assert statuses.count(MessageStatus.PROCESSED) == args.interchanges, "not all processed"
        assert count(engine, "SELECT count(*) FROM invoices") == args.interchanges
        assert count(engine, "SELECT count(*) FROM invoice_lines") == args.interchanges * args.lines
        assert count(engine, "SELECT count(*) FROM deliveries") == args.interchanges
        engine.dispose()

    n, lines = args.interchanges, args.interchanges * args.lines
    print(f"{n} interchanges of one 810 with {args.lines} lines each, SQLite, one process")
    print(f"  ingest (store, apply, event, 997): {n / ingest_seconds:8.1f} interchanges/s "
          f"{lines / ingest_seconds:10.1f} invoice lines/s")  # fmt: skip
    print(f"  store only (inbox insert + commit): {n / bare_seconds:8.1f} interchanges/s "
          f"{lines / bare_seconds:10.1f} invoice lines/s")  # fmt: skip
    print(f"  ingest / store only: {bare_seconds / ingest_seconds:.2f}")


if __name__ == "__main__":
    main()
