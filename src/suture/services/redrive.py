"""Re-drive what was parked on master data when the master data appears (DESIGN.md §3 guarantee 4).

:func:`redrive_parked` works inside the caller's unit of work, so a master-data import or a
handler re-drives in the same transaction as the change that cured the dependency;
:meth:`MessageBus.redrive` is the same in a transaction of its own. :func:`redrive_on_mapping`
is the bus handler that does it for every ``crosswalk.mapped`` event, so fixing a mapping
re-drives everything parked on it without anyone asking; the master-data import calls
:func:`redrive_mapping` and :func:`redrive_parked` itself for the mappings and GTINs it adds.

Dependency keys are spelled by the functions here, so the code that parks and the code that
re-drives agree: :func:`mapping_dependency` for a crosswalk key, :func:`gtin_dependency` for an
item looked up by GTIN, :func:`erp_supplier_dependency` for a supplier the ERP does not have
(a delivery parked by the ERP transport; the supplier pull re-drives it, ``erp_suppliers.py``),
:func:`erp_record_dependency` for a product, GL account or cost center the ERP does not have
(the same pull asks the ERP for them again).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from suture.domain.crosswalk import CrosswalkKey
from suture.domain.deliveries import DeliveryStatus
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey
from suture.eventlog.events import CrosswalkMapped
from suture.services import exceptions as exception_queue
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork

#: The name under which bootstrap registers :func:`redrive_on_mapping`.
REDRIVE_ON_MAPPING = "redrive_on_mapping"


def redrive_parked(uow: UnitOfWork, dependency: DependencyKey, at: datetime) -> int:
    """Make the work parked on ``dependency`` due at ``at`` and resolve its exception items.

    Work is the bus's work items parked on the key and the outbound deliveries parked on it
    (found through their open exception items, which name both the delivery and the key): both
    are due again with a fresh attempt budget.
    """
    items = len(uow.events.redrive(str(dependency), at))
    waiting = uow.exceptions.find_open_for_dependency(str(dependency), lock=True)
    for item in waiting:
        if item.delivery_id:
            again = uow.deliveries.retry(item.delivery_id, at=at)
            items += again is not None and again.status is DeliveryStatus.PENDING
    exception_queue.resolve_items(
        uow, waiting, at, f"{dependency} appeared; {items} work items re-driven"
    )
    return items


def mapping_dependency(key: CrosswalkKey) -> DependencyKey:
    """The key a handler parks on when ``key`` has no mapping: ``item:epic/FAC-01/item/42``."""
    return DependencyKey(key.kind.value, str(key))


def redrive_mapping(uow: UnitOfWork, key: CrosswalkKey, at: datetime) -> int:
    """Re-drive what waited for a crosswalk mapping of ``key``.

    A handler parks on the key it looked up, which names its facility; a system-wide mapping
    (facility None) serves every facility, so it also re-drives each facility's spelling.
    """
    keys = [key]
    if key.facility_id is None:
        keys += [replace(key, facility_id=facility) for facility in sorted(uow.facilities.ids())]
    return sum(redrive_parked(uow, mapping_dependency(each), at) for each in keys)


def gtin_dependency(gtin: str) -> DependencyKey:
    """The key a handler parks on when no item has this GTIN-14: ``gtin:00614141000012``."""
    return DependencyKey("gtin", gtin)


def erp_supplier_dependency(supplier_id: str) -> DependencyKey:
    """What an ERP delivery parks on when the ERP has no such supplier: ``erp_supplier:SUP-9``."""
    return DependencyKey("erp_supplier", supplier_id)


def erp_record_dependency(kind: str, record_id: str) -> DependencyKey:
    """What an ERP delivery parks on when the ERP lacks other master data it needs, by Suture's
    id: ``erp_product:ITEM-9``, ``erp_account:GL-5110``, ``erp_cost_center:CC-7010`` (``kind``
    an :class:`~suture.services.erp.ErpRecord`; the supplier pull re-checks them)."""
    return DependencyKey(f"erp_{kind}", record_id)


def redrive_on_mapping(envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
    """A local code now maps to a canonical id: re-drive what waited for that mapping."""
    mapped = CrosswalkMapped.model_validate(envelope.payload)
    key = CrosswalkKey(mapped.source_system, mapped.facility_id, mapped.kind, mapped.local_code)
    redrive_mapping(uow, key, context.now)
