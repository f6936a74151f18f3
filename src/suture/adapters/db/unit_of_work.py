"""The unit of work on SQLAlchemy: one connection, one transaction, every repository on it.

Implements the ``UnitOfWork`` port (``services/unit_of_work.py``; cosmicpython chapter 6).
Entering the block opens a connection and begins a transaction; each repository is built on
that connection when the block first uses it, so everything a handler reads and writes commits
or rolls back together, the tracking row of exactly-once handling included (DESIGN.md §3,
guarantee 2). Leaving the block
rolls back whatever was not committed, whether or not an exception escaped, and closes the
connection; ``commit`` may be called more than once, each starting the next transaction.

The object is reusable: each ``with`` opens a fresh connection. Nesting a ``with`` on the same
object while it is open is refused, because the inner block could neither commit nor roll back
on its own without surprising the outer one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar, overload

import sqlalchemy as sa

from suture.adapters.db import repositories as r
from suture.adapters.db.errors import StorageError, storage_errors
from suture.domain.inventory import UsageRecord
from suture.domain.ledger import JournalEntry
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    GLAccount,
    Location,
    ParLevel,
)
from suture.domain.purchasing import Receipt, Requisition
from suture.domain.revenue import Charge
from suture.services import unit_of_work as ports
from suture.services.audit import AuditLogRepository
from suture.services.event_store import EventLogRepository
from suture.services.interface_store import InterfaceRepository

R = TypeVar("R")


class _Built(Generic[R]):
    """A repository built on the unit of work's connection the first time a block uses it,
    then kept in the instance's ``__dict__`` (so later reads are plain attribute reads) until
    the block ends. A transaction touches a few of the 37 repositories; building all of them
    on every ``with`` cost more than the inbox's insert on the ingest path."""

    def __init__(self, factory: Callable[[sa.Connection], R]) -> None:
        self._factory = factory
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name
        _REPOSITORIES.add(name)

    @overload
    def __get__(self, obj: None, owner: type) -> Self: ...

    @overload
    def __get__(self, obj: SqlAlchemyUnitOfWork, owner: type) -> R: ...

    def __get__(self, obj: SqlAlchemyUnitOfWork | None, owner: type) -> R | Self:
        if obj is None:
            return self
        built = self._factory(obj._open())
        obj.__dict__[self._name] = built
        return built


#: The names of the repositories (:class:`_Built`), forgotten when a block ends.
_REPOSITORIES: set[str] = set()


