"""A target's circuit breaker and rate budget: pure rules, the time passed in.

The example target opens after 3 consecutive failures, cools down for 30 s, and has a budget of
5 sends refilled at 2 per second.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.delivery_targets import (
    Budget,
    Circuit,
    CircuitState,
    TargetSettings,
    allowance,
    failed,
    full_budget,
    refill,
    succeeded,
    take,
    trial_started,
)
from suture.domain.errors import DomainError

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = TargetSettings(
    rate_per_second=2.0, burst=5, failure_threshold=3, cool_down=timedelta(seconds=30)
)
SECOND = timedelta(seconds=1)


def failing(times: int, circuit: Circuit | None = None, at: datetime = NOW) -> Circuit:
    circuit = circuit or Circuit()
    for _ in range(times):
        circuit = failed(circuit, SETTINGS, at)
    return circuit


# --- circuit breaker -------------------------------------------------------------------------


def test_a_closed_circuit_lets_everything_through() -> None:
    assert allowance(Circuit(), SETTINGS, NOW) is None


def test_failures_below_the_threshold_keep_the_circuit_closed_and_count() -> None:
    assert failing(2) == Circuit(state=CircuitState.CLOSED, consecutive_failures=2)


def test_the_threshold_th_consecutive_failure_opens_the_circuit() -> None:
    assert failing(3) == Circuit(state=CircuitState.OPEN, consecutive_failures=3, opened_at=NOW)


def test_an_open_circuit_lets_nothing_through_during_the_cool_down() -> None:
    assert allowance(failing(3), SETTINGS, NOW + timedelta(seconds=29)) == 0


def test_an_open_circuit_lets_one_trial_through_once_cooled_down() -> None:
    assert allowance(failing(3), SETTINGS, NOW + timedelta(seconds=30)) == 1


def test_a_trial_makes_the_circuit_half_open_and_stops_further_trials() -> None:
    trial_at = NOW + timedelta(seconds=30)
    half_open = trial_started(failing(3), trial_at)

    assert (half_open.state, allowance(half_open, SETTINGS, trial_at + SECOND)) == (
        CircuitState.HALF_OPEN,
        0,
    )


def test_a_trial_that_never_reports_lets_another_through_after_a_cool_down() -> None:
    trial_at = NOW + timedelta(seconds=30)
    half_open = trial_started(failing(3), trial_at)

    assert allowance(half_open, SETTINGS, trial_at + timedelta(seconds=30)) == 1


def test_a_successful_trial_closes_the_circuit_and_forgets_the_failures() -> None:
    half_open = trial_started(failing(3), NOW + timedelta(seconds=30))

    assert succeeded(half_open) == Circuit()


def test_a_failed_trial_opens_the_circuit_again_for_a_new_cool_down() -> None:
    trial_at = NOW + timedelta(seconds=30)
    reopened = failed(trial_started(failing(3), trial_at), SETTINGS, trial_at + SECOND)

    assert (reopened.state, reopened.opened_at) == (CircuitState.OPEN, trial_at + SECOND)


def test_a_late_failure_keeps_an_open_circuit_open_from_when_it_opened() -> None:
    late = failed(failing(3), SETTINGS, NOW + timedelta(seconds=10))

    assert (late.state, late.opened_at, late.consecutive_failures) == (CircuitState.OPEN, NOW, 4)


def test_a_success_between_failures_starts_the_count_again() -> None:
    assert failing(2, succeeded(failing(2))).state is CircuitState.CLOSED


def test_an_open_circuit_without_an_opening_time_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        Circuit(state=CircuitState.OPEN)

    assert refused.value.field == "opened_at"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("rate_per_second", {"rate_per_second": 0.0}),
        ("burst", {"burst": 0}),
        ("failure_threshold", {"failure_threshold": 0}),
        ("cool_down", {"cool_down": timedelta(0)}),
    ],
)
def test_impossible_target_settings_are_refused_naming_the_field(
    field: str, changes: dict[str, object]
) -> None:
    with pytest.raises(DomainError) as refused:
        TargetSettings(**changes)  # type: ignore[arg-type]

    assert refused.value.field == field


# --- token bucket ----------------------------------------------------------------------------


def test_a_new_target_starts_with_a_full_budget() -> None:
    assert take(full_budget(SETTINGS, NOW), SETTINGS, NOW, 7) == (5, Budget(0.0, NOW))


def test_an_empty_budget_grants_nothing_until_it_refills() -> None:
    empty = Budget(0.0, NOW)

    assert take(empty, SETTINGS, NOW, 1)[0] == 0
    assert take(empty, SETTINGS, NOW + SECOND, 10) == (2, Budget(0.0, NOW + SECOND))


def test_a_fraction_of_a_token_is_kept_for_later() -> None:
    granted, left = take(Budget(0.0, NOW), SETTINGS, NOW + timedelta(milliseconds=750), 5)

    assert (granted, left) == (1, Budget(0.5, NOW + timedelta(milliseconds=750)))


def test_refilling_never_goes_beyond_the_burst() -> None:
    assert refill(Budget(1.0, NOW), SETTINGS, NOW + timedelta(hours=1)).tokens == 5.0


def test_a_clock_running_backwards_adds_no_tokens_and_keeps_the_later_time() -> None:
    assert refill(Budget(1.0, NOW), SETTINGS, NOW - timedelta(minutes=1)) == Budget(1.0, NOW)


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        Budget(-0.5, NOW)

    assert refused.value.field == "tokens"


steps = st.lists(
    st.tuples(st.floats(min_value=-5.0, max_value=60.0), st.integers(min_value=0, max_value=20)),
    max_size=40,
)


@given(
    rate=st.floats(min_value=0.01, max_value=1000.0),
    burst=st.integers(min_value=1, max_value=500),
    start=st.floats(min_value=0.0, max_value=500.0),
    steps=steps,
)
def test_tokens_never_go_negative_nor_above_the_burst_and_grants_never_exceed_the_ask(
    rate: float, burst: int, start: float, steps: list[tuple[float, int]]
) -> None:
    settings = TargetSettings(rate_per_second=rate, burst=burst)
    budget = Budget(min(start, float(burst)), NOW)
    at = NOW
    for seconds, wanted in steps:
        at += timedelta(seconds=seconds)
        granted, budget = take(budget, settings, at, wanted)
        assert 0 <= granted <= wanted
        assert 0.0 <= budget.tokens <= burst


@given(
    rate=st.floats(min_value=0.1, max_value=100.0),
    burst=st.integers(min_value=1, max_value=50),
    seconds=st.integers(min_value=1, max_value=120),
)
def test_over_a_period_no_more_is_granted_than_the_burst_plus_the_refill(
    rate: float, burst: int, seconds: int
) -> None:
    settings = TargetSettings(rate_per_second=rate, burst=burst)
    budget, granted = full_budget(settings, NOW), 0
    for tick in range(seconds * 10 + 1):  # asking for plenty every 100 ms
        taken, budget = take(budget, settings, NOW + tick * timedelta(milliseconds=100), 1000)
        granted += taken

    assert granted <= burst + rate * seconds + 1e-6
