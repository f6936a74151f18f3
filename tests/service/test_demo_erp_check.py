"""What ``suture demo --erp tryton`` flags when Tryton and Suture disagree
(``entrypoints/demo_erp_check.py``): the hub's ``erp:tryton`` deliveries on SQLite, Tryton a
scripted reader of ``search_read`` calls."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.erp.tryton_rpc import TrytonRpc
from suture.domain.ledger import JournalEntry, JournalLine
from suture.entrypoints.demo_erp_check import CostCenterCheck, DocumentCheck, check_erp
from suture.services.deliveries import DeliveryQueue
from suture.services.erp import ErpOrderLine, ErpPurchaseOrder, purchase_order_json
from suture.services.workflows import ap_voucher
from suture.services.workflows.journal_file import journal_csv

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


class ScriptedTryton:
    """Answers ``model.<model>.search_read`` with the rows given per model."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        self._rows = rows

    def call(self, method: str, *args: Any) -> Any:
        model = method.removeprefix("model.").removesuffix(".search_read")
        return self._rows.get(model, [])


def order(number: str, amount: str) -> str:
    line = ErpOrderLine(line=1, item_id="ITM-1", quantity=Decimal(2), uom="EA",
                        unit_price=Decimal(amount) / 2, cost_center_id="CC-1")  # fmt: skip
    return purchase_order_json(
        ErpPurchaseOrder(
            number=number,
            supplier_id="SUP-1",
            facility_id="FAC-1",
            order_date=date(2026, 3, 1),
            lines=(line,),
        )
    )


def voucher(number: str, amount: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ap_voucher.HEADER)
    writer.writerow(["APV-1", "INV-ID-1", number, "SUP-1", "FAC-1", "2026-03-02", "PO-1", "1",
                     "line", "1", "ITM-1", "2", "EA", amount, amount])  # fmt: skip
    return out.getvalue()


def journal(amount: str) -> str:
    entry = JournalEntry(
        id="JE-1", facility_id="FAC-1", posting_date=date(2026, 3, 1), reference="U-1",
        lines=[JournalLine(gl_account_id="GL-5100", debit=Decimal(amount), cost_center_id="CC-1"),
               JournalLine(gl_account_id="GL-1400", credit=Decimal(amount))],
    )  # fmt: skip
    return journal_csv(entry)


def test_every_disagreement_between_suture_and_tryton_is_flagged_by_its_key(
    uow: UowFactory,
) -> None:
    run = uuid.uuid4().hex[:8]
    target = f"erp:tryton{run}"
    sent = {
        ("purchase_order", f"po-A{run}"): (order(f"A{run}", "100.00"), True),
        ("purchase_order", f"po-B{run}"): (order(f"B{run}", "50.00"), True),
        ("ap_voucher", f"voucher-{run}"): (voucher(f"INV-{run}", "100.00"), True),
        ("receipt", f"receipt-{run}"): ('{"receipt_id": "R"}', False),
        ("journal", f"journal-{run}"): (journal("12.00"), True),
    }
    queue = DeliveryQueue()
    with uow() as unit:
        for (operation, key), (payload, _) in sent.items():
            queue.enqueue(unit, target=target, operation=operation, payload=payload,
                          idempotency_key=key, at=AT)  # fmt: skip
        unit.commit()
    with uow() as unit:  # the worker's part: claimed, then delivered or dead
        for claimed in unit.deliveries.claim_due(
            AT, limit=10, lease=timedelta(minutes=1), target=target
        ):
            if sent[(claimed.operation, claimed.idempotency_key)][1]:
                unit.deliveries.mark_delivered(claimed.id, at=AT)
            else:
                unit.deliveries.dead_letter(
                    claimed.id, attempt=1, error="Tryton has nothing left to receive", at=AT
                )
        unit.commit()
    tryton = ScriptedTryton({
        "purchase.purchase": [
            {"id": 1, "description": f"po-A{run}", "state": "processing",
             "untaxed_amount": Decimal("100.00")},
            {"id": 2, "description": f"po-B{run}", "state": "draft",
             "untaxed_amount": Decimal("50.00")},
        ],
        "account.invoice": [
            {"id": 3, "description": f"voucher-{run}", "state": "posted",
             "total_amount": Decimal("108.00")},
        ],
        "account.move": [{"id": 7, "description": f"journal-{run}", "state": "posted"}],
        "analytic_account.line": [
            {"account.": {"code": "CC-1"}, "debit": Decimal("10.00"), "credit": Decimal(0)},
        ],
    })  # fmt: skip

    found = check_erp(uow, cast("TrytonRpc", tryton), target=target)

    assert found.documents == (
        DocumentCheck("purchase_order", "purchases confirmed", 2, 2, 1),
        DocumentCheck("receipt", "shipments done", 1, 0, 0),
        DocumentCheck("ap_voucher", "supplier invoices posted", 1, 1, 0),
        DocumentCheck("journal", "cost journals posted", 1, 1, 1),
    )
    assert found.cost_centers == (CostCenterCheck("CC-1", Decimal("12.00"), Decimal("10.00")),)
    assert found.differences == (
        f"purchase_order po-B{run}: Tryton shows it draft",
        f"receipt receipt-{run}: not in Tryton, the delivery is dead: Tryton has nothing left "
        "to receive",
        f"ap_voucher voucher-{run}: Suture sent 100.00, Tryton shows 108.00",
        "cost center CC-1: Suture sent 12.00 of journal lines, Tryton's analytic lines show 10.00",
    )