class SqlAlchemyUnitOfWork:
    """A ``UnitOfWork`` over an engine from :func:`suture.adapters.db.engine.create_engine`."""

    facilities: _Built[ports.Repository[Facility]] = _Built(r.FacilityRepository)
    locations: _Built[ports.Repository[Location]] = _Built(r.LocationRepository)
    departments: _Built[ports.Repository[Department]] = _Built(r.DepartmentRepository)
    cost_centers: _Built[ports.Repository[CostCenter]] = _Built(r.CostCenterRepository)
    gl_accounts: _Built[ports.Repository[GLAccount]] = _Built(r.GLAccountRepository)
    suppliers: _Built[ports.SupplierRepository] = _Built(r.SupplierRepository)
    items: _Built[ports.ItemRepository] = _Built(r.ItemRepository)
    contracts: _Built[ports.ContractRepository] = _Built(r.ContractRepository)
    par_levels: _Built[ports.Repository[ParLevel]] = _Built(r.ParLevelRepository)
    crosswalks: _Built[ports.CrosswalkRepository] = _Built(r.CrosswalkRepository)
    requisitions: _Built[ports.Repository[Requisition]] = _Built(r.RequisitionRepository)
    purchase_orders: _Built[ports.PurchaseOrderRepository] = _Built(r.PurchaseOrderRepository)
    receipts: _Built[ports.Repository[Receipt]] = _Built(r.ReceiptRepository)
    invoices: _Built[ports.InvoiceRepository] = _Built(r.InvoiceRepository)
    charges: _Built[ports.Repository[Charge]] = _Built(r.ChargeRepository)
    usage: _Built[ports.Repository[UsageRecord]] = _Built(r.UsageRepository)
    stock: _Built[ports.StockPositionRepository] = _Built(r.StockPositionRepository)
    journals: _Built[ports.Repository[JournalEntry]] = _Built(r.JournalEntryRepository)
    inbox: _Built[ports.InboxRepository] = _Built(r.InboxRepository)
    events: _Built[EventLogRepository] = _Built(r.EventLogRepository)
    exceptions: _Built[ports.ExceptionRepository] = _Built(r.ExceptionRepository)
    deliveries: _Built[ports.DeliveryRepository] = _Built(r.DeliveryRepository)
    clients: _Built[ports.ApiClientRepository] = _Built(r.ApiClientRepository)
    audit: _Built[AuditLogRepository] = _Built(r.AuditLogRepository)
    interfaces: _Built[InterfaceRepository] = _Built(r.InterfaceRepository)
    usage_workflows: _Built[ports.UsageWorkflowRepository] = _Built(r.UsageWorkflowRepository)
    expected_charges: _Built[ports.ExpectedChargeRepository] = _Built(r.ExpectedChargeRepository)
    invoice_matches: _Built[ports.InvoiceMatchRepository] = _Built(r.InvoiceMatchRepository)
    match_tolerances: _Built[ports.MatchToleranceRepository] = _Built(r.MatchToleranceRepository)
    chargemaster: _Built[ports.ChargemasterRepository] = _Built(r.ChargemasterRepository)
    reconciliation: _Built[ports.ReconciliationRepository] = _Built(r.ReconciliationRepository)
    requisition_approvals: _Built[ports.RequisitionApprovalRepository] = _Built(
        r.RequisitionApprovalRepository
    )
    trading_partners: _Built[ports.TradingPartnerRepository] = _Built(r.TradingPartnerRepository)
    encounters: _Built[ports.EncounterRepository] = _Built(r.EncounterRepository)
    staff: _Built[ports.StaffRepository] = _Built(r.StaffRepository)
    expected_receipts: _Built[ports.ExpectedReceiptRepository] = _Built(r.ExpectedReceiptRepository)
    x12_interchanges: _Built[ports.X12InterchangeRepository] = _Built(r.X12InterchangeRepository)

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None
        self._savepoints = 0

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise StorageError("unit_of_work", "already open; nested blocks are not supported")
        with storage_errors("database"):
            connection = self._engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
        self._forget_repositories()
        self._connection = connection
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        self._forget_repositories()
        try:
            with storage_errors("database"):
                connection.rollback()
        finally:
            connection.close()

    def commit(self, *, durable: bool = True) -> None:
        connection = self._open()
        with storage_errors("database"):
            if not durable and connection.dialect.name == "postgresql":
                # The commit's wait for the log flush (an fsync, 4 ms here) is most of a
                # claim's cost; ``SET LOCAL`` ends with the transaction.
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            connection.commit()

    def rollback(self) -> None:
        with storage_errors("database"):
            self._open().rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        # Plain SQL rather than ``begin_nested``, whose statements SQLAlchemy compiles afresh
        # each time: a batch of handlers takes one savepoint per handler.
        connection = self._open()
        self._savepoints += 1
        name = f"suture_{self._savepoints}"
        with storage_errors("database"):
            connection.exec_driver_sql(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            with storage_errors("database"):
                connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
                connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
            raise
        with storage_errors("database"):
            connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    def _open(self) -> sa.Connection:
        if self._connection is None:
            raise StorageError("unit_of_work", "not open; use it in a with block")
        return self._connection

    def _forget_repositories(self) -> None:
        """Drop the repositories built on the previous connection (each is built on first use
        in a block, :class:`_Built`)."""
        built = self.__dict__
        for name in [name for name in built if name in _REPOSITORIES]:
            del built[name]


if TYPE_CHECKING:  # mypy proves the class satisfies the port

    def _conforms(engine: sa.Engine) -> ports.UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)
