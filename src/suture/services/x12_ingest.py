"""X12 ingest: an interchange stored, read, applied set by set, and a 997 queued per group.

The use case behind every X12 edge (``POST /api/v1/system/messages`` with
``application/edi-x12``, ``suture ingest x12 FILE``, the drop folder of ``suture serve
--watch``), the X12 sibling of :mod:`suture.services.hl7_ingest` (DESIGN.md §3):

1. **Store.** The raw interchange is committed to the inbox first (format ``x12``). The same
   bytes on the same interface are a duplicate: answered with the stored outcome, not applied
   again (a message still ``received``, whose first attempt died, is applied now).
2. **Read** the envelope (:func:`~suture.formats.x12.read_interchange`, lenient, so a count or
   control-number error rejects only its set or group in the 997). An interchange that cannot
   be read at all is ``failed`` with the codec's error (segment position, element, reason) and
   a ``malformed_message`` exception item; its raw bytes stay in the inbox.
3. **Identify the sender**: ISA06, then each GS02, through the supplier crosswalk (source
   system ``x12``, kind ``supplier``), else a supplier whose GLN, ERP vendor id or id it is. An
   unknown sender is ``parked`` with an ``unknown_supplier`` item, and a ``message.received``
   event whose :data:`X12_DECODE` work is parked on the sender's crosswalk key
   (:func:`sender_dependency`): nothing is applied and no 997 goes out until the sender is
   mapped, which re-drives that work (DESIGN.md §3 guarantee 4), or the item is retried.
4. **Apply**, in one transaction for the interchange and one savepoint per transaction set:
   855, 856 and 810 through :mod:`.supplier_documents` with their events. A set that does not
   decode, or cannot be applied (a line the PO does not have), is rolled back alone and
   recorded; 850 and 832 sets are read but not applied by this interface ("not applied").
   The interchange is recorded under its sender and ISA13 in the same transaction: the same
   interchange sent again with other bytes is recognised by that unique key and not applied
   twice (the message is ``processed`` with the reason naming the first message), unless the
   first message did not end ``processed`` (it failed, or was parked): then the new one applies
   it, and the records it writes have the same ids (derived from sender, ISA13, GS06, ST02).
5. **Acknowledge**: for every functional group a 997 (A, E, P or R per
   :func:`~suture.formats.x12.assess_group`, a syntax acknowledgment) is queued in that same
   transaction as an outbound delivery to ``x12:<supplier id>``, addressed back to the sender
   (our ISA ids are the ones the sender addressed), numbered from a per-partner counter.
   The message is ``processed``, or ``failed`` with every set's reason and a
   ``malformed_message`` item, when any set was refused.

:class:`X12Ingest` is the edges' entry point (store, then apply in a transaction of its own);
:class:`X12Applier` does steps 2 to 5 inside a given unit of work, for the edge and for the
bus handler :meth:`X12Applier.decode_received`.

Errors of the storage propagate: nothing is acknowledged, the stored message stays
``received`` and the next attempt (or the sender's re-send) applies it.

PHI: X12 supply-chain documents carry none; reasons name positions, codes and PO numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.exceptions import SYSTEM_ACTOR, open_exception, resolve_for_subject
from suture.services.handlers import HandlerContext
from suture.services.inbox import Inbox
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
_UNFINISHED = frozenset({MessageStatus.RECEIVED, MessageStatus.DECODED})
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
        if envelope.payload.get("format") != FORMAT:
            return
        message = uow.inbox.get(str(envelope.payload["message_id"]), with_raw=True, lock=True)
        if message is None or message.status is MessageStatus.PROCESSED:
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
        target = supplier_target(supplier.id)
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


class X12Ingest:
    """The edges' entry point: store an interchange (committed first), then apply it in a
    transaction of its own with :class:`X12Applier` (see the module docstring).

    One caller at a time per database writer, like :class:`~.hl7_ingest.Hl7Ingest`.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        inbox: Inbox,
        bus: MessageBus,
        deliveries: DeliveryQueue,
        clock: Clock,
        *,
        applier: X12Applier | None = None,
    ) -> None:
        self._uow = uow_factory
        self._inbox = inbox
        self._bus = bus
        self._clock = clock
        self._applier = applier or X12Applier(deliveries)

    def receive(
        self,
        raw: bytes,
        *,
        interface: str,
        source_system: str,
        facility_id: str | None = None,
    ) -> X12Reply:
        """Store ``raw`` (committed before anything else), then apply it; what became of it."""
        received = self._inbox.receive(
            raw,
            format=FORMAT,
            interface=interface,
            source_system=source_system,
            received_at=self._clock(),
            facility_id=facility_id,
        )
        message = received.message
        if received.is_duplicate and message.status not in _UNFINISHED:
            return X12Reply(message.id, message.trace_id, True, message.status,
                            message.status_reason)  # fmt: skip
        return self._process(message, raw, is_duplicate=received.is_duplicate)

    def retry(self, message_id: str) -> X12Reply:
        """Apply a stored message again (parked on an unknown sender, or failed), e.g. after the
        sender was mapped; a processed message is left as it is."""
        message = self._inbox.get(message_id, with_raw=True)
        if message.status is MessageStatus.PROCESSED:
            return X12Reply(message.id, message.trace_id, True, message.status,
                            message.status_reason)  # fmt: skip
        return self._process(message, message.raw or b"", is_duplicate=True)

    def _process(self, message: InboundMessage, raw: bytes, *, is_duplicate: bool) -> X12Reply:
        with self._uow() as uow:
            reply = self._applier.apply(
                uow, self._bus, message, raw, is_duplicate=is_duplicate, at=self._clock()
            )
            uow.commit()
        return reply


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
    "X12Ingest",
    "X12Reply",
    "find_sender",
    "sender_dependency",
    "supplier_target",
]
