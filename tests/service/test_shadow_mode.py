"""Shadow mode on a real SQLite hub: withheld deliveries, mode changes, and the report."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.adapters.file_drop import FileDropTransport
from suture.domain.deliveries import AttemptOutcome, DeliveryStatus
from suture.domain.errors import DomainError
from suture.domain.interfaces import Direction, Interface, InterfaceFormat, Mode
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderLine
from suture.domain.shadow import ComparisonProfile, ShadowOutcome
from suture.eventlog.retry import RetryPolicy
from suture.formats.x12 import ControlNumbers, TradingPartnerProfile, write_850
from suture.services.deliveries import DeliveryQueue
from suture.services.delivery_worker import DeliveryWorker
from suture.services.interfaces import InterfaceInventory
from suture.services.shadow import (
    ShadowGate,
    ShadowProfileError,
    ShadowReports,
    TargetModes,
    legacy_lines,
    load_profile,
)
from suture.services.workflows import journal_file

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
HEADER = ",".join(journal_file.HEADER) + "\n"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Hub:
    uow: Callable[[], SqlAlchemyUnitOfWork]
    clock: Clock
    inventory: InterfaceInventory
    worker: DeliveryWorker
    outbox: Path


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    engine: sa.Engine = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(engine)

    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    clock = Clock()
    modes = TargetModes(uow, clock, ttl=timedelta(seconds=5))
    transports = {
        "erp": ShadowGate(FileDropTransport(tmp_path / "erp", suffix=".csv"), modes),
        "x12": ShadowGate(FileDropTransport(tmp_path / "x12"), modes),
    }
    retry = RetryPolicy(
        max_attempts=3, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=5)
    )
    worker = DeliveryWorker(uow, transports, retry, clock)
    yield Hub(uow, clock, InterfaceInventory(uow, clock), worker, tmp_path)
    engine.dispose()


def _interface(name: str, channel: str, mode: Mode) -> Interface:
    return Interface(
        name=name, direction=Direction.OUTBOUND, format=InterfaceFormat.CSV, channel=channel,
        source_system="suture", target_system="erp", mode=mode,
    )  # fmt: skip


def _journal(reference: str, debit: str, cost_center: str = "CC-OR") -> str:
    return (
        HEADER
        + f"JE-{reference},fac-1,2026-11-02,{reference},1,5000,{cost_center},{debit},0,implants\n"
        + f"JE-{reference},fac-1,2026-11-02,{reference},2,1400,,0,{debit},implants\n"
    )


def _queue(hub: Hub, target: str, key: str, payload: str | bytes) -> None:
    with hub.uow() as uow:
        DeliveryQueue().enqueue(
            uow, target=target, operation="journal", payload=payload, idempotency_key=key,
            at=hub.clock(), facility_id="fac-1",
        )  # fmt: skip
        uow.commit()


def _status(
    hub: Hub, key: str, target: str = "erp:file"
) -> tuple[DeliveryStatus, list[AttemptOutcome]]:
    with hub.uow() as uow:
        delivery = uow.deliveries.by_idempotency_key(target, key)
        assert delivery is not None
        return delivery.status, [a.outcome for a in uow.deliveries.attempts(delivery.id)]


def test_a_shadow_interface_has_its_outputs_kept_and_not_sent(hub: Hub) -> None:
    hub.inventory.add(_interface("erp-journals", "erp", Mode.SHADOW))
    _queue(hub, "erp:file", "journal-JE-U1", _journal("U1", "100.00"))
    assert hub.worker.run_once() == 1
    assert _status(hub, "journal-JE-U1") == (DeliveryStatus.SHADOWED, [AttemptOutcome.WITHHELD])
    assert not (hub.outbox / "erp").exists()
    # final: a second round finds nothing due
    assert hub.worker.run_once() == 0


def test_legacy_mode_withholds_too_and_an_unregistered_target_is_sent(hub: Hub) -> None:
    hub.inventory.add(_interface("erp-journals", "erp:file", Mode.LEGACY))
    _queue(hub, "erp:file", "k1", _journal("U1", "1"))
    _queue(hub, "erp:other", "k2", _journal("U2", "2"))
    hub.worker.run_once()
    assert _status(hub, "k1")[0] is DeliveryStatus.SHADOWED
    assert _status(hub, "k2", "erp:other")[0] is DeliveryStatus.DELIVERED
    assert (hub.outbox / "erp" / "erp_other" / "k2.csv").exists()


def test_the_exact_target_wins_over_its_kind(hub: Hub) -> None:
    hub.inventory.add(_interface("all-erp", "erp", Mode.SHADOW))
    hub.inventory.add(_interface("file-erp", "erp:file", Mode.LIVE))
    _queue(hub, "erp:file", "k1", _journal("U1", "1"))
    hub.worker.run_once()
    assert _status(hub, "k1")[0] is DeliveryStatus.DELIVERED


def test_going_live_takes_effect_within_the_mode_cache_time(hub: Hub) -> None:
    hub.inventory.add(_interface("erp-journals", "erp", Mode.SHADOW))
    _queue(hub, "erp:file", "before", _journal("U1", "1"))
    hub.worker.run_once()
    hub.inventory.update("erp-journals", {"mode": Mode.LIVE})
    hub.clock.now += timedelta(seconds=6)
    _queue(hub, "erp:file", "after", _journal("U2", "2"))
    hub.worker.run_once()
    assert _status(hub, "before")[0] is DeliveryStatus.SHADOWED
    assert _status(hub, "after")[0] is DeliveryStatus.DELIVERED


def test_the_report_compares_withheld_journals_with_the_legacy_export(hub: Hub) -> None:
    hub.inventory.add(_interface("erp-journals", "erp", Mode.SHADOW))
    _queue(hub, "erp:file", "j1", _journal("U1", "100.00"))
    _queue(hub, "erp:file", "j2", _journal("U2", "55.00"))
    _queue(hub, "erp:file", "j3", _journal("U3", "12.00"))
    hub.worker.run_once()
    # Suture's journal columns are the field names; the legacy export's columns map onto them
    profile = load_profile(
        "key: [reference, gl_account_id, cost_center_id]\n"
        "compare: [debit, credit]\namounts: [debit, credit]\ntolerance: 0.01\naggregate: true\n"
        "columns: {REF: reference, ACCT: gl_account_id, CC: cost_center_id,\n"
        "          DR: debit, CR: credit}\n",
        "journals.yaml",
    )
    legacy_csv = (
        "REF,ACCT,CC,DR,CR\n"
        "U1,5000,CC-OR,60.00,0\nU1,5000,CC-OR,40.00,0\nU1,1400,,0,100.00\n"  # split, same total
        "U2,5000,CC-OR,57.50,0\nU2,1400,,0,57.50\n"  # a different price
        "U9,5000,CC-OR,9.00,0\nU9,1400,,0,9.00\n"  # legacy only
    )
    report = ShadowReports(hub.uow).report(
        "erp-journals", legacy_lines([("legacy.csv", legacy_csv)], profile), profile
    )
    assert (report.deliveries, report.suture_lines, report.legacy_lines) == (3, 6, 7)
    diff = report.diff
    outcomes = {c.key: c.outcome for c in diff.comparisons}
    assert outcomes[("U1", "5000", "CC-OR")] is ShadowOutcome.SAME
    assert outcomes[("U2", "5000", "CC-OR")] is ShadowOutcome.DIFFERS
    assert outcomes[("U3", "1400", "")] is ShadowOutcome.ONLY_SUTURE
    assert outcomes[("U9", "5000", "CC-OR")] is ShadowOutcome.ONLY_LEGACY
    assert diff.count(ShadowOutcome.SAME) == 2


def test_withheld_850s_are_read_back_line_by_line(hub: Hub) -> None:
    hub.inventory.add(_interface("medline-850", "x12:sup-1", Mode.SHADOW))
    po = PurchaseOrder(
        id="po-1", number="PO-1", facility_id="fac-1", supplier_id="sup-1",
        order_date=date(2026, 11, 2), requisition_id="REQ-1",
        lines=[PurchaseOrderLine(line_number=1, item_id="I-1", quantity=Decimal(4), uom="BX",
                                 unit_price=Decimal("12.50"))],
    )  # fmt: skip
    profile_text = (
        "key: [requisition_id, item_id]\n"
        "compare: [quantity, unit_price]\namounts: [quantity, unit_price]\n"
    )
    partner = TradingPartnerProfile(
        sender_qualifier="ZZ", sender_id="SUTURE", receiver_qualifier="ZZ", receiver_id="MEDLINE"
    )
    _queue(hub, "x12:sup-1", "850-PO-1", write_850(po, partner, ControlNumbers(1, 1), T0))
    hub.worker.run_once()
    profile = load_profile(profile_text, "po.yaml")
    legacy = legacy_lines(
        [("old.csv", "requisition_id,item_id,quantity,unit_price\nREQ-1,I-1,4,13.00\n")], profile
    )
    report = ShadowReports(hub.uow).report("medline-850", legacy, profile)
    (only,) = report.diff.comparisons
    assert only.outcome is ShadowOutcome.DIFFERS
    assert [(d.field, d.suture, d.legacy) for d in only.differences] == [
        ("unit_price", "12.50", "13.00")
    ]


def test_an_inbound_or_unknown_interface_cannot_be_reported(hub: Hub) -> None:
    profile = ComparisonProfile(key=("a",), compare=("b",))
    with pytest.raises(DomainError) as raised:
        ShadowReports(hub.uow).report("nope", [], profile)
    assert raised.value.field == "interface"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("key: [a]\ncompare: [b]\nextra: 1\n", "p.yaml: extra"),
        ("key: a\ncompare: [a]\n", "p.yaml: compare"),
        ("key: [a]\ncompare: [b]\ntolerance: lots\n", "p.yaml: tolerance"),
        ("- a\n", "p.yaml"),
        ("key: [a]\ncompare: [b]\ncolumns: [x]\n", "p.yaml: columns"),
    ],
)
def test_a_bad_profile_names_the_file_and_key(text: str, field: str) -> None:
    with pytest.raises(ShadowProfileError) as raised:
        load_profile(text, "p.yaml")
    assert raised.value.field == field
