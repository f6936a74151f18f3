"""Ports of the storage side: repositories and the unit of work (cosmicpython, chapter 6).

Services depend on these Protocols only; ``adapters/db`` implements them on SQLAlchemy for SQLite
and PostgreSQL, and one contract test suite holds both implementations to the same behaviour.

Repositories speak canonical domain objects. ``add`` inserts or replaces by id (child lines are
replaced with the parent); ``add_many`` does the same in batches, for imports and seeding. Lists
are keyset-paginated by id, so a caller pages with ``after=<last id>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from suture.domain.contracts import Contract
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.inventory import StockPosition, UsageRecord
from suture.domain.invoicing import Invoice
from suture.domain.ledger import JournalEntry
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    GLAccount,
    Item,
    Location,
    ParLevel,
    Supplier,
)
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.purchasing import PurchaseOrder, Receipt, Requisition
from suture.domain.revenue import Charge

T = TypeVar("T")


class Repository(Protocol[T]):
    """What every repository of an object with a canonical ``id`` offers."""

    def get(self, object_id: str) -> T | None: ...

    def add(self, obj: T) -> None: ...

    def add_many(self, objs: Iterable[T]) -> int:
        """Insert or replace every object; returns how many were written."""
        ...

    def list(
        self, *, facility_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> list[T]:
        """Objects ordered by id, those with id greater than ``after``, at most ``limit``."""
        ...

    def ids(self) -> set[str]: ...

    def count_by_facility(self) -> dict[str | None, int]:
        """How many objects each facility holds; system-wide objects count under None."""
        ...


class ItemRepository(Repository[Item], Protocol):
    def by_gtin(self, gtin: str) -> Item | None:
        """The item one of whose packaging levels has this GTIN (GTIN-14 form)."""
        ...

    def by_catalog_number(self, manufacturer: str, catalog_number: str) -> Item | None: ...


class SupplierRepository(Repository[Supplier], Protocol):
    def by_gln(self, gln: str) -> Supplier | None: ...

    def by_erp_vendor_id(self, erp_vendor_id: str) -> Supplier | None: ...


class ContractRepository(Repository[Contract], Protocol):
    def by_number(self, number: str) -> Contract | None: ...

    def for_item(self, item_id: str) -> list[Contract]:
        """Contracts that price the item, with all their memberships and prices."""
        ...


class PurchaseOrderRepository(Repository[PurchaseOrder], Protocol):
    def by_number(self, number: str) -> PurchaseOrder | None: ...


class InvoiceRepository(Repository[Invoice], Protocol):
    def by_number(self, supplier_id: str, number: str) -> Invoice | None: ...


class CrosswalkRepository(Protocol):
    """Mappings with their history; at most one current entry per key."""

    def current(self, key: CrosswalkKey) -> CrosswalkEntry | None: ...

    def candidates(
        self, source_system: str, kind: CrosswalkKind, local_code: str, facility_id: str | None
    ) -> list[CrosswalkEntry]:
        """Current entries for the code at the facility and system-wide."""
        ...

    def history(self, key: CrosswalkKey) -> list[CrosswalkEntry]:
        """Every entry of the key, oldest first, current last."""
        ...

    def close(self, entry: CrosswalkEntry) -> None:
        """Record that a current entry ended (its ``valid_to`` is set)."""
        ...

    def add(self, entry: CrosswalkEntry) -> None: ...

    def count_by_facility(self) -> dict[str | None, int]:
        """Current entries per facility."""
        ...


class StockPositionRepository(Protocol):
    def get(self, location_id: str, item_id: str) -> StockPosition | None: ...

    def save(self, position: StockPosition) -> None: ...

    def list(self, *, location_id: str | None = None, limit: int = 100) -> list[StockPosition]: ...

    def count_by_facility(self) -> dict[str | None, int]: ...


class InboxRepository(Protocol):
    """Inbound messages, their raw bytes and status (DESIGN.md §3; ``services/inbox.py``).

    At most one message per ``(interface, checksum)``: the same bytes from the same edge are one
    message. Reads leave ``raw`` out (None) unless ``with_raw`` asks for it; lists never load it.
    Lists are keyset-paginated by id, which for UUIDv7 ids is the order of receipt.
    """

    def add_if_new(self, message: InboundMessage) -> tuple[InboundMessage, bool]:
        """Store ``message`` unless its bytes are stored for its interface already.

        Returns ``(message, False)`` when stored, else ``(the stored message without raw, True)``;
        correct when two transactions store the same bytes at once (one row, one winner).
        """
        ...

    def get(
        self, message_id: str, *, with_raw: bool = False, lock: bool = False
    ) -> InboundMessage | None:
        """The message; ``lock`` holds it against concurrent status changes until commit."""
        ...

    def by_checksum(self, interface: str, checksum: str) -> InboundMessage | None: ...

    def save_status(self, message: InboundMessage) -> None:
        """Write what changes after receipt: status, reason, attempts, updated_at, ids learnt."""
        ...

    def count_by_status(self, *, interface: str | None = None) -> dict[MessageStatus, int]:
        """How many messages are in each status (every status present, zero included)."""
        ...

    def by_correlation_id(
        self, correlation_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """The messages of one business key, ordered by id."""
        ...

    def list(
        self,
        *,
        status: MessageStatus | None = None,
        interface: str | None = None,
        received_since: datetime | None = None,
        received_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[InboundMessage]:
        """Messages ordered by id, those after ``after``, received in ``[since, before)``."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; leaving the block without commit rolls back."""

    facilities: Repository[Facility]
    locations: Repository[Location]
    departments: Repository[Department]
    cost_centers: Repository[CostCenter]
    gl_accounts: Repository[GLAccount]
    suppliers: SupplierRepository
    items: ItemRepository
    contracts: ContractRepository
    par_levels: Repository[ParLevel]
    crosswalks: CrosswalkRepository
    requisitions: Repository[Requisition]
    purchase_orders: PurchaseOrderRepository
    receipts: Repository[Receipt]
    invoices: InvoiceRepository
    charges: Repository[Charge]
    usage: Repository[UsageRecord]
    stock: StockPositionRepository
    journals: Repository[JournalEntry]
    inbox: InboxRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
