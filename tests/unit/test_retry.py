"""Retry decisions: classify the failure, then retry with backoff, dead-letter, or park.

The example policy waits up to 2 s, 4 s, 8 s … capped at 60 s, for at most 5 attempts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from suture.domain.errors import CrosswalkConflictError, SutureError
from suture.eventlog.errors import (
    DependencyKey,
    EnvelopeError,
    ErrorKind,
    MissingDependencyError,
    PayloadError,
    RetryPolicyError,
    UpcastError,
    classify,
)
from suture.eventlog.retry import (
    FailureStreak,
    Jitter,
    LoopFailure,
    Outcome,
    RetryDecision,
    RetryPolicy,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=5, base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=60)
)


def pydantic_error() -> ValidationError:
    class Quantity(BaseModel):
        value: int

    try:
        Quantity.model_validate({"value": "many"})
    except ValidationError as error:
        return error
    raise AssertionError("unreachable")


# Classifying failures


def test_missing_master_data_is_classified_as_a_missing_dependency() -> None:
    error = MissingDependencyError(("item", "epic/fac-1/item/LOC-42"), "no crosswalk for LOC-42")
    assert classify(error) is ErrorKind.MISSING_DEPENDENCY


@pytest.mark.parametrize(
    "error",
    [
        EnvelopeError("payload", "not valid JSON"),
        PayloadError("payload.quantity", "not a decimal"),
        UpcastError("supply.usage.recorded", "no upcaster from v1 to v2"),
        CrosswalkConflictError("local_code", "LOC-42 already maps to item-gauze"),
        pydantic_error(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_decode_validation_and_domain_errors_are_permanent(error: Exception) -> None:
    assert classify(error) is ErrorKind.PERMANENT


@pytest.mark.parametrize(
    "error",
    [TimeoutError("ERP did not answer"), ConnectionResetError(), SutureError("db", "locked")],
    ids=lambda error: type(error).__name__,
)
def test_anything_else_is_transient(error: Exception) -> None:
    assert classify(error) is ErrorKind.TRANSIENT


def test_a_missing_dependency_error_carries_its_key_and_names_its_kind() -> None:
    error = MissingDependencyError(("supplier", "GLN 0614141000005"), "unknown supplier")
    assert (error.dependency, str(error.dependency), str(error)) == (
        DependencyKey("supplier", "GLN 0614141000005"),
        "supplier:GLN 0614141000005",
        "supplier: unknown supplier",
    )


# Deciding


def test_a_transient_failure_is_retried_after_a_jittered_backoff() -> None:
    assert POLICY.decide(3, ErrorKind.TRANSIENT, NOW, lambda: 0.25) == RetryDecision(
        Outcome.RETRY, NOW + timedelta(seconds=2), "attempt 3 of 5 failed; retrying"
    )


def test_a_transient_failure_on_the_last_attempt_is_dead_lettered() -> None:
    assert POLICY.decide(5, ErrorKind.TRANSIENT, NOW, lambda: 0.25) == RetryDecision(
        Outcome.DEAD_LETTER, None, "gave up after 5 of 5 attempts"
    )


def test_a_permanent_failure_is_dead_lettered_at_once() -> None:
    assert POLICY.decide(1, ErrorKind.PERMANENT, NOW, lambda: 0.25) == RetryDecision(
        Outcome.DEAD_LETTER, None, "permanent error: retrying cannot help"
    )


def test_a_missing_dependency_is_parked_even_after_the_last_attempt() -> None:
    assert POLICY.decide(9, ErrorKind.MISSING_DEPENDENCY, NOW, lambda: 0.25) == RetryDecision(
        Outcome.PARK, None, "parked until the missing dependency appears"
    )


# Backoff


def test_the_ceiling_doubles_from_the_base_delay_up_to_the_maximum() -> None:
    assert [POLICY.ceiling(attempt).total_seconds() for attempt in range(1, 8)] == [
        2, 4, 8, 16, 32, 60, 60,
    ]  # fmt: skip


def test_full_jitter_waits_a_uniform_share_of_the_ceiling() -> None:
    assert [POLICY.delay(4, share) for share in (lambda: 0.0, lambda: 0.5)] == [
        timedelta(0),
        timedelta(seconds=8),
    ]


def test_equal_jitter_waits_at_least_half_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=timedelta(seconds=2), jitter=Jitter.EQUAL)
    assert [policy.delay(4, share) for share in (lambda: 0.0, lambda: 0.5)] == [
        timedelta(seconds=8),
        timedelta(seconds=12),
    ]


def test_a_huge_attempt_number_waits_the_maximum_without_overflowing() -> None:
    assert POLICY.ceiling(10**9) == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"max_attempts": 0}, ("max_attempts", "must be at least 1, got 0")),
        ({"base_delay": timedelta(0)}, ("base_delay", "must be positive, got 0:00:00")),
        (
            {"max_delay": timedelta(seconds=1)},
            ("max_delay", "0:00:01 is shorter than base_delay 0:00:02"),
        ),
        ({"multiplier": 0.5}, ("multiplier", "must be at least 1, got 0.5")),
        ({"multiplier": float("nan")}, ("multiplier", "must be at least 1, got nan")),
    ],
)
def test_a_policy_refuses_impossible_settings(
    settings: dict[str, object], expected: tuple[str, str]
) -> None:
    with pytest.raises(RetryPolicyError) as caught:
        RetryPolicy(**settings)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.reason) == expected


def test_attempts_count_from_one() -> None:
    with pytest.raises(RetryPolicyError) as caught:
        POLICY.ceiling(0)
    assert str(caught.value) == "attempt: attempts count from 1, got 0"


policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 50),
    base_delay=st.timedeltas(timedelta(milliseconds=1), timedelta(minutes=1)),
    max_delay=st.timedeltas(timedelta(minutes=1), timedelta(days=1)),
    multiplier=st.floats(1.0, 10.0),
    jitter=st.sampled_from(Jitter),
)


@given(policies, st.integers(1, 10_000), st.floats(0.0, 1.0, exclude_max=True))
def test_a_delay_is_never_negative_nor_above_the_maximum(
    policy: RetryPolicy, attempt: int, share: float
) -> None:
    assert timedelta(0) <= policy.delay(attempt, lambda: share) <= policy.max_delay


@given(policies, st.integers(1, 10_000))
def test_the_ceiling_never_shrinks_from_one_attempt_to_the_next(
    policy: RetryPolicy, attempt: int
) -> None:
    assert policy.ceiling(attempt) <= policy.ceiling(attempt + 1)


@given(policies, st.integers(1, 10_000), st.floats(0.0, 1.0, exclude_max=True))
def test_a_retry_is_never_scheduled_in_the_past(
    policy: RetryPolicy, attempt: int, share: float
) -> None:
    decision = policy.decide(attempt, ErrorKind.TRANSIENT, NOW, lambda: share)
    assert decision.outcome is Outcome.DEAD_LETTER or (
        decision.next_attempt_at is not None and decision.next_attempt_at >= NOW
    )


# The backoff of a loop waiting for its database


def test_a_loop_failure_streak_starts_again_after_a_success() -> None:
    streak = FailureStreak("sweep", POLICY, rand=lambda: 1.0)
    error = SutureError("database", "down")

    first = [streak.failed(error).delay for _ in range(3)]
    streak.succeeded()
    again = streak.failed(error)

    assert first == [timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8)]
    assert again == LoopFailure("sweep", error, 1, timedelta(seconds=2))


def test_a_loop_backoff_never_waits_less_than_half_its_ceiling() -> None:
    streak = FailureStreak("relay", rand=lambda: 0.0)
    error = SutureError("database", "down")

    delays = [streak.failed(error).delay for _ in range(9)]

    assert delays == [timedelta(seconds=s) for s in (0.5, 1, 2, 4, 8, 16, 30, 30, 30)]
