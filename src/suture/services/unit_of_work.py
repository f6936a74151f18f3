"""Ports of the storage side: repositories and the unit of work (cosmicpython, chapter 6).

Services depend on these Protocols only; ``adapters/db`` implements them on SQLAlchemy for SQLite
and PostgreSQL, and one contract test suite holds both implementations to the same behaviour.

Repositories speak canonical domain objects. ``add`` inserts or replaces by id (child lines are
replaced with the parent); ``add_many`` does the same in batches, for imports and seeding. Lists
are keyset-paginated by id, so a caller pages with ``after=<last id>``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self, TypeVar

from suture.domain.access import ApiClient
from suture.domain.approval import ApprovalStatus, RequisitionApproval
from suture.domain.contracts import Contract
from suture.domain.costing import ExpectedCharge
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.deliveries import Delivery, DeliveryAttempt, DeliveryStatus
from suture.domain.delivery_targets import TargetSettings, TargetState
from suture.domain.duplicate_clearance import DuplicateClearance
from suture.domain.encounters import Encounter, StaffMember
from suture.domain.exceptions import (
    Change,
    ExceptionAction,
    ExceptionItem,
    ExceptionStatus,
    ExceptionType,
)
from suture.domain.inventory import StockPosition, UsageRecord
from suture.domain.invoicing import Invoice, InvoiceStatus
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
from suture.domain.matching import InvoiceMatch, InvoiceSummary, MatchStatus, ToleranceRule
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.purchasing import ExpectedReceipt, PurchaseOrder, Receipt, Requisition
from suture.domain.reconciliation import (
    ChargeLine,
    ChargemasterPrice,
    Side,
    UsageLine,
)
from suture.domain.reconciliation import Key as ReconciliationKey
from suture.domain.reconciliation_state import LineState
from suture.domain.revenue import Charge
from suture.domain.trading_partners import TradingPartner
from suture.domain.usage_workflow import UsageCosting, UsageStep, UsageWorkflow
from suture.services.audit import AuditLogRepository
from suture.services.event_store import EventLogRepository
from suture.services.interface_store import InterfaceRepository
from suture.services.queries import RecordQuery

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

    def find(self, query: RecordQuery) -> builtins.list[T]:
        """A keyset page of the objects ``query`` selects; a filter the type lacks is refused."""
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

    def get_many(self, item_ids: Iterable[str]) -> dict[str, Item]:
        """The items of ``item_ids`` that exist, by id, with their packaging (one query per
        table, whatever their number: a workflow step's batch reads its items at once)."""
        ...


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

    def current_many(self, keys: Iterable[CrosswalkKey]) -> dict[CrosswalkKey, CrosswalkEntry]:
        """The current entry of each key that has one (keys without one are absent)."""
        ...

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

    def add_many(self, entries: Iterable[CrosswalkEntry]) -> int:
        """Insert new entries in bulk; returns how many."""
        ...

    def count_by_facility(self) -> dict[str | None, int]:
        """Current entries per facility."""
        ...


class StockPositionRepository(Protocol):
    def get(self, location_id: str, item_id: str, *, lock: bool = False) -> StockPosition | None:
        """The position; ``lock`` holds its row until commit (``FOR UPDATE`` on PostgreSQL),
        so concurrent read-adjust-write of one position by several workers loses no update."""
        ...

    def save(self, position: StockPosition) -> None: ...

    def list(
        self, *, location_id: str | None = None, after_item: str | None = None, limit: int = 100
    ) -> list[StockPosition]:
        """Positions ordered by location then item; ``after_item`` pages within a location."""
        ...

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

    def add_many_if_new(
        self, messages: Sequence[InboundMessage]
    ) -> list[tuple[InboundMessage, bool]]:
        """:meth:`add_if_new` for a group, in a few statements whatever its size; one outcome
        per message, in order. The same bytes twice in the group are stored once: the later
        one's outcome is the earlier one's message, as a duplicate."""
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

    def save_statuses(self, messages: Sequence[InboundMessage]) -> None:
        """:meth:`save_status` for a group, in one statement."""
        ...

    def statuses(
        self, message_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, MessageStatus]:
        """The current status of each stored message of ``message_ids`` (unknown ids absent);
        ``lock`` holds those messages against concurrent status changes until commit."""
        ...

    def unfinished(
        self,
        format: str,
        *,
        received_before: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[InboundMessage]:
        """Messages of ``format`` still ``received`` or ``decoded``, ordered by id, **with**
        their raw bytes: what a recovery sweep decodes again and applies."""
        ...

    def count_by_status(self, *, interface: str | None = None) -> dict[MessageStatus, int]:
        """How many messages are in each status (every status present, zero included)."""
        ...

    def by_correlation_id(
        self, correlation_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """The messages of one business key, ordered by id."""
        ...

    def by_trace_id(
        self, trace_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """The messages of one trace (the trace id the edge answered with), ordered by id."""
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


class ExceptionRepository(Protocol):
    """Exception work-queue items and their action trail (DESIGN.md §5; services/exceptions.py).

    At most one active (open or in progress) item per ``(subject, type)``, a database fact. Every
    write takes a :class:`~suture.domain.exceptions.Change`, the item and the action recording
    it, and appends the action to the item's trail in the same transaction. Lists are
    keyset-paginated by id (UUIDv7: the order items were opened).
    """

    def add_if_new(self, change: Change) -> tuple[ExceptionItem, bool]:
        """Store a new active item unless its subject has an active item of its type already.

        Returns ``(item, True)`` when stored, else ``(the active item, False)``; correct when two
        transactions open the same subject at once (one row, one winner).
        """
        ...

    def get(self, item_id: str, *, lock: bool = False) -> ExceptionItem | None: ...

    def save(self, change: Change) -> None:
        """Write the changed item and append its action."""
        ...

    def actions(self, item_id: str) -> list[ExceptionAction]:
        """The item's trail, oldest first."""
        ...

    def find_open_for_subject(
        self, subject: str, *, type: ExceptionType | None = None, lock: bool = False
    ) -> list[ExceptionItem]: ...

    def find_open_for_dependency(
        self, dependency: str, *, lock: bool = False
    ) -> list[ExceptionItem]: ...

    def list(
        self,
        *,
        statuses: Collection[ExceptionStatus] | None = None,
        type: ExceptionType | None = None,
        queue: str | None = None,
        facility_id: str | None = None,
        owner: str | None = None,
        overdue_at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
        facility_ids: Collection[str] | None = None,
    ) -> list[ExceptionItem]:
        """Items ordered by id; ``overdue_at``: only active items due at or before it."""
        ...

    def count_by_type_status(self) -> dict[tuple[ExceptionType, ExceptionStatus], int]: ...

    def count_overdue(self, at: datetime) -> int: ...


class DeliveryRepository(Protocol):
    """The outbound delivery queue, its attempts and each target's shared rate budget and
    circuit (DESIGN.md §3; ``services/deliveries.py``, ``domain/delivery_targets.py``).

    At most one delivery per ``(target, idempotency_key)``. Outcome writes are fenced: they
    return False, changing nothing, when the row is no longer held by that attempt.
    """

    def enqueue(self, delivery: Delivery) -> tuple[Delivery, bool]:
        """Store ``delivery`` unless its key is queued for its target already.

        Returns ``(delivery, False)`` when stored, else ``(the stored one, True)``.
        """
        ...

    def enqueue_many(self, batch: Sequence[Delivery]) -> int:
        """:meth:`enqueue` for several, in a few statements whatever their number; how many
        were stored (a key queued already for its target is left as it was)."""
        ...

    def get(self, delivery_id: str, *, with_payload: bool = False) -> Delivery | None: ...

    def by_idempotency_key(self, target: str, idempotency_key: str) -> Delivery | None: ...

    def claim_due(
        self,
        now: datetime,
        *,
        limit: int,
        lease: timedelta,
        target: str | None = None,
        prefixes: Sequence[str] = (),
    ) -> list[Delivery]:
        """Make at most ``limit`` due deliveries ``in_flight`` until ``now + lease``.

        Due: pending with ``next_attempt_at <= now``, or in flight with an expired lease (its
        lost attempt is recorded as ``lease_expired``). Per target, no more than its circuit
        lets through and its rate budget holds, spending one token each, shared by every
        concurrent claimer. With ``prefixes``, only targets equal to one or starting with it and a
        colon: ``erp`` claims ``erp:tryton``.
        Returned with payload, ``attempts`` already counting this attempt.
        """
        ...

    def record_attempt(self, attempt: DeliveryAttempt) -> None: ...

    def attempts(self, delivery_id: str) -> list[DeliveryAttempt]:
        """The delivery's attempts in the order they were recorded."""
        ...

    def mark_delivered(self, delivery_id: str, *, at: datetime) -> bool: ...

    def mark_shadowed(self, delivery_id: str, *, at: datetime) -> bool: ...

    def schedule_retry(
        self, delivery_id: str, *, attempt: int, next_attempt_at: datetime, error: str, at: datetime
    ) -> bool: ...

    def dead_letter(self, delivery_id: str, *, attempt: int, error: str, at: datetime) -> bool: ...

    def park(self, delivery_id: str, *, attempt: int, error: str, at: datetime) -> bool:
        """Parked on missing master data: not claimed again until :meth:`retry`."""
        ...

    def retry(self, delivery_id: str, *, at: datetime) -> Delivery | None:
        """Dead or parked: back to pending with a fresh attempt count; pending: due at ``at``."""
        ...

    def count_by_status(self, *, target: str | None = None) -> dict[str, dict[DeliveryStatus, int]]:
        """Per target with deliveries, how many are in each status (every status present)."""
        ...

    def target_state(self, target: str, *, at: datetime, lock: bool = False) -> TargetState:
        """The target's settings, budget and circuit (created with defaults when first seen);
        ``lock`` holds the row against every other worker until commit."""
        ...

    def save_target(self, state: TargetState) -> None: ...

    def configure_target(self, target: str, settings: TargetSettings, *, at: datetime) -> None:
        """Set a target's limits, keeping its budget and circuit."""
        ...

    def targets(self) -> list[TargetState]: ...

    def list(
        self,
        *,
        status: DeliveryStatus | None = None,
        target: str | None = None,
        correlation_id: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        """Deliveries without payload, ordered by id."""
        ...


class ApiClientRepository(Protocol):
    """API clients of the OAuth2 client-credentials flow with their hashed secrets
    (``services/clients.py``). Lists are keyset-paginated by id."""

    def add(self, client: ApiClient, secret_hash: str) -> None:
        """Store a new client; an id stored already is refused."""
        ...

    def get(self, client_id: str) -> ApiClient | None: ...

    def credentials(self, client_id: str) -> tuple[ApiClient, str] | None:
        """The client and its secret hash, for authentication."""
        ...

    def set_secret_hash(self, client_id: str, secret_hash: str) -> None:
        """Replace the stored hash (re-hashing with stronger parameters)."""
        ...

    def save_revoked(self, client: ApiClient) -> None:
        """Write the client's ``revoked_at``."""
        ...

    def list(
        self, *, include_revoked: bool = True, after: str | None = None, limit: int = 100
    ) -> list[ApiClient]: ...


class UsageWorkflowRepository(Protocol):
    """The usage workflow's state, one per usage id (``services/workflows/usage.py``), and the
    reads it needs that no other repository answers."""

    def start(self, workflow: UsageWorkflow) -> bool:
        """Store a new workflow; False, writing nothing, when the usage has one already
        (correct when two transactions start the same usage at once: one row, one winner)."""
        ...

    def start_many(self, workflows: Sequence[UsageWorkflow]) -> int:
        """:meth:`start` for several, in one statement; how many this call stored."""
        ...

    def get(self, usage_id: str, *, lock: bool = False) -> UsageWorkflow | None: ...

    def get_many(self, usage_ids: Iterable[str]) -> dict[str, UsageWorkflow]:
        """The stored workflows of these usages, by usage id (those without one are absent)."""
        ...

    def save(self, workflow: UsageWorkflow) -> None:
        """Write what a later step changes of a stored workflow: its step, journal, expected
        charge, cost center and ``updated_at`` (the rest is fixed by the first step)."""
        ...

    def save_many(self, workflows: Sequence[UsageWorkflow]) -> None: ...

    def steps(self, usage_ids: Iterable[str]) -> dict[str, UsageStep]:
        """The step of each of these usages' workflows (those without one are absent)."""
        ...

    def cost_many(self, costings: Sequence[UsageCosting]) -> int:
        """Move these *stocked* workflows to ``costed`` with what the cost step produced; how
        many moved (one not stocked, or absent, is left as it was)."""
        ...

    def lock_positions(
        self, keys: Iterable[tuple[str, str, str]], at: datetime
    ) -> dict[tuple[str, str], StockPosition]:
        """The stock positions of (facility, location, item) keyed (location, item), held until
        commit; one that does not exist yet is created at zero first, so it can be locked."""
        ...

    def count_by_step(self, *, facility_id: str | None = None) -> dict[UsageStep, int]: ...

    def stockout_counts(
        self, *, since: datetime, until: datetime, facility_id: str | None = None
    ) -> tuple[int, int]:
        """Usages whose workflow started in ``[since, until)``, and how many were stockouts."""
        ...

    def par_level(self, location_id: str, item_id: str) -> ParLevel | None: ...

    def replenishments_under_way(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> set[tuple[str, str]]:
        """Which of these (facility, location, item) keys, as (location, item), have a
        replenishment under way: a requisition a usage raised that is pending approval or
        approved, or ordered with a PO line of the item still open (PO not received, closed or
        cancelled, line not rejected by the supplier nor received in full). Read after the
        positions' lock, so a concurrent usage's requisition is seen once it committed."""
        ...

    def serials_used(self, units: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Which of these (item, serial) units a started workflow used already, and by which
        usage id; the units stay locked until commit, so a concurrent usage of one waits and
        then reads this one (whatever location either is at)."""
        ...

    def last_price_paid(self, facility_id: str, item_id: str) -> tuple[Decimal, str] | None:
        """The unit price and unit of the item's line on the facility's latest priced PO."""
        ...


class ExpectedChargeRepository(Protocol):
    """The charge each chargeable usage should bring, for reconciliation; one per usage id."""

    def add(self, charge: ExpectedCharge) -> bool:
        """Store it; False, writing nothing, when its usage has one already."""
        ...

    def add_many(self, charges: Sequence[ExpectedCharge]) -> int:
        """:meth:`add` for several, in one statement; how many were stored."""
        ...

    def get(self, charge_id: str) -> ExpectedCharge | None: ...

    def for_encounter(self, facility_id: str, encounter_token: str) -> list[ExpectedCharge]: ...


class InvoiceMatchRepository(Protocol):
    """The three-way match's state per invoice and the reads it needs (``domain/matching.py``)."""

    def lock_invoice(self, invoice_id: str) -> bool:
        """Hold the invoice's row until commit; False when there is no such invoice."""
        ...

    def lock_purchase_order(self, purchase_order_id: str) -> None:
        """Hold the PO's row until commit, so its invoices are matched one at a time."""
        ...

    def get(self, invoice_id: str) -> InvoiceMatch | None: ...

    def save(self, match: InvoiceMatch) -> None:
        """Insert or replace the invoice's match state."""
        ...

    def list(
        self,
        *,
        facility_ids: Collection[str] | None = None,
        supplier_id: str | None = None,
        status: MatchStatus | None = None,
        invoice_ids: Collection[str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[InvoiceMatch]: ...

    def previously_invoiced(self, purchase_order_id: str, invoice_id: str) -> dict[int, Decimal]:
        """Eaches per PO line billed by the PO's matched invoices other than ``invoice_id``."""
        ...

    def receipts_for(self, purchase_order_id: str) -> builtins.list[Receipt]: ...

    def duplicate_candidates(
        self,
        *,
        invoice_id: str,
        supplier_id: str,
        number: str,
        purchase_order_number: str | None,
        invoice_date: date,
    ) -> builtins.list[InvoiceSummary]:
        """The supplier's other matched-or-tried invoices with the same number, or the same PO
        and invoice date; an invoice ``invoice_id`` was cleared as not a duplicate of is left
        out of the second kind (never of the first: the same number is always a duplicate)."""
        ...

    def add_duplicate_clearance(self, clearance: DuplicateClearance) -> None:
        """Store the decision that the invoice is not a duplicate of the original."""
        ...

    def duplicate_clearances(self, invoice_id: str) -> builtins.list[DuplicateClearance]:
        """The invoice's clearances, in the order they were decided (then by original)."""
        ...

    def open_invoice_ids(
        self,
        *,
        purchase_order_number: str | None = None,
        held_only: bool = False,
        limit: int = 1000,
    ) -> builtins.list[str]:
        """Invoices not yet matched (received, or held on an exception), in the order they
        reached matching, then by id (those never run last); ``held_only``:
        only those a match has run on and held (an invoice still received waits for its own
        ``purchasing.invoice.received``)."""
        ...

    def set_invoice_status(self, invoice_id: str, status: InvoiceStatus) -> None: ...


class MatchToleranceRepository(Protocol):
    """Tolerance rules of the three-way match, one per scope."""

    def rules(
        self, *, facility_id: str | None = None, supplier_id: str | None = None
    ) -> builtins.list[ToleranceRule]:
        """Every rule, or those that could apply to the facility and supplier given."""
        ...

    def set(self, rule: ToleranceRule, *, at: datetime) -> None: ...

    def remove(self, *, facility_id: str | None, supplier_id: str | None) -> bool: ...


class ChargemasterRepository(Protocol):
    """The CDM price list per facility with effective dates (reconciliation's revenue at risk)."""

    def get(
        self, facility_id: str, cdm_code: str, effective_from: date
    ) -> ChargemasterPrice | None: ...

    def add_many(self, prices: Iterable[ChargemasterPrice], *, source_system: str) -> None:
        """Insert or replace each price, keyed by facility, CDM code and start date."""
        ...

    def for_codes(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ChargemasterPrice]]: ...

    def count(self) -> int: ...


class ReconciliationRepository(Protocol):
    """The continuous reconciliation's state per line, and the two sides of a key."""

    def usage_lines(self, key: ReconciliationKey) -> list[UsageLine]: ...

    def charge_lines(self, key: ReconciliationKey) -> list[ChargeLine]: ...

    def states(self, key: ReconciliationKey) -> dict[tuple[Side, str], LineState]:
        """The key's stored line states, locked for the transaction where the database can."""
        ...

    def get(self, side: Side, line_id: str) -> LineState | None: ...

    def save_many(self, states: Sequence[LineState]) -> None: ...

    def due(self, now: datetime, limit: int) -> list[LineState]:
        """Lines due to age into an exception at ``now``, oldest first."""
        ...

    def all(self, facility_id: str | None = None) -> list[LineState]: ...


class RequisitionApprovalRepository(Protocol):
    """The requisition approval workflow's state, one per requisition id
    (``services/workflows/requisitions.py``). Lists are keyset-paginated by requisition id."""

    def start(self, approval: RequisitionApproval) -> bool:
        """Store a new state; False, writing nothing, when the requisition has one already
        (correct when two transactions start the same requisition at once: one winner)."""
        ...

    def get(self, requisition_id: str, *, lock: bool = False) -> RequisitionApproval | None:
        """The state; ``lock`` holds it against a concurrent decision until commit."""
        ...

    def save(self, approval: RequisitionApproval) -> None:
        """Write a stored state's changes."""
        ...

    def list(
        self,
        *,
        status: ApprovalStatus | None = None,
        approver: str | None = None,
        facility_ids: Collection[str] | None = None,
        department_id: str | None = None,
        reason: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[RequisitionApproval]: ...


class TradingPartnerRepository(Protocol):
    """Each supplier's X12 trading-partner profile (``domain/trading_partners.py``)."""

    def get(self, supplier_id: str, *, lock: bool = False) -> TradingPartner | None:
        """The profile; ``lock`` holds it (and its control number) until commit."""
        ...

    def save(self, partner: TradingPartner) -> None:
        """Insert or replace the profile."""
        ...

    def list(
        self, *, after: str | None = None, limit: int = 100
    ) -> builtins.list[TradingPartner]: ...


class ExpectedReceiptRepository(Repository[ExpectedReceipt], Protocol):
    """What ship notices announced, per PO, until the dock confirms them."""


class X12InterchangeRepository(Protocol):
    """Applied X12 interchanges (one per sender and ISA13) and our outbound control numbers."""

    def record(self, sender: str, control_number: str, message_id: str, at: datetime) -> str | None:
        """Record the interchange as applied by ``message_id``; None when this call stored it,
        else the id of the message that applied it first."""
        ...

    def take_over(self, sender: str, control_number: str, message_id: str) -> None:
        """Make ``message_id`` the message that applies the interchange (the first one failed)."""
        ...

    def next_control_number(self, partner: str) -> int:
        """The next interchange control number towards ``partner``, held until commit."""
        ...


class EncounterRepository(Protocol):
    """Encounters as ADT and BAR messages describe them (``domain/encounters.py``)."""

    def get(
        self, facility_id: str, encounter_token: str, *, lock: bool = False
    ) -> Encounter | None: ...

    def save_many(self, found: Iterable[Encounter]) -> None:
        """Insert or replace each encounter (merge with what is stored first)."""
        ...

    def list(
        self, *, facility_id: str | None = None, after: str | None = None, limit: int = 100
    ) -> builtins.list[Encounter]: ...


class StaffRepository(Protocol):
    """Staff reference data from MFN^M02."""

    def get(self, source_system: str, staff_id: str) -> StaffMember | None: ...

    def save_many(self, members: Iterable[StaffMember]) -> None: ...


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
    events: EventLogRepository
    exceptions: ExceptionRepository
    deliveries: DeliveryRepository
    clients: ApiClientRepository
    audit: AuditLogRepository
    interfaces: InterfaceRepository
    usage_workflows: UsageWorkflowRepository
    expected_charges: ExpectedChargeRepository
    invoice_matches: InvoiceMatchRepository
    match_tolerances: MatchToleranceRepository
    chargemaster: ChargemasterRepository
    reconciliation: ReconciliationRepository
    requisition_approvals: RequisitionApprovalRepository
    trading_partners: TradingPartnerRepository
    encounters: EncounterRepository
    staff: StaffRepository
    expected_receipts: ExpectedReceiptRepository
    x12_interchanges: X12InterchangeRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self, *, durable: bool = True) -> None:
        """Commit the transaction. ``durable=False``: on PostgreSQL, without waiting for the
        write-ahead log to reach the disk (``synchronous_commit`` off for this transaction
        alone). What it wrote is visible to every session at once, survives the death of this
        process, and is durable with the next durable commit of any session (the log is
        flushed in order); only a crash of the database server before that takes it back, and
        nothing committed after it. For writes whose loss with a server crash is harmless: a
        claim (its attempt count and lease), the relay's publication rows. On SQLite, the same
        as a durable commit."""
        ...

    def rollback(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A block of the transaction undone alone if it raises (SQL ``SAVEPOINT``); the
        exception propagates and the transaction stays usable. The bus runs each handler of a
        batch in one, so a failing handler takes back only its own writes."""
        ...
