"""Continuous charge-to-cost reconciliation (DESIGN.md §4; docs/workflows.md).

A process manager with its state per line, grouped by the key ``(facility, encounter token,
CDM code)`` (``domain/reconciliation_state.py``, table ``reconciliation_lines``)::

    charge.posted ─────────┐
     (HL7 DFT^P03, FHIR)   ├─► charge_reconciliation ─► the key re-evaluated from the stored
    finance.usage.costed ──┘    (this module)            charges and expected charges; each
     (the usage workflow's                               line's verdict, lag and due time saved;
      expected charge)                                   an exception a match ends, resolved

    suture serve's dispatcher loop ─► ReconciliationSweeper ─► lines still unmatched ``window``
                                                               after their time: exception
                                                               ``usage_without_charge`` or
                                                               ``charge_without_usage``

Exactly once: the bus's tracking row skips a redelivered event, and the step itself is
idempotent, since it recomputes a key's verdicts from its committed lines with the pure rule
(:func:`~suture.domain.reconciliation.reconcile_key`) and upserts them; only ``matched_at``
remembers when a line was first fully billed. On PostgreSQL the key's state rows are locked
first, so two workers re-evaluating one key take turns. The sweeper opens each exception with a
business subject (``reconciliation:<side>:<line>``), itself idempotent, in the transaction that
marks the line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from suture.domain.exceptions import ExceptionStatus
from suture.domain.reconciliation import (
    AGING,
    CENT,
    Key,
    LagStats,
    Outcome,
    Side,
    lag_stats,
    price_on,
    reconcile_key,
    revenue_at_risk,
)
from suture.domain.reconciliation_state import LineState, advance
from suture.eventlog.envelope import Envelope
from suture.services.clock import Clock
from suture.services.exceptions import SYSTEM_ACTOR, open_exception
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork

#: The handler's name: the routing policy's destination.
CHARGE_RECONCILIATION = "charge_reconciliation"
CHARGE_POSTED = "charge.posted"
USAGE_COSTED = "finance.usage.costed"

Batch = Sequence[tuple[Envelope, HandlerContext]]


def key_of(envelope: Envelope) -> Key | None:
    """The reconciliation key an event touches; None for an event that touches none (a usage
    of an item that bills nothing)."""
    payload = envelope.payload
    if envelope.type == CHARGE_POSTED:
        return (payload["facility_id"], payload["encounter_token"], payload["cdm_code"])
    if envelope.type == USAGE_COSTED:
        if payload.get("cdm_code") is None or payload.get("expected_charge_id") is None:
            return None
        encounter = payload.get("encounter_token") or f"none:{payload['expected_charge_id']}"
        return (payload["facility_id"], encounter, payload["cdm_code"])
    return None


class ReconciliationProcess:
    """The ``charge_reconciliation`` handler, in one-event and batch form."""

    def __init__(self, window: timedelta) -> None:
        self.window = window

    def reconcile_event(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """Re-evaluate the key the event touches."""
        self.reconcile_keys(uow, [key_of(envelope)], context.now)

    def reconcile_events(self, batch: Batch, uow: UnitOfWork) -> None:
        """Re-evaluate every key the batch touches, each once."""
        if batch:
            self.reconcile_keys(uow, [key_of(envelope) for envelope, _ in batch], batch[0][1].now)

    def reconcile_keys(self, uow: UnitOfWork, keys: Sequence[Key | None], now: datetime) -> None:
        for key in sorted({key for key in keys if key is not None}):
            self._reevaluate(uow, key, now)

    def _reevaluate(self, uow: UnitOfWork, key: Key, now: datetime) -> None:
        states = uow.reconciliation.states(key)
        usages = uow.reconciliation.usage_lines(key)
        charges = uow.reconciliation.charge_lines(key)
        prices = uow.chargemaster.for_codes([(key[0], key[2])])

        def price(facility_id: str, cdm_code: str, day: date) -> Decimal | None:
            return price_on(prices.get((facility_id, cdm_code), []), day)

        results = reconcile_key(key, usages, charges, window=self.window, price=price)
        saved: list[LineState] = []
        for result in results:
            step = advance(
                states.get((result.side, result.line_id)), result, window=self.window, now=now
            )
            if step.resolves is not None:
                _resolve(uow, step.resolves, result.outcome, now)
            saved.append(step.state)
        uow.reconciliation.save_many(saved)


def _resolve(uow: UnitOfWork, exception_id: str, outcome: Outcome, at: datetime) -> None:
    item = uow.exceptions.get(exception_id, lock=True)
    if item is None or not item.is_active:
        return  # dismissed or resolved by a person meanwhile: nothing to do
    note = f"reconciliation now finds the line {outcome.value.replace('_', ' ')}"
    uow.exceptions.save(item.resolve(note, by=SYSTEM_ACTOR, at=at))


class ReconciliationSweeper:
    """Ages unmatched lines into exceptions once their window has passed.

    ``run_once(limit)`` has the shape of the dispatcher's other work sources (``suture serve``
    and ``suture worker`` run it in their loops): it returns how many lines it aged. It looks at
    most every ``every`` (a read that takes no write lock), and opens a writing transaction only
    when something is due, so an idle hub's SQLite writer is not disturbed.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        window: timedelta,
        *,
        read_uow_factory: Callable[[], UnitOfWork] | None = None,
        every: timedelta = timedelta(seconds=30),
    ) -> None:
        self._uow_factory = uow_factory
        self._read_uow_factory = read_uow_factory or uow_factory
        self._clock = clock
        self._every = every
        self._next: datetime | None = None
        self.window = window

    def run_once(self, limit: int = 500) -> int:
        now = self._clock()
        if self._next is not None and now < self._next:
            return 0
        with self._read_uow_factory() as uow:
            anything = bool(uow.reconciliation.due(now, 1))
        if not anything:
            self._next = now + self._every
            return 0
        with self._uow_factory() as uow:
            due = repriced(uow, uow.reconciliation.due(now, limit))
            aged: list[LineState] = []
            for state in due:
                item = open_exception(
                    uow, type=state.exception_type, facility_id=state.facility_id,
                    reason=state.reason(self.window), at=now,
                    correlation_id=f"reconciliation:{state.side.value}:{state.line_id}",
                )  # fmt: skip
                aged.append(state.opened(item.id, now))
            uow.reconciliation.save_many(aged)
            uow.commit()
        self._next = None if len(due) >= limit else now + self._every
        return len(due)


