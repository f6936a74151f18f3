"""The file ERP gateway: interface files for ERPs that load batches (the embedded default).

One file per batch (one journal entry, one AP voucher, one purchase order), named after the
delivery's idempotency key, in one outbox folder: ``journal-JE-….csv``, ``voucher-APV-….csv``,
``po-….csv``, receipts. Each file is CSV with a header row, one row per line, and a control-totals
trailer as its last row, which the ERP's loader checks before it posts anything::

    TRAILER,<line count>,<debit total>,<credit total>

For a journal the totals are its debits and credits (equal: entries are balanced); for an AP
voucher and a purchase order, the debit total is the sum of the lines (expense) and the credit
total the payable, the same sum. Amounts are plain decimals, never floats or exponents.

Files are written whole or not at all (``file_drop.write_atomically``: a hidden temporary file,
then a rename), so a loader that skips names starting with ``.`` never reads a partial file. A
re-delivery (at least once, ``services/deliveries.py``) writes the same name again and replaces
the file, so the ERP never loads a batch's rows twice.

A file interface cannot be read back: the supplier master reaches Suture as an import
(``suture masterdata import suppliers``), so :meth:`FileErpGateway.suppliers`,
:meth:`FileErpGateway.payment_status` and :meth:`FileErpGateway.known_records` raise
:class:`~suture.services.erp.ErpUnsupportedError`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from suture.adapters.file_drop import file_name, write_atomically
from suture.domain.ledger import JournalEntry
from suture.services.erp import (
    ApVoucher,
    ErpPurchaseOrder,
    ErpReceipt,
    ErpRecord,
    ErpSupplier,
    ErpUnavailableError,
    ErpUnsupportedError,
    PaymentStatus,
)
from suture.services.workflows import ap_voucher as voucher_file
from suture.services.workflows import journal_file

TRAILER = "TRAILER"

RECEIPT_HEADER = (
    "receipt_id",
    "purchase_order_number",
    "received_on",
    "line",
    "item_id",
    "quantity",
    "uom",
)
PURCHASE_ORDER_HEADER = (
    "po_number", "supplier_id", "facility_id", "order_date", "invoice_method", "line", "item_id",
    "quantity", "uom", "unit_price", "amount", "cost_center_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ControlTotals:
    """What a file's trailer promises: how many lines, and the debit and credit totals."""

    lines: int
    debit: Decimal
    credit: Decimal


class ControlTotalsError(ValueError):
    """A file's trailer is missing or does not match its rows (the loader must reject it)."""


class FileErpGateway:
    """Writes each ERP document as one CSV interface file with a control-totals trailer."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)

    def path_for(self, key: str) -> Path:
        return self._directory / f"{file_name(key)}.csv"

    def send_journal(self, entry: JournalEntry, *, key: str) -> str:
        rows = [
            (
                entry.id, entry.facility_id, entry.posting_date.isoformat(), entry.reference,
                number, line.gl_account_id, line.cost_center_id or "", f"{line.debit:f}",
                f"{line.credit:f}", line.memo,
            )
            for number, line in enumerate(entry.lines, start=1)
        ]  # fmt: skip
        debit = sum((line.debit for line in entry.lines), Decimal(0))
        credit = sum((line.credit for line in entry.lines), Decimal(0))
        return self._write(key, journal_file.HEADER, rows, ControlTotals(len(rows), debit, credit))

    def send_ap_voucher(self, voucher: ApVoucher, *, key: str) -> str:
        head = (
            voucher.voucher_id, voucher.invoice_id, voucher.invoice_number, voucher.supplier_id,
            voucher.facility_id, voucher.invoice_date.isoformat(),
            voucher.purchase_order_number or "",
        )  # fmt: skip
        rows = [
            (
                *head, line.line, line.kind, _text(line.po_line_number), line.item_id or "",
                _text(line.quantity), line.uom or "", _text(line.unit_price), f"{line.amount:f}",
            )
            for line in voucher.lines
        ]  # fmt: skip
        total = voucher.total
        return self._write(key, voucher_file.HEADER, rows, ControlTotals(len(rows), total, total))

    def send_purchase_order(self, order: ErpPurchaseOrder, *, key: str) -> str:
        rows = [
            (
                order.number, order.supplier_id, order.facility_id, order.order_date.isoformat(),
                order.invoice_method.value, line.line, line.item_id, f"{line.quantity:f}",
                line.uom, f"{line.unit_price:f}", f"{line.quantity * line.unit_price:f}",
                line.cost_center_id or "",
            )
            for line in order.lines
        ]  # fmt: skip
        total = order.total
        return self._write(key, PURCHASE_ORDER_HEADER, rows, ControlTotals(len(rows), total, total))

    def send_receipt(self, receipt: ErpReceipt, *, key: str) -> str:
        rows = [
            (
                receipt.receipt_id, receipt.purchase_order_number,
                receipt.received_on.isoformat(), line.line, line.item_id, f"{line.quantity:f}",
                line.uom,
            )
            for line in receipt.lines
        ]  # fmt: skip
        quantity = sum((line.quantity for line in receipt.lines), Decimal(0))
        totals = ControlTotals(len(rows), quantity, quantity)
        return self._write(key, RECEIPT_HEADER, rows, totals)

    def suppliers(self) -> list[ErpSupplier]:
        raise ErpUnsupportedError(
            "operation",
            "a file ERP sends its supplier master as a file: suture masterdata import suppliers",
        )

    def payment_status(self, invoice_number: str, supplier_id: str) -> PaymentStatus:
        raise ErpUnsupportedError("operation", "a file ERP interface cannot be read back")

    def known_records(self, kind: ErpRecord, record_ids: Collection[str]) -> set[str]:
        raise ErpUnsupportedError("operation", "a file ERP interface cannot be read back")

    def _write(
        self,
        key: str,
        header: Sequence[str],
        rows: Iterable[Sequence[object]],
        totals: ControlTotals,
    ) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow((TRAILER, totals.lines, f"{totals.debit:f}", f"{totals.credit:f}"))
        path = self.path_for(key)
        try:
            write_atomically(path, out.getvalue().encode("utf-8"))
        except OSError as exc:
            raise ErpUnavailableError(
                "directory",
                f"cannot write {path.name} to {path.parent}: {exc.strerror or type(exc).__name__}",
            ) from exc
        return path.name


def check_control_totals(
    text: str, *, debit_column: str, credit_column: str | None = None
) -> ControlTotals:
    """Check a file as a loader would: the trailer is last and matches the rows above it.

    ``debit_column`` (and ``credit_column``, default the same) name the amounts summed; raises
    :class:`ControlTotalsError` naming what disagrees.
    """
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2 or rows[-1][:1] != [TRAILER] or len(rows[-1]) != 4:
        raise ControlTotalsError("the last row is not a TRAILER with line count and totals")
    header, lines, trailer = rows[0], rows[1:-1], rows[-1]
    promised = ControlTotals(int(trailer[1]), Decimal(trailer[2]), Decimal(trailer[3]))
    debit_at = header.index(debit_column)
    credit_at = header.index(credit_column or debit_column)
    found = ControlTotals(
        len(lines),
        sum((Decimal(row[debit_at]) for row in lines), Decimal(0)),
        sum((Decimal(row[credit_at]) for row in lines), Decimal(0)),
    )
    if found != promised:
        raise ControlTotalsError(f"the trailer promises {promised}, the rows hold {found}")
    return found


def _text(value: object | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)
