"""The KPIs of DESIGN.md §7 computed from a real store (SQLite): invoices matched by the
three-way match, usage workflows with stockouts, inbound messages failing and recovering."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from match_world import (
    AT,
    Ticking,
    build_bus,
    drain,
    invoice_line,
    later,
    new_world,
    receipt_line,
    receive_invoice,
    record_receipt,
    seed,
)
from typer.testing import CliRunner

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.costing import PriceSource
from suture.domain.errors import DomainError
from suture.domain.masterdata import Facility
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.usage_workflow import UsageStep, UsageWorkflow
from suture.entrypoints.cli import app
from suture.services.interfaces import InterfaceInventory
from suture.services.kpis import KpiService

DAY = (AT - timedelta(hours=1), AT + timedelta(days=1))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'kpis.db'}")
    ensure_schema(made)
    yield made
    made.dispose()


def uow_of(engine: sa.Engine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine)


def service(engine: sa.Engine, clock: Ticking) -> KpiService:
    uow = lambda: uow_of(engine)  # noqa: E731
    return KpiService(uow, InterfaceInventory(uow, clock), clock)


def test_invoice_cycle_time_and_touchless_pos_from_the_match(engine: sa.Engine) -> None:
    clock = Ticking()
    uow = lambda: uow_of(engine)  # noqa: E731
    bus, _ = build_bus(uow, clock)
    first, second = new_world(), new_world()
    with uow() as unit:
        seed(unit, first)
    with uow() as unit:
        seed(unit, second)
    # first PO: received, then invoiced; matched 30 minutes after the invoice arrived
    with uow() as unit:
        record_receipt(bus, unit, first, "1", receipt_line(1, first.glove, "100"))
        receive_invoice(bus, unit, first, "A", invoice_line(1, first.glove, "100", "1.00"))
    clock.now = later(30)
    drain(bus)
    # second PO: invoiced before the goods came (held), matched when they came 3 hours later
    with uow() as unit:
        receive_invoice(bus, unit, second, "B", invoice_line(1, second.glove, "100", "1.00"),
                        at=later(30))  # fmt: skip
    drain(bus)
    clock.now = later(210)
    with uow() as unit:
        record_receipt(bus, unit, second, "1", receipt_line(1, second.glove, "100"), at=later(210))
    drain(bus)

    report = service(engine, clock).report(*DAY)

    assert report.invoice_cycle_time.count == 2
    assert report.invoice_cycle_time.median == timedelta(minutes=105)  # (30 + 180) / 2
    assert report.po_touchless.purchase_orders == 2
    assert report.po_touchless.touchless == 1
    assert report.po_touchless.rate == 0.5
    # both billed the PO price: no variance, and no PO line was ordered off contract
    assert report.contract_price_variance == Decimal(0)


def test_contract_price_variance_counts_only_what_invoices_bill_over_the_po_price(
    engine: sa.Engine,
) -> None:
    uow = lambda: uow_of(engine)  # noqa: E731
    bus, _ = build_bus(uow, Ticking())
    priced, short, unknown = new_world(), new_world(), new_world()
    for world in (priced, short, unknown):
        with uow() as unit:
            seed(unit, world)
    with uow() as unit:  # 100 at 1.10 against 1.00: 10.00 over the PO price
        record_receipt(bus, unit, priced, "1", receipt_line(1, priced.glove, "100"))
        receive_invoice(bus, unit, priced, "A", invoice_line(1, priced.glove, "100", "1.10"))
    with uow() as unit:  # at the PO price, 40 billed beyond the 60 received: no price variance
        record_receipt(bus, unit, short, "1", receipt_line(1, short.glove, "60"))
        receive_invoice(bus, unit, short, "B", invoice_line(1, short.glove, "100", "1.00"))
    with uow() as unit:  # a unit the glove does not know: held, but not a price over the PO
        record_receipt(bus, unit, unknown, "1", receipt_line(1, unknown.glove, "100"))
        receive_invoice(bus, unit, unknown, "C", invoice_line(1, unknown.glove, "1", "100", "PL"))
    drain(bus)

    report = service(engine, Ticking()).report(*DAY)

    assert (report.invoice_price_variance, report.contract_price_variance) == (
        Decimal("10.00"), Decimal("10.00"),
    )  # fmt: skip


def _workflow(number: int, *, stockout: bool, at: datetime) -> UsageWorkflow:
    return UsageWorkflow(
        usage_id=f"U{number}", facility_id="fac-1", location_id="loc-1", item_id="item-1",
        step=UsageStep.STOCKED, eaches=Decimal(1), consigned=False, stockout=stockout,
        price_source=PriceSource.CONTRACT, unit_price=Decimal(1), amount=Decimal(1),
        started_at=at, updated_at=at,
    )  # fmt: skip


def _message(number: int, interface: str, at: datetime, status: MessageStatus) -> InboundMessage:
    message = InboundMessage.received(
        id=f"00000000-0000-7000-8000-{number:012d}", format="hl7v2", interface=interface,
        source_system="lab", raw=f"MSH|{number}".encode(), received_at=at,
        trace_id=f"{number:032d}",
    )  # fmt: skip
    if status is MessageStatus.PROCESSED:
        message = message.transition(MessageStatus.DECODED, reason=None, at=at)
    reason = "bad FT1" if status is MessageStatus.FAILED else None
    return message.transition(status, reason=reason, at=at)


def test_stockouts_per_thousand_and_interface_recovery(engine: sa.Engine) -> None:
    with uow_of(engine) as unit:
        for n in range(8):
            unit.usage_workflows.start(_workflow(n, stockout=n < 2, at=later(n)))
        unit.usage_workflows.start(_workflow(99, stockout=True, at=AT + timedelta(days=3)))
        outcomes = [
            ("mllp", 0, MessageStatus.PROCESSED),
            ("mllp", 10, MessageStatus.FAILED),  # the incident starts
            ("mllp", 20, MessageStatus.FAILED),
            ("mllp", 70, MessageStatus.PROCESSED),  # recovered after an hour
            ("file", 30, MessageStatus.FAILED),  # still failing when the period ends
        ]
        for number, (interface, minutes, status) in enumerate(outcomes, start=1):
            unit.inbox.add_if_new(_message(number, interface, later(minutes), status))
        unit.commit()

    report = service(engine, Ticking()).report(*DAY)

    assert (report.stockouts.usages, report.stockouts.stockouts) == (8, 2)
    assert report.stockouts.per_thousand == 250.0
    recovery = report.interface_recovery
    assert (recovery.incidents, recovery.open_incidents) == (2, 1)
    assert recovery.times.mean == timedelta(hours=1)


def test_an_empty_period_measures_nothing_rather_than_zero(engine: sa.Engine) -> None:
    report = service(engine, Ticking()).report(*DAY)
    assert report.invoice_cycle_time.median is None
    assert report.po_touchless.rate is None
    assert report.stockouts.per_thousand is None
    assert report.revenue_at_risk == Decimal(0)


def test_a_period_must_be_aware_and_forward(engine: sa.Engine) -> None:
    with pytest.raises(DomainError) as raised:
        service(engine, Ticking()).report(DAY[1], DAY[0])
    assert raised.value.field == "until"


def test_the_kpis_of_a_facility_that_does_not_exist_are_refused_not_empty(
    engine: sa.Engine,
) -> None:
    with pytest.raises(DomainError) as raised:
        service(engine, Ticking()).report(*DAY, facility_id="FAC-NOPE")
    assert (raised.value.field, raised.value.reason) == ("facility_id", "no such facility")


def test_suture_kpis_prints_the_table_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    table = runner.invoke(app, ["kpis", "--from", "2025-04-01", "--to", "2025-04-30"])
    assert table.exit_code == 0, table.output
    assert "invoice cycle time" in table.stdout
    assert "PO touchless rate" in table.stdout
    engine = create_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with uow_of(engine) as uow:
        uow.facilities.add(Facility(id="fac-1", code="F1", name="General"))
        uow.commit()
    engine.dispose()
    as_json = runner.invoke(app, ["kpis", "--json", "--facility", "fac-1"])
    assert as_json.exit_code == 0, as_json.output
    assert '"facility_id": "fac-1"' in as_json.stdout
    assert '"po_touchless_rate": null' in as_json.stdout
    unknown = runner.invoke(app, ["kpis", "--facility", "fac-9"])
    assert (unknown.exit_code, unknown.stderr.strip()) == (2, "facility_id: no such facility")


def test_suture_kpis_names_its_options_when_the_period_runs_backwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "until: must be after since (2026-11-30T00:00:00+00:00)": options it does not
    have, and an instant where days were given (or, with --from alone, a --to never given)."""
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    result = CliRunner().invoke(app, ["kpis", "--from", "2026-11-30", "--to", "2026-11-01"])

    assert (result.exit_code, result.stderr.strip()) == (
        2, "--from 2026-11-30 is after --to 2026-11-01",
    )  # fmt: skip


@pytest.mark.parametrize("option", [["--to", "9999-12-31"], ["--to", "0001-01-01"]])
def test_suture_kpis_refuses_a_day_at_the_edge_of_the_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: list[str]
) -> None:
    """It failed with a traceback, "OverflowError: date value out of range"."""
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    result = CliRunner().invoke(app, ["kpis", *option])

    assert (result.exit_code, result.stderr.strip()) == (
        2, f"--to {option[1]} is outside 1900-01-01 to 2999-12-31",
    )  # fmt: skip
