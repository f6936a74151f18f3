"""The file ERP gateway on the real file system: control totals, whole files, no duplicate rows."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from suture.adapters.erp.file_gateway import (
    ControlTotals,
    ControlTotalsError,
    FileErpGateway,
    check_control_totals,
)
from suture.domain.deliveries import Delivery
from suture.domain.ledger import JournalEntry, JournalLine
from suture.services.deliveries import DeliveryRefusedError, DeliveryUnavailableError
from suture.services.erp import (
    ApVoucher,
    ApVoucherLine,
    ErpOrderLine,
    ErpPurchaseOrder,
    ErpReceipt,
    ErpReceiptLine,
    ErpTransport,
    ErpUnsupportedError,
    InvoiceMethod,
    purchase_order_json,
    receipt_json,
)
from suture.services.workflows.journal_file import journal_csv

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def journal(reference: str = "U1") -> JournalEntry:
    return JournalEntry(
        id=f"JE-{reference}",
        facility_id="FAC-1",
        posting_date=date(2025, 3, 1),
        reference=reference,
        lines=[
            JournalLine(
                gl_account_id="GL-5110", debit=Decimal("1250.00"), cost_center_id="CC-7010"
            ),
            JournalLine(gl_account_id="GL-5100", debit=Decimal("0.75"), cost_center_id="CC-7010"),
            JournalLine(gl_account_id="GL-2100", credit=Decimal("1250.75"), memo="accrued"),
        ],
    )


def delivery(operation: str, payload: str, key: str) -> Delivery:
    return Delivery.new(
        id="dlv-1", target="erp:file", operation=operation, payload=payload,
        idempotency_key=key, at=AT,
    )  # fmt: skip


def files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text("utf-8") for p in directory.rglob("*") if p.is_file()}


def test_journal_file_ends_with_control_totals_of_its_lines(tmp_path: Path) -> None:
    ErpTransport(FileErpGateway(tmp_path)).send(
        delivery("journal", journal_csv(journal()), "journal-JE-U1")
    )

    text = (tmp_path / "journal-JE-U1.csv").read_text("utf-8")
    assert text.splitlines()[-1] == "TRAILER,3,1250.75,1250.75"
    assert check_control_totals(text, debit_column="debit", credit_column="credit") == (
        ControlTotals(3, Decimal("1250.75"), Decimal("1250.75"))
    )
    assert text.splitlines()[1] == ("JE-U1,FAC-1,2025-03-01,U1,1,GL-5110,CC-7010,1250.00,0,")


def test_a_tampered_row_no_longer_matches_the_trailer(tmp_path: Path) -> None:
    FileErpGateway(tmp_path).send_journal(journal(), key="journal-JE-U1")
    text = (tmp_path / "journal-JE-U1.csv").read_text("utf-8").replace("1250.00", "1250.01")

    with pytest.raises(ControlTotalsError, match="trailer promises"):
        check_control_totals(text, debit_column="debit", credit_column="credit")


def test_a_file_cut_before_its_trailer_is_rejected(tmp_path: Path) -> None:
    FileErpGateway(tmp_path).send_journal(journal(), key="journal-JE-U1")
    text = (tmp_path / "journal-JE-U1.csv").read_text("utf-8")
    cut = "\n".join(text.splitlines()[:-1])

    with pytest.raises(ControlTotalsError, match="TRAILER"):
        check_control_totals(cut, debit_column="debit", credit_column="credit")


def test_redelivery_replaces_the_file_without_duplicate_rows(tmp_path: Path) -> None:
    transport = ErpTransport(FileErpGateway(tmp_path))
    sent = delivery("journal", journal_csv(journal()), "journal-JE-U1")

    transport.send(sent)
    first = files(tmp_path)
    transport.send(sent)

    assert files(tmp_path) == first
    assert len(first["journal-JE-U1.csv"].splitlines()) == 1 + 3 + 1  # header, lines, trailer


def test_files_are_written_whole_no_temporary_left(tmp_path: Path) -> None:
    gateway = FileErpGateway(tmp_path)
    for n in range(5):
        gateway.send_journal(journal(f"U{n}"), key=f"journal-JE-U{n}")

    assert sorted(os.listdir(tmp_path)) == [f"journal-JE-U{n}.csv" for n in range(5)]


def test_a_failed_write_leaves_no_file_and_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be", "utf-8")
    transport = ErpTransport(FileErpGateway(blocker))

    with pytest.raises(DeliveryUnavailableError, match=r"cannot write journal-JE-U1\.csv"):
        transport.send(delivery("journal", journal_csv(journal()), "journal-JE-U1"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outbox"]


def test_ap_voucher_file_totals_its_lines_freight_and_tax(tmp_path: Path) -> None:
    voucher = ApVoucher(
        voucher_id="APV-I1", invoice_id="I1", invoice_number="INV-9", supplier_id="SUP-1",
        facility_id="FAC-1", invoice_date=date(2025, 3, 2), purchase_order_number="PO-1",
        lines=(
            ApVoucherLine(line=1, kind="line", amount=Decimal("100.00"), po_line_number=1,
                          item_id="ITEM-1", quantity=Decimal(4), uom="EA",
                          unit_price=Decimal("25.00")),
            ApVoucherLine(line=2, kind="freight", amount=Decimal("9.50")),
            ApVoucherLine(line=3, kind="tax", amount=Decimal("0.50")),
        ),
    )  # fmt: skip

    FileErpGateway(tmp_path).send_ap_voucher(voucher, key="voucher-APV-I1")

    text = (tmp_path / "voucher-APV-I1.csv").read_text("utf-8")
    assert text.splitlines()[-1] == "TRAILER,3,110.00,110.00"
    assert check_control_totals(text, debit_column="amount").lines == 3


def test_purchase_order_file_from_its_json_payload(tmp_path: Path) -> None:
    order = ErpPurchaseOrder(
        number="PO-7", supplier_id="SUP-1", facility_id="FAC-1", order_date=date(2025, 3, 1),
        invoice_method=InvoiceMethod.ORDER,
        lines=(ErpOrderLine(line=1, item_id="ITEM-1", quantity=Decimal(2), uom="EA",
                            unit_price=Decimal("612.50"), cost_center_id="CC-7010"),),
    )  # fmt: skip

    ErpTransport(FileErpGateway(tmp_path)).send(
        delivery("purchase_order", purchase_order_json(order), "po-PO-7")
    )

    assert (tmp_path / "po-PO-7.csv").read_text("utf-8").splitlines() == [
        "po_number,supplier_id,facility_id,order_date,invoice_method,line,item_id,quantity,uom,"
        "unit_price,amount,cost_center_id",
        "PO-7,SUP-1,FAC-1,2025-03-01,order,1,ITEM-1,2,EA,612.50,1225.00,CC-7010",
        "TRAILER,1,1225.00,1225.00",
    ]


def test_receipt_file_lists_each_line_in_its_po_lines_unit(tmp_path: Path) -> None:
    receipt = ErpReceipt(
        receipt_id="R-1", purchase_order_number="PO-7", received_on=date(2025, 3, 2),
        lines=(ErpReceiptLine(line=1, item_id="ITEM-1", quantity=Decimal(2), uom="BX"),
               ErpReceiptLine(line=2, item_id="ITEM-2", quantity=Decimal("1.5"), uom="CS")),
    )  # fmt: skip

    ErpTransport(FileErpGateway(tmp_path)).send(
        delivery("receipt", receipt_json(receipt), "receipt-R-1")
    )

    assert (tmp_path / "receipt-R-1.csv").read_text("utf-8").splitlines() == [
        "receipt_id,purchase_order_number,received_on,line,item_id,quantity,uom",
        "R-1,PO-7,2025-03-02,1,ITEM-1,2,BX",
        "R-1,PO-7,2025-03-02,2,ITEM-2,1.5,CS",
        "TRAILER,2,3.5,3.5",
    ]


def test_an_unreadable_payload_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = journal_csv(journal()).replace("1250.00", "12,50")

    with pytest.raises(DeliveryRefusedError) as refused:
        ErpTransport(FileErpGateway(tmp_path)).send(delivery("journal", bad, "journal-JE-U1"))
    assert refused.value.field == "payload"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_operation_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeliveryRefusedError, match=r"no operation 'ap_batch\.export'"):
        ErpTransport(FileErpGateway(tmp_path)).send(delivery("ap_batch.export", "x", "k"))


def test_a_file_interface_cannot_read_the_supplier_master(tmp_path: Path) -> None:
    with pytest.raises(ErpUnsupportedError, match="suture masterdata import suppliers"):
        FileErpGateway(tmp_path).suppliers()
