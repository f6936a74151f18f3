"""The KPIs a CFO and an integration manager ask for (DESIGN.md §7), as pure arithmetic.

The storage side counts and collects (``adapters/db/kpi_queries.py``); the rules of each figure
live here so that every entrypoint (``suture kpis``, the dashboard API, ``suture demo``) computes
it the same way:

- :func:`distribution`: median and 90th percentile of durations (linear interpolation between
  closest ranks, as NumPy's default and Excel's ``PERCENTILE.INC``), with the count;
- :func:`recovery_times`: per interface, from the first failure after a success (or the first
  failure of the window) to the next success; an interface still failing at the end of the
  window has an open incident, counted apart and not in the mean;
- :func:`per_thousand` and :func:`share`: rates that are ``None`` rather than a division by zero
  when there is nothing to count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from suture.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class Distribution:
    """How long something took, over ``count`` cases; ``None`` figures when there were none."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    mean: timedelta | None


def distribution(durations: Iterable[timedelta]) -> Distribution:
    ordered = sorted(durations)
    if not ordered:
        return Distribution(0, None, None, None)
    if ordered[0] < timedelta(0):
        raise DomainError("durations", f"a duration is negative: {ordered[0]}")
    total = sum(ordered, timedelta(0))
    return Distribution(
        count=len(ordered),
        median=percentile(ordered, 0.5),
        p90=percentile(ordered, 0.9),
        mean=total / len(ordered),
    )


def percentile(ordered: Sequence[timedelta], q: float) -> timedelta:
    """The ``q`` quantile (0..1) of sorted, non-empty ``ordered``, interpolated linearly."""
    if not ordered:
        raise DomainError("values", "no values to take a percentile of")
    if not 0 <= q <= 1:
        raise DomainError("q", f"must be between 0 and 1, got {q}")
    rank = q * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One message's outcome on an interface: processed (``ok``) or failed, and when."""

    interface: str
    at: datetime
    ok: bool


@dataclass(frozen=True, slots=True)
class Recovery:
    """Interface failure recovery time (DESIGN.md §7): closed incidents and still-open ones."""

    incidents: int
    open_incidents: int
    times: Distribution


def recovery_times(outcomes: Iterable[Outcome]) -> Recovery:
    """Incidents per interface over ``outcomes`` in any order (module doc)."""
    by_interface: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_interface.setdefault(outcome.interface, []).append(outcome)
    durations: list[timedelta] = []
    still_open = 0
    for series in by_interface.values():
        series.sort(key=lambda o: (o.at, o.ok))
        failing_since: datetime | None = None
        for outcome in series:
            if not outcome.ok and failing_since is None:
                failing_since = outcome.at
            elif outcome.ok and failing_since is not None:
                durations.append(outcome.at - failing_since)
                failing_since = None
        still_open += failing_since is not None
    return Recovery(len(durations) + still_open, still_open, distribution(durations))


def per_thousand(part: int, whole: int) -> float | None:
    """``part`` per 1,000 of ``whole`` (stockouts per 1,000 usage events); None when no whole."""
    _counts(part, whole)
    return None if whole == 0 else 1000 * part / whole


def share(part: int, whole: int) -> float | None:
    """``part`` / ``whole`` in 0..1; None when there is no whole."""
    _counts(part, whole)
    return None if whole == 0 else part / whole


def _counts(part: int, whole: int) -> None:
    if part < 0 or whole < 0:
        raise DomainError("counts", f"must not be negative, got {part} of {whole}")
    if part > whole:
        raise DomainError("counts", f"the part ({part}) exceeds the whole ({whole})")
