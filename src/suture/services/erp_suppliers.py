"""The supplier master flows from the ERP to Suture (DESIGN.md §1: the ERP is authoritative).

:meth:`SupplierSync.pull` reads every supplier of the ERP (``ErpGateway.suppliers``) and writes
the ones that are new or changed into Suture's supplier master in one transaction, as written
by the ERP (``source_system = "erp"``). What only Suture knows of a supplier (its GLN, HIN,
remit-to address, payment terms) is kept; the ERP's name, active flag and record id
(``erp_vendor_id``) win. A supplier Suture has and the ERP does not is left alone: the ERP
listing it no longer is not proof it was deleted (it may be filtered); deactivate it in the ERP.
A second pull with nothing changed in the ERP writes nothing.

**Re-drive.** ERP deliveries of a supplier the ERP did not know are parked on
``erp_supplier:<id>`` with a ``supplier_not_in_erp`` item (``services/erp.py``). In the same
transaction as its writes, a pull re-drives every one whose supplier the ERP now lists, and the
items resolve: the hub's scheduled pull (``SUTURE_ERP_SUPPLIER_PULL_SECONDS``) or
``suture erp suppliers pull`` after the supplier was created in the ERP is all it takes. The
same pull asks the ERP again for the products, GL accounts and cost centers deliveries are
parked on (``erp_product:<id>``…, ``ErpGateway.known_records``) and re-drives those it has now.

**Schedule.** :class:`ScheduledPull` is a work source of the ``suture serve`` and ``suture
worker`` loops (the shape of the delivery worker's ``run_once``): it pulls at most every
``every``, and reads back the payment status of the invoices awaiting payment
(``erp_payments.py``); an ERP that cannot be read is reported to ``on_error`` and tried again
at the next interval (nothing is lost: what is parked stays parked until a pull succeeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from suture.domain.exceptions import ACTIVE, ExceptionType
from suture.domain.masterdata import Supplier
from suture.eventlog.errors import DependencyKey
from suture.services.clock import Clock, system_clock
from suture.services.erp import (
    RECORD_EXCEPTION_TYPES,
    ErpError,
    ErpGateway,
    ErpRecord,
    record_of,
)
from suture.services.erp_payments import ErpPayments, PaymentSync
from suture.services.redrive import (
    erp_record_dependency,
    erp_supplier_dependency,
    redrive_parked,
)
from suture.services.unit_of_work import UnitOfWork

#: Items read per page when looking for deliveries parked on a supplier.
_PAGE = 500

#: The source system of suppliers written by a pull (the ERP owns the supplier master).
ERP_SOURCE = "erp"


@dataclass(frozen=True, slots=True)
class SupplierPull:
    """How a pull changed Suture's supplier master."""

    created: int
    updated: int
    unchanged: int
    redriven: int = 0  # deliveries parked on a supplier the ERP now has, due again


class SupplierSync:
    """Pulls the ERP's supplier master into Suture's."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        gateway: ErpGateway,
        clock: Clock = system_clock,
    ) -> None:
        self._uow = uow_factory
        self._gateway = gateway
        self._clock = clock

    def pull(self) -> SupplierPull:
        """Read the ERP's suppliers (outside any transaction), then write what changed."""
        listed = self._gateway.suppliers()
        present = self._present_records()
        created = updated = unchanged = 0
        with self._uow() as uow:
            pending: list[Supplier] = []
            for erp in listed:
                stored = uow.suppliers.get(erp.supplier_id)
                if stored is None:
                    pending.append(
                        Supplier(
                            id=erp.supplier_id, name=erp.name, erp_vendor_id=erp.erp_id or None,
                            active=erp.active, source_system=ERP_SOURCE,
                        )
                    )  # fmt: skip
                    created += 1
                    continue
                merged = replace(
                    stored, name=erp.name, active=erp.active,
                    erp_vendor_id=erp.erp_id or stored.erp_vendor_id, source_system=ERP_SOURCE,
                )  # fmt: skip
                if merged == stored:
                    unchanged += 1
                else:
                    pending.append(merged)
                    updated += 1
            if pending:
                uow.suppliers.add_many(pending)
            at = self._clock()
            redriven = _redrive_known(uow, {erp.supplier_id for erp in listed}, at)
            redriven += sum(redrive_parked(uow, dependency, at) for dependency in present)
            if pending or redriven:
                uow.commit()
        return SupplierPull(created, updated, unchanged, redriven)

    def _present_records(self) -> list[DependencyKey]:
        """The products, accounts and cost centers deliveries are parked on that the ERP has
        now (read in a transaction of its own; the ERP asked outside any)."""
        with self._uow() as uow:
            waiting = set().union(*(_waiting(uow, type) for type in RECORD_EXCEPTION_TYPES))
        wanted: dict[ErpRecord, set[str]] = {}
        for dependency in waiting:
            record = record_of(dependency)
            if record is not None:
                wanted.setdefault(record[0], set()).add(record[1])
        return [
            erp_record_dependency(kind.value, record_id)
            for kind, record_ids in sorted(wanted.items())
            for record_id in sorted(self._gateway.known_records(kind, record_ids))
        ]


def _waiting(uow: UnitOfWork, type: ExceptionType) -> set[str]:
    """The dependencies of the active items of ``type`` (what deliveries are parked on)."""
    waiting: set[str] = set()
    after: str | None = None
    while True:
        page = uow.exceptions.list(statuses=ACTIVE, type=type, after=after, limit=_PAGE)
        waiting.update(item.dependency for item in page if item.dependency)
        if len(page) < _PAGE:
            return waiting
        after = page[-1].id


def _redrive_known(uow: UnitOfWork, known: set[str], at: datetime) -> int:
    """Re-drive what is parked on a supplier in ``known``; how many deliveries."""
    waiting = _waiting(uow, ExceptionType.SUPPLIER_NOT_IN_ERP)
    redriven = 0
    for supplier_id in sorted(known):
        dependency = erp_supplier_dependency(supplier_id)
        if str(dependency) in waiting:
            redriven += redrive_parked(uow, dependency, at)
    return redriven


class ScheduledPull:
    """:meth:`SupplierSync.pull` every ``every`` from a work loop; ``run_once`` returns how
    many parked deliveries the pull re-drove (the work it made due)."""

    def __init__(
        self,
        sync: SupplierSync,
        clock: Clock,
        every: timedelta,
        *,
        payments: ErpPayments | None = None,
        on_error: Callable[[ErpError], None] | None = None,
    ) -> None:
        self._sync = sync
        self._payments = payments
        self._clock = clock
        self.every = every
        #: Told of a pull that failed (the ERP down); the loop that runs it sets it. None: raised.
        self.on_error = on_error
        self._next: datetime | None = None
        self.last: SupplierPull | None = None
        self.paid: PaymentSync | None = None

    def run_once(self, limit: int = 0) -> int:
        """Pull if the interval has passed (the first call pulls); ``limit`` is unused."""
        now = self._clock()
        if self._next is not None and now < self._next:
            return 0
        self._next = now + self.every
        try:
            self.last = self._sync.pull()
            if self._payments is not None:
                self.paid = self._payments.sync()
        except ErpError as error:
            if self.on_error is None:
                raise
            self.on_error(error)
            return 0
        return self.last.redriven
