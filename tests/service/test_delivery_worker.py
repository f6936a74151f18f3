"""The delivery worker on a real SQLite unit of work, the target a scripted fake transport.

The target is the one truly external system here, so it is faked; the clock is fixed and moved
by hand. Retries use a policy of 2 s, 4 s, 8 s … (capped at 60 s) with the jitter drawn at 0.5,
so the waits are 1 s, 2 s, 4 s ….
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.deliveries import AttemptOutcome, Delivery, DeliveryStatus
from suture.domain.delivery_targets import CircuitState, TargetSettings
from suture.domain.errors import DomainError
from suture.domain.exceptions import ExceptionType
from suture.eventlog.retry import RetryPolicy
from suture.services.deliveries import (
    Deliveries,
    DeliveryNotRetryableError,
    DeliveryQueue,
    DeliveryRefusedError,
    DeliveryUnavailableError,
    UnknownDeliveryError,
)
from suture.services.delivery_worker import DeliveryWorker

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
S = DeliveryStatus
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ERP = "erp:tryton"
RETRY = RetryPolicy(
    max_attempts=20, base_delay=timedelta(seconds=2), max_delay=timedelta(seconds=60)
)
#: Generous limits, so a test sees only the mechanism it is about.
OPEN_HANDED = TargetSettings(rate_per_second=1000.0, burst=1000, failure_threshold=1000)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ScriptedTarget:
    """A fake ERP: down, refusing some keys, or accepting; it remembers every call."""

    down: bool = False
    refuse: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    def send(self, delivery: Delivery) -> None:
        self.calls.append(delivery.idempotency_key)
        if self.down:
            raise DeliveryUnavailableError("HTTP 503 Service Unavailable")
        if delivery.idempotency_key in self.refuse:
            raise DeliveryRefusedError(self.refuse[delivery.idempotency_key])
        self.accepted.append(delivery.idempotency_key)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> UowFactory:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def erp() -> ScriptedTarget:
    return ScriptedTarget()


@pytest.fixture
def worker(uow: UowFactory, erp: ScriptedTarget, clock: Clock) -> DeliveryWorker:
    return DeliveryWorker(uow, {"erp": erp}, RETRY, clock, rand=lambda: 0.5)


@pytest.fixture
def deliveries(uow: UowFactory, clock: Clock) -> Deliveries:
    return Deliveries(uow, clock)


def queue(uow: UowFactory, *keys: str, at: datetime = T0, target: str = ERP) -> list[Delivery]:
    with uow() as work:
        queued = [
            DeliveryQueue().enqueue(
                work,
                target=target,
                operation="purchase_order.create",
                payload=f'{{"po": "{key}"}}',
                idempotency_key=key,
                at=at,
                facility_id="fac-1",
                correlation_id=key,
            )
            for key in keys
        ]
        work.commit()
    return queued


def configure(deliveries: Deliveries, settings: TargetSettings, target: str = ERP) -> None:
    deliveries.configure_target(target, settings)


def statuses(deliveries: Deliveries) -> dict[str, S]:
    return {d.idempotency_key: d.status for d in deliveries.list(target=ERP)}


def open_delivery_exceptions(uow: UowFactory, delivery_id: str) -> list[tuple[ExceptionType, str]]:
    with uow() as work:
        items = work.exceptions.find_open_for_subject(f"delivery:{delivery_id}")
    return [(item.type, item.reason) for item in items]


# --- outbox ----------------------------------------------------------------------------------


def test_a_delivery_queued_in_a_transaction_that_rolls_back_is_not_queued(
    uow: UowFactory, deliveries: Deliveries
) -> None:
    with uow() as work:
        DeliveryQueue().enqueue(
            work,
            target=ERP,
            operation="purchase_order.create",
            payload="{}",
            idempotency_key="PO-1",
            at=T0,
        )  # no commit: the business change failed

    assert deliveries.totals() == dict.fromkeys(S, 0)


def test_queuing_the_same_fact_twice_returns_the_first_delivery(uow: UowFactory) -> None:
    first = queue(uow, "PO-1")[0]

    assert queue(uow, "PO-1")[0].id == first.id


# --- target down, then back ------------------------------------------------------------------


def test_while_the_target_is_down_deliveries_wait_with_growing_backoff_and_none_is_lost(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    configure(deliveries, OPEN_HANDED)
    queue(uow, "PO-1", "PO-2", "PO-3")
    erp.down = True
    waits: list[timedelta] = []

    for _ in range(4):
        worker.run_once()
        pending = deliveries.list(target=ERP)
        waits.append(pending[0].next_attempt_at - clock.now)
        clock.now = max(d.next_attempt_at for d in pending)

    assert statuses(deliveries) == dict.fromkeys(["PO-1", "PO-2", "PO-3"], S.PENDING)
    assert waits == [timedelta(seconds=s) for s in (1, 2, 4, 8)]


def test_when_the_target_comes_back_every_delivery_arrives_exactly_once(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    configure(deliveries, OPEN_HANDED)
    queue(uow, "PO-1", "PO-2", "PO-3")
    erp.down = True
    for _ in range(3):
        worker.run_once()
        clock.advance(60)

    erp.down = False
    sent = worker.run_once()
    clock.advance(3600)
    again = worker.run_once()

    assert (sent, again, sorted(erp.accepted)) == (3, 0, ["PO-1", "PO-2", "PO-3"])
    assert statuses(deliveries) == dict.fromkeys(["PO-1", "PO-2", "PO-3"], S.DELIVERED)


def test_each_attempt_is_recorded_with_the_targets_error(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    configure(deliveries, OPEN_HANDED)
    queued = queue(uow, "PO-1")[0]
    erp.down = True
    worker.run_once()
    clock.advance(60)
    erp.down = False
    worker.run_once()

    attempts = deliveries.attempts(queued.id)

    assert [(a.attempt, a.outcome, a.error) for a in attempts] == [
        (1, AttemptOutcome.FAILED, "HTTP 503 Service Unavailable"),
        (2, AttemptOutcome.DELIVERED, None),
    ]


# --- circuit breaker -------------------------------------------------------------------------


def test_the_circuit_opens_after_the_threshold_and_the_target_is_left_alone_until_cooled(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    configure(
        deliveries,
        TargetSettings(
            rate_per_second=1000.0, burst=1000, failure_threshold=3, cool_down=timedelta(minutes=5)
        ),
    )
    queue(uow, *(f"PO-{n}" for n in range(10)))
    erp.down = True
    for _ in range(3):  # three consecutive failures, one delivery each
        worker.run_once(limit=1)
    calls_when_opened = len(erp.calls)

    clock.advance(240)  # every backoff has passed, the cool-down has not
    during_cool_down = worker.run_once()
    clock.advance(60)
    erp.down = False
    trial = worker.run_once()
    after_trial = worker.run_once()

    assert (calls_when_opened, during_cool_down, trial, after_trial) == (3, 0, 1, 9)
    assert deliveries.targets()[0].circuit.state is CircuitState.CLOSED


def test_a_failed_trial_opens_the_circuit_for_another_cool_down(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    cool_down = timedelta(seconds=30)
    configure(
        deliveries,
        TargetSettings(
            rate_per_second=1000.0, burst=1000, failure_threshold=1, cool_down=cool_down
        ),
    )
    queue(uow, "PO-1", "PO-2")
    erp.down = True
    worker.run_once(limit=1)
    clock.advance(30)

    trial = worker.run_once()
    clock.advance(29)
    still_open = worker.run_once()

    state = deliveries.targets()[0].circuit
    assert (trial, still_open, state.state, state.opened_at) == (
        1,
        0,
        CircuitState.OPEN,
        T0 + cool_down,
    )


# --- rate budget -----------------------------------------------------------------------------


def test_the_rate_budget_caps_the_sends_per_second(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    configure(deliveries, TargetSettings(rate_per_second=2.0, burst=3))
    queue(uow, *(f"PO-{n}" for n in range(10)))

    burst = worker.run_once(limit=10)
    same_instant = worker.run_once(limit=10)
    clock.advance(1)
    one_second_later = worker.run_once(limit=10)

    assert (burst, same_instant, one_second_later, len(erp.accepted)) == (3, 0, 2, 5)


# --- refusal, exhaustion, retry --------------------------------------------------------------


def test_a_refusal_dead_letters_at_once_and_opens_a_delivery_failed_exception(
    worker: DeliveryWorker, erp: ScriptedTarget, deliveries: Deliveries, uow: UowFactory
) -> None:
    queued = queue(uow, "PO-1")[0]
    erp.refuse["PO-1"] = "UserError: supplier V-9 is not a party"

    worker.run_once()

    dead = deliveries.get(queued.id)
    assert (dead.status, dead.attempts, dead.last_error) == (
        S.DEAD,
        1,
        "UserError: supplier V-9 is not a party",
    )
    assert open_delivery_exceptions(uow, queued.id) == [
        (
            ExceptionType.DELIVERY_FAILED,
            "purchase_order.create to erp:tryton: permanent error: retrying cannot help: "
            "UserError: supplier V-9 is not a party",
        )
    ]


def test_a_refusal_does_not_count_against_the_circuit(
    worker: DeliveryWorker, erp: ScriptedTarget, deliveries: Deliveries, uow: UowFactory
) -> None:
    configure(deliveries, TargetSettings(failure_threshold=1))
    queue(uow, "PO-1")
    erp.refuse["PO-1"] = "HTTP 422"

    worker.run_once()

    assert deliveries.targets()[0].circuit.state is CircuitState.CLOSED


def test_a_delivery_that_runs_out_of_attempts_is_dead_lettered_with_an_exception(
    uow: UowFactory, erp: ScriptedTarget, clock: Clock, deliveries: Deliveries
) -> None:
    configure(deliveries, OPEN_HANDED)
    worker = DeliveryWorker(uow, {"erp": erp}, RetryPolicy(max_attempts=2), clock, lambda: 0.5)
    queued = queue(uow, "PO-1")[0]
    erp.down = True

    worker.run_once()
    clock.advance(60)
    worker.run_once()

    assert (deliveries.get(queued.id).status, erp.calls) == (S.DEAD, ["PO-1", "PO-1"])
    assert [t for t, _ in open_delivery_exceptions(uow, queued.id)] == [
        ExceptionType.DELIVERY_FAILED
    ]


def test_retrying_a_dead_delivery_delivers_it_and_resolves_its_exception(
    worker: DeliveryWorker, erp: ScriptedTarget, deliveries: Deliveries, uow: UowFactory
) -> None:
    queued = queue(uow, "PO-1")[0]
    erp.refuse["PO-1"] = "supplier V-9 unknown"
    worker.run_once()
    del erp.refuse["PO-1"]  # the supplier was set up in the ERP

    deliveries.retry_delivery(queued.id)
    sent = worker.run_once()

    assert (sent, deliveries.get(queued.id).status, erp.accepted) == (1, S.DELIVERED, ["PO-1"])
    assert open_delivery_exceptions(uow, queued.id) == []


def test_a_delivered_delivery_cannot_be_retried(
    worker: DeliveryWorker, deliveries: Deliveries, uow: UowFactory
) -> None:
    queued = queue(uow, "PO-1")[0]
    worker.run_once()

    with pytest.raises(DeliveryNotRetryableError) as refused:
        deliveries.retry_delivery(queued.id)

    assert refused.value.field == "status"


def test_retrying_an_unknown_delivery_names_the_id(deliveries: Deliveries) -> None:
    with pytest.raises(UnknownDeliveryError) as refused:
        deliveries.retry_delivery("no-such-delivery")

    assert refused.value.field == "delivery_id"


# --- crashes ---------------------------------------------------------------------------------


def test_a_delivery_whose_worker_died_after_claiming_is_sent_when_the_lease_expires(
    worker: DeliveryWorker,
    erp: ScriptedTarget,
    clock: Clock,
    deliveries: Deliveries,
    uow: UowFactory,
) -> None:
    queued = queue(uow, "PO-1")[0]
    with uow() as work:  # a worker claims, commits, and is killed before sending
        work.deliveries.claim_due(T0, limit=10, lease=timedelta(minutes=5))
        work.commit()

    before_expiry = worker.run_once()
    clock.advance(300)
    after_expiry = worker.run_once()

    assert (before_expiry, after_expiry, erp.accepted) == (0, 1, ["PO-1"])
    assert [a.outcome for a in deliveries.attempts(queued.id)] == [
        AttemptOutcome.LEASE_EXPIRED,
        AttemptOutcome.DELIVERED,
    ]


def test_a_worker_leaves_targets_it_has_no_transport_for(
    worker: DeliveryWorker, erp: ScriptedTarget, deliveries: Deliveries, uow: UowFactory
) -> None:
    queue(uow, "850-1", target="x12:supplier-SUP-0001")

    assert (worker.run_once(), deliveries.totals()[S.PENDING]) == (0, 1)


def test_the_most_specific_transport_wins(
    uow: UowFactory, erp: ScriptedTarget, clock: Clock
) -> None:
    special = ScriptedTarget()
    queue(uow, "PO-1")
    queue(uow, "PO-2", target="erp:other")
    worker = DeliveryWorker(uow, {"erp": erp, ERP: special}, RETRY, clock)

    worker.run_once()

    assert (special.accepted, erp.accepted) == (["PO-1"], ["PO-2"])


def test_configuring_a_target_that_is_not_kind_colon_name_is_refused(
    deliveries: Deliveries,
) -> None:
    with pytest.raises(DomainError) as refused:
        deliveries.configure_target("tryton", TargetSettings())

    assert refused.value.field == "target"
