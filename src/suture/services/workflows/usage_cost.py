"""Step 2 of the usage workflow (``cost_attribution``): journal, ERP delivery, expected charge.

Written for a batch of events like step 1 (``usage_stock.py``), the one-event handler being a
batch of one. Each ``inventory.usage.applied`` event is unique per usage (its idempotency key),
so one worker at a time costs a usage; a workflow found costed already is skipped, and every
document is named after the usage, so a step that runs again writes nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from suture.domain.costing import CostingAccounts, ExpectedCharge, expected_charge, usage_journal
from suture.domain.ledger import JournalEntry
from suture.domain.usage_workflow import UsageCosting, UsageStep
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import MissingDependencyError
from suture.eventlog.events import UsageApplied
from suture.services.deliveries import DeliveryQueue, Outbound
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.journal_file import journal_csvs
from suture.services.workflows.lookups import MasterData, WorkflowError, caused_by
from suture.services.workflows.usage_events import usage_costed

USAGE_COSTED = "finance.usage.costed"
_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class CostSettings:
    """Where journals go and which accounts they post to."""

    deliveries: DeliveryQueue
    erp_target: str
    accounts: CostingAccounts


def attribute_costs(
    batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork, settings: CostSettings
) -> None:
    """Run step 2 for every event of ``batch`` whose usage is stocked and not yet costed."""
    applied: dict[str, tuple[UsageApplied, Envelope, HandlerContext]] = {}
    for envelope, context in batch:
        event = UsageApplied.model_validate(envelope.payload)
        applied.setdefault(event.usage_id, (event, envelope, context))
    steps = uow.usage_workflows.steps(applied)
    master = MasterData(uow)
    master.read_items(event.item_id for event, _, _ in applied.values())
    journals: list[JournalEntry] = []
    charges: list[ExpectedCharge] = []
    costed: list[UsageCosting] = []
    events: list[Envelope] = []
    journaled: list[tuple[UsageApplied, Envelope]] = []
    for usage_id, (event, envelope, context) in applied.items():
        step = steps.get(usage_id)
        if step is None:
            raise WorkflowError("usage_id", f"usage {usage_id} has no workflow state")
        if step is UsageStep.COSTED:
            continue
        # What step 1 stored in the state, carried by its event: read back from the state they
        # would have four places (``ExactDecimal``), so they are given four here too.
        total, eaches = event.amount.quantize(_PLACES), event.eaches.quantize(_PLACES)
        department_id, cost_center_id = _cost_center(master, event)
        item = master.item(event.item_id)
        if item is None:
            missing = ("item_id", event.item_id)
            raise MissingDependencyError(missing, f"item {event.item_id} left the item master")
        journal = None
        if total > 0:
            journal = usage_journal(
                usage_id, item=item, facility_id=event.facility_id,
                cost_center_id=cost_center_id, total=total,
                consigned=event.consigned, posting_date=event.used_at.date(),
                accounts=settings.accounts,
            )  # fmt: skip
            journals.append(journal)
            journaled.append((event, envelope))
        charge = expected_charge(
            usage_id, item=item, facility_id=event.facility_id,
            encounter_token=event.encounter_token, eaches=eaches, cost=total,
            used_at=event.used_at, department_id=department_id, at=context.now,
        )  # fmt: skip
        if charge is not None:
            charges.append(charge)
        costed.append(UsageCosting(
            usage_id=usage_id, journal_id=journal.id if journal else None,
            expected_charge_id=charge.id if charge else None,
            cost_center_id=cost_center_id, at=context.now,
        ))  # fmt: skip
        payload = usage_costed(
            usage_id=usage_id, facility_id=event.facility_id, item_id=item.id,
            department_id=department_id, cost_center_id=cost_center_id, amount=total,
            journal_id=journal.id if journal else None,
            cdm_code=charge.cdm_code if charge else None,
            expected_charge_id=charge.id if charge else None,
            encounter_token=event.encounter_token,
        )  # fmt: skip
        events.append(caused_by(context, USAGE_COSTED, payload,
                                idempotency_key=f"usage-costed:{usage_id}"))  # fmt: skip
    if not costed:
        return
    outbound = [
        Outbound(
            target=settings.erp_target, operation="journal", payload=payload,
            idempotency_key=f"journal-{journal.id}", facility_id=event.facility_id,
            correlation_id=envelope.correlation_id, trace_id=envelope.trace_id,
        )
        for journal, payload, (event, envelope) in zip(
            journals, journal_csvs(journals), journaled, strict=True
        )
    ]  # fmt: skip
    uow.journals.add_many(journals)
    settings.deliveries.enqueue_many(uow, outbound, at=batch[0][1].now)
    uow.expected_charges.add_many(charges)
    if uow.usage_workflows.cost_many(costed) != len(costed):
        raise WorkflowError("usage_id", "a usage of the batch was costed concurrently; retry")
    batch[0][1].bus.publish_many(uow, events)


def _cost_center(master: MasterData, event: UsageApplied) -> tuple[str, str]:
    """The usage's department (the encounter's, else the location's) and its cost center;
    parks on the department when there is none or it is not in the master."""
    department_id = event.department_id
    if department_id is None:
        raise MissingDependencyError(
            ("department", f"{event.facility_id}/{event.location_id}"),
            f"usage names no department and location {event.location_id} has none",
        )
    department = master.department(department_id)
    if department is None:
        missing = ("department", department_id)
        raise MissingDependencyError(missing, f"department {department_id} is not in the master")
    return department_id, department.cost_center_id
