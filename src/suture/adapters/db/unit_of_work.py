"""The unit of work on SQLAlchemy: one connection, one transaction, every repository on it.

Implements the ``UnitOfWork`` port (``services/unit_of_work.py``; cosmicpython chapter 6).
Entering the block opens a connection and begins a transaction, and builds the repositories on
that connection, so everything a handler reads and writes commits or rolls back together, the
tracking row of exactly-once handling included (DESIGN.md §3, guarantee 2). Leaving the block
rolls back whatever was not committed, whether or not an exception escaped, and closes the
connection; ``commit`` may be called more than once, each starting the next transaction.

The object is reusable: each ``with`` opens a fresh connection. Nesting a ``with`` on the same
object while it is open is refused, because the inner block could neither commit nor roll back
on its own without surprising the outer one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Self

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


class SqlAlchemyUnitOfWork:
    """A ``UnitOfWork`` over an engine from :func:`suture.adapters.db.engine.create_engine`."""

    facilities: ports.Repository[Facility]
    locations: ports.Repository[Location]
    departments: ports.Repository[Department]
    cost_centers: ports.Repository[CostCenter]
    gl_accounts: ports.Repository[GLAccount]
    suppliers: ports.SupplierRepository
    items: ports.ItemRepository
    contracts: ports.ContractRepository
    par_levels: ports.Repository[ParLevel]
    crosswalks: ports.CrosswalkRepository
    requisitions: ports.Repository[Requisition]
    purchase_orders: ports.PurchaseOrderRepository
    receipts: ports.Repository[Receipt]
    invoices: ports.InvoiceRepository
    charges: ports.Repository[Charge]
    usage: ports.Repository[UsageRecord]
    stock: ports.StockPositionRepository
    journals: ports.Repository[JournalEntry]
    inbox: ports.InboxRepository
    events: EventLogRepository
    exceptions: ports.ExceptionRepository
    deliveries: ports.DeliveryRepository
    clients: ports.ApiClientRepository
    audit: AuditLogRepository
    interfaces: InterfaceRepository
    usage_workflows: ports.UsageWorkflowRepository
    expected_charges: ports.ExpectedChargeRepository
    invoice_matches: ports.InvoiceMatchRepository
    match_tolerances: ports.MatchToleranceRepository
    chargemaster: ports.ChargemasterRepository
    reconciliation: ports.ReconciliationRepository
    requisition_approvals: ports.RequisitionApprovalRepository
    trading_partners: ports.TradingPartnerRepository
    encounters: ports.EncounterRepository
    staff: ports.StaffRepository
    expected_receipts: ports.ExpectedReceiptRepository
    x12_interchanges: ports.X12InterchangeRepository

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
        self._connection = connection
        self._build_repositories(connection)
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
        try:
            with storage_errors("database"):
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        with storage_errors("database"):
            self._open().commit()

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

    def _build_repositories(self, connection: sa.Connection) -> None:
        self.facilities = r.FacilityRepository(connection)
        self.locations = r.LocationRepository(connection)
        self.departments = r.DepartmentRepository(connection)
        self.cost_centers = r.CostCenterRepository(connection)
        self.gl_accounts = r.GLAccountRepository(connection)
        self.suppliers = r.SupplierRepository(connection)
        self.items = r.ItemRepository(connection)
        self.contracts = r.ContractRepository(connection)
        self.par_levels = r.ParLevelRepository(connection)
        self.crosswalks = r.CrosswalkRepository(connection)
        self.requisitions = r.RequisitionRepository(connection)
        self.purchase_orders = r.PurchaseOrderRepository(connection)
        self.receipts = r.ReceiptRepository(connection)
        self.invoices = r.InvoiceRepository(connection)
        self.charges = r.ChargeRepository(connection)
        self.usage = r.UsageRepository(connection)
        self.stock = r.StockPositionRepository(connection)
        self.journals = r.JournalEntryRepository(connection)
        self.inbox = r.InboxRepository(connection)
        self.events = r.EventLogRepository(connection)
        self.exceptions = r.ExceptionRepository(connection)
        self.deliveries = r.DeliveryRepository(connection)
        self.clients = r.ApiClientRepository(connection)
        self.audit = r.AuditLogRepository(connection)
        self.interfaces = r.InterfaceRepository(connection)
        self.usage_workflows = r.UsageWorkflowRepository(connection)
        self.expected_charges = r.ExpectedChargeRepository(connection)
        self.invoice_matches = r.InvoiceMatchRepository(connection)
        self.match_tolerances = r.MatchToleranceRepository(connection)
        self.chargemaster = r.ChargemasterRepository(connection)
        self.reconciliation = r.ReconciliationRepository(connection)
        self.requisition_approvals = r.RequisitionApprovalRepository(connection)
        self.trading_partners = r.TradingPartnerRepository(connection)
        self.encounters = r.EncounterRepository(connection)
        self.staff = r.StaffRepository(connection)
        self.expected_receipts = r.ExpectedReceiptRepository(connection)
        self.x12_interchanges = r.X12InterchangeRepository(connection)


if TYPE_CHECKING:  # mypy proves the class satisfies the port

    def _conforms(engine: sa.Engine) -> ports.UnitOfWork:
        return SqlAlchemyUnitOfWork(engine)
