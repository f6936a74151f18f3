"""What a workflow step reads of master data, remembered for one batch, and the events it raises.

A batch of usages names the same few items, locations and departments again and again, so a
step asks :class:`MasterData` and each distinct key is read once per batch (per transaction:
the memo never outlives the unit of work it reads through, so it is never stale across
transactions). :func:`caused_by` builds an event the way
:meth:`~suture.services.handlers.HandlerContext.emit` does, so a step can publish the events of
a whole batch with one :meth:`~suture.services.messagebus.MessageBus.publish_many`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from suture.domain.contracts import Contract, price_for
from suture.domain.costing import UnitCost, unit_cost
from suture.domain.crosswalk import CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.masterdata import Department, Item, ParLevel
from suture.eventlog.envelope import Envelope
from suture.eventlog.payloads import JsonPayload
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork


class WorkflowError(SutureError):
    """A workflow step found its state or its input not as the previous step left it."""


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class MasterData:
    """Memoised reads through one unit of work, for one batch of a step."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._memo: dict[tuple[str, Hashable], Any] = {}

    def _once(self, kind: str, key: K, read: Callable[[], V]) -> V:
        memo_key = (kind, key)
        if memo_key not in self._memo:
            self._memo[memo_key] = read()
        value: V = self._memo[memo_key]
        return value

    def item(self, item_id: str) -> Item | None:
        return self._once("item", item_id, lambda: self._uow.items.get(item_id))

    def read_items(self, item_ids: Iterable[str]) -> None:
        """Read the items of ``item_ids`` not read yet at once (one query per table); an id
        that names no item is remembered as None, as :meth:`item` would remember it."""
        wanted = {i for i in item_ids if ("item", i) not in self._memo}
        if not wanted:
            return
        found = self._uow.items.get_many(wanted)
        for item_id in wanted:
            self._memo["item", item_id] = found.get(item_id)

    def mapped_item(self, source_system: str, facility_id: str, local_code: str) -> Item | None:
        """The item a source's local code maps to at the facility (or system-wide)."""

        def read() -> Item | None:
            entries = self._uow.crosswalks.candidates(
                source_system, CrosswalkKind.ITEM, local_code, facility_id
            )
            return self.item(entries[0].canonical_id) if entries else None

        return self._once("mapped", (source_system, facility_id, local_code), read)

    def contracts(self, item_id: str) -> list[Contract]:
        return self._once("contracts", item_id, lambda: self._uow.contracts.for_item(item_id))

    def last_price_paid(self, facility_id: str, item_id: str) -> tuple[Decimal, str] | None:
        return self._once(
            "paid",
            (facility_id, item_id),
            lambda: self._uow.usage_workflows.last_price_paid(facility_id, item_id),
        )

    def unit_cost(self, item: Item, facility_id: str, on_date: date) -> UnitCost:
        """What an each of the item costs the facility that day: the contract price, else the
        last price paid, else the list price (``domain/costing.py``)."""

        def read() -> UnitCost:
            quote = price_for(self.contracts(item.id), item, facility_id, on_date, item.base_uom)
            last_paid = None
            if quote is None and (paid := self.last_price_paid(facility_id, item.id)):
                last_paid = item.packaging.convert_price(paid[0], paid[1], item.base_uom)
            return unit_cost(item, quote, last_paid)

        return self._once("cost", (item.id, facility_id, on_date), read)

    def par_level(self, location_id: str, item_id: str) -> ParLevel | None:
        return self._once(
            "par",
            (location_id, item_id),
            lambda: self._uow.usage_workflows.par_level(location_id, item_id),
        )

    def location_department(self, location_id: str) -> str | None:
        def read() -> str | None:
            location = self._uow.locations.get(location_id)
            return None if location is None else location.department_id

        return self._once("location", location_id, read)

    def department(self, department_id: str) -> Department | None:
        return self._once(
            "department", department_id, lambda: self._uow.departments.get(department_id)
        )


def caused_by(
    context: HandlerContext,
    event_type: str,
    payload: dict[str, Any] | BaseModel | JsonPayload,
    *,
    idempotency_key: str,
) -> Envelope:
    """An event caused by the context's event, as ``HandlerContext.emit`` builds it, unpublished.

    Give the event's model rather than its dump where there is one: it validated itself, so
    publishing does not validate it again (:meth:`~suture.services.messagebus.MessageBus.envelope`).
    """
    cause = context.cause
    if cause is None:
        raise WorkflowError("cause", "a workflow step always handles an event")
    return context.bus.envelope(
        event_type,
        payload,
        idempotency_key=idempotency_key,
        correlation_id=cause.correlation_id,
        trace_id=cause.trace_id,
        causation_id=cause.id,
        occurred_at=context.now,
        source_facility=cause.source_facility,
    )
