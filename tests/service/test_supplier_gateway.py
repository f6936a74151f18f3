"""The scripted test supplier's gateway: 850 files in, replies out to a folder or a real hub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from suture.adapters.supplier_sim import (
    DirectorySink,
    HttpSink,
    SupplierGateway,
    SupplierGatewayError,
)
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.access import ALL_FACILITIES, Scope
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.entrypoints.api.app import create_app
from suture.entrypoints.api.server import HttpThread
from suture.formats.x12 import ControlNumbers, TradingPartnerProfile, decode_document, write_850
from suture.services.supplier_simulator import Reply, Scenario, ScenarioPlan, SupplierSimulator

HUB_PROFILE = TradingPartnerProfile(
    sender_qualifier="ZZ", sender_id="SUTURE", receiver_qualifier="ZZ", receiver_id="MEDLINE"
)
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


class Collecting:
    def __init__(self) -> None:
        self.sent: list[Reply] = []

    def send(self, reply: Reply) -> None:
        self.sent.append(reply)


def _drop_850(folder: Path, number: str) -> Path:
    po = PurchaseOrder(
        id=number, number=number, facility_id="fac-1", supplier_id="sup-1",
        order_date=date(2026, 11, 2),
        lines=[PurchaseOrderLine(line_number=1, item_id="ITEM-1", quantity=Decimal(5), uom="EA",
                                 unit_price=Decimal("20.00"))],
    )  # fmt: skip
    path = folder / "x12_sup-1" / f"po-{number}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(write_850(po, HUB_PROFILE, ControlNumbers(interchange=1, group=1), START))
    return path


def test_at_speed_zero_every_reply_goes_at_once_in_due_order(tmp_path: Path) -> None:
    watch, out = tmp_path / "outbox", tmp_path / "replies"
    dropped = _drop_850(watch, "PO-1")
    gateway = SupplierGateway(SupplierSimulator(ScenarioPlan()), watch, DirectorySink(out), Clock())
    report = gateway.poll()
    assert report.answered == ("po-PO-1",)
    assert [r.transaction_set for r in report.sent] == ["855", "856", "810"]
    assert report.pending == 0
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [
        "PO-1-0001-855.x12",
        "PO-1-0002-856.x12",
        "PO-1-0003-810.x12",
    ]
    assert decode_document(files[2].read_bytes()).records[0].number == "INV-PO-1-1"  # type: ignore[union-attr]
    # answered once: the file moved aside, a second poll finds nothing new
    assert not dropped.exists()
    assert (dropped.parent / "answered" / dropped.name).exists()
    assert gateway.poll().answered == ()


def test_replies_wait_until_due_at_the_given_speed(tmp_path: Path) -> None:
    watch = tmp_path / "outbox"
    _drop_850(watch, "PO-2")
    clock, sink = Clock(), Collecting()
    # 1 simulated day per real minute: the 855 (1 h) after 2.5 s, the 856 (1 day) after 60 s
    gateway = SupplierGateway(SupplierSimulator(ScenarioPlan()), watch, sink, clock, speed=24 * 60)
    assert gateway.poll().sent == ()
    assert gateway.pending == 3
    clock.now += timedelta(seconds=3)
    assert [r.transaction_set for r in gateway.poll().sent] == ["855"]
    clock.now += timedelta(seconds=60)
    assert [r.transaction_set for r in gateway.poll().sent] == ["856"]
    clock.now += timedelta(seconds=60)
    assert [r.transaction_set for r in gateway.poll().sent] == ["810"]
    assert gateway.pending == 0


def test_next_due_is_the_earliest_reply_not_yet_sent_so_a_driver_can_jump_to_it(
    tmp_path: Path,
) -> None:
    watch = tmp_path / "outbox"
    _drop_850(watch, "PO-3")
    clock, sink = Clock(), Collecting()
    gateway = SupplierGateway(SupplierSimulator(ScenarioPlan()), watch, sink, clock, speed=1.0)
    assert gateway.next_due is None
    gateway.poll()
    assert gateway.next_due == START + timedelta(hours=1)
    clock.now = START + timedelta(hours=1)
    assert [r.transaction_set for r in gateway.poll().sent] == ["855"]
    assert gateway.next_due == START + timedelta(days=1)
    clock.now = START + timedelta(days=2)
    assert [r.transaction_set for r in gateway.poll().sent] == ["856", "810"]
    assert gateway.next_due is None


def test_a_file_that_is_not_an_850_is_set_aside_unanswered(tmp_path: Path) -> None:
    watch = tmp_path / "outbox"
    (watch / "x12_sup-1").mkdir(parents=True)
    (watch / "x12_sup-1" / "garbage").write_bytes(b"not x12 at all")
    (watch / "x12_sup-1" / ".partial.tmp").write_bytes(b"ISA")
    sink = Collecting()
    report = SupplierGateway(SupplierSimulator(ScenarioPlan()), watch, sink, Clock()).poll()
    assert report.rejected == ("garbage",)
    assert (watch / "x12_sup-1" / "rejected" / "garbage").exists()
    assert (watch / "x12_sup-1" / ".partial.tmp").exists()
    assert sink.sent == []


def test_a_negative_speed_is_refused() -> None:
    with pytest.raises(SupplierGatewayError) as raised:
        SupplierGateway(
            SupplierSimulator(ScenarioPlan()), Path("."), Collecting(), Clock(), speed=-1
        )
    assert raised.value.field == "speed"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path / "erp")
    )
    yield built
    built.close()


@pytest.fixture
def base_url(hub: Hub) -> Iterator[str]:
    server = HttpThread(create_app(hub), "127.0.0.1", 0)
    port = server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_replies_reach_a_real_hub_inbox_over_http(hub: Hub, base_url: str, tmp_path: Path) -> None:
    created = hub.clients.create("medline-edi", {Scope.SYSTEM_WRITE}, [ALL_FACILITIES])
    sink = HttpSink(
        base_url, client_id=created.client.id, client_secret=created.secret,
        interface="medline-x12",
    )  # fmt: skip
    watch = tmp_path / "outbox"
    _drop_850(watch, "PO-3")
    gateway = SupplierGateway(
        SupplierSimulator(ScenarioPlan(default=Scenario.DUPLICATE_INVOICE)), watch, sink, Clock()
    )
    report = gateway.poll()
    assert [r.transaction_set for r in report.sent] == ["855", "856", "810", "810"]
    with hub.read_uow_factory() as uow:
        listed = uow.inbox.list(interface="medline-x12")
        raws = [uow.inbox.get(m.id, with_raw=True) for m in listed]
    assert sorted(m.raw or b"" for m in raws if m is not None) == sorted(
        r.payload for r in report.sent
    )


def test_bad_credentials_are_a_clear_error(base_url: str) -> None:
    sink = HttpSink(base_url, client_id="nobody", client_secret="wrong", interface="x")
    reply = Reply("855", "PO-9", Scenario.NORMAL, timedelta(0), b"ISA")
    with pytest.raises(SupplierGatewayError) as raised:
        sink.send(reply)
    assert raised.value.field == "client_id"
    assert "HTTP 401" in raised.value.reason
