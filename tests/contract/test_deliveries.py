"""The delivery repository on SQLite and PostgreSQL: queue once, claim within the circuit and the
shared rate budget, leases, fenced outcomes, retry from dead letter, counts.

Every test runs on both databases (the ``engine`` fixture) and works on targets of its own
(``erp:test-<hex>``), so tests sharing the PostgreSQL schema never see each other's rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.deliveries import AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus
from suture.domain.delivery_targets import Circuit, CircuitState, TargetSettings

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
S = DeliveryStatus
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
#: A budget that refills too slowly to matter within a test.
SLOW = TargetSettings(rate_per_second=0.0001, burst=100)


@pytest.fixture
def target() -> str:
    return f"erp:test-{uuid4().hex[:12]}"


def delivery(target: str, key: str | None = None, at: datetime = NOW) -> Delivery:
    return Delivery.new(
        id=f"dlv-{uuid4().hex}",
        target=target,
        operation="purchase_order.create",
        payload=b'{"po": "PO-1"}\x00\xff',
        idempotency_key=key or uuid4().hex,
        at=at,
        facility_id="fac-1",
        correlation_id=f"PO-{uuid4().hex[:8]}",
        trace_id=uuid4().hex,
    )


def enqueue(uow: UowFactory, *deliveries: Delivery) -> list[tuple[Delivery, bool]]:
    with uow() as work:
        stored = [work.deliveries.enqueue(each) for each in deliveries]
        work.commit()
    return stored


def configure(uow: UowFactory, target: str, settings: TargetSettings, at: datetime = NOW) -> None:
    with uow() as work:
        work.deliveries.configure_target(target, settings, at=at)
        work.commit()


def claim(
    uow: UowFactory, at: datetime = NOW, limit: int = 100, **filters: object
) -> list[Delivery]:
    with uow() as work:
        claimed = work.deliveries.claim_due(at, limit=limit, lease=LEASE, **filters)  # type: ignore[arg-type]
        work.commit()
    return claimed


def get(uow: UowFactory, delivery_id: str) -> Delivery:
    with uow() as work:
        found = work.deliveries.get(delivery_id, with_payload=True)
    assert found is not None
    return found


# --- enqueue ---------------------------------------------------------------------------------


def test_enqueue_stores_the_delivery_with_its_payload_exactly(uow: UowFactory, target: str) -> None:
    queued = delivery(target)

    assert enqueue(uow, queued) == [(queued, False)]
    assert get(uow, queued.id) == queued


def test_the_same_key_for_the_same_target_is_queued_once(uow: UowFactory, target: str) -> None:
    first, again = delivery(target, key="po-1"), delivery(target, key="po-1")

    enqueue(uow, first)
    stored, existed = enqueue(uow, again)[0]

    assert (stored.id, existed) == (first.id, True)
    with uow() as work:
        assert work.deliveries.list(target=target) == [replace(first, payload=None)]


def test_the_same_key_for_two_targets_is_two_deliveries(uow: UowFactory, target: str) -> None:
    other = f"x12:test-{uuid4().hex[:12]}"

    results = enqueue(uow, delivery(target, key="po-1"), delivery(other, key="po-1"))

    assert [existed for _, existed in results] == [False, False]


def test_a_new_target_gets_the_default_limits_and_a_closed_circuit(
    uow: UowFactory, target: str
) -> None:
    enqueue(uow, delivery(target))

    with uow() as work:
        state = work.deliveries.target_state(target, at=NOW)

    assert (state.settings, state.budget.tokens, state.circuit) == (
        TargetSettings(),
        float(TargetSettings().burst),
        Circuit(),
    )


# --- claiming --------------------------------------------------------------------------------


def test_a_claim_takes_due_deliveries_in_flight_under_a_lease(uow: UowFactory, target: str) -> None:
    configure(uow, target, SLOW)
    due = delivery(target)
    enqueue(uow, due, delivery(target, at=NOW + timedelta(minutes=1)))

    claimed = claim(uow, target=target)

    expected = replace(due, status=S.IN_FLIGHT, attempts=1, lease_until=NOW + LEASE, updated_at=NOW)
    assert claimed == [expected]
    assert get(uow, due.id) == expected


def test_a_claimed_delivery_is_not_claimed_again_while_its_lease_holds(
    uow: UowFactory, target: str
) -> None:
    configure(uow, target, SLOW)
    enqueue(uow, delivery(target))
    claim(uow, target=target)

    assert claim(uow, NOW + LEASE - timedelta(seconds=1), target=target) == []


def test_an_expired_lease_makes_the_delivery_due_again_and_records_the_lost_attempt(
    uow: UowFactory, target: str
) -> None:
    configure(uow, target, SLOW)
    queued = delivery(target)
    enqueue(uow, queued)
    claim(uow, target=target)

    reclaimed = claim(uow, NOW + LEASE, target=target)
    with uow() as work:
        attempts = work.deliveries.attempts(queued.id)

    assert [(d.id, d.attempts, d.lease_until) for d in reclaimed] == [
        (queued.id, 2, NOW + 2 * LEASE)
    ]
    assert attempts == [
        DeliveryAttempt(
            delivery_id=queued.id,
            attempt=1,
            at=NOW + LEASE,
            outcome=AttemptOutcome.LEASE_EXPIRED,
            error="no outcome reported before the lease expired",
        )
    ]


def test_a_claim_takes_no_more_than_the_tokens_and_spends_one_per_delivery(
    uow: UowFactory, target: str
) -> None:
    configure(uow, target, TargetSettings(rate_per_second=1.0, burst=3))
    enqueue(uow, *(delivery(target) for _ in range(6)))

    first = claim(uow, target=target)
    at_once = claim(uow, target=target)
    two_seconds_later = claim(uow, NOW + timedelta(seconds=2), target=target)

    assert (len(first), len(at_once), len(two_seconds_later)) == (3, 0, 2)


def test_tokens_are_spent_only_on_deliveries_actually_claimed(uow: UowFactory, target: str) -> None:
    configure(uow, target, TargetSettings(rate_per_second=0.0001, burst=5))
    enqueue(uow, delivery(target), delivery(target))
    claim(uow, target=target)

    with uow() as work:
        assert round(work.deliveries.target_state(target, at=NOW).budget.tokens, 3) == 3.0


def test_an_open_circuit_that_has_not_cooled_down_is_skipped(uow: UowFactory, target: str) -> None:
    open_circuit(uow, target, opened_at=NOW - timedelta(seconds=10))
    enqueue(uow, delivery(target), delivery(target))

    assert claim(uow, target=target) == []


def test_an_open_circuit_that_cooled_down_lets_one_trial_through_and_turns_half_open(
    uow: UowFactory, target: str
) -> None:
    open_circuit(uow, target, opened_at=NOW - timedelta(seconds=30))
    enqueue(uow, delivery(target), delivery(target))

    trial = claim(uow, target=target)
    meanwhile = claim(uow, NOW + timedelta(seconds=1), target=target)
    with uow() as work:
        circuit = work.deliveries.target_state(target, at=NOW).circuit

    assert (len(trial), meanwhile, circuit.state, circuit.opened_at) == (
        1,
        [],
        CircuitState.HALF_OPEN,
        NOW,
    )


def test_a_claim_shares_the_limit_among_targets_and_filters_by_prefix(
    uow: UowFactory, target: str
) -> None:
    kind = f"k{uuid4().hex[:8]}"
    first, second = f"{kind}:a", f"{kind}:b"
    for each in (first, second):
        configure(uow, each, SLOW)
    enqueue(uow, *(delivery(first) for _ in range(4)), *(delivery(second) for _ in range(4)))
    enqueue(uow, delivery(target))

    claimed = claim(uow, limit=4, prefixes=(kind,))

    assert sorted(d.target for d in claimed) == [first, first, second, second]


# --- outcomes --------------------------------------------------------------------------------


def test_mark_delivered_ends_the_delivery(uow: UowFactory, target: str) -> None:
    queued = delivery(target)
    enqueue(uow, queued)
    claim(uow, target=target)

    with uow() as work:
        done = work.deliveries.mark_delivered(queued.id, at=NOW + timedelta(seconds=1))
        work.commit()

    stored = get(uow, queued.id)
    assert (done, stored.status, stored.delivered_at, stored.lease_until) == (
        True,
        S.DELIVERED,
        NOW + timedelta(seconds=1),
        None,
    )


def test_a_retry_is_scheduled_only_by_the_attempt_holding_the_delivery(
    uow: UowFactory, target: str
) -> None:
    queued = delivery(target)
    enqueue(uow, queued)
    claim(uow, target=target)
    later = NOW + timedelta(minutes=2)

    with uow() as work:
        stale = work.deliveries.schedule_retry(
            queued.id, attempt=7, next_attempt_at=later, error="HTTP 503", at=NOW
        )
        holder = work.deliveries.schedule_retry(
            queued.id, attempt=1, next_attempt_at=later, error="HTTP 503", at=NOW
        )
        work.commit()

    stored = get(uow, queued.id)
    assert (stale, holder) == (False, True)
    assert (stored.status, stored.next_attempt_at, stored.last_error, stored.attempts) == (
        S.PENDING,
        later,
        "HTTP 503",
        1,
    )


def test_a_dead_delivery_keeps_the_error_and_a_retry_makes_it_pending_with_fresh_attempts(
    uow: UowFactory, target: str
) -> None:
    queued = delivery(target)
    enqueue(uow, queued)
    claim(uow, target=target)
    with uow() as work:
        work.deliveries.dead_letter(queued.id, attempt=1, error="vendor V-9 unknown", at=NOW)
        work.commit()
    dead = get(uow, queued.id)

    with uow() as work:
        retried = work.deliveries.retry(queued.id, at=NOW + timedelta(hours=1))
        work.commit()

    assert (dead.status, dead.last_error) == (S.DEAD, "vendor V-9 unknown")
    assert retried is not None
    assert (retried.status, retried.attempts, retried.next_attempt_at) == (
        S.PENDING,
        0,
        NOW + timedelta(hours=1),
    )


def test_a_parked_delivery_is_never_claimed_until_a_retry_makes_it_pending_again(
    uow: UowFactory, target: str
) -> None:
    queued = delivery(target)
    enqueue(uow, queued)
    claim(uow, target=target)
    with uow() as work:
        stale = work.deliveries.park(queued.id, attempt=7, error="no supplier SUP-9", at=NOW)
        parked = work.deliveries.park(queued.id, attempt=1, error="no supplier SUP-9", at=NOW)
        work.commit()
    later = NOW + timedelta(hours=1)
    unclaimed = claim(uow, at=later + LEASE, target=target)  # not due, not a lost lease

    with uow() as work:
        retried = work.deliveries.retry(queued.id, at=later)
        work.commit()

    assert (stale, parked, unclaimed) == (False, True, [])
    assert retried is not None
    assert (retried.status, retried.attempts, retried.next_attempt_at, retried.last_error) == (
        S.PENDING,
        0,
        later,
        "no supplier SUP-9",
    )


def test_attempts_are_kept_in_the_order_recorded(uow: UowFactory, target: str) -> None:
    queued = delivery(target)
    enqueue(uow, queued)
    recorded = [
        DeliveryAttempt(
            delivery_id=queued.id,
            attempt=1,
            at=NOW,
            outcome=AttemptOutcome.FAILED,
            error="HTTP 503",
            duration_ms=120,
        ),
        DeliveryAttempt(delivery_id=queued.id, attempt=2, at=NOW, outcome=AttemptOutcome.DELIVERED),
    ]

    with uow() as work:
        for attempt in recorded:
            work.deliveries.record_attempt(attempt)
        work.commit()

    with uow() as work:
        assert work.deliveries.attempts(queued.id) == recorded


# --- queries ---------------------------------------------------------------------------------


def test_counts_per_target_name_every_status(uow: UowFactory, target: str) -> None:
    configure(uow, target, SLOW)
    enqueue(uow, delivery(target), delivery(target), delivery(target))
    claim(uow, limit=1, target=target)

    with uow() as work:
        counts = work.deliveries.count_by_status(target=target)

    assert counts == {
        target: {
            S.PENDING: 2, S.IN_FLIGHT: 1, S.DELIVERED: 0, S.DEAD: 0, S.SHADOWED: 0, S.PARKED: 0,
        }
    }  # fmt: skip


def test_a_list_pages_by_id_without_payloads(uow: UowFactory, target: str) -> None:
    queued = sorted((delivery(target) for _ in range(3)), key=lambda d: d.id)
    enqueue(uow, *queued)

    with uow() as work:
        first = work.deliveries.list(target=target, limit=2)
        rest = work.deliveries.list(target=target, after=first[-1].id)

    assert first + rest == [replace(each, payload=None) for each in queued]


# --- concurrency -----------------------------------------------------------------------------


def test_concurrent_claimers_share_one_budget_and_never_claim_a_delivery_twice(
    engine: sa.Engine, target: str
) -> None:
    second = create_engine(engine.url.render_as_string(hide_password=False))
    factories: list[UowFactory] = [
        lambda: SqlAlchemyUnitOfWork(engine),
        lambda: SqlAlchemyUnitOfWork(second),
    ]
    configure(factories[0], target, TargetSettings(rate_per_second=0.0001, burst=7))
    enqueue(factories[0], *(delivery(target) for _ in range(30)))
    start = threading.Barrier(4)
    claimed: list[Delivery] = []
    errors: list[BaseException] = []

    def claimer(uow: UowFactory) -> None:
        try:
            start.wait(timeout=10)
            for _ in range(5):
                claimed.extend(claim(uow, limit=3, target=target))
        except Exception as exc:  # the main thread asserts on whatever a claimer met
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(factories[i % 2],)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        second.dispose()

    assert errors == []
    assert (len(claimed), len({d.id for d in claimed})) == (7, 7)


def open_circuit(uow: UowFactory, target: str, *, opened_at: datetime) -> None:
    settings = TargetSettings(rate_per_second=0.0001, burst=50, cool_down=timedelta(seconds=30))
    configure(uow, target, settings)
    with uow() as work:
        state = work.deliveries.target_state(target, at=NOW, lock=True)
        circuit = Circuit(state=CircuitState.OPEN, consecutive_failures=5, opened_at=opened_at)
        work.deliveries.save_target(replace(state, circuit=circuit))
        work.commit()
