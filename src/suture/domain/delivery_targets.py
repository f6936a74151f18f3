"""What each delivery target allows: a rate budget (token bucket) and a circuit breaker.

Both protect the system on the other side. The rate budget keeps Suture within what a target
accepts (an ERP's API limits, a supplier's VAN), shared by every worker because its state is one
database row per target. The circuit breaker stops calling a target that keeps failing, so a
down ERP is probed now and then instead of being hammered by every due delivery, and its
deliveries wait (pending) instead of burning their attempts.

The rules are pure: the state and the time are passed in, a new state comes back, and the
storage adapter keeps it (``adapters/db/repositories/deliveries.py``).

Circuit breaker (Michael Nygard, *Release It!*, "Circuit Breaker")::

    closed ──N consecutive failures──► open ──cool-down over──► half_open (one trial let through)
      ▲                                 ▲                            │
      └──────────── success ────────────┼────────────────────────────┤ success: closed
                                        └──────── failure ───────────┘ failure: open again

A half-open trial whose outcome never comes (its worker died) does not block the target for
ever: after another cool-down a new trial is let through. A refusal (the target answered "no")
is not a failure of the target: it closes the circuit like a success.

Token bucket: ``burst`` tokens at most, refilled at ``rate_per_second``; each send takes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from suture.domain.errors import DomainError
from suture.domain.messages import require_aware

#: Slack for float rounding, so 2.9999999997 refilled tokens still grant three sends.
_EPSILON = 1e-9


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetSettings:
    """The limits of one target; the defaults suit an ERP API shared with people."""

    rate_per_second: float = 5.0
    burst: int = 10
    failure_threshold: int = 5
    cool_down: timedelta = timedelta(seconds=30)

    def __post_init__(self) -> None:
        if not self.rate_per_second > 0:
            raise DomainError("rate_per_second", f"must be positive, got {self.rate_per_second}")
        if self.burst < 1:
            raise DomainError("burst", f"must be at least 1, got {self.burst}")
        if self.failure_threshold < 1:
            raise DomainError(
                "failure_threshold", f"must be at least 1, got {self.failure_threshold}"
            )
        if self.cool_down <= timedelta(0):
            raise DomainError("cool_down", f"must be positive, got {self.cool_down}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Circuit:
    """``opened_at``: when it opened (open), or when the trial was let through (half_open)."""

    state: CircuitState = CircuitState.CLOSED
    consecutive_failures: int = 0
    opened_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.consecutive_failures < 0:
            raise DomainError("consecutive_failures", "must not be negative")
        if self.state is not CircuitState.CLOSED and self.opened_at is None:
            raise DomainError("opened_at", f"a {self.state} circuit knows when it opened")
        if self.opened_at is not None:
            require_aware("opened_at", self.opened_at)


def allowance(circuit: Circuit, settings: TargetSettings, now: datetime) -> int | None:
    """How many sends the circuit lets through now: None (no limit), 1 (a trial) or 0."""
    opened = circuit.opened_at
    if circuit.state is CircuitState.CLOSED or opened is None:  # a Circuit is never open sans time
        return None
    return 1 if now >= opened + settings.cool_down else 0


def trial_started(circuit: Circuit, now: datetime) -> Circuit:
    """The circuit after letting its one trial through (only when :func:`allowance` was 1)."""
    return replace(circuit, state=CircuitState.HALF_OPEN, opened_at=now)


def succeeded(circuit: Circuit) -> Circuit:
    """The target answered: the circuit closes and the failure count starts again."""
    return Circuit()


def failed(circuit: Circuit, settings: TargetSettings, now: datetime) -> Circuit:
    """The target failed a send at ``now``.

    A failed trial re-opens the circuit for another cool-down; a closed circuit opens at the
    ``failure_threshold``-th consecutive failure; an open circuit stays open from when it opened
    (the failure is a late report of a send made before it opened).
    """
    failures = circuit.consecutive_failures + 1
    if circuit.state is CircuitState.HALF_OPEN or (
        circuit.state is CircuitState.CLOSED and failures >= settings.failure_threshold
    ):
        return Circuit(state=CircuitState.OPEN, consecutive_failures=failures, opened_at=now)
    return replace(circuit, consecutive_failures=failures)


@dataclass(frozen=True, slots=True)
class Budget:
    """Tokens left at ``updated_at``; refilled lazily when next looked at."""

    tokens: float
    updated_at: datetime

    def __post_init__(self) -> None:
        require_aware("updated_at", self.updated_at)
        if not self.tokens >= 0:
            raise DomainError("tokens", f"must not be negative, got {self.tokens}")


def full_budget(settings: TargetSettings, now: datetime) -> Budget:
    """The budget of a target never sent to: a full bucket."""
    return Budget(float(settings.burst), now)


def refill(budget: Budget, settings: TargetSettings, now: datetime) -> Budget:
    """The budget at ``now``: tokens grown at the rate since the last look, at most ``burst``.

    A clock that went backwards (another worker's clock a little behind) adds nothing and does
    not move ``updated_at`` back, so no time is ever counted twice.
    """
    elapsed = max(0.0, (now - budget.updated_at).total_seconds())
    tokens = min(float(settings.burst), budget.tokens + elapsed * settings.rate_per_second)
    return Budget(max(0.0, tokens), max(budget.updated_at, now))


def take(
    budget: Budget, settings: TargetSettings, now: datetime, wanted: int
) -> tuple[int, Budget]:
    """Take up to ``wanted`` whole tokens at ``now``: how many were granted, and what is left."""
    current = refill(budget, settings, now)
    granted = max(0, min(wanted, math.floor(current.tokens + _EPSILON)))
    return granted, Budget(max(0.0, current.tokens - granted), current.updated_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetState:
    """A target's settings with its rate budget and circuit, as all workers share them."""

    target: str
    settings: TargetSettings
    budget: Budget
    circuit: Circuit
