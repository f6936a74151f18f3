"""The charge-to-cost matching rule (``domain/reconciliation.py``), case by case and by property."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import DomainError
from suture.domain.reconciliation import (
    ChargeLine,
    ChargemasterPrice,
    LineResult,
    Outcome,
    Side,
    UsageLine,
    lag_stats,
    price_on,
    reconcile,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
PRICE = Decimal("250.0000")


def price(_facility: str, cdm: str, _day: date) -> Decimal | None:
    return PRICE if cdm != "NOPRICE" else None


def usage(
    uid: str, qty: str = "1", *, cost: str = "100", at: datetime = T0, enc: str | None = "ENC1",
    cdm: str = "CDM1",
) -> UsageLine:  # fmt: skip
    return UsageLine(id=uid, facility_id="FAC", encounter_token=enc, cdm_code=cdm,
                     quantity=Decimal(qty), cost=Decimal(cost), at=at)  # fmt: skip


def charge(
    cid: str, qty: str = "1", amount: str = "250", *, at: datetime = T0, credit: bool = False,
    enc: str = "ENC1", cdm: str = "CDM1",
) -> ChargeLine:  # fmt: skip
    return ChargeLine(
        id=cid, facility_id="FAC", encounter_token=enc, cdm_code=cdm, quantity=Decimal(qty),
        amount=Decimal(amount), at=at, credit=credit,
    )  # fmt: skip


def verdicts(results: list[LineResult]) -> dict[str, Outcome]:
    return {result.line_id: result.outcome for result in results}


def run(usages: list[UsageLine], charges: list[ChargeLine]) -> list[LineResult]:
    return reconcile(usages, charges, window=WINDOW, price=price)


def test_a_usage_and_its_charge_on_the_same_key_match() -> None:
    assert verdicts(run([usage("U1")], [charge("C1")])) == {
        "U1": Outcome.MATCHED, "C1": Outcome.MATCHED,
    }  # fmt: skip


def test_a_usage_without_a_charge_is_a_missed_charge_priced_from_the_chargemaster() -> None:
    [result] = run([usage("U1", "2")], [])

    assert (result.outcome, result.unbilled, result.revenue_at_risk) == (
        Outcome.USAGE_WITHOUT_CHARGE, Decimal(2), Decimal("500.00"),
    )  # fmt: skip


def test_a_missed_charge_without_a_chargemaster_price_has_unknown_revenue_at_risk() -> None:
    [result] = run([usage("U1", cdm="NOPRICE")], [])

    assert (result.outcome, result.revenue_at_risk) == (Outcome.USAGE_WITHOUT_CHARGE, None)


def test_a_charge_without_usage_is_a_documentation_gap() -> None:
    assert verdicts(run([], [charge("C1")])) == {"C1": Outcome.CHARGE_WITHOUT_USAGE}


def test_a_charge_on_another_cdm_code_does_not_match() -> None:
    assert verdicts(run([usage("U1")], [charge("C1", cdm="CDM2")])) == {
        "U1": Outcome.USAGE_WITHOUT_CHARGE, "C1": Outcome.CHARGE_WITHOUT_USAGE,
    }  # fmt: skip


def test_a_charge_short_of_the_usage_quantity_is_a_quantity_mismatch() -> None:
    results = run([usage("U1", "3")], [charge("C1", "1")])

    assert [(r.line_id, r.outcome, r.unbilled, r.revenue_at_risk) for r in results] == [
        ("U1", Outcome.QUANTITY_MISMATCH, Decimal(2), Decimal("500.00")),
        ("C1", Outcome.QUANTITY_MISMATCH, Decimal(0), Decimal(0)),
    ]


def test_a_credit_nets_against_the_charge_leaving_the_usage_unbilled() -> None:
    results = run([usage("U1")], [charge("C1"), charge("C2", credit=True)])

    assert verdicts(results) == {
        "U1": Outcome.USAGE_WITHOUT_CHARGE, "C1": Outcome.CREDITED, "C2": Outcome.CREDITED,
    }  # fmt: skip


def test_a_credit_and_a_rebill_net_to_one_match() -> None:
    results = run([usage("U1")], [charge("C1"), charge("C2", credit=True), charge("C3")])

    assert set(verdicts(results).values()) == {Outcome.MATCHED}


def test_a_charge_below_the_usage_cost_is_flagged() -> None:
    results = run([usage("U1", cost="300")], [charge("C1", amount="120")])

    assert verdicts(results) == {
        "U1": Outcome.CHARGE_BELOW_COST, "C1": Outcome.CHARGE_BELOW_COST,
    }  # fmt: skip


def test_a_charge_outside_the_window_does_not_match() -> None:
    late = T0 + WINDOW + timedelta(seconds=1)

    assert verdicts(run([usage("U1")], [charge("C1", at=late)])) == {
        "U1": Outcome.USAGE_WITHOUT_CHARGE, "C1": Outcome.CHARGE_WITHOUT_USAGE,
    }  # fmt: skip


def test_a_charge_at_the_edge_of_the_window_matches() -> None:
    assert verdicts(run([usage("U1")], [charge("C1", at=T0 - WINDOW)]))["U1"] is Outcome.MATCHED


def test_a_usage_without_encounter_never_matches() -> None:
    assert verdicts(run([usage("U1", enc=None)], [charge("C1")])) == {
        "U1": Outcome.USAGE_WITHOUT_CHARGE, "C1": Outcome.CHARGE_WITHOUT_USAGE,
    }  # fmt: skip


def test_lines_sharing_a_key_are_covered_in_usage_time_then_id_order() -> None:
    later = T0 + timedelta(hours=1)
    usages = [usage("U3", at=later), usage("U2"), usage("U1")]

    results = run(usages, [charge("C1", "2", "500")])

    assert [(r.line_id, r.outcome) for r in results if r.side is Side.USAGE] == [
        ("U1", Outcome.MATCHED), ("U2", Outcome.MATCHED), ("U3", Outcome.USAGE_WITHOUT_CHARGE),
    ]  # fmt: skip


def test_more_charged_than_used_is_a_mismatch_on_the_charge_side_only() -> None:
    results = run([usage("U1")], [charge("C1", "2", "500")])

    assert verdicts(results) == {"U1": Outcome.MATCHED, "C1": Outcome.QUANTITY_MISMATCH}


def test_the_chargemaster_price_is_the_latest_in_effect_on_the_day() -> None:
    prices = [
        ChargemasterPrice(facility_id="F", cdm_code="C", effective_from=date(2026, 1, 1),
                          unit_price=Decimal(10)),
        ChargemasterPrice(facility_id="F", cdm_code="C", effective_from=date(2026, 3, 1),
                          effective_to=date(2026, 3, 31), unit_price=Decimal(12)),
    ]  # fmt: skip

    found = [price_on(prices, date(2026, m, 15)) for m in (1, 3, 4)]

    assert found == [Decimal(10), Decimal(12), Decimal(10)]


def test_a_chargemaster_price_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(DomainError, match="effective_to"):
        ChargemasterPrice(facility_id="F", cdm_code="C", effective_from=date(2026, 2, 1),
                          effective_to=date(2026, 1, 1), unit_price=Decimal(1))  # fmt: skip


def test_lag_stats_are_median_and_p90_interpolated_like_every_kpi() -> None:
    stats = lag_stats([timedelta(hours=h) for h in range(1, 11)])

    assert (stats.matched, stats.median_hours, stats.p90_hours) == (10, 5.5, 9.1)


quantities = st.integers(min_value=0, max_value=4).map(Decimal)
offsets = st.integers(min_value=-100, max_value=100).map(lambda h: T0 + timedelta(hours=h))
usage_lines = st.builds(
    lambda i, q, at, enc, cdm: usage(f"U{i}", str(q), at=at, enc=enc, cdm=cdm),
    st.integers(0, 50), quantities, offsets, st.sampled_from(["E1", "E2", None]),
    st.sampled_from(["A", "B"]),
)  # fmt: skip
charge_lines = st.builds(
    lambda i, q, at, enc, cdm, credit: charge(f"C{i}", str(q), at=at, enc=enc, cdm=cdm,
                                             credit=credit),
    st.integers(0, 50), quantities, offsets, st.sampled_from(["E1", "E2"]),
    st.sampled_from(["A", "B"]), st.booleans(),
)  # fmt: skip


def _unique(lines: list[UsageLine] | list[ChargeLine]) -> list:  # type: ignore[type-arg]
    return list({line.id: line for line in lines}.values())


@given(st.lists(usage_lines, max_size=12), st.lists(charge_lines, max_size=12))
def test_every_line_gets_one_verdict_whatever_the_input_order(
    usages: list[UsageLine], charges: list[ChargeLine]
) -> None:
    usages, charges = _unique(usages), _unique(charges)

    forward = run(usages, charges)
    backward = run(usages[::-1], charges[::-1])

    assert sorted(forward, key=lambda r: (r.side, r.line_id)) == sorted(
        backward, key=lambda r: (r.side, r.line_id)
    )
    assert len(forward) == len(usages) + len(charges)


@given(st.lists(usage_lines, max_size=12), st.lists(charge_lines, max_size=12))
def test_unbilled_quantity_never_exceeds_the_usage_and_is_zero_only_when_billed(
    usages: list[UsageLine], charges: list[ChargeLine]
) -> None:
    for result in run(_unique(usages), _unique(charges)):
        if result.side is Side.USAGE:
            assert Decimal(0) <= result.unbilled <= result.quantity
            assert (result.unbilled == 0) == (
                result.outcome in {Outcome.MATCHED, Outcome.CHARGE_BELOW_COST}
                or result.quantity == 0
            )
