"""The scripted test supplier answers an 850 with the documents its scenario plants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from suture.domain.errors import DomainError
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderKind, PurchaseOrderLine
from suture.formats.x12 import (
    ControlNumbers,
    Invoice810,
    PurchaseOrderAcknowledgment855,
    ShipNotice856,
    TradingPartnerProfile,
    decode_document,
    write_850,
)
from suture.services.supplier_simulator import (
    ControlCounter,
    Reply,
    Scenario,
    ScenarioPlan,
    SupplierSimulator,
)

HUB = TradingPartnerProfile(
    sender_qualifier="ZZ", sender_id="SUTURE", receiver_qualifier="01", receiver_id="MEDLINE",
    usage_indicator="T",
)  # fmt: skip
RECEIVED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _po(number: str = "PO-1") -> PurchaseOrder:
    return PurchaseOrder(
        id=number, number=number, facility_id="fac-1", supplier_id="sup-1",
        order_date=date(2026, 11, 2),
        lines=[
            PurchaseOrderLine(line_number=1, item_id="ITEM-1", quantity=Decimal(10), uom="BX",
                              unit_price=Decimal("42.50")),
            PurchaseOrderLine(line_number=2, item_id="ITEM-2", quantity=Decimal(2), uom="EA",
                              unit_price=Decimal("900.00")),
        ],
    )  # fmt: skip


def _answer(scenario: Scenario, po: PurchaseOrder | None = None) -> list[Reply]:
    raw = write_850(po or _po(), HUB, ControlNumbers(interchange=1, group=1), RECEIVED)
    return SupplierSimulator(ScenarioPlan(default=scenario)).answer(raw, RECEIVED)


def _records(replies: list[Reply], set_id: str) -> list[object]:
    return [decode_document(r.payload).records[0] for r in replies if r.transaction_set == set_id]


def test_normal_acknowledges_ships_and_invoices_everything_at_the_po_price() -> None:
    replies = _answer(Scenario.NORMAL)
    assert [r.transaction_set for r in replies] == ["855", "856", "810"]
    assert [r.due_after for r in replies] == sorted(r.due_after for r in replies)
    (ack,) = _records(replies, "855")
    assert isinstance(ack, PurchaseOrderAcknowledgment855)
    assert ack.acknowledgment_type == "AD"
    assert [line.statuses[0].code for line in ack.lines] == ["IA", "IA"]
    (asn,) = _records(replies, "856")
    assert isinstance(asn, ShipNotice856)
    assert [(i.quantity, i.uom) for i in asn.items()] == [(Decimal(10), "BX"), (Decimal(2), "EA")]
    assert all(i.lot and i.expiry for i in asn.items())
    (invoice,) = _records(replies, "810")
    assert isinstance(invoice, Invoice810)
    assert invoice.po_number == "PO-1"
    assert invoice.stated_total == Decimal("2225.00")
    assert invoice.findings == ()


@pytest.mark.parametrize(
    ("scenario", "sets"),
    [
        (Scenario.NORMAL, ["855", "810"]),
        (Scenario.DUPLICATE_INVOICE, ["855", "810", "810"]),
        (Scenario.BACK_ORDER, ["855", "810", "810"]),
    ],
)
def test_a_bill_only_po_is_acknowledged_and_invoiced_but_never_shipped(
    scenario: Scenario, sets: list[str]
) -> None:
    """The 850 says DO NOT SHIP (BEG02 CN): the implant was used from consignment already, so
    a ship notice would leave the dock an expected receipt that never comes."""
    bill_only = replace(_po("BO-1"), kind=PurchaseOrderKind.BILL_ONLY)

    replies = _answer(scenario, bill_only)

    assert [r.transaction_set for r in replies] == sets


def test_replies_go_from_the_850s_receiver_back_to_its_sender() -> None:
    interchange = decode_document(_answer(Scenario.NORMAL)[0].payload).interchange
    assert (interchange.sender_qualifier, interchange.sender_id.strip()) == ("01", "MEDLINE")
    assert (interchange.receiver_qualifier, interchange.receiver_id.strip()) == ("ZZ", "SUTURE")
    assert interchange.usage == "T"


def test_every_reply_has_its_own_interchange_control_number() -> None:
    replies = _answer(Scenario.DUPLICATE_INVOICE)
    numbers = [decode_document(r.payload).interchange.control_number for r in replies]
    assert len(set(numbers)) == len(numbers)


def test_short_ship_ships_the_first_line_short_and_bills_the_order() -> None:
    replies = _answer(Scenario.SHORT_SHIP)
    (asn,) = _records(replies, "856")
    assert isinstance(asn, ShipNotice856)
    assert asn.items()[0].quantity == Decimal(8)
    (invoice,) = _records(replies, "810")
    assert isinstance(invoice, Invoice810)
    assert invoice.lines[0].quantity == Decimal(10)


def test_back_order_ships_and_bills_the_backordered_line_in_a_second_round() -> None:
    replies = _answer(Scenario.BACK_ORDER)
    assert [r.transaction_set for r in replies] == ["855", "856", "810", "856", "810"]
    (ack,) = _records(replies, "855")
    assert isinstance(ack, PurchaseOrderAcknowledgment855)
    assert ack.acknowledgment_type == "AC"
    assert ack.lines[0].statuses[0].code == "IB"
    assert ack.lines[0].statuses[0].date == date(2026, 11, 17)
    first, second = _records(replies, "856")
    assert isinstance(first, ShipNotice856)
    assert isinstance(second, ShipNotice856)
    assert [i.line_id for i in first.items()] == ["2"]
    assert [i.line_id for i in second.items()] == ["1"]
    invoices = _records(replies, "810")
    assert [i.number for i in invoices if isinstance(i, Invoice810)] == ["INV-PO-1-1", "INV-PO-1-2"]


def test_price_increase_is_acknowledged_and_invoiced_at_the_new_price() -> None:
    replies = _answer(Scenario.PRICE_INCREASE)
    (ack,) = _records(replies, "855")
    assert isinstance(ack, PurchaseOrderAcknowledgment855)
    assert ack.lines[0].statuses[0].code == "IP"
    assert ack.lines[0].statuses[0].unit_price == Decimal("45.90")
    (invoice,) = _records(replies, "810")
    assert isinstance(invoice, Invoice810)
    assert invoice.lines[0].unit_price == Decimal("45.90")
    assert invoice.lines[1].unit_price == Decimal("900.00")


def test_wrong_uom_invoices_the_first_line_in_another_unit() -> None:
    (invoice,) = _records(_answer(Scenario.WRONG_UOM), "810")
    assert isinstance(invoice, Invoice810)
    assert [line.uom for line in invoice.lines] == ["CA", "EA"]


def test_duplicate_invoice_sends_the_same_invoice_number_twice() -> None:
    replies = _answer(Scenario.DUPLICATE_INVOICE)
    invoices = [i for i in _records(replies, "810") if isinstance(i, Invoice810)]
    assert [i.number for i in invoices] == ["INV-PO-1-1", "INV-PO-1-1"]
    dues = [r.due_after for r in replies if r.transaction_set == "810"]
    assert dues[1] - dues[0] == timedelta(days=1)


def test_early_invoice_comes_before_the_ship_notice_and_late_invoice_long_after() -> None:
    early = [r.transaction_set for r in _answer(Scenario.EARLY_INVOICE)]
    assert early.index("810") < early.index("856")
    late = {r.transaction_set: r.due_after for r in _answer(Scenario.LATE_INVOICE)}
    assert late["810"] - late["856"] == timedelta(days=45)


def test_a_seeded_mix_is_deterministic_per_po_and_uses_every_scenario() -> None:
    plan = ScenarioPlan.parse_mix(",".join(f"{s.value}=1" for s in Scenario), seed=7)
    drawn = [plan.scenario_for(f"PO-{n}") for n in range(400)]
    assert drawn == [plan.scenario_for(f"PO-{n}") for n in range(400)]
    assert set(drawn) == set(Scenario)
    other = ScenarioPlan.parse_mix(",".join(f"{s.value}=1" for s in Scenario), seed=8)
    assert drawn != [other.scenario_for(f"PO-{n}") for n in range(400)]


def test_fixed_scenarios_win_over_the_mix() -> None:
    plan = ScenarioPlan(fixed={"PO-9": Scenario.WRONG_UOM}, mix={Scenario.NORMAL: 1.0})
    assert plan.scenario_for("PO-9") is Scenario.WRONG_UOM
    assert plan.scenario_for("PO-8") is Scenario.NORMAL


@pytest.mark.parametrize(
    ("text", "reason"),
    [("normal=1,bogus=2", "unknown scenario 'bogus'"), ("normal=x", "not a number"),
     ("normal=0", "more than zero")],
)  # fmt: skip
def test_a_bad_mix_names_the_entry(text: str, reason: str) -> None:
    with pytest.raises(DomainError) as raised:
        ScenarioPlan.parse_mix(text)
    assert raised.value.field == "mix"
    assert reason in raised.value.reason


def test_control_numbers_continue_across_answers() -> None:
    counter = ControlCounter(start=500)
    simulator = SupplierSimulator(ScenarioPlan(), counter)
    raw = write_850(_po(), HUB, ControlNumbers(interchange=1, group=1), RECEIVED)
    first = simulator.answer(raw, RECEIVED)
    second = simulator.answer(raw, RECEIVED)
    numbers = [int(decode_document(r.payload).interchange.control_number) for r in first + second]
    assert numbers == list(range(500, 506))


def test_something_other_than_an_850_is_refused() -> None:
    replies = _answer(Scenario.NORMAL)
    with pytest.raises(DomainError) as raised:
        SupplierSimulator(ScenarioPlan()).answer(replies[0].payload, RECEIVED)
    assert raised.value.field == "ST01"


@pytest.mark.parametrize(
    ("mix", "last"),
    [
        ("normal=1", timedelta(days=2)),
        ("normal=3,duplicate_invoice=1,early_invoice=1", timedelta(days=3)),
        ("normal=10,back_order=1,price_increase=2", timedelta(days=16)),
        ("normal=1,late_invoice=1,back_order=0", timedelta(days=46)),
    ],
)
def test_the_last_reply_of_a_plan_is_its_slowest_scenarios_last_document(
    mix: str, last: timedelta
) -> None:
    assert ScenarioPlan.parse_mix(mix).last_reply_after() == last


def test_a_fixed_scenario_counts_towards_the_last_reply() -> None:
    plan = ScenarioPlan(fixed={"PO-1": Scenario.BACK_ORDER})
    assert plan.last_reply_after() == timedelta(days=16)


@pytest.mark.parametrize("scenario", list(Scenario))
def test_the_last_reply_is_when_the_script_sends_its_last_document(scenario: Scenario) -> None:
    last = max(reply.due_after for reply in _answer(scenario))
    assert ScenarioPlan(default=scenario).last_reply_after() == last
