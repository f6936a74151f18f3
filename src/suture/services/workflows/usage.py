"""The usage workflow: usage → inventory → replenishment → cost → expected charge (DESIGN.md §4).

A process manager with its state per usage id (``usage_workflows``; ``domain/usage_workflow.py``)
and two steps, each a bus handler, so each commits its effects, the event that starts the next
step and its tracking row in one transaction (DESIGN.md §3 guarantee 2)::

    supply.usage.recorded ─► inventory ─► inventory.usage.applied ─► cost_attribution
      (RecordUsage, FHIR,     validate against the item     journal for the ERP (delivery
       HL7, CSV)              master and crosswalk; price   queue, target ``erp``); expected
                              (contract, else last paid:    charge; ─► finance.usage.costed
                              flagged); take from stock;
                              requisition, or bill-only and
                              restock POs

A crash between the steps leaves the second step's work item committed with the first step's
effects; the restarted worker runs it, once. Idempotency, at every level:

- the bus's tracking row: a redelivered or replayed event is skipped;
- the business key: the first step starts the workflow by inserting its state row (primary key
  usage id), so the same usage arriving again under another event (the legacy feed and the new
  one, a re-sent file) finds it and moves no stock; the second step finds the workflow costed;
- derived ids: requisition ``REQ-<usage>``, POs ``BO-``/``RP-<usage>``, journal ``JE-<usage>``,
  delivery key ``journal-JE-<usage>``, expected charge ``<usage>``, and event idempotency keys.

Master data missing parks the step (DESIGN.md §3 guarantee 4): an item neither in the master
nor mapped from the source's code parks on the crosswalk key (``missing item mapping``; a
``crosswalk.mapped`` of that key re-drives it); a usage whose department is unknown parks on
the department (``parked dependency``, retried from the work queue once the department exists).
No contract price for the facility opens a ``contract_price_mismatch`` item per item and
facility, and the usage is costed at the last price paid, flagged in its state and events.

Each step has a batch form (``usage_stock.py``, ``usage_cost.py``), which the bus calls with a
whole batch of events so that the step's reads and writes cost a few statements per batch
rather than per usage; the one-event handler is the batch form given one event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from suture.domain.costing import CostingAccounts
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import SupplyUsageRecorded
from suture.services.deliveries import DeliveryQueue
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.lookups import WorkflowError
from suture.services.workflows.usage_cost import USAGE_COSTED, CostSettings, attribute_costs
from suture.services.workflows.usage_stock import USAGE_APPLIED, take_from_stock

#: Handler names: the routing policy's destinations for the two steps.
INVENTORY = "inventory"
COST_ATTRIBUTION = "cost_attribution"
USAGE_RECORDED = "supply.usage.recorded"
#: Where journals go: the ``erp`` kind of target, whose transport is the file ERP gateway in the
#: embedded default (``suture serve`` delivers ``erp`` and ``erp:*`` as files).
ERP_TARGET = "erp:file"

Batch = Sequence[tuple[Envelope, HandlerContext]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordUsage:
    """Record that a supply or implant was used (the edges' command; quantity in ``uom``).

    ``item_id`` is the canonical item id or the source system's own item number, which the
    workflow resolves through the item crosswalk.
    """

    usage_id: str
    facility_id: str
    location_id: str
    item_id: str
    quantity: Decimal
    uom: str
    used_at: datetime
    source_system: str
    encounter_token: str | None = None
    department_id: str | None = None
    lot: str | None = None
    serial: str | None = None
    consigned: bool = False


class UsageProcess:
    """The process manager: the command handler and the two steps, each in one-event and batch
    form (bootstrap registers them)."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        accounts: CostingAccounts | None = None,
        *,
        erp_target: str = ERP_TARGET,
    ) -> None:
        self._cost = CostSettings(deliveries, erp_target, accounts or CostingAccounts())

    def record_usage(self, command: RecordUsage, uow: UnitOfWork, context: HandlerContext) -> bool:
        """Publish ``supply.usage.recorded``; False when this usage was recorded already."""
        payload = SupplyUsageRecorded(
            usage_id=command.usage_id, facility_id=command.facility_id,
            location_id=command.location_id, item_id=command.item_id,
            quantity=command.quantity, uom=command.uom, used_at=command.used_at,
            encounter_token=command.encounter_token, department_id=command.department_id,
            lot=command.lot, serial=command.serial, consigned=command.consigned,
        )  # fmt: skip
        envelope = context.bus.envelope(
            USAGE_RECORDED, payload,
            idempotency_key=f"usage:{command.source_system}:{command.usage_id}",
            correlation_id=command.usage_id, occurred_at=command.used_at,
            source_system=command.source_system, source_facility=command.facility_id,
        )  # fmt: skip
        return context.publish(envelope)

    def apply_usage(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """Step 1: validate, price, take from stock and ask for replenishment, once per usage."""
        take_from_stock([(envelope, context)], uow)

    def apply_usages(self, batch: Batch, uow: UnitOfWork) -> None:
        """Step 1 for a batch of events."""
        take_from_stock(batch, uow)

    def attribute_cost(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """Step 2: journal the cost on the department's cost center, expect the charge; once."""
        attribute_costs([(envelope, context)], uow, self._cost)

    def attribute_costs(self, batch: Batch, uow: UnitOfWork) -> None:
        """Step 2 for a batch of events."""
        attribute_costs(batch, uow, self._cost)


__all__ = [
    "COST_ATTRIBUTION",
    "ERP_TARGET",
    "INVENTORY",
    "USAGE_APPLIED",
    "USAGE_COSTED",
    "USAGE_RECORDED",
    "RecordUsage",
    "UsageProcess",
    "WorkflowError",
]
