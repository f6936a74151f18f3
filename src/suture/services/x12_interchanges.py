"""Applying one stored X12 interchange inside a unit of work: steps 2 to 5 of
:mod:`suture.services.x12_ingest` (read, identify the sender, apply each set, acknowledge).

:class:`X12Applier` serves the edge (:class:`~suture.services.x12_ingest.X12Ingest`, which
stores first and commits after) and the bus handler :meth:`X12Applier.decode_received`, which
re-applies a parked or retried message inside the bus's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.errors import DomainError
from suture.domain.exceptions import ExceptionType, subject_of
from suture.domain.masterdata import Supplier
from suture.domain.messages import InboundMessage, MessageStatus
from suture.eventlog.envelope import Envelope
from suture.eventlog.errors import DependencyKey
from suture.eventlog.ids import idempotency_key
from suture.formats.x12 import (
    ControlNumbers,
    FunctionalGroup,
    GroupOutcome,
    Interchange,
    Invoice810,
    PurchaseOrderAcknowledgment855,
    ShipNotice856,
    TradingPartnerProfile,
    TransactionSet,
    X12DecodeError,
    X12EncodeError,
    assess_group,
    decode_transaction_set,
    read_interchange,
    write_997,
)
from suture.services.deliveries import DeliveryQueue
from suture.services.exceptions import SYSTEM_ACTOR, open_exception, resolve_for_subject
from suture.services.handlers import HandlerContext
from suture.services.inbox import unprocessed_of
from suture.services.messagebus import MessageBus
from suture.services.redrive import mapping_dependency
from suture.services.supplier_documents import (
    DocumentError,
    Provenance,
    apply_acknowledgment,
    apply_ship_notice,
    invoice_from_810,
    record_invoice,
)
from suture.services.unit_of_work import UnitOfWork

FORMAT = "x12"
#: The crosswalk source system of X12 sender ids (ISA06, GS02) mapped to suppliers.
SENDER_SOURCE = "x12"
#: The transaction sets this interface applies; the others the codec reads are stored, not applied.
APPLIED_SETS = ("810", "855", "856")
#: The bus handler (bootstrap subscribes it to ``message.received``) that applies an X12
#: message parked on its sender once the sender is mapped, or retried from the exception queue.
X12_DECODE = "x12_decode"
MESSAGE_RECEIVED = "message.received"
UNFINISHED = frozenset({MessageStatus.RECEIVED, MessageStatus.DECODED})
_MAX_REASON = 2000


class X12Reply(NamedTuple):
    """What became of one interchange: its inbox message and status, and the 997s queued."""

    message_id: str
    trace_id: str
    is_duplicate: bool
    status: MessageStatus
    reason: str | None
    supplier_id: str | None = None
    acknowledgments: int = 0


def supplier_target(supplier_id: str) -> str:
    """The outbound delivery target of a supplier's X12 (997s here; 850s in the ordering half)."""
    return f"x12:{supplier_id}"


def sender_dependency(sender_id: str) -> DependencyKey:
    """The dependency an interchange from an unknown sender is parked on: the system-wide
    supplier crosswalk key of the sender id (``supplier:x12/*/supplier/ACMEMED``)."""
    return mapping_dependency(CrosswalkKey(SENDER_SOURCE, None, CrosswalkKind.SUPPLIER, sender_id))


@dataclass(slots=True)
class _Outcome:
    """What applying an interchange did, for the message's status and the reply."""

    failures: list[str] = field(default_factory=list)
    correlation_id: str | None = None
    facility_id: str | None = None
    acknowledgments: int = 0


