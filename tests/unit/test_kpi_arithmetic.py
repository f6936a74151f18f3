"""The KPI arithmetic: percentiles, interface recovery incidents, rates without zero division."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import DomainError
from suture.domain.kpis import (
    Outcome,
    distribution,
    per_thousand,
    percentile,
    recovery_times,
    share,
)

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def minutes(*values: float) -> list[timedelta]:
    return [timedelta(minutes=v) for v in values]


def test_median_and_p90_interpolate_between_ranks() -> None:
    found = distribution(minutes(10, 1, 4, 2, 3))
    assert found.count == 5
    assert found.median == timedelta(minutes=3)
    assert found.p90 == timedelta(minutes=7.6)  # 4 + (10 - 4) * 0.6
    assert found.mean == timedelta(minutes=4)
    assert percentile(minutes(1, 2), 0.5) == timedelta(minutes=1.5)


def test_nothing_to_measure_is_none_not_zero() -> None:
    empty = distribution([])
    assert (empty.count, empty.median, empty.p90, empty.mean) == (0, None, None, None)
    assert per_thousand(0, 0) is None
    assert share(0, 0) is None


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=50))
def test_percentiles_lie_within_the_values_and_in_order(seconds: list[int]) -> None:
    found = distribution(timedelta(seconds=s) for s in seconds)
    assert found.median is not None
    assert found.p90 is not None
    assert timedelta(seconds=min(seconds)) <= found.median <= found.p90
    assert found.p90 <= timedelta(seconds=max(seconds))


def test_an_incident_runs_from_the_first_failure_to_the_next_success() -> None:
    at = [T0 + timedelta(minutes=m) for m in range(10)]
    recovery = recovery_times(
        [
            Outcome("lab-hl7", at[0], ok=True),
            Outcome("lab-hl7", at[1], ok=False),  # incident 1 starts
            Outcome("lab-hl7", at[2], ok=False),  # still the same incident
            Outcome("lab-hl7", at[4], ok=True),  # recovered after 3 minutes
            Outcome("erp-file", at[5], ok=False),  # another interface: incident 2 starts
            Outcome("erp-file", at[6], ok=True),  # recovered after 1 minute
            Outcome("lab-hl7", at[8], ok=False),  # incident 3, still open at the window's end
        ]
    )
    assert (recovery.incidents, recovery.open_incidents) == (3, 1)
    assert recovery.times.count == 2
    assert recovery.times.mean == timedelta(minutes=2)


def test_outcomes_in_any_order_give_the_same_incidents() -> None:
    outcomes = [Outcome("a", T0 + timedelta(seconds=s), ok=s % 3 != 0) for s in range(30)]
    assert recovery_times(outcomes) == recovery_times(list(reversed(outcomes)))


def test_rates() -> None:
    assert per_thousand(3, 1500) == 2.0
    assert share(1, 4) == 0.25
    with pytest.raises(DomainError):
        share(5, 4)
    with pytest.raises(DomainError):
        per_thousand(-1, 4)
