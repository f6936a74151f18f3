"""Step 1 of the usage workflow (``inventory``): validate, price, take from stock, replenish.

Written for a batch of events, which the bus hands over when the whole batch shares one
savepoint; the one-event handler is a batch of one, so both forms have one code path. Any
failure (an unmapped item parks) raises, which takes the batch back whole; the bus then runs
each event alone, and only the one at fault parks.

The order of the work is what makes it exactly once per usage id under concurrency: the stock
rows of the batch are locked first (``lock_positions``), then the workflow states are read, so
a worker that moved the same usage's stock has committed its state by then and the usage is
skipped; states are inserted with ``ON CONFLICT DO NOTHING``, and should one still collide the
batch fails (transient: retried, and found done). The replenishments under way are read after
the lock too, so of two usages that leave one position below its reorder point the second
finds the first's requisition, and a shortfall raises one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from suture.domain.costing import UnitCost, amount
from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.exceptions import ExceptionType
from suture.domain.inventory import (
    SerialAlreadyUsedError,
    StockMove,
    StockPosition,
    UsageRecord,
    consume,
)
from suture.domain.masterdata import Item
from suture.domain.purchasing import PurchaseOrder, Requisition
from suture.domain.replenishment import consignment_orders, reorder_for, requisition_for
from suture.domain.usage_workflow import UsageStep, UsageWorkflow
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey, MissingDependencyError
from suture.eventlog.events import (
    PurchaseOrderRaised,
    RequisitionRaised,
    SupplyUsageRecorded,
)
from suture.services import exceptions as exception_queue
from suture.services.handlers import HandlerContext
from suture.services.redrive import mapping_dependency
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.lookups import MasterData, WorkflowError, caused_by
from suture.services.workflows.usage_events import usage_applied

USAGE_APPLIED = "inventory.usage.applied"


@dataclass(frozen=True, slots=True)
class _Usage:
    """One usage of the batch with what was looked up for it."""

    usage: SupplyUsageRecorded
    envelope: Envelope
    context: HandlerContext
    item: Item
    eaches: Decimal
    consigned: bool
    cost: UnitCost
    department_id: str | None


def take_from_stock(batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork) -> None:
    """Run step 1 for every event of ``batch`` whose usage has no workflow yet."""
    todo = _new_usages(batch, uow)
    if not todo:
        return
    master = MasterData(uow)
    master.read_items(usage.item_id for usage, _, _ in todo)  # a local code reads as None
    looks: dict[tuple[object, ...], _Looked] = {}
    usages = [
        _looked_up(master, looks, usage, envelope, context) for usage, envelope, context in todo
    ]
    at = usages[0].context.now
    keys = {(u.usage.facility_id, u.usage.location_id, u.item.id) for u in usages}
    positions = uow.usage_workflows.lock_positions(keys, at)
    started = uow.usage_workflows.steps(u.usage.usage_id for u in usages)
    usages = [u for u in usages if u.usage.usage_id not in started]  # done meanwhile
    if not usages:
        return
    _refuse_serials_used(uow, usages)
    under_way = uow.usage_workflows.replenishments_under_way(keys)  # after the lock, like states
    workflows, records, requisitions, orders, events = [], [], [], [], []
    off_contract: dict[tuple[str, str], _Usage] = {}
    for u in usages:
        key = (u.usage.location_id, u.item.id)
        positions[key], move = _consume(positions.get(key), u, at)
        requisition, pair = _replenish(master, u, move, at, under_way=key in under_way)
        if requisition is not None:
            under_way.add(key)  # the batch's next usages of the key find it under way
        workflow = _workflow(u, move, requisition, pair, at)
        workflows.append(workflow)
        records.append(_record(u))
        if requisition is not None:
            requisitions.append(requisition)
            events.append(_requisition_raised(u, requisition))
        for order in pair:
            orders.append(order)
            events.append(_order_raised(u, order))
        events.append(_applied(u, workflow, move))
        if u.cost.off_contract:
            off_contract.setdefault((u.usage.facility_id, u.item.id), u)
    if uow.usage_workflows.start_many(workflows) != len(workflows):
        raise WorkflowError("usage_id", "a usage of the batch was started concurrently; retry")
    for key in {(u.usage.location_id, u.item.id) for u in usages}:
        uow.stock.save(positions[key])
    uow.usage.add_many(records)
    uow.requisitions.add_many(requisitions)
    uow.purchase_orders.add_many(orders)
    for u in off_contract.values():
        _flag_off_contract(uow, u, at)
    usages[0].context.bus.publish_many(uow, events)


def _refuse_serials_used(uow: UnitOfWork, usages: Sequence[_Usage]) -> None:
    """A serialized unit is used once: one a started workflow (or an earlier usage of the
    batch) used already breaks the rule, and the batch is taken back so that this usage alone
    is dead-lettered (read after the positions' lock, like the states)."""
    serialized = [u for u in usages if u.usage.serial]
    if not serialized:
        return
    used = uow.usage_workflows.serials_used((u.item.id, u.usage.serial or "") for u in serialized)
    for u in serialized:
        unit = (u.item.id, u.usage.serial or "")
        first = used.setdefault(unit, u.usage.usage_id)
        if first != u.usage.usage_id:
            raise SerialAlreadyUsedError(*unit, first)


def _new_usages(
    batch: Sequence[tuple[Envelope, HandlerContext]], uow: UnitOfWork
) -> list[tuple[SupplyUsageRecorded, Envelope, HandlerContext]]:
    """The batch's usages without a workflow, each usage id once (the first event wins)."""
    parsed: dict[str, tuple[SupplyUsageRecorded, Envelope, HandlerContext]] = {}
    for envelope, context in batch:
        usage = SupplyUsageRecorded.model_validate(envelope.payload)
        parsed.setdefault(usage.usage_id, (usage, envelope, context))
    started = uow.usage_workflows.steps(parsed)
    return [value for usage_id, value in parsed.items() if usage_id not in started]


@dataclass(frozen=True, slots=True)
class _Looked:
    """What the master data says of a usage: the same for every usage of the batch that names
    the same item the same way, at the same place and day, in the same quantity."""

    item: Item
    eaches: Decimal
    consigned: bool
    cost: UnitCost
    department_id: str | None


def _looked_up(
    master: MasterData,
    looks: dict[tuple[object, ...], _Looked],
    usage: SupplyUsageRecorded,
    envelope: Envelope,
    context: HandlerContext,
) -> _Usage:
    """The usage with what was looked up for it, once per distinct key of ``looks`` (the
    quantity by its text, so that ``1`` and ``1.0`` keep their own forms)."""
    key = (
        envelope.source_system, usage.facility_id, usage.location_id, usage.item_id,
        str(usage.quantity), usage.uom, usage.consigned, usage.used_at.date(),
        usage.department_id,
    )  # fmt: skip
    looked = looks.get(key)
    if looked is None:
        item = _resolve_item(master, envelope.source_system, usage)
        looked = looks[key] = _Looked(
            item=item, eaches=item.packaging.to_each(usage.quantity, usage.uom),
            consigned=usage.consigned or item.is_consignment,
            cost=master.unit_cost(item, usage.facility_id, usage.used_at.date()),
            department_id=usage.department_id or master.location_department(usage.location_id),
        )  # fmt: skip
    return _Usage(
        usage=usage, envelope=envelope, context=context, item=looked.item, eaches=looked.eaches,
        consigned=looked.consigned, cost=looked.cost, department_id=looked.department_id,
    )  # fmt: skip


def _resolve_item(master: MasterData, source_system: str, usage: SupplyUsageRecorded) -> Item:
    """The canonical item: by id, else the source's item number through the crosswalk; parks
    on the crosswalk key (``missing item mapping``) when neither finds one."""
    item = master.item(usage.item_id) or master.mapped_item(
        source_system, usage.facility_id, usage.item_id
    )
    if item is not None:
        return item
    key = CrosswalkKey(source_system, usage.facility_id, CrosswalkKind.ITEM, usage.item_id)
    raise MissingDependencyError(
        mapping_dependency(key),
        f"missing item mapping: {source_system} item {usage.item_id} at {usage.facility_id} "
        "is neither an item of the master nor mapped to one",
    )


def _consume(
    position: StockPosition | None, u: _Usage, at: datetime
) -> tuple[StockPosition, StockMove]:
    return consume(position, facility_id=u.usage.facility_id, location_id=u.usage.location_id,
                   item_id=u.item.id, eaches=u.eaches, consigned=u.consigned, at=at)  # fmt: skip


def _replenish(
    master: MasterData, u: _Usage, move: StockMove, at: datetime, *, under_way: bool
) -> tuple[Requisition | None, tuple[PurchaseOrder, ...]]:
    """A requisition when owned stock is left below its reorder point and no replenishment is
    ``under_way``; bill-only and restock POs for a consigned item."""
    usage = u.usage
    if u.consigned:
        return None, consignment_orders(
            usage.usage_id, item=u.item, facility_id=usage.facility_id,
            department_id=u.department_id, eaches=u.eaches, cost=u.cost,
            on_date=usage.used_at.date(),
        )  # fmt: skip
    par = master.par_level(usage.location_id, u.item.id)
    reorder = None if par is None else reorder_for(u.item, par, move, under_way=under_way)
    if reorder is None:
        return None, ()
    return requisition_for(
        usage.usage_id, facility_id=usage.facility_id, location_id=usage.location_id,
        department_id=u.department_id, item_id=u.item.id, reorder=reorder, at=at,
    ), ()  # fmt: skip


def _workflow(
    u: _Usage,
    move: StockMove,
    requisition: Requisition | None,
    orders: tuple[PurchaseOrder, ...],
    at: datetime,
) -> UsageWorkflow:
    usage = u.usage
    return UsageWorkflow(
        usage_id=usage.usage_id, facility_id=usage.facility_id, location_id=usage.location_id,
        item_id=u.item.id, step=UsageStep.STOCKED, eaches=u.eaches, consigned=u.consigned,
        stockout=move.stockout, price_source=u.cost.source, unit_price=u.cost.unit_price,
        amount=amount(u.cost, u.eaches), contract_id=u.cost.contract_id,
        requisition_id=requisition.id if requisition else None,
        bill_only_po_id=orders[0].id if orders else None,
        replenishment_po_id=orders[1].id if orders else None,
        trace_id=u.envelope.trace_id, started_at=at, updated_at=at,
    )  # fmt: skip


def _record(u: _Usage) -> UsageRecord:
    usage = u.usage
    return UsageRecord(
        id=usage.usage_id, facility_id=usage.facility_id, location_id=usage.location_id,
        item_id=u.item.id, quantity=usage.quantity, uom=usage.uom, used_at=usage.used_at,
        encounter_token=usage.encounter_token, department_id=usage.department_id,
        lot=usage.lot, serial=usage.serial, source_system=u.envelope.source_system,
    )  # fmt: skip


def _flag_off_contract(uow: UnitOfWork, u: _Usage, at: datetime) -> None:
    """One open ``contract_price_mismatch`` item per item and facility, however many usages."""
    usage, item, cost = u.usage, u.item, u.cost
    exception_queue.open_exception(
        uow, type=ExceptionType.CONTRACT_PRICE_MISMATCH, facility_id=usage.facility_id,
        reason=(f"contract mismatch: no contract price for item {item.id} at facility "
                f"{usage.facility_id} on {usage.used_at.date()}; usage costed at "
                f"{cost.source} {cost.unit_price} per {item.base_uom}"),
        at=at, trace_id=u.envelope.trace_id,
        dependency=DependencyKey("contract_price", f"{usage.facility_id}/{item.id}"),
    )  # fmt: skip


def _requisition_raised(u: _Usage, requisition: Requisition) -> Envelope:
    line = requisition.lines[0]
    payload = RequisitionRaised(
        requisition_id=requisition.id, facility_id=requisition.facility_id,
        location_id=requisition.location_id, department_id=requisition.department_id,
        item_id=line.item_id, quantity=line.quantity, uom=line.uom, reason="replenishment",
    )  # fmt: skip
    return caused_by(u.context, "purchasing.requisition.raised", payload,
                     idempotency_key=f"requisition:{requisition.id}")  # fmt: skip


def _order_raised(u: _Usage, order: PurchaseOrder) -> Envelope:
    payload = PurchaseOrderRaised(
        purchase_order_id=order.id, number=order.number, kind=order.kind.value,
        facility_id=order.facility_id, supplier_id=order.supplier_id, amount=order.total,
        usage_id=u.usage.usage_id, off_contract=any(line.off_contract for line in order.lines),
    )  # fmt: skip
    return caused_by(u.context, "purchasing.order.raised", payload,
                     idempotency_key=f"po:{order.number}")  # fmt: skip


def _applied(u: _Usage, workflow: UsageWorkflow, move: StockMove) -> Envelope:
    usage = u.usage
    payload = usage_applied(
        usage_id=usage.usage_id, facility_id=usage.facility_id, location_id=usage.location_id,
        item_id=u.item.id, item_category=u.item.unspsc, supplier_id=u.item.supplier_id,
        eaches=u.eaches, consigned=u.consigned, stockout=move.stockout,
        on_hand_after=move.after, price_source=u.cost.source,
        unit_price=u.cost.unit_price, amount=workflow.amount, contract_id=u.cost.contract_id,
        requisition_id=workflow.requisition_id, bill_only_po_id=workflow.bill_only_po_id,
        replenishment_po_id=workflow.replenishment_po_id, department_id=u.department_id,
        encounter_token=usage.encounter_token, used_at=usage.used_at,
    )  # fmt: skip
    return caused_by(u.context, USAGE_APPLIED, payload,
                     idempotency_key=f"usage-applied:{usage.usage_id}")  # fmt: skip