def repriced(uow: UnitOfWork, states: Sequence[LineState]) -> list[LineState]:
    """The states with the revenue at risk of each unbilled usage line priced from today's
    chargemaster: a price loaded, or corrected, after the key was last evaluated (an MFN^M04,
    the CDM file) counts, as it does in the batch, which reads the chargemaster when it runs.
    The stored figure is as of the key's last event; the rule and its date are the same."""
    unbilled = [s for s in states if s.side is Side.USAGE and s.unbilled != 0]
    prices = uow.chargemaster.for_codes((s.facility_id, s.cdm_code) for s in unbilled)
    current = {
        (s.side, s.line_id): revenue_at_risk(
            s.unbilled, price_on(prices.get((s.facility_id, s.cdm_code), []), s.line_at.date())
        )
        for s in unbilled
    }
    return [
        replace(state, revenue_at_risk=current[state.side, state.line_id])
        if (state.side, state.line_id) in current
        else state
        for state in states
    ]


@dataclass(frozen=True, slots=True)
class ReconciliationKpis:
    """DESIGN.md §7: reconciliation lag (median, p90), unmatched aging and revenue at risk."""

    lag: LagStats
    #: Lines waiting for the other side, by age: "0-3d", "3-7d", "7-30d", "30d+".
    unmatched_aging: dict[str, int]
    #: The revenue at risk of usage lines not (fully) charged, priced lines only.
    revenue_at_risk: Decimal
    open_exceptions: int
    #: Usage lines not (fully) charged that the chargemaster has no price for: not in
    #: ``revenue_at_risk``, as the batch's ``unpriced``.
    unpriced: int = 0


_BUCKETS = (("0-3d", 3), ("3-7d", 7), ("7-30d", 30))


def reconciliation_kpis(
    uow: UnitOfWork,
    now: datetime,
    facility_id: str | None = None,
    *,
    until: datetime | None = None,
) -> ReconciliationKpis:
    """The KPIs from the continuous state, as of ``now``: each unmatched line aged at ``now``.

    ``until`` (a report's period end, ``now`` being the earlier of it and the clock) leaves out
    the lines dated from it on, which a period ending before them never saw, and the matches
    made from it on; without it every line counts (``suture reconcile``)."""
    states = repriced(
        uow,
        [
            state
            for state in uow.reconciliation.all(facility_id)
            if until is None or state.line_at < until
        ],
    )
    lags = [
        lag
        for state in states
        if (lag := state.lag) is not None
        and (until is None or (state.matched_at is not None and state.matched_at < until))
    ]
    aging = {name: 0 for name, _ in _BUCKETS} | {"30d+": 0}
    at_risk = Decimal(0)
    open_items = unpriced = 0
    for state in states:
        if (state.side, state.outcome) not in AGING:
            continue
        days = max(0.0, (now - state.line_at).total_seconds() / 86400)
        aging[next((name for name, limit in _BUCKETS if days < limit), "30d+")] += 1
        if state.side is Side.USAGE and state.revenue_at_risk is not None:
            at_risk += state.revenue_at_risk
        elif state.side is Side.USAGE:
            unpriced += 1
        if state.exception_id is not None:
            open_items += 1
    return ReconciliationKpis(
        lag_stats(lags), aging, at_risk.quantize(CENT), open_items, unpriced=unpriced
    )


__all__ = [
    "CHARGE_RECONCILIATION",
    "ExceptionStatus",
    "ReconciliationKpis",
    "ReconciliationProcess",
    "ReconciliationSweeper",
    "key_of",
    "reconciliation_kpis",
    "repriced",
]
