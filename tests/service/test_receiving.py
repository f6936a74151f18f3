"""Receiving a ship notice at the dock: the receipt, stock in base units, the PO's status."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_x12_ingest import ASN_856
from typer.testing import CliRunner
from x12_world import (
    CENTRAL,
    FACILITY,
    NOW,
    OR1,
    Services,
    events,
    interchange,
    migrated,
    seed,
    services,
)

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.errors import DomainError
from suture.domain.exceptions import ExceptionType
from suture.domain.purchasing import ExpectedReceiptStatus, PurchaseOrderStatus
from suture.entrypoints.cli import app
from suture.eventlog.events import build_registry
from suture.services.erp import receipt_from_json
from suture.services.messagebus import MessageBus
from suture.services.receiving import Receiving, ReceivingError, UnknownExpectedReceiptError


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = migrated(f"sqlite:///{tmp_path / 'suture.db'}")
    seed(made)
    yield made
    made.dispose()


@pytest.fixture
def hub(engine: sa.Engine) -> Services:
    return services(engine)


@pytest.fixture
def asn(engine: sa.Engine, hub: Services) -> str:
    """The expected receipt of SHIP-77: 5 BX gauze (PO line 1), 3 serialised screws (line 2)."""
    hub.ingest.receive(
        interchange([("856", ASN_856)], functional_id="SH"), interface="t", source_system="van"
    )
    (noticed,) = events(engine, "purchasing.shipment.noticed")
    return str(noticed["expected_receipt_id"])


def stock(engine: sa.Engine, location: str, item: str) -> tuple[Decimal, Decimal]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        position = uow.stock.get(location, item)
    assert position is not None
    return position.on_hand, position.consigned_on_hand


def po_state(engine: sa.Engine) -> tuple[PurchaseOrderStatus, list[Decimal]]:
    with SqlAlchemyUnitOfWork(engine) as uow:
        po = uow.purchase_orders.by_number("PO-1001")
    assert po is not None
    return po.status, [line.received_quantity for line in po.lines]


def test_receiving_a_ship_notice_in_full_adds_stock_in_eaches_consigned_apart(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    receipt = hub.receiving.receive(asn)

    assert receipt.location_id == CENTRAL  # the facility's only central-supply location
    assert stock(engine, CENTRAL, "item-gauze") == (Decimal(50), Decimal(0))  # 5 BX of 10
    assert stock(engine, CENTRAL, "item-screw") == (Decimal(0), Decimal(3))  # consignment
    assert [(r.item_id, r.quantity, r.uom, r.po_line_number, r.serial) for r in receipt.lines] == [
        ("item-gauze", Decimal(5), "BX", 1, None),
        ("item-screw", Decimal(1), "EA", 2, "SER-1"),
        ("item-screw", Decimal(1), "EA", 2, "SER-2"),
        ("item-screw", Decimal(1), "EA", 2, "SER-3"),
    ]


def test_a_receipt_advances_the_po_to_partially_received_with_lines_still_open(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    hub.receiving.receive(asn)

    # lines 3 and 4 were not shipped
    assert po_state(engine) == (
        PurchaseOrderStatus.PARTIALLY_RECEIVED,
        [Decimal(5), Decimal(3), Decimal(0), Decimal(0)],
    )


def test_receiving_every_open_quantity_marks_the_po_received(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    rest = [
        "BSN*00*SHIP-78*20250303*1200", "HL*1**S", "HL*2*1*O", "PRF*PO-1001",
        "HL*3*2*I", "LIN*3*UK*00614141000012", "SN1**2*BX",
        "HL*4*2*I", "LIN*4*UK*00614141000029", "SN1**1*EA", "CTT*2",
    ]  # fmt: skip
    hub.ingest.receive(
        interchange([("856", rest)], functional_id="SH", control=906),
        interface="t", source_system="van",
    )  # fmt: skip
    second = str(events(engine, "purchasing.shipment.noticed")[1]["expected_receipt_id"])

    hub.receiving.receive(asn)
    hub.receiving.receive(second)

    assert po_state(engine) == (
        PurchaseOrderStatus.RECEIVED,
        [Decimal(5), Decimal(3), Decimal(2), Decimal(1)],
    )


def test_counted_quantities_per_line_override_the_notice_and_zero_is_not_received(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    receipt = hub.receiving.receive(asn, quantities={1: Decimal(4), 4: Decimal(0)}, location_id=OR1)

    assert [(r.item_id, r.quantity) for r in receipt.lines] == [
        ("item-gauze", Decimal(4)), ("item-screw", Decimal(1)), ("item-screw", Decimal(1)),
    ]  # fmt: skip
    assert stock(engine, OR1, "item-gauze") == (Decimal(40), Decimal(0))
    assert po_state(engine)[1] == [Decimal(4), Decimal(2), Decimal(0), Decimal(0)]


def test_the_receipt_recorded_event_carries_the_agreed_payload(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    receipt = hub.receiving.receive(asn)

    assert events(engine, "purchasing.receipt.recorded") == [
        {
            "receipt_id": receipt.id, "purchase_order_id": "po-PO-1001",
            "purchase_order_number": "PO-1001", "facility_id": FACILITY,
            "location_id": CENTRAL, "line_count": 4,
        }
    ]  # fmt: skip
    with SqlAlchemyUnitOfWork(engine) as uow:
        expected = uow.expected_receipts.get(asn)
        stored = uow.receipts.get(receipt.id)
    assert expected is not None
    assert (expected.status, expected.receipt_id) == (ExpectedReceiptStatus.RECEIVED, receipt.id)
    assert stored == receipt


def test_a_ship_notice_received_already_is_refused_and_stock_moves_once(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    hub.receiving.receive(asn)

    with pytest.raises(ReceivingError, match="SHIP-77 was received already"):
        hub.receiving.receive(asn)
    assert stock(engine, CENTRAL, "item-gauze") == (Decimal(50), Decimal(0))


def test_a_line_the_notice_does_not_have_is_refused_naming_it(hub: Services, asn: str) -> None:
    with pytest.raises(DomainError, match="ship notice SHIP-77 has no line 9"):
        hub.receiving.receive(asn, quantities={9: Decimal(1)})


def test_an_unknown_expected_receipt_is_refused(hub: Services) -> None:
    with pytest.raises(UnknownExpectedReceiptError, match="no expected receipt"):
        hub.receiving.receive("nope")


def test_suture_receive_confirms_a_notice_with_counted_lines(
    engine: sa.Engine, asn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))

    result = CliRunner().invoke(app, ["receive", "--asn", asn, "--line", "1=2", "--json"])

    assert result.exit_code == 0, result.output
    assert '"quantity": "2"' in result.output
    assert stock(engine, CENTRAL, "item-gauze") == (Decimal(20), Decimal(0))


def test_suture_receive_refuses_a_malformed_line_option(
    asn: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))

    result = CliRunner().invoke(app, ["receive", "--asn", asn, "--line", "two"])

    assert result.exit_code == 2
    assert "is not LINE=QUANTITY" in result.output


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (["1=2", "1=3"], "line 1 is given twice"),
        (["1=NaN"], "'1=NaN' is not LINE=QUANTITY"),
        (["1=Infinity"], "'1=Infinity' is not LINE=QUANTITY"),
    ],
)
def test_suture_receive_refuses_a_line_twice_or_a_quantity_that_is_no_number(
    asn: str, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, lines: list[str], reason: str
) -> None:
    """A second count of a line replaced the first; NaN crashed with a traceback."""
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    options = [part for line in lines for part in ("--line", line)]

    result = CliRunner().invoke(app, ["receive", "--asn", asn, *options])

    assert result.exit_code == 2
    assert reason in " ".join(result.output.split())
    assert stock_or_none(engine, CENTRAL, "item-gauze") is None


def stock_or_none(engine: sa.Engine, location: str, item: str) -> object:
    with SqlAlchemyUnitOfWork(engine) as uow:
        return uow.stock.get(location, item)


def test_with_an_erp_that_keeps_purchase_orders_each_receipt_is_queued_to_it(
    engine: sa.Engine, asn: str
) -> None:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    receiving = Receiving(uow, bus, lambda: NOW, erp_target="erp:tryton")
    receipt = receiving.receive(asn)

    with uow() as unit:
        (queued,) = unit.deliveries.list(target="erp:tryton")
        loaded = unit.deliveries.get(queued.id, with_payload=True)
    assert (queued.operation, queued.idempotency_key) == ("receipt", f"receipt-{receipt.id}")
    assert loaded is not None
    assert loaded.payload is not None
    sent = receipt_from_json(loaded.payload.decode())
    assert (sent.receipt_id, sent.purchase_order_number) == (receipt.id, "PO-1001")
    assert {line.line for line in sent.lines} == {1, 2}  # line 2: one line per serial


def test_without_an_erp_for_purchase_orders_nothing_is_queued(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    hub.receiving.receive(asn)
    with SqlAlchemyUnitOfWork(engine) as unit:
        assert unit.deliveries.list(target="erp:tryton") == []


def notice_in(engine: sa.Engine, hub: Services, uom: str, quantity: int) -> str:
    """A ship notice of PO-1001 line 1 (gauze, ordered in BX of 10 EA) counted in ``uom``."""
    lines = [
        "BSN*00*SHIP-79*20250303*1200", "HL*1**S", "HL*2*1*O", "PRF*PO-1001",
        "HL*3*2*I", "LIN*1*UK*00614141000012", f"SN1**{quantity}*{uom}", "CTT*1",
    ]  # fmt: skip
    hub.ingest.receive(
        interchange([("856", lines)], functional_id="SH", control=907),
        interface="t", source_system="van",
    )  # fmt: skip
    return str(events(engine, "purchasing.shipment.noticed")[-1]["expected_receipt_id"])


def erp_receiving(engine: sa.Engine) -> Receiving:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    return Receiving(uow, bus, lambda: NOW, erp_target="erp:tryton")


def test_eaches_counted_on_a_line_ordered_in_boxes_reach_the_erp_in_boxes(
    engine: sa.Engine, hub: Services
) -> None:
    notice = notice_in(engine, hub, "EA", 20)

    receipt = erp_receiving(engine).receive(notice)

    with SqlAlchemyUnitOfWork(engine) as unit:
        (queued,) = unit.deliveries.list(target="erp:tryton")
        loaded = unit.deliveries.get(queued.id, with_payload=True)
    assert loaded is not None
    assert loaded.payload is not None
    sent = receipt_from_json(loaded.payload.decode())
    assert [(r.quantity, r.uom) for r in receipt.lines] == [(Decimal(20), "EA")]  # as counted
    assert [(line.line, line.quantity, line.uom) for line in sent.lines] == [(1, Decimal(2), "BX")]
    assert po_state(engine)[1][0] == Decimal(2)


def test_a_unit_the_item_cannot_convert_refuses_the_receipt_naming_the_line_and_units(
    engine: sa.Engine, hub: Services
) -> None:
    notice = notice_in(engine, hub, "CS", 1)

    with pytest.raises(ReceivingError) as refused:
        erp_receiving(engine).receive(notice)

    assert refused.value.field == "lines[1].uom"
    assert refused.value.reason == (
        "line 1 of item 'item-gauze' was counted in 'CS', which cannot be converted to 'EA' "
        "(stock): unknown unit 'CS'; the item has EA, BX"
    )
    with SqlAlchemyUnitOfWork(engine) as unit:
        assert unit.deliveries.list(target="erp:tryton") == []


def open_items(engine: sa.Engine) -> list[tuple[ExceptionType, str | None, str]]:
    with SqlAlchemyUnitOfWork(engine) as unit:
        found = unit.exceptions.list(facility_id=FACILITY, limit=100)
    return [(i.type, i.correlation_id, i.reason) for i in found
            if i.type is ExceptionType.QUANTITY_VARIANCE]  # fmt: skip


def test_receiving_more_than_ordered_keeps_the_receipt_and_flags_an_over_receipt(
    engine: sa.Engine, hub: Services
) -> None:
    """70 EA of gauze counted on a line ordered as 5 BX of 10: 2 BX over."""
    notice = notice_in(engine, hub, "EA", 70)

    receipt = hub.receiving.receive(notice)

    assert stock(engine, CENTRAL, "item-gauze") == (Decimal(70), Decimal(0))
    assert po_state(engine)[1][0] == Decimal(7)
    assert open_items(engine) == [(
        ExceptionType.QUANTITY_VARIANCE, receipt.id,
        f"over-receipt: receipt {receipt.number} of PO PO-1001 received more than was open on "
        "the PO: line 1 (item-gauze): 7 BX received, 5 BX open (ordered 5, received before 0), "
        "2 BX over; the three-way match bills no more than ordered",
    )]  # fmt: skip


def test_receiving_more_than_remains_open_after_an_earlier_receipt_is_an_over_receipt(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    hub.receiving.receive(asn)  # 5 BX gauze: line 1 received in full
    assert open_items(engine) == []

    again = hub.receiving.receive(notice_in(engine, hub, "BX", 1))

    assert po_state(engine)[1][0] == Decimal(6)
    ((_, subject, reason),) = open_items(engine)
    assert (subject, "line 1 (item-gauze): 1 BX received, 0 BX open" in reason) == (again.id, True)


def test_receiving_no_more_than_is_open_flags_nothing(
    engine: sa.Engine, hub: Services, asn: str
) -> None:
    hub.receiving.receive(asn, quantities={1: Decimal(4)})

    assert open_items(engine) == []


def test_suture_receive_tells_the_dock_of_an_over_receipt(
    engine: sa.Engine, asn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))

    result = CliRunner().invoke(app, ["receive", "--asn", asn, "--line", "1=6"])

    assert result.exit_code == 0, result.output
    assert (
        "over-receipt: PO line 1 (item-gauze): 6 BX received, 5 BX open (ordered 5, "
        "received before 0), 1 BX over (a quantity_variance item is open)"
    ) in " ".join(result.output.split())
