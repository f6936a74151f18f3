"""Continuous charge-to-cost reconciliation through the real bus and unit of work.

Issue 5, "charge-to-cost reconciliation, continuous": charges and expected charges arrive as
events in any order; each key is re-evaluated; unmatched lines age into exceptions after the
window (the sweeper), a later match resolves them; the lag from usage to match is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from reconciliation_world import T0, WINDOW, MovableClock, UowFactory, Ward, build_bus, drain

from suture.domain.exceptions import ExceptionStatus, ExceptionType
from suture.domain.reconciliation import Outcome, Side
from suture.domain.reconciliation_state import LineState
from suture.entrypoints.api.experience.dashboard import kpis_model
from suture.services.interfaces import InterfaceInventory
from suture.services.kpis import KpiReport, KpiService
from suture.services.workflows.reconciliation import (
    ReconciliationSweeper,
    reconciliation_kpis,
)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(T0 + timedelta(hours=1))


@pytest.fixture
def ward(uow: UowFactory, clock: MovableClock) -> Ward:
    created = Ward(uow, build_bus(uow, clock))
    created.price("CDM-KNEE", "4000.00")
    return created


def state(ward: Ward, side: Side, line_id: str) -> LineState:
    with ward.uow() as unit:
        found = unit.reconciliation.get(side, line_id)
    assert found is not None, f"no state for {side} {line_id}"
    return found


def outcome(ward: Ward, side: Side, line_id: str) -> Outcome:
    return state(ward, side, line_id).outcome


def sweep(ward: Ward, clock: MovableClock) -> int:
    return ReconciliationSweeper(ward.uow, clock, WINDOW).run_once()


def test_a_usage_and_its_charge_match_whichever_arrives_first(ward: Ward) -> None:
    charge = ward.charge("C1")
    drain(ward.bus)
    usage = ward.use("U1")
    drain(ward.bus)

    assert (outcome(ward, Side.USAGE, usage), outcome(ward, Side.CHARGE, charge)) == (
        Outcome.MATCHED, Outcome.MATCHED,
    )  # fmt: skip


def test_the_lag_from_usage_to_match_is_recorded(ward: Ward, clock: MovableClock) -> None:
    usage = ward.use("U1")
    drain(ward.bus)
    clock.now = T0 + timedelta(hours=30)
    ward.charge("C1")
    drain(ward.bus)

    found = state(ward, Side.USAGE, usage)

    assert (found.matched_at, found.lag) == (clock.now, timedelta(hours=30))


def test_a_usage_without_charge_ages_into_an_exception_after_the_window(
    ward: Ward, clock: MovableClock
) -> None:
    usage = ward.use("U1", "2")
    drain(ward.bus)
    sweep(ward, clock)
    early = state(ward, Side.USAGE, usage)
    clock.now = T0 + WINDOW
    sweep(ward, clock)

    # the sweeper ages every due line of the database; this ward's line is the one looked at
    found = state(ward, Side.USAGE, usage)
    with ward.uow() as unit:
        item = unit.exceptions.get(found.exception_id or "")
    assert early.exception_id is None
    assert found.revenue_at_risk == Decimal("8000.00")
    assert item is not None
    assert (item.type, item.status, item.facility_id) == (
        ExceptionType.USAGE_WITHOUT_CHARGE, ExceptionStatus.OPEN, ward.facility_id,
    )  # fmt: skip
    assert "revenue at risk 8000.00" in item.reason
    assert f"usage {usage} of encounter ENC1 for CDM CDM-KNEE: 2" in item.reason


def test_a_late_charge_resolves_the_missed_charge_exception(
    ward: Ward, clock: MovableClock
) -> None:
    usage = ward.use("U1")
    drain(ward.bus)
    clock.now = T0 + WINDOW + timedelta(hours=1)
    sweep(ward, clock)
    ward.charge("C1", at=T0 + timedelta(hours=2))
    drain(ward.bus)

    found = state(ward, Side.USAGE, usage)
    with ward.uow() as unit:
        items = unit.exceptions.find_open_for_subject(f"correlation:reconciliation:usage:{usage}")
    assert (found.outcome, found.exception_id, found.due_at, items) == (
        Outcome.MATCHED, None, None, [],
    )  # fmt: skip


def test_a_charge_without_usage_ages_into_a_documentation_gap(
    ward: Ward, clock: MovableClock
) -> None:
    charge = ward.charge("C1")
    drain(ward.bus)
    clock.now = T0 + WINDOW
    sweep(ward, clock)

    found = state(ward, Side.CHARGE, charge)
    with ward.uow() as unit:
        item = unit.exceptions.get(found.exception_id or "")
    assert item is not None
    assert (found.outcome, item.type) == (
        Outcome.CHARGE_WITHOUT_USAGE, ExceptionType.CHARGE_WITHOUT_USAGE,
    )  # fmt: skip


def test_a_credit_reverses_a_match_into_a_missed_charge(ward: Ward) -> None:
    usage = ward.use("U1")
    ward.charge("C1")
    drain(ward.bus)
    matched = outcome(ward, Side.USAGE, usage)
    credit = ward.charge("C2", credit=True)
    drain(ward.bus)

    assert (matched, outcome(ward, Side.USAGE, usage), outcome(ward, Side.CHARGE, credit)) == (
        Outcome.MATCHED, Outcome.USAGE_WITHOUT_CHARGE, Outcome.CREDITED,
    )  # fmt: skip


def test_a_charge_below_cost_is_flagged_on_both_sides(ward: Ward) -> None:
    usage = ward.use("U1", cost="3000")
    charge = ward.charge("C1", amount="1200")
    drain(ward.bus)

    assert {outcome(ward, Side.USAGE, usage), outcome(ward, Side.CHARGE, charge)} == {
        Outcome.CHARGE_BELOW_COST
    }


def test_a_charge_outside_the_window_does_not_match(ward: Ward) -> None:
    usage = ward.use("U1")
    charge = ward.charge("C1", at=T0 + WINDOW + timedelta(minutes=1))
    drain(ward.bus)

    assert (outcome(ward, Side.USAGE, usage), outcome(ward, Side.CHARGE, charge)) == (
        Outcome.USAGE_WITHOUT_CHARGE, Outcome.CHARGE_WITHOUT_USAGE,
    )  # fmt: skip


def test_a_short_charge_is_a_quantity_mismatch_with_revenue_at_risk(ward: Ward) -> None:
    usage = ward.use("U1", "3")
    ward.charge("C1", "1", "4000")
    drain(ward.bus)

    found = state(ward, Side.USAGE, usage)

    assert (found.outcome, found.unbilled, found.revenue_at_risk) == (
        Outcome.QUANTITY_MISMATCH, Decimal(2), Decimal("8000.00"),
    )  # fmt: skip


def test_a_replayed_event_changes_nothing(ward: Ward) -> None:
    usage = ward.use("U1")
    ward.charge("C1")
    drain(ward.bus)
    before = state(ward, Side.USAGE, usage)
    with ward.uow() as unit:
        events = unit.events.by_correlation_id(usage)
    for event in events:
        ward.bus.retry_event("charge_reconciliation", str(event.id))
    drain(ward.bus)

    assert state(ward, Side.USAGE, usage).matched_at == before.matched_at


def test_kpis_report_the_lag_and_the_revenue_at_risk(ward: Ward, clock: MovableClock) -> None:
    ward.use("U1")
    ward.use("U2", encounter="ENC2")
    drain(ward.bus)
    clock.now = T0 + timedelta(hours=11)
    ward.charge("C1")
    drain(ward.bus)

    with ward.uow() as unit:
        kpis = reconciliation_kpis(unit, clock.now, ward.facility_id)

    assert (kpis.lag.matched, kpis.lag.median_hours, kpis.revenue_at_risk) == (
        1, 11.0, Decimal("4000.00"),
    )  # fmt: skip


def test_the_sweeper_looks_again_only_after_its_interval(ward: Ward, clock: MovableClock) -> None:
    sweeper = ReconciliationSweeper(ward.uow, clock, WINDOW, every=timedelta(seconds=30))
    usage = ward.use("U1")
    drain(ward.bus)
    clock.now = T0 + WINDOW - timedelta(seconds=10)
    sweeper.run_once()
    idle = state(ward, Side.USAGE, usage).exception_id
    clock.now = T0 + WINDOW + timedelta(seconds=10)
    too_soon = sweeper.run_once()
    not_looked = state(ward, Side.USAGE, usage).exception_id
    clock.now = T0 + WINDOW + timedelta(seconds=21)
    aged = sweeper.run_once()

    # counts span the database (other tests' lines may be due too): this ward's line decides
    assert (idle, too_soon, not_looked) == (None, 0, None)
    assert aged >= 1
    assert state(ward, Side.USAGE, usage).exception_id is not None


def period_kpis(ward: Ward, clock: MovableClock, since: datetime, until: datetime) -> KpiReport:
    """The KPIs as ``suture kpis`` and ``GET /experience/kpis`` compute them."""
    ward.put_on_record()
    service = KpiService(ward.uow, InterfaceInventory(ward.uow, clock), clock)
    return service.report(since, until, facility_id=ward.facility_id)


def test_the_kpis_age_unmatched_lines_at_the_clock_not_at_the_end_of_today(
    ward: Ward, clock: MovableClock
) -> None:
    """``suture kpis`` ends its period at midnight tonight: a 71 h old missed charge read as
    87 h old, in "3-7d", where ``suture reconcile`` (aged at the clock) said "0-3d"."""
    ward.use("U1")
    drain(ward.bus)
    clock.now = T0 + timedelta(hours=71)
    midnight = datetime.combine(clock.now.date() + timedelta(days=1), time(), tzinfo=UTC)

    report = period_kpis(ward, clock, midnight - timedelta(days=30), midnight)
    with ward.uow() as unit:
        continuous = reconciliation_kpis(unit, clock.now, ward.facility_id)

    assert report.reconciliation.unmatched_aging == continuous.unmatched_aging == {
        "0-3d": 1, "3-7d": 0, "7-30d": 0, "30d+": 0,
    }  # fmt: skip


def test_the_kpis_of_a_past_period_leave_out_lines_dated_after_it(
    ward: Ward, clock: MovableClock
) -> None:
    """February's report counted a missed charge of 2 March, aged -9 h, as February's."""
    ward.use("U1")
    drain(ward.bus)
    clock.now = T0 + timedelta(days=10)
    february = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))

    report = period_kpis(ward, clock, *february)

    assert (report.reconciliation.unmatched_aging, report.revenue_at_risk) == (
        {"0-3d": 0, "3-7d": 0, "7-30d": 0, "30d+": 0}, Decimal(0),
    )  # fmt: skip


def test_a_price_loaded_after_the_usage_prices_its_revenue_at_risk(
    ward: Ward, clock: MovableClock
) -> None:
    """The CDM price came after the usage (an MFN^M04, the nightly CDM file): the KPIs kept the
    line unpriced, 0 at risk, while ``suture reconcile`` priced it from today's chargemaster."""
    usage = ward.use("U1", "2", cdm="CDM-HIP")
    drain(ward.bus)
    ward.price("CDM-HIP", "300.00")
    clock.now = T0 + WINDOW
    sweep(ward, clock)

    aged = state(ward, Side.USAGE, usage)
    with ward.uow() as unit:
        kpis = reconciliation_kpis(unit, clock.now, ward.facility_id)
        item = unit.exceptions.get(aged.exception_id or "")
    assert kpis.revenue_at_risk == Decimal("600.00")
    assert item is not None
    assert "revenue at risk 600.00" in item.reason


def test_the_kpis_count_the_missed_charges_they_could_not_price(
    ward: Ward, clock: MovableClock
) -> None:
    """Revenue at risk left out, without a word, the lines the chargemaster has no price for:
    a CFO read 4,000.00 where the batch said "1 missed line has no chargemaster price"."""
    ward.use("U1")
    ward.use("U2", cdm="CDM-UNPRICED")
    drain(ward.bus)

    report = period_kpis(ward, clock, T0 - timedelta(days=1), T0 + timedelta(days=1))
    shown = kpis_model(report)

    assert (report.revenue_at_risk, report.reconciliation.unpriced) == (Decimal("4000.00"), 1)
    assert (shown.revenue_at_risk, shown.revenue_at_risk_unpriced) == (Decimal("4000.00"), 1)
