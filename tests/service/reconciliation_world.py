"""Charges and expected charges for the reconciliation tests, posted as their workflows post
them: the row stored and its event (``charge.posted``, ``finance.usage.costed``) published in
one transaction, so the bus routes the event to ``charge_reconciliation`` by the shipped policy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suture.bootstrap import DESTINATIONS
from suture.domain.costing import ExpectedCharge
from suture.domain.masterdata import Facility
from suture.domain.reconciliation import ChargemasterPrice
from suture.domain.revenue import Charge, ChargeType
from suture.eventlog.events import build_registry
from suture.eventlog.routing import default_policy_text, load_policy
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.reconciliation import (
    CHARGE_RECONCILIATION,
    ReconciliationProcess,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)
UowFactory = Callable[[], UnitOfWork]


@dataclass
class MovableClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ward:
    """One facility's worth of reconciliation traffic; ids carry a random suffix."""

    uow: UowFactory
    bus: MessageBus
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def facility_id(self) -> str:
        return f"FAC-{self.run}"

    def put_on_record(self) -> None:
        """Add the ward's facility, which a batch naming it must find."""
        with self.uow() as unit:
            if unit.facilities.get(self.facility_id) is None:
                unit.facilities.add(Facility(id=self.facility_id, code=self.run, name="Ward"))
                unit.commit()

    def price(self, cdm: str, unit_price: str, since: date = date(2026, 1, 1)) -> None:
        with self.uow() as unit:
            unit.chargemaster.add_many(
                [ChargemasterPrice(facility_id=self.facility_id, cdm_code=cdm,
                                   effective_from=since, unit_price=Decimal(unit_price))],
                source_system="rcm",
            )  # fmt: skip
            unit.commit()

    def use(
        self, uid: str, qty: str = "1", *, cost: str = "100", at: datetime = T0,
        encounter: str | None = "ENC1", cdm: str = "CDM-KNEE",
    ) -> str:  # fmt: skip
        """Record an expected charge as the usage workflow's last step does."""
        usage_id = f"{uid}-{self.run}"
        expected = ExpectedCharge(
            id=usage_id, facility_id=self.facility_id, encounter_token=encounter,
            item_id="ITEM", cdm_code=cdm, hcpcs=None, revenue_code=None,
            quantity=Decimal(qty), cost=Decimal(cost), used_at=at, department_id="OR",
            recorded_at=self.bus.clock(),
        )  # fmt: skip
        payload = {
            "usage_id": usage_id, "facility_id": self.facility_id, "item_id": "ITEM",
            "department_id": "OR", "cost_center_id": "CC-OR", "amount": cost,
            "cdm_code": cdm, "expected_charge_id": usage_id, "encounter_token": encounter,
        }  # fmt: skip
        with self.uow() as unit:
            unit.expected_charges.add(expected)
            self.bus.publish(unit, self.bus.envelope(
                "finance.usage.costed", payload, idempotency_key=f"usage-costed:{usage_id}",
                correlation_id=usage_id, source_facility=self.facility_id,
            ))  # fmt: skip
            unit.commit()
        return usage_id

    def charge(
        self, cid: str, qty: str = "1", amount: str = "2500", *, at: datetime = T0,
        credit: bool = False, encounter: str = "ENC1", cdm: str = "CDM-KNEE",
    ) -> str:  # fmt: skip
        """Post a charge (or a credit) as HL7 ingest does."""
        charge_id = f"{cid}-{self.run}"
        kind = ChargeType.CREDIT if credit else ChargeType.CHARGE
        stored = Charge(
            id=charge_id, facility_id=self.facility_id, encounter_token=encounter,
            cdm_code=cdm, quantity=Decimal(qty), amount=Decimal(amount), service_at=at,
            transaction_type=kind, source_system="rcm",
        )  # fmt: skip
        payload = {
            "charge_id": charge_id, "facility_id": self.facility_id,
            "encounter_token": encounter, "cdm_code": cdm, "transaction_type": kind.value,
            "quantity": qty, "amount": amount, "service_date": at.date().isoformat(),
        }  # fmt: skip
        with self.uow() as unit:
            unit.charges.add_many([stored])
            self.bus.publish(unit, self.bus.envelope(
                "charge.posted", payload, idempotency_key=f"charge.posted:{charge_id}",
                correlation_id=encounter, source_facility=self.facility_id,
            ))  # fmt: skip
            unit.commit()
        return charge_id


def build_bus(
    uow: UowFactory, clock: MovableClock, *, window: timedelta = WINDOW, batch: bool = True
) -> MessageBus:
    """The bus as ``bootstrap.build`` wires reconciliation, reached by the shipped policy."""
    process = ReconciliationProcess(window)
    return MessageBus(
        uow,
        handlers={CHARGE_RECONCILIATION: process.reconcile_event},
        batch_handlers={CHARGE_RECONCILIATION: process.reconcile_events} if batch else {},
        policy=load_policy(default_policy_text(), "default.yaml", destinations=DESTINATIONS),
        registry=build_registry(),
        clock=clock,
    )


def drain(bus: MessageBus) -> int:
    total = 0
    while claimed := bus.run_once():
        total += claimed
    return total
