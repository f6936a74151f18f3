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

from suture.domain.messages import InboundMessage, MessageStatus
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.x12_interchanges import (
    APPLIED_SETS,
    FORMAT,
    SENDER_SOURCE,
    UNFINISHED,
    X12_DECODE,
    X12Applier,
    X12Reply,
    find_sender,
    sender_dependency,
    supplier_target,
)


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
        if received.is_duplicate and message.status not in UNFINISHED:
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
