"""X12 ingest on a real SQLite unit of work: store, read, apply 855/856/810, queue a 997.

What the service decides for each document type, duplicates, unknown senders and bad input;
the edges (System API, CLI, drop folder) have tests of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner
from x12_world import (
    FACILITY,
    NOW,
    OUR_ISA,
    SUPPLIER,
    SUPPLIER_ISA,
    Services,
    events,
    interchange,
    migrated,
    seed,
    services,
)

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.invoicing import InvoiceLine
from suture.domain.messages import MessageStatus
from suture.domain.purchasing import LineAcknowledgment, PurchaseOrderStatus
from suture.entrypoints.cli import app
from suture.formats.x12 import read_interchange

ACK_855 = [
    "BAK*00*AC*PO-1001*20250227",
    "PO1*1*5*BX*12.50**IN*item-gauze",
    "ACK*IA*5*BX",
    "PO1*2*3*EA*250.00**VP*ACME-S45",
    "ACK*IB*3*EA*068*20250315",
    "PO1*3*2*BX*12.50**IN*item-gauze",
    "ACK*IR*2*BX",
    "PO1*4*1*EA*250.00**VP*ACME-S45",
    "ACK*IP*1*EA",
    "CTP**PUR*262.75",
    "CTT*4",
]
ASN_856 = [
    "BSN*00*SHIP-77*20250302*1200",
    "HL*1**S",
    "HL*2*1*O",
    "PRF*PO-1001",
    "HL*3*2*I",
    "LIN*1*UK*00614141000012",
    "SN1**5*BX",
    "HL*4*2*I",
    "LIN*2*VP*ACME-S45*LT*LOT9",
    "SN1**3*EA",
    "REF*SE*SER-1",
    "REF*SE*SER-2",
    "REF*SE*SER-3",
    "DTM*036*20270101",
    "CTT*4",
]
INVOICE_810 = [
    "BIG*20250305*INV-501**PO-1001",
    "IT1*1*5*BX*12.50**IN*item-gauze",
    "IT1*2*3*EA*250.00**VP*ACME-S45",
    "TDS*81250",
    "CTT*2",
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = migrated(f"sqlite:///{tmp_path / 'suture.db'}")
    seed(made)
    yield made
    made.dispose()


@pytest.fixture
def hub(engine: sa.Engine) -> Services:
    return services(engine)


def receive(hub: Services, raw: bytes, interface: str = "x12-test"):  # type: ignore[no-untyped-def]
    return hub.ingest.receive(raw, interface=interface, source_system="acme-van")


def exceptions(engine: sa.Engine, kind: ExceptionType) -> list[str]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        items = uow.exceptions.list(type=kind, statuses={ExceptionStatus.OPEN})
    return [item.reason for item in items]


def acknowledgments(engine: sa.Engine) -> list[bytes]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        listed = uow.deliveries.list(target=f"x12:{SUPPLIER}")
        return [uow.deliveries.get(d.id, with_payload=True).payload or b"" for d in listed]  # type: ignore[union-attr]


def test_855_updates_each_po_line_and_the_po_becomes_acknowledged(
    engine: sa.Engine, hub: Services
) -> None:
    reply = receive(hub, interchange([("855", ACK_855)]))

    assert (reply.status, reply.reason, reply.supplier_id) == (
        MessageStatus.PROCESSED, None, SUPPLIER,
    )  # fmt: skip
    with SqlAlchemyUnitOfWork(engine) as uow:
        po = uow.purchase_orders.by_number("PO-1001")
    assert po is not None
    assert po.status is PurchaseOrderStatus.ACKNOWLEDGED
    assert [
        (line.acknowledgment, line.acknowledged_unit_price, line.expected_date) for line in po.lines
    ] == [
        (LineAcknowledgment.ACCEPTED, Decimal("12.50"), None),
        (LineAcknowledgment.BACKORDERED, Decimal("250.00"), NOW.date().replace(day=15)),
        (LineAcknowledgment.REJECTED, Decimal("12.50"), None),
        (LineAcknowledgment.PRICE_CHANGED, Decimal("262.75"), None),
    ]
    assert events(engine, "purchasing.order.acknowledged") == [
        {
            "purchase_order_id": "po-PO-1001", "purchase_order_number": "PO-1001",
            "facility_id": FACILITY, "supplier_id": SUPPLIER, "accepted_lines": 1,
            "changed_lines": 1, "backordered_lines": 1, "rejected_lines": 1,
        }
    ]  # fmt: skip


def test_855_rejected_and_repriced_lines_open_discrepancies_with_po_line_and_amounts(
    engine: sa.Engine, hub: Services
) -> None:
    receive(hub, interchange([("855", ACK_855)]))

    assert sorted(exceptions(engine, ExceptionType.PO_ACKNOWLEDGMENT_DISCREPANCY)) == [
        "PO PO-1001 line 3: rejected (ordered 2 at 12.50)",
        "PO PO-1001 line 4: price_changed: unit price 250.00 -> 262.75",
    ]


def test_every_group_gets_a_997_queued_to_the_supplier_that_decodes_as_accepted(
    engine: sa.Engine, hub: Services
) -> None:
    reply = receive(hub, interchange([("855", ACK_855)]))

    assert reply.acknowledgments == 1
    (payload,) = acknowledgments(engine)
    ack = read_interchange(payload)
    assert (ack.sender_id.strip(), ack.receiver_id.strip()) == (OUR_ISA, SUPPLIER_ISA)
    (group,) = ack.groups
    (transaction_set,) = group.transaction_sets
    segments = {s.id: s.elements for s in transaction_set.body}
    assert (group.functional_id, transaction_set.id) == ("FA", "997")
    assert segments["AK1"] == ["AK1", "PR", "905"]
    assert segments["AK9"] == ["AK9", "A", "1", "1", "1"]


def test_a_set_that_does_not_decode_is_rejected_in_the_997_and_fails_the_message_while_the_others_apply(  # noqa: E501
    engine: sa.Engine, hub: Services
) -> None:
    broken = ["BAK*00*AC"]  # BAK03, the PO number, is required
    reply = receive(hub, interchange([("855", ACK_855), ("855", broken)]))

    assert reply.status is MessageStatus.FAILED
    assert reply.reason == (
        "ST 0002 (855): segment 17 (BAK), BAK03: purchase order number is required"
    )
    (payload,) = acknowledgments(engine)
    segments = [s.elements for s in read_interchange(payload).groups[0].transaction_sets[0].body]
    assert [e for e in segments if e[0] in ("AK2", "AK5", "AK9")] == [
        ["AK2", "855", "0001"], ["AK5", "A"],
        ["AK2", "855", "0002"], ["AK5", "R", "5"],
        ["AK9", "P", "2", "2", "1"],
    ]  # fmt: skip
    assert exceptions(engine, ExceptionType.MALFORMED_MESSAGE) == [f"X12: {reply.reason}"]
    assert len(events(engine, "purchasing.order.acknowledged")) == 1


def test_856_creates_an_expected_receipt_with_items_lots_serials_and_expiry(
    engine: sa.Engine, hub: Services
) -> None:
    reply = receive(hub, interchange([("856", ASN_856)], functional_id="SH"))

    assert reply.status is MessageStatus.PROCESSED
    (noticed,) = events(engine, "purchasing.shipment.noticed")
    with SqlAlchemyUnitOfWork(engine) as uow:
        expected = uow.expected_receipts.get(str(noticed["expected_receipt_id"]))
    assert expected is not None
    assert (expected.number, expected.purchase_order_number, expected.facility_id) == (
        "SHIP-77", "PO-1001", FACILITY,
    )  # fmt: skip
    assert [
        (e.item_id, e.quantity, e.uom, e.po_line_number, e.lot, e.serial, str(e.expiry))
        for e in expected.lines
    ] == [
        ("item-gauze", Decimal(5), "BX", 1, None, None, "None"),
        ("item-screw", Decimal(1), "EA", 2, "LOT9", "SER-1", "2027-01-01"),
        ("item-screw", Decimal(1), "EA", 2, "LOT9", "SER-2", "2027-01-01"),
        ("item-screw", Decimal(1), "EA", 2, "LOT9", "SER-3", "2027-01-01"),
    ]  # fmt: skip
    assert noticed["line_count"] == 4


def test_856_for_a_po_the_hub_does_not_know_opens_not_on_po(
    engine: sa.Engine, hub: Services
) -> None:
    body = [s.replace("PRF*PO-1001", "PRF*PO-9999") for s in ASN_856]
    reply = receive(hub, interchange([("856", body)], functional_id="SH"))

    assert reply.status is MessageStatus.PROCESSED
    assert exceptions(engine, ExceptionType.NOT_ON_PO) == [
        f"ship notice from supplier {SUPPLIER}: PO PO-9999 (PRF01) is not known"
    ]
    assert events(engine, "purchasing.shipment.noticed") == []


def test_856_item_the_hub_cannot_identify_opens_missing_item_mapping(
    engine: sa.Engine, hub: Services
) -> None:
    body = [s.replace("LIN*1*UK*00614141000012", "LIN*9*VP*NO-SUCH") for s in ASN_856]
    receive(hub, interchange([("856", body)], functional_id="SH"))

    assert exceptions(engine, ExceptionType.MISSING_ITEM_MAPPING) == [
        f"ship notice for PO PO-1001: no item is known for VP NO-SUCH of supplier {SUPPLIER}"
    ]
    assert events(engine, "purchasing.shipment.noticed")[0]["line_count"] == 3


def test_810_is_stored_as_an_invoice_matched_to_its_po_with_the_received_event(
    engine: sa.Engine, hub: Services
) -> None:
    reply = receive(hub, interchange([("810", INVOICE_810)], functional_id="IN"))

    assert reply.status is MessageStatus.PROCESSED
    (received,) = events(engine, "purchasing.invoice.received")
    with SqlAlchemyUnitOfWork(engine) as uow:
        invoice = uow.invoices.get(str(received["invoice_id"]))
    assert invoice is not None
    assert received == {
        "invoice_id": invoice.id, "invoice_number": "INV-501", "supplier_id": SUPPLIER,
        "facility_id": FACILITY, "purchase_order_number": "PO-1001", "amount": "812.50",
    }  # fmt: skip
    assert invoice.lines == [
        InvoiceLine(line_number=1, item_id="item-gauze", quantity=Decimal(5), uom="BX",
                    unit_price=Decimal("12.50"), po_line_number=1),
        InvoiceLine(line_number=2, item_id="item-screw", quantity=Decimal(3), uom="EA",
                    unit_price=Decimal("250.00"), po_line_number=2,
                    supplier_part_number="ACME-S45"),
    ]  # fmt: skip


def test_810_with_no_known_po_and_no_facility_fails_naming_big04(
    engine: sa.Engine, hub: Services
) -> None:
    body = [s.replace("PO-1001", "PO-4040") for s in INVOICE_810]
    reply = receive(hub, interchange([("810", body)], functional_id="IN"))

    assert reply.status is MessageStatus.FAILED
    assert reply.reason == (
        "ST 0001 (810): BIG04: invoice INV-501: PO PO-4040 is not known and no N1*ST, BT or BY "
        "names a facility"
    )
    assert events(engine, "purchasing.invoice.received") == []


def test_810_with_no_known_po_takes_the_edge_facility_by_code_and_refuses_an_unknown_one(
    engine: sa.Engine, hub: Services
) -> None:
    body = [s.replace("PO-1001", "PO-4040") for s in INVOICE_810]
    raw = interchange([("810", body)], functional_id="IN")

    unknown = hub.ingest.receive(raw, interface="x12-test", source_system="acme-van",
                                 facility_id="fac-typo")  # fmt: skip
    by_code = hub.ingest.receive(raw, interface="x12-test-2", source_system="acme-van",
                                 facility_id="GH")  # fmt: skip

    assert (unknown.status, unknown.reason) == (
        MessageStatus.FAILED,
        "ST 0001 (810): BIG04: invoice INV-501: PO PO-4040 is not known, no N1*ST, BT or BY "
        "names a facility, and the facility the message came with, 'fac-typo', is no "
        "facility's id or code",
    )
    assert by_code.status is MessageStatus.PROCESSED
    [received] = events(engine, "purchasing.invoice.received")
    assert received["facility_id"] == FACILITY


def test_the_same_interchange_sent_again_with_other_bytes_is_recognised_and_not_applied_twice(
    engine: sa.Engine, hub: Services
) -> None:
    first = receive(hub, interchange([("810", INVOICE_810)], functional_id="IN"))
    again = receive(
        hub, interchange([("810", INVOICE_810)], functional_id="IN", stamp="250302*0800")
    )

    assert (again.is_duplicate, again.status) == (True, MessageStatus.PROCESSED)
    assert again.message_id != first.message_id
    assert again.reason == (
        f"interchange 000000905 from ZZ:{SUPPLIER_ISA} was applied by message "
        f"{first.message_id}; not applied again"
    )
    assert len(events(engine, "purchasing.invoice.received")) == 1
    assert len(acknowledgments(engine)) == 1


def test_the_same_bytes_sent_again_are_an_inbox_duplicate_answered_with_the_stored_outcome(
    engine: sa.Engine, hub: Services
) -> None:
    raw = interchange([("855", ACK_855)])
    first = receive(hub, raw)
    again = receive(hub, raw)

    assert (again.message_id, again.is_duplicate, again.status) == (
        first.message_id, True, MessageStatus.PROCESSED,
    )  # fmt: skip
    assert len(events(engine, "purchasing.order.acknowledged")) == 1


def test_an_unknown_sender_is_parked_on_unknown_supplier_and_nothing_is_applied(
    engine: sa.Engine, hub: Services
) -> None:
    reply = receive(hub, interchange([("855", ACK_855)], sender="STRANGER"))

    assert reply.status is MessageStatus.PARKED
    assert exceptions(engine, ExceptionType.UNKNOWN_SUPPLIER) == [
        "unknown sender: ISA06 'STRANGER' (qualifier ZZ) is no supplier's crosswalk code, GLN, "
        "ERP vendor id or id"
    ]
    with SqlAlchemyUnitOfWork(engine) as uow:
        (item,) = uow.exceptions.list(type=ExceptionType.UNKNOWN_SUPPLIER)
    assert item.dependency == "supplier:x12/*/supplier/STRANGER"
    assert events(engine, "purchasing.order.acknowledged") == []
    assert acknowledgments(engine) == []


def test_a_parked_interchange_applies_once_its_sender_is_known_and_it_is_retried(
    engine: sa.Engine, hub: Services
) -> None:
    parked = receive(hub, interchange([("855", ACK_855)], sender="V-ACME2"))
    with SqlAlchemyUnitOfWork(engine) as uow:
        supplier = uow.suppliers.get(SUPPLIER)
        assert supplier is not None
        supplier.erp_vendor_id = "V-ACME2"
        uow.suppliers.add(supplier)
        uow.commit()

    retried = hub.ingest.retry(parked.message_id)

    assert (retried.status, retried.supplier_id) == (MessageStatus.PROCESSED, SUPPLIER)
    assert len(events(engine, "purchasing.order.acknowledged")) == 1


def test_a_parked_810_is_received_when_it_arrived_not_when_it_was_retried(
    engine: sa.Engine,
) -> None:
    """The invoice cycle time KPI runs from the invoice's ``purchasing.invoice.received``: an
    810 parked three days on an unknown sender was received when it arrived."""
    clock = [NOW]
    hub = services(engine, lambda: clock[0])
    parked = receive(hub, interchange([("810", INVOICE_810)], functional_id="IN",
                                      sender="V-ACME2"))  # fmt: skip
    clock[0] = NOW + timedelta(days=3)
    with SqlAlchemyUnitOfWork(engine) as uow:
        supplier = uow.suppliers.get(SUPPLIER)
        assert supplier is not None
        supplier.erp_vendor_id = "V-ACME2"
        uow.suppliers.add(supplier)
        uow.commit()

    hub.ingest.retry(parked.message_id)

    with SqlAlchemyUnitOfWork(engine) as uow:
        (received,) = [
            e for e in uow.events.by_correlation_id("PO-1001")
            if e.type == "purchasing.invoice.received"
        ]  # fmt: skip
    assert received.occurred_at == NOW


def test_an_unreadable_interchange_fails_naming_the_segment_element_and_reason(
    engine: sa.Engine, hub: Services
) -> None:
    raw = interchange([("855", ACK_855)]).replace(b"IEA*1*000000905", b"IEA*2*000000905")
    reply = receive(hub, raw)

    assert reply.status is MessageStatus.FAILED
    assert reply.reason is not None
    assert "(IEA), IEA01" in reply.reason
    assert exceptions(engine, ExceptionType.MALFORMED_MESSAGE) == [f"X12: {reply.reason}"]
    with SqlAlchemyUnitOfWork(engine) as uow:
        stored = uow.inbox.get(reply.message_id, with_raw=True)
    assert stored is not None
    assert stored.raw == raw


@pytest.mark.parametrize(
    ("set_id", "functional_id", "body", "old", "new", "where"),
    [
        ("810", "IN", INVOICE_810, "*12.50*", "*1.23456*", "segment 5 (IT1), IT104: '1.23456'"),
        ("855", "PR", ACK_855, "PO1*1*5*", "PO1*1*5.00001*", "segment 5 (PO1), PO102: '5.00001'"),
        ("856", "SH", ASN_856, "SN1**5*", "SN1**5.123456*", "segment 10 (SN1), SN102: '5.123456'"),
    ],
)
def test_a_price_or_quantity_with_more_than_4_decimal_places_fails_the_set_naming_the_element(  # noqa: PLR0917  (fixtures and parameters)
    engine: sa.Engine,
    hub: Services,
    set_id: str,
    functional_id: str,
    body: list[str],
    old: str,
    new: str,
    where: str,
) -> None:
    raw = interchange(
        [(set_id, [s.replace(old, new, 1) for s in body])], functional_id=functional_id
    )

    reply = receive(hub, raw)

    assert (reply.status, reply.reason) == (
        MessageStatus.FAILED, f"ST 0001 ({set_id}): {where} has more than 4 decimal places",
    )  # fmt: skip
    assert exceptions(engine, ExceptionType.MALFORMED_MESSAGE) == [f"X12: {reply.reason}"]
    with SqlAlchemyUnitOfWork(engine) as uow:
        stored = uow.inbox.get(reply.message_id, with_raw=True)
    assert stored is not None
    assert stored.raw == raw
    (payload,) = acknowledgments(engine)
    segments = [s.elements for s in read_interchange(payload).groups[0].transaction_sets[0].body]
    element = where.split(", ")[1].split(":", maxsplit=1)[0]
    assert [e for e in segments if e[0] in ("AK4", "AK5")] == [
        ["AK4", str(int(element[-2:])), "", "5"], ["AK5", "R", "5"],
    ]  # fmt: skip


def test_an_850_is_read_but_not_applied_and_its_message_fails_with_the_reason(
    engine: sa.Engine, hub: Services
) -> None:
    order = ["BEG*00*SA*PO-7**20250301", "PO1*1*1*EA*1.00**IN*item-gauze", "CTT*1"]
    reply = receive(hub, interchange([("850", order)], functional_id="PO"))

    assert reply.status is MessageStatus.FAILED
    assert reply.reason == (
        "ST 0001 (850): segment 3 (ST), ST01: transaction set 850 is read but not applied by "
        "this interface (only 810, 855, 856 are)"
    )


def test_an_interchange_whose_first_message_failed_is_applied_when_sent_again(
    engine: sa.Engine, hub: Services
) -> None:
    body = [s.replace("PO-1001", "PO-4040") for s in INVOICE_810]
    failed = receive(hub, interchange([("810", body)], functional_id="IN"))
    with SqlAlchemyUnitOfWork(engine) as uow:
        po = uow.purchase_orders.by_number("PO-1001")
        assert po is not None
        po.id, po.number = "po-PO-4040", "PO-4040"
        uow.purchase_orders.add(po)
        uow.commit()

    again = receive(hub, interchange([("810", body)], functional_id="IN", stamp="250302*0800"))
    third = receive(hub, interchange([("810", body)], functional_id="IN", stamp="250303*0800"))

    assert failed.status is MessageStatus.FAILED
    assert (again.status, again.reason) == (MessageStatus.PROCESSED, None)
    assert third.reason is not None
    assert third.reason.endswith(f"applied by message {again.message_id}; not applied again")
    assert len(events(engine, "purchasing.invoice.received")) == 1


def test_suture_ingest_x12_applies_each_file_and_exits_1_when_one_failed(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))
    good, bad = tmp_path / "ack.edi", tmp_path / "bad.edi"
    good.write_bytes(interchange([("855", ACK_855)]))
    bad.write_bytes(b"ISA*00*not an interchange~")

    result = CliRunner().invoke(app, ["ingest", "x12", str(good), str(bad)])

    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "ack.edi: processed, 1 997 queued"
    assert lines[1].startswith("bad.edi: failed, 0 997 queued: segment 1 (ISA)")
    assert len(events(engine, "purchasing.order.acknowledged")) == 1


def test_suture_ingest_x12_fails_an_empty_file_without_a_traceback_and_goes_on(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))
    empty, good = tmp_path / "empty.edi", tmp_path / "ack.edi"
    empty.write_bytes(b"")
    good.write_bytes(interchange([("855", ACK_855)]))

    result = CliRunner().invoke(app, ["ingest", "x12", str(empty), str(good)])

    assert (result.exit_code, result.output.splitlines()) == (
        1,
        [
            "empty.edi: failed, 0 997 queued: the file is empty; nothing was stored",
            "ack.edi: processed, 1 997 queued",
        ],
    )
    assert len(events(engine, "purchasing.order.acknowledged")) == 1


def test_suture_ingest_x12_applies_each_interchange_of_a_file_that_holds_several(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))
    mailbox = tmp_path / "van.edi"  # as a VAN mailbox writes them, one after another
    mailbox.write_bytes(
        interchange([("855", ACK_855)]) + b"\r\n"
        + interchange([("810", INVOICE_810)], functional_id="IN", control=906)
    )  # fmt: skip

    result = CliRunner().invoke(app, ["ingest", "x12", str(mailbox)])

    assert (result.exit_code, result.output.splitlines()) == (
        0,
        [
            "van.edi, interchange 1 of 2: processed, 1 997 queued",
            "van.edi, interchange 2 of 2: processed, 1 997 queued",
        ],
    )
    assert len(events(engine, "purchasing.order.acknowledged")) == 1
    assert len(events(engine, "purchasing.invoice.received")) == 1


def test_suture_ingest_x12_json_prints_one_json_object_a_line_per_file(
    engine: sa.Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))
    good, bad = tmp_path / "ack.edi", tmp_path / "bad.edi"
    good.write_bytes(interchange([("855", ACK_855)]))
    bad.write_bytes(b"ISA*00*not an interchange~")

    result = CliRunner().invoke(app, ["ingest", "x12", "--json", str(good), str(bad)])

    outcomes = [json.loads(line) for line in result.output.splitlines()]
    assert [(o["file"], o["interchange"], o["status"], o["acknowledgments"]) for o in outcomes] == [
        ("ack.edi", 1, "processed", 1),
        ("bad.edi", 1, "failed", 0),
    ]
    assert outcomes[1]["reason"].startswith("segment 1 (ISA)")