class X12Applier:
    """Applies one stored interchange inside the caller's unit of work (the caller commits):
    steps 2 to 6 of the module docstring. Stateless but for the delivery queue, so the edge
    (:class:`X12Ingest`) and the bus handler (:meth:`decode_received`) share one."""

    def __init__(self, deliveries: DeliveryQueue) -> None:
        self._deliveries = deliveries

    # --- the bus handler: re-driving stored messages ------------------------------------------

    def decode_received(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """``message.received`` for an X12 message not processed yet: apply it. The event comes
        from parking (its work item is parked on the sender's mapping and re-driven when the
        mapping is added) or from a retry (the exception queue, ``suture replay``)."""
        message = unprocessed_of(envelope.payload, uow, FORMAT)
        if message is None:
            return
        self.apply(uow, context.bus, message, message.raw or b"", is_duplicate=True,
                   at=context.now)  # fmt: skip

    # --- the steps --------------------------------------------------------------------------

    def apply(
        self,
        uow: UnitOfWork,
        bus: MessageBus,
        message: InboundMessage,
        raw: bytes,
        *,
        is_duplicate: bool,
        at: datetime,
    ) -> X12Reply:
        """Read, identify, apply and acknowledge ``message`` within ``uow``; what became of it."""
        try:
            interchange = read_interchange(raw, strict=False)
        except X12DecodeError as error:
            return self._refuse(uow, message, is_duplicate, at, str(error))
        supplier = find_sender(uow, interchange)
        if supplier is None:
            return self._park(uow, bus, message, interchange, is_duplicate, at)
        _sender_known(uow, message, supplier, at)
        sender = f"{interchange.sender_qualifier.strip()}:{interchange.sender_id.strip()}"
        first = uow.x12_interchanges.record(sender, interchange.control_number, message.id, at)
        if first is not None and first != message.id and not _applied(uow, first):
            # the first message of this interchange failed or was parked: this one applies it
            uow.x12_interchanges.take_over(sender, interchange.control_number, message.id)
            first = None
        if first is not None and first != message.id:
            repeated = (
                f"interchange {interchange.control_number} from {sender} was applied by "
                f"message {first}; not applied again"
            )
            _finish(uow, message, MessageStatus.PROCESSED, repeated, at)
            return X12Reply(message.id, message.trace_id, True, MessageStatus.PROCESSED,
                            repeated, supplier.id)  # fmt: skip
        outcome = _Outcome(facility_id=message.facility_id)
        for group in interchange.groups:
            self._apply_group(uow, bus, message, interchange, group, supplier, at, outcome)
        status: MessageStatus = MessageStatus.PROCESSED
        reason: str | None = None
        if outcome.failures:
            status, reason = MessageStatus.FAILED, "; ".join(outcome.failures)[:_MAX_REASON]
            open_exception(
                uow,
                type=ExceptionType.MALFORMED_MESSAGE,
                facility_id=outcome.facility_id,
                reason=f"X12: {reason}",
                at=at,
                message_id=message.id,
                trace_id=message.trace_id,
            )
        else:  # a retried message that failed before is fixed
            resolve_for_subject(uow, at=at, note="the interchange was applied",
                                message_id=message.id)  # fmt: skip
        _finish(uow, message, status, reason, at, outcome)
        return X12Reply(message.id, message.trace_id, is_duplicate, status, reason,
                        supplier.id, outcome.acknowledgments)  # fmt: skip

    def _apply_group(  # noqa: PLR0917  (one group's context)
        self,
        uow: UnitOfWork,
        bus: MessageBus,
        message: InboundMessage,
        interchange: Interchange,
        group: FunctionalGroup,
        supplier: Supplier,
        at: datetime,
        outcome: _Outcome,
    ) -> None:
        assessed = assess_group(group)
        for transaction_set, set_outcome in zip(group.transaction_sets, assessed.sets, strict=True):
            where = f"ST {transaction_set.control_number} ({transaction_set.id})"
            if set_outcome.code == "R":
                first = set_outcome.errors[0] if set_outcome.errors else "rejected"
                outcome.failures.append(f"{where}: {first}")
                continue
            origin = Provenance(
                message_id=message.id,
                document_key=(
                    f"{interchange.sender_qualifier.strip()}:{interchange.sender_id.strip()}/"
                    f"{interchange.control_number}/{group.control_number}/"
                    f"{transaction_set.control_number}"
                ),
                trace_id=message.trace_id,
                source_system=message.source_system,
                supplier=supplier,
                at=at,
                facility_id=message.facility_id,
                received_at=message.received_at,
            )
            try:
                with uow.savepoint():
                    _apply_set(uow, bus, transaction_set, origin, outcome)
            except (DocumentError, X12DecodeError, DomainError) as error:
                outcome.failures.append(f"{where}: {error}")
        outcome.failures += [f"GS {group.control_number}: {e}" for e in group.errors]
        self._acknowledge(uow, message, interchange, group, supplier, at, outcome, assessed)

    def _acknowledge(  # noqa: PLR0917  (one group's context)
        self,
        uow: UnitOfWork,
        message: InboundMessage,
        interchange: Interchange,
        group: FunctionalGroup,
        supplier: Supplier,
        at: datetime,
        outcome: _Outcome,
        assessed: GroupOutcome,
    ) -> None:
        """Queue the group's 997 to the supplier, in the transaction that applied the group."""
        # A supplier with a trading-partner profile gets its 997 by the profile's target and
        # numbered from the profile's counter, the one its 850s use: one sequence of ISA13s per
        # partner, never repeated. Without a profile, the 997 goes to ``x12:<supplier>`` numbered
        # from a counter of that target.
        profile = uow.trading_partners.get(supplier.id, lock=True)
        target = profile.target if profile is not None else supplier_target(supplier.id)
        try:
            partner = TradingPartnerProfile(
                sender_qualifier=interchange.receiver_qualifier.strip() or "ZZ",
                sender_id=interchange.receiver_id.strip() or "SUTURE",
                receiver_qualifier=interchange.sender_qualifier.strip() or "ZZ",
                receiver_id=interchange.sender_id.strip(),
                version="004010" if group.version.startswith("004") else "005010",
                application_sender=group.receiver.strip() or None,
                application_receiver=group.sender.strip() or None,
            )
            if profile is not None:
                number = profile.next_control_number()
                uow.trading_partners.save(
                    replace(profile, last_control_number=number, updated_at=at)
                )
            else:
                number = uow.x12_interchanges.next_control_number(target)
            payload = write_997(group, partner, ControlNumbers(number, number), at, assessed)
        except X12EncodeError as refused:
            outcome.failures.append(f"997 for GS {group.control_number} not written: {refused}")
            return
        self._deliveries.enqueue(
            uow,
            target=target,
            operation="997",
            payload=payload,
            idempotency_key=f"997:{message.id}:{group.control_number}",
            at=at,
            facility_id=outcome.facility_id,
            correlation_id=outcome.correlation_id or f"ISA {interchange.control_number}",
            trace_id=message.trace_id,
        )
        outcome.acknowledgments += 1

    @staticmethod
    def _refuse(
        uow: UnitOfWork, message: InboundMessage, is_duplicate: bool, at: datetime, reason: str
    ) -> X12Reply:
        _finish(uow, message, MessageStatus.FAILED, reason, at)
        open_exception(
            uow,
            type=ExceptionType.MALFORMED_MESSAGE,
            facility_id=message.facility_id,
            reason=f"X12: {reason}",
            at=at,
            message_id=message.id,
            trace_id=message.trace_id,
        )
        return X12Reply(message.id, message.trace_id, is_duplicate, MessageStatus.FAILED, reason)

    @staticmethod
    def _park(  # noqa: PLR0917  (one message's context)
        uow: UnitOfWork,
        bus: MessageBus,
        message: InboundMessage,
        interchange: Interchange,
        is_duplicate: bool,
        at: datetime,
    ) -> X12Reply:
        """Park the message on its sender's mapping: the message ``parked``, an
        ``unknown_supplier`` item, and a ``message.received`` event whose work for
        :data:`X12_DECODE` is parked on the same dependency, so that mapping the sender
        (``POST /api/v1/process/crosswalks``, a crosswalk import) re-drives it."""
        sender = interchange.sender_id.strip()
        dependency = sender_dependency(sender)
        reason = (
            f"unknown sender: ISA06 {sender!r} (qualifier {interchange.sender_qualifier.strip()}) "
            "is no supplier's crosswalk code, GLN, ERP vendor id or id"
        )
        _finish(uow, message, MessageStatus.PARKED, reason, at)
        open_exception(
            uow,
            type=ExceptionType.UNKNOWN_SUPPLIER,
            facility_id=message.facility_id,
            reason=reason,
            at=at,
            message_id=message.id,
            trace_id=message.trace_id,
            dependency=dependency,
        )
        envelope = bus.envelope(
            MESSAGE_RECEIVED,
            {
                "message_id": message.id,
                "interface_id": message.interface,
                "format": message.format,
                "source_system": message.source_system,
                "facility_id": message.facility_id,
                "received_at": message.received_at,
                "sha256": message.checksum,
                "size_bytes": message.size,
            },
            idempotency_key=idempotency_key(MESSAGE_RECEIVED, message.id, "parked", at.isoformat()),
            correlation_id=message.correlation_id or message.id,
            trace_id=message.trace_id,
            occurred_at=message.received_at,
            source_system=message.source_system,
            source_facility=message.facility_id,
        )
        if bus.publish(uow, envelope) and X12_DECODE in bus.subscribers(envelope):
            uow.events.park(X12_DECODE, str(envelope.id), at=at, dependency=str(dependency),
                            error=reason)  # fmt: skip
        return X12Reply(message.id, message.trace_id, is_duplicate, MessageStatus.PARKED, reason)


def _apply_set(
    uow: UnitOfWork,
    bus: MessageBus,
    transaction_set: TransactionSet,
    origin: Provenance,
    outcome: _Outcome,
) -> None:
    record = decode_transaction_set(transaction_set)
    keys: tuple[str, str | None]
    if isinstance(record, PurchaseOrderAcknowledgment855):
        po = apply_acknowledgment(uow, bus, record, origin)
        keys = (record.po_number, po.facility_id if po else None)
    elif isinstance(record, ShipNotice856):
        receipts = apply_ship_notice(uow, bus, record, origin)
        keys = (
            receipts[0].purchase_order_number if receipts else record.shipment_id,
            receipts[0].facility_id if receipts else None,
        )
    elif isinstance(record, Invoice810):
        invoice = record_invoice(uow, bus, invoice_from_810(uow, record, origin), origin)
        keys = (invoice.purchase_order_number or invoice.number, invoice.facility_id)
    else:
        raise X12DecodeError(
            f"transaction set {transaction_set.id} is read but not applied by this "
            f"interface (only {', '.join(APPLIED_SETS)} are)",
            position=transaction_set.position,
            segment="ST",
            element="ST01",
        )
    outcome.correlation_id = outcome.correlation_id or keys[0]
    outcome.facility_id = outcome.facility_id or keys[1]


def _sender_known(
    uow: UnitOfWork, message: InboundMessage, supplier: Supplier, at: datetime
) -> None:
    """Resolve the message's ``unknown_supplier`` item, if it was parked: the sender is known."""
    subject = subject_of(message_id=message.id)
    waiting = uow.exceptions.find_open_for_subject(
        subject, type=ExceptionType.UNKNOWN_SUPPLIER, lock=True
    )
    for item in waiting:
        note = f"the sender is supplier {supplier.id}; the interchange was applied"
        uow.exceptions.save(item.resolve(note, by=SYSTEM_ACTOR, at=at))


def _applied(uow: UnitOfWork, message_id: str) -> bool:
    first = uow.inbox.get(message_id)
    return first is not None and first.status is MessageStatus.PROCESSED


def _finish(  # noqa: PLR0917  (a status change's parts)
    uow: UnitOfWork,
    message: InboundMessage,
    status: MessageStatus,
    reason: str | None,
    at: datetime,
    outcome: _Outcome | None = None,
) -> None:
    """Move the message (locked and re-read) to ``status``, through ``decoded`` when it is
    processed from another status."""
    current = uow.inbox.get(message.id, lock=True) or message
    if status is MessageStatus.PROCESSED and current.status is not MessageStatus.DECODED:
        current = current.transition(MessageStatus.DECODED, reason=None, at=at)
    changed = current.transition(
        status,
        reason=reason,
        at=at,
        correlation_id=outcome.correlation_id if outcome else None,
        facility_id=outcome.facility_id if outcome else None,
    )
    uow.inbox.save_status(changed)


def find_sender(uow: UnitOfWork, interchange: Interchange) -> Supplier | None:
    """The supplier that sent ``interchange``: ISA06 then each GS02, through the supplier
    crosswalk, then as a GLN, an ERP vendor id or a supplier id."""
    codes = [interchange.sender_id.strip(), *(g.sender.strip() for g in interchange.groups)]
    for code in dict.fromkeys(c for c in codes if c):
        entries = uow.crosswalks.candidates(SENDER_SOURCE, CrosswalkKind.SUPPLIER, code, None)
        if entries and (found := uow.suppliers.get(entries[0].canonical_id)) is not None:
            return found
        for lookup in (uow.suppliers.by_gln, uow.suppliers.by_erp_vendor_id, uow.suppliers.get):
            if (found := lookup(code)) is not None:
                return found
    return None


__all__ = [
    "APPLIED_SETS",
    "FORMAT",
    "SENDER_SOURCE",
    "X12_DECODE",
    "X12Applier",
    "X12Reply",
    "find_sender",
    "sender_dependency",
    "supplier_target",
]
