"""What happens to a message after a failed attempt: retry later, dead-letter, or park.

DESIGN.md §3 guarantees 3 and 4: a failure is recorded as an attempt, retried with exponential
backoff and jitter, then dead-lettered with its reason; a failure that only means "master data
is missing" is parked on that dependency instead and re-driven when it appears, never on a timer.
The decision is pure: the attempt number, the error kind (:func:`~suture.eventlog.errors.classify`),
the time and the randomness are passed in; the caller persists ``next_attempt_at``.

The same backoff paces the long-running loops (the worker's, the dispatcher's) while their
database or NATS is down: :class:`FailureStreak` counts a loop's consecutive failures.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from suture.eventlog.errors import ErrorKind, RetryPolicyError


class Jitter(StrEnum):
    """How the backoff ceiling is randomised (see :class:`RetryPolicy`)."""

    FULL = "full"
    EQUAL = "equal"


class Outcome(StrEnum):
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    PARK = "park"


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """``next_attempt_at`` is set only for :attr:`Outcome.RETRY`; ``reason`` explains the rest."""

    outcome: Outcome
    next_attempt_at: datetime | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, for at most ``max_attempts`` attempts.

    The ceiling for the wait after attempt *n* is ``min(max_delay, base_delay * multiplier **
    (n - 1))``. With :attr:`Jitter.FULL` (the default) the wait is uniform in ``[0, ceiling)``;
    with :attr:`Jitter.EQUAL` it is half the ceiling plus a uniform share of the other half.

    Full jitter is the default because of Marc Brooker, "Exponential Backoff and Jitter" (AWS
    Architecture Blog, 2015): when many clients retry against one contended resource, full
    jitter spreads their retries best, doing the least total work and finishing soonest of the
    stateless schemes, while equal jitter does slightly more work and takes much longer. That is
    our case: when an ERP or a supplier endpoint goes down, thousands of deliveries fail together
    and must not come back together. The post's "decorrelated jitter" does as well but needs the
    previous wait, which would have to be persisted with each attempt; full jitter needs only the
    attempt number. Equal jitter remains available for targets that must never be retried
    almost at once (it guarantees half the ceiling).
    """

    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=15)
    multiplier: float = 2.0
    jitter: Jitter = Jitter.FULL

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise RetryPolicyError("max_attempts", f"must be at least 1, got {self.max_attempts}")
        if self.base_delay <= timedelta(0):
            raise RetryPolicyError("base_delay", f"must be positive, got {self.base_delay}")
        if self.max_delay < self.base_delay:
            raise RetryPolicyError(
                "max_delay", f"{self.max_delay} is shorter than base_delay {self.base_delay}"
            )
        if not self.multiplier >= 1:
            raise RetryPolicyError("multiplier", f"must be at least 1, got {self.multiplier}")

    def ceiling(self, attempt: int) -> timedelta:
        """The longest wait after failed attempt number ``attempt`` (1-based), before jitter."""
        if attempt < 1:
            raise RetryPolicyError("attempt", f"attempts count from 1, got {attempt}")
        base = self.base_delay.total_seconds()
        cap = self.max_delay.total_seconds()
        # Compared in log space: multiplier ** attempt overflows a float long before attempt
        # reaches a number a caller might persist.
        if self.multiplier == 1 or (attempt - 1) * math.log(self.multiplier) < math.log(cap / base):
            return min(self.max_delay, timedelta(seconds=base * self.multiplier ** (attempt - 1)))
        return self.max_delay

    def delay(self, attempt: int, rand: Callable[[], float]) -> timedelta:
        """The jittered wait after failed attempt ``attempt``; ``rand()`` is uniform in [0, 1)."""
        ceiling = self.ceiling(attempt)
        share = min(max(rand(), 0.0), 1.0)
        if self.jitter is Jitter.EQUAL:
            # timedelta halves round to the microsecond: the two halves can sum 1 µs past it
            return min(ceiling, ceiling / 2 + (ceiling / 2) * share)
        return ceiling * share

    def decide(
        self, attempt: int, error_kind: ErrorKind, now: datetime, rand: Callable[[], float]
    ) -> RetryDecision:
        """The fate of a message whose attempt number ``attempt`` (1-based) just failed.

        Parking does not spend the retry budget: a parked message is re-driven by its
        dependency, and a re-drive that fails for another reason starts counting from there.
        """
        if error_kind is ErrorKind.MISSING_DEPENDENCY:
            return RetryDecision(Outcome.PARK, None, "parked until the missing dependency appears")
        if error_kind is ErrorKind.PERMANENT:
            return RetryDecision(Outcome.DEAD_LETTER, None, "permanent error: retrying cannot help")
        if attempt >= self.max_attempts:
            return RetryDecision(
                Outcome.DEAD_LETTER,
                None,
                f"gave up after {attempt} of {self.max_attempts} attempts",
            )
        return RetryDecision(
            Outcome.RETRY,
            now + self.delay(attempt, rand),
            f"attempt {attempt} of {self.max_attempts} failed; retrying",
        )


#: The backoff of a loop that waits for its database or NATS to come back (:class:`FailureStreak`):
#: about 1 s after the first failure, doubling, never more than 60 s. Equal jitter, so that a
#: wait is never close to zero: a loop retrying at once is the spin this backoff exists to stop.
LOOP_BACKOFF = RetryPolicy(
    base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=60), jitter=Jitter.EQUAL
)


def polling_backoff(interval: float) -> RetryPolicy:
    """:data:`LOOP_BACKOFF` of a loop that polls every ``interval`` seconds: the first wait is
    the interval, doubling up to a minute (or the interval, if longer)."""
    return RetryPolicy(
        base_delay=timedelta(seconds=interval),
        max_delay=max(timedelta(seconds=60), timedelta(seconds=interval)),
        jitter=Jitter.EQUAL,
    )


@dataclass(frozen=True, slots=True)
class LoopFailure:
    """One failed round of a long-running loop, and how long the loop now waits.

    ``attempt`` counts the loop's consecutive failures from 1; ``loop`` names it (``sweep``,
    ``relay``, ``consumer``, ``dispatcher``, ``drop folder``) for the person reading the log.
    """

    loop: str
    error: Exception
    attempt: int
    delay: timedelta


@dataclass(slots=True)
class FailureStreak:
    """The consecutive failures of a loop that retries for ever, and the wait after each.

    A worker loop does not give up when its database is down: it waits and tries again. The
    wait grows with :attr:`policy` (whose ``max_attempts`` plays no part: a loop never
    dead-letters itself) and starts over after the next success, so that a database back after
    a minute is used again within seconds while one down for an hour costs a line a minute.
    """

    loop: str
    policy: RetryPolicy = LOOP_BACKOFF
    rand: Callable[[], float] = random.random
    attempt: int = 0

    def failed(self, error: Exception) -> LoopFailure:
        """Count a failure; the failure with its attempt number and the wait before the next."""
        self.attempt += 1
        return LoopFailure(
            self.loop, error, self.attempt, self.policy.delay(self.attempt, self.rand)
        )

    def succeeded(self) -> None:
        """A round went through: the next failure waits the shortest time again."""
        self.attempt = 0
