"""HL7 v2 ingest: raw bytes stored, decoded, acknowledged, and applied (charges posted).

The use case behind every HL7 v2 edge (the MLLP listener, ``suture ingest FILE``, the drop
folder, the HTTP ingest), DESIGN.md §3:

1. **Store.** The raw bytes are committed to the inbox first (:meth:`Inbox.receive`, or one
   transaction for a group). Nothing below runs, and no ACK exists, before that commit. Bytes
   the interface sent before are a duplicate: not applied again, answered with the ACK of the
   stored outcome (a message still ``received``, whose first delivery was not applied yet, is
   decoded and applied again: the apply skips it if someone finished it meanwhile).
2. **Decode** with the pure codec (:func:`suture.formats.hl7v2.decode_message`), patient
   identifiers tokenized by the keyed hash the hub owns. Times without an offset are read in the
   sending facility's zone.
3. **Acknowledge** (HL7 v2.5.1 §2.9.2, original mode): ``AA`` when the message decodes
   cleanly and will be applied; ``AE`` with an ERR naming segment, field and reason when the
   content is wrong (including a sending facility, MSH-4, that is not the code of a known
   facility); ``AR`` when the message cannot be accepted at all: no readable MSH, an
   unsupported type or version. :meth:`Hl7Ingest.accept_many` stops here (the MLLP listener's
   ACK path); the other entry points apply before they return.
4. **Apply** (:meth:`Hl7Ingest.apply`), one transaction for many messages: a DFT^P03's charges
   are stored, one ``charge.posted`` event per charge is published (idempotency key from the
   charge id, correlation id the encounter token, trace id the inbox message's, causation the
   message), and the message is marked ``decoded`` then ``processed``. A message answered
   AE/AR is marked ``failed`` with the error's PHI-free text and a ``malformed_message``
   exception item opens on it, in that same transaction; its raw bytes stay in the inbox for a
   person to look at and retry. The statuses are re-read, locked, in the transaction, so a
   message is applied once however many appliers reach it; what a crash left stored and not
   applied, the recovery sweep (:meth:`Hl7Ingest.recover`) decodes again and applies.

**Re-driven** (:meth:`Hl7Ingest.decode_received`, the bus handler ``hl7_decode``): a failed
message retried from the exception queue (once its cause is fixed: the facility added, say) is
taken back to ``received`` and published again as ``message.received``; the handler decodes its
stored bytes again and applies them in the handler's transaction as above, whatever edge
received them and whether or not an MLLP listener runs in any process. A message applied on
that path, or by the recovery sweep, resolves its exception item; one that fails again opens
the item again with the new reason. Both read the facilities again on a miss, so a facility
added for the retry is found at once.

The other types the codec reads write the clinical context and master data instead of charges,
in the same transaction as their status (docs/hl7v2.md): ADT and BAR^P01/P05 the encounter
(tokens, patient class, admission and discharge), MFN^M04 the chargemaster's prices, MFN^M02 the
staff reference data.

An error of the storage while storing (anything but an :class:`Hl7DecodeError`) propagates,
and no ACK is made: the sender re-sends, the inbox recognises the bytes, and the stored
message, still ``received``, is applied then. An error while applying leaves the messages
unfinished for the sweep; a fault that is not the hub's own error marks the message failed
(:meth:`Hl7Ingest.apply_isolated`).

PHI: nothing here logs. Status reasons and exception reasons are the codec's error texts, which
name positions and codes, never patient data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

from suture.domain.encounters import Encounter, StaffMember
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.reconciliation import ChargemasterPrice
from suture.domain.revenue import Charge, charge_line_id
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import Uuid7Sequence
from suture.formats.hl7v2 import (
    SUPPORTED_TYPES,
    AckCode,
    ChargeMaster,
    DecodedCharges,
    Disposition,
    EncounterContext,
    ErrorCode,
    Hl7DecodeError,
    Message,
    MessageHeader,
    StaffMaster,
    Tokenize,
    build_ack,
    decode_message,
    parse_message,
    peek_header,
    read_header,
    validate_header,
)
from suture.services.charge_events import (
    CHARGE_POSTED,
    POSTED_VERSION,
    facility_zone,
    posted_key,
    posted_payload,
)
from suture.services.clock import Clock
from suture.services.exceptions import open_exception, resolve_for_subject
from suture.services.handlers import HandlerContext
from suture.services.inbox import Arrival, Inbox, unprocessed_of
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

#: The inbox format of every message this service stores.
FORMAT = "hl7v2"
#: The bus handler of stored HL7 v2 messages published again as ``message.received``: retried
#: from the exception queue (:meth:`Hl7Ingest.decode_received`).
HL7_DECODE = "hl7_decode"
#: The message type (MSH-9.1, MSH-9.2) whose charges this service posts; the other types the
#: codec reads (ADT, BAR^P01/P05, MFN^M04, MFN^M02) write the clinical context and master data.
APPLIED_TYPE = ("DFT", "P03")
#: MFE-1 record-level events that delete or deactivate a master file record.
_DELETIONS = frozenset({"MDL", "MDC"})
_UNFINISHED = frozenset({MessageStatus.RECEIVED, MessageStatus.DECODED})
_FACILITY_PAGE = 500
_RELOAD_AFTER_SECONDS = 5.0


#: One message as an edge read it: the raw bytes and where they came from.
Hl7Submission = Arrival


class Hl7Reply(NamedTuple):
    """What the edge sends back, and what happened: ``ack`` is the unframed ACK message."""

    ack: bytes
    code: AckCode
    message_id: str
    is_duplicate: bool


@dataclass(slots=True)
class _Applied:
    """A message decoded and attributed: what its transaction writes."""

    decoded: DecodedCharges
    facility: Facility


@dataclass(slots=True)
class _Reference:
    """An ADT, BAR or MFN decoded: the context or master data its transaction writes.

    ``facility`` is the facility the message is about (an encounter's, a charge master's
    prices' default); None for a staff master, which serves every facility."""

    decoded: EncounterContext | ChargeMaster | StaffMaster
    facility: Facility | None


@dataclass(slots=True)
class Hl7Work:
    """One stored message between its ACK and its apply: what :meth:`Hl7Ingest.accept_many`
    decoded and :meth:`Hl7Ingest.apply` writes. Opaque to callers, who only carry it."""

    message: InboundMessage
    raw: bytes
    is_duplicate: bool
    header: MessageHeader | None = None
    applied: _Applied | None = None
    reference: _Reference | None = None
    error: Hl7DecodeError | None = None
    reply: Hl7Reply | None = None


#: A charge to post: the charge, its message, the facility's zone, the message's id (the
#: causation) and time (MSH-7, else its receipt; UTC).
_Posting = tuple[Charge, InboundMessage, tzinfo, uuid.UUID, datetime]


class Hl7Acceptance(NamedTuple):
    """What :meth:`Hl7Ingest.accept_many` did: the replies to send, one per submission in
    order, and the stored messages still to apply (``pending``, for :meth:`Hl7Ingest.apply`)."""

    replies: list[Hl7Reply]
    pending: list[Hl7Work]


class Hl7Ingest:
    """Store, decode, apply and acknowledge HL7 v2 messages (see the module docstring).

    ``tokenize`` is the keyed hash of patient identifiers; ``zone`` reads times without an offset
    when the sending facility is unknown or names no zone. The facility cache is replaced whole,
    never changed in place, so one thread may accept while another applies (the MLLP listener's
    writer and applier); each of those runs one call at a time.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        inbox: Inbox,
        bus: MessageBus,
        tokenize: Tokenize,
        clock: Clock,
        *,
        zone: tzinfo = UTC,
    ) -> None:
        self._uow = uow_factory
        self._inbox = inbox
        self._bus = bus
        self._tokenize = tokenize
        self._clock = clock
        self._zone = zone
        self._facilities: dict[str, Facility] = {}
        self._loaded_at: datetime | None = None
        self._event_ids = Uuid7Sequence()

    # --- the edges' entry points --------------------------------------------------------------

    def receive(self, raw: bytes, interface: str, source_system: str) -> bytes:
        """Store one message (committed before anything else), apply it; the ACK to send."""
        return self.handle(raw, interface, source_system).ack

    def handle(self, raw: bytes, interface: str, source_system: str) -> Hl7Reply:
        """:meth:`receive`, returning what happened as well as the ACK."""
        received = self._inbox.receive(
            raw,
            format=FORMAT,
            interface=interface,
            source_system=source_system,
            received_at=self._clock(),
        )
        (reply,), pending = self._accept([Hl7Work(received.message, raw, received.is_duplicate)])
        self.apply(pending)
        return reply

    def receive_many(self, submissions: Sequence[Hl7Submission]) -> list[Hl7Reply]:
        """Group commit, applied before returning: :meth:`accept_many`, then :meth:`apply`.

        For the edges that answer once everything is written (``suture ingest FILE``, the drop
        folder). The replies are in the order of ``submissions``. The same bytes twice in one
        group are stored once, applied once, and answered alike (the second as a duplicate).
        """
        replies, pending = self.accept_many(submissions)
        self.apply(pending)
        return replies

    def accept_many(self, submissions: Sequence[Hl7Submission]) -> Hl7Acceptance:
        """Store every message in one transaction, decode them; the replies, and what to apply.

        The ACK path of the MLLP listener (DESIGN.md §3): once this returns, each message is
        committed and its reply says how it decodes (``AA``: stored and decodes cleanly, it
        will be applied; ``AE``/``AR``: it will be marked failed with an exception item). The
        caller hands ``pending`` to :meth:`apply`; should that never happen (a crash), the
        messages stay ``received`` and :meth:`recover` applies them.
        """
        if not submissions:
            return Hl7Acceptance([], [])
        received = self._inbox.receive_many(submissions, format=FORMAT, received_at=self._clock())
        works = [
            Hl7Work(stored, submission.raw, is_duplicate)
            for submission, (stored, is_duplicate) in zip(submissions, received, strict=True)
        ]
        return self._accept(works)

    def recover(self, *, older_than: timedelta | None = None, batch: int = 256) -> int:
        """The recovery sweep: apply every stored HL7 v2 message still ``received`` or
        ``decoded`` (received at least ``older_than`` ago, when given), decoded again from its
        raw bytes, ``batch`` messages a transaction (:meth:`apply_isolated`); how many this
        call applied.

        Exactly once with any other applier: :meth:`apply` re-reads each status, locked, in
        its transaction and skips a message another one finished.
        """
        received_before = None if older_than is None else self._clock() - older_than
        applied = 0
        after: str | None = None
        while True:
            count, after = self._recover_page(received_before, after, batch)
            applied += count
            if after is None:
                return applied

    def recover_page(
        self, *, older_than: timedelta | None = None, after: str | None = None, batch: int = 256
    ) -> tuple[int, str | None]:
        """One page of :meth:`recover`: the first ``batch`` unfinished messages (received at
        least ``older_than`` ago, when given, with an id above ``after``) applied; how many, and
        the ``after`` of the next page (None when this page was the last).

        For a caller that sweeps between other work (the MLLP listener's writer)."""
        received_before = None if older_than is None else self._clock() - older_than
        return self._recover_page(received_before, after, batch)

    def _recover_page(
        self, received_before: datetime | None, after: str | None, batch: int
    ) -> tuple[int, str | None]:
        with self._uow() as uow:
            page = uow.inbox.unfinished(
                FORMAT, received_before=received_before, after=after, limit=batch
            )
        if not page:
            return 0, None
        works = [Hl7Work(message, message.raw or b"", True) for message in page]
        self._loaded_at = None  # a message left failed by a facility then unknown may be retried
        for work in works:
            self._evaluate(work)
        applied = self.apply_isolated(works, resolve=True)
        return applied, page[-1].id if len(page) == batch else None

    # --- decode, apply, acknowledge -----------------------------------------------------------

    def _accept(self, works: list[Hl7Work]) -> Hl7Acceptance:
        """Decode what needs it and build every reply; the messages left to apply."""
        first: dict[str, Hl7Work] = {}
        pending: list[Hl7Work] = []
        for work in works:
            earlier = first.setdefault(work.message.id, work)
            if earlier is not work:
                work.is_duplicate = True
                continue
            if work.message.status in _UNFINISHED:
                self._evaluate(work)
                pending.append(work)
            elif work.message.status is MessageStatus.PROCESSED:
                work.header = peek_header(work.raw)
            else:  # failed before: the same error again, for the ACK
                self._evaluate(work)
        now = self._clock()
        replies: list[Hl7Reply] = []
        for work in works:
            source = first[work.message.id]
            if source.reply is None:
                source.reply = self._reply(source, now)
            reply = source.reply
            replies.append(reply._replace(is_duplicate=work.is_duplicate))
        return Hl7Acceptance(replies, pending)

    def _evaluate(self, work: Hl7Work) -> None:
        """Decode and attribute ``work`` (pure, but for the facility lookup); sets one outcome."""
        try:
            message = parse_message(work.raw)
            header = read_header(message, self._zone)
            work.header = header
            kind = (header.message_type, header.trigger_event)
            if kind != APPLIED_TYPE:
                validate_header(header)
                if kind not in SUPPORTED_TYPES:
                    decode_message(message, tokenize=self._tokenize, zone=self._zone)  # raises AR
                    raise _not_applied(header)  # not reached: the codec refuses what it cannot
                work.reference = self._reference(message, header, work)
                return
            facility = self._facility(header.sending_facility)
            zone = self._zone_of(facility)
            decoded = self._decode(message, work, zone)
            if decoded.facility_code != header.sending_facility:  # from PV1-3.4: MSH-4 is empty
                facility = self._facility(decoded.facility_code)
                if self._zone_of(facility) is not zone:
                    decoded = self._decode(message, work, self._zone_of(facility))
            if facility is None:
                raise _unknown_facility(decoded)
            work.applied = _Applied(decoded, facility)
        except Hl7DecodeError as error:
            work.error = error
            if work.header is None:
                work.header = peek_header(work.raw)

    def _reference(self, message: Message, header: MessageHeader, work: Hl7Work) -> _Reference:
        """ADT, BAR^P01/P05, MFN^M04 and MFN^M02: the context or master data they carry."""
        facility = self._facility(header.sending_facility)
        decoded = decode_message(
            message, tokenize=self._tokenize, zone=self._zone_of(facility),
            source_system=work.message.source_system,
        )  # fmt: skip
        if isinstance(decoded, EncounterContext):
            if decoded.facility_code != header.sending_facility:  # from PV1-3.4
                facility = self._facility(decoded.facility_code)
            if facility is None:
                raise _unknown_context_facility(decoded)
            return _Reference(decoded, facility)
        if isinstance(decoded, ChargeMaster | StaffMaster):
            return _Reference(decoded, facility)
        raise TypeError(f"{header.type_code} decoded to {type(decoded).__name__}")

    def _decode(self, message: Message, work: Hl7Work, zone: tzinfo) -> DecodedCharges:
        decoded = decode_message(
            message, tokenize=self._tokenize, zone=zone, source_system=work.message.source_system
        )
        if not isinstance(decoded, DecodedCharges):  # MSH-9 was checked: DFT^P03 decodes so
            raise TypeError(f"DFT^P03 decoded to {type(decoded).__name__}")
        return decoded

    def decode_received(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """``message.received`` of an HL7 v2 message not processed yet (a retry from the
        exception queue): decode its stored bytes and apply them in the handler's transaction,
        resolving its exception item, or failing it again with the new reason."""
        message = unprocessed_of(envelope.payload, uow, FORMAT)
        if message is None:
            return
        work = Hl7Work(message, message.raw or b"", True)
        # A retry follows a fix (a facility added, say): read the facilities again, in this
        # transaction (another would wait for its lock on SQLite).
        self._facilities = {f.code: f for f in self._all_facilities(uow)}
        self._loaded_at = context.now
        self._evaluate(work)
        self._apply_in(uow, [work], context.now, resolve=True)

    def apply(self, works: Sequence[Hl7Work], *, resolve: bool = False) -> int:
        """Apply accepted messages in one transaction; how many it applied.

        Each message is marked (``processed`` through ``decoded``, or ``failed`` with a
        ``malformed_message`` exception item), its charges stored and their ``charge.posted``
        events published, or its encounter or master data written. The statuses are re-read,
        locked, first: a message another applier finished (the recovery sweep, another process)
        is skipped, so each is applied exactly once; the charges' upsert by id and the events'
        idempotency keys make a charge re-sent in another message one charge still.
        ``resolve``: a message applied resolves its active exception items (a retried message;
        the MLLP path's new messages have none to look for).
        """
        if not works:
            return 0
        with self._uow() as uow:
            applied = self._apply_in(uow, works, self._clock(), resolve=resolve)
            uow.commit()
        return applied

    def _apply_in(
        self, uow: UnitOfWork, works: Sequence[Hl7Work], at: datetime, *, resolve: bool
    ) -> int:
        """:meth:`apply` within ``uow``; the caller commits."""
        charges: dict[str, Charge] = {}  # by id: a charge re-sent in the group is written once
        postings: list[_Posting] = []
        statuses: list[InboundMessage] = []
        unique = list({work.message.id: work for work in works}.values())
        current = uow.inbox.statuses([work.message.id for work in unique], lock=True)
        for work in unique:
            status = current.get(work.message.id)
            if status not in _UNFINISHED:
                continue  # applied by someone else since it was read, or never stored
            message = work.message
            if message.status is not status:  # a duplicate's copy is older: read it again
                found = uow.inbox.get(message.id, lock=True)
                assert found is not None  # its status was just read in this transaction
                message = work.message = found
            if work.applied is not None:
                applied = work.applied
                decoded = applied.decoded
                facility_id = applied.facility.id
                statuses.append(_processed(message, at, decoded.encounter_token, facility_id))
                zone = self._zone_of(applied.facility)
                causation = uuid.UUID(message.id)
                occurred = (decoded.header.message_time or message.received_at).astimezone(UTC)
                for line in decoded.lines:
                    line.charge.facility_id = facility_id
                    if line.transaction_id:  # the billing system's line id: the business key
                        line.charge.id = charge_line_id(
                            facility_id, line.charge.encounter_token, line.transaction_id,
                            line.charge.transaction_type,
                        )  # fmt: skip
                    charges[line.charge.id] = line.charge
                    postings.append((line.charge, message, zone, causation, occurred))
            elif work.reference is not None:
                correlation, about = self._apply_reference(uow, work.reference, message, at)
                statuses.append(_processed(message, at, correlation, about))
            elif work.error is not None:
                error = work.error
                facility = self._facility_of_error(work)
                reason = str(error)
                statuses.append(
                    message.transition(
                        MessageStatus.FAILED, reason=reason, at=at, facility_id=facility
                    )
                )
                open_exception(
                    uow,
                    type=ExceptionType.MALFORMED_MESSAGE,
                    facility_id=facility,
                    reason=f"HL7 v2 {error.ack_code}: {reason}",
                    at=at,
                    message_id=message.id,
                    trace_id=message.trace_id,
                )
        uow.inbox.save_statuses(statuses)
        if resolve:
            for done in statuses:
                if done.status is MessageStatus.PROCESSED:
                    resolve_for_subject(
                        uow, at=at, note="the message was applied", message_id=done.id
                    )
        if charges:
            uow.charges.add_many(charges.values())
            self._bus.publish_many(uow, self._posted(postings, at))
        return len(statuses)

    def apply_isolated(self, works: Sequence[Hl7Work], *, resolve: bool = False) -> int:
        """:meth:`apply`; when the batch fails, each message alone, so one bad message does not
        hold back the rest. A message that fails alone with a :class:`SutureError` (storage
        unavailable, a rule of the hub) raises it and stays unfinished for the recovery sweep;
        any other error is a fault that would fail every retry: the message is marked failed
        (:meth:`fail`), a person sees it in the work queue."""
        try:
            return self.apply(works, resolve=resolve)
        except Exception:
            if len(works) == 1:
                return self._fail_unless_storage(works[0], resolve)
        return sum(self._fail_unless_storage(work, resolve) for work in works)

    def _fail_unless_storage(self, work: Hl7Work, resolve: bool) -> int:
        try:
            return self.apply([work], resolve=resolve)
        except SutureError:
            raise
        except Exception as error:  # a fault of the hub: recorded on the message
            self.fail(work, error)
            return 0

    def fail(self, work: Hl7Work, error: Exception) -> bool:
        """Mark a message that cannot be applied (the error is not the codec's: a fault of the
        hub) ``failed`` with a ``malformed_message`` exception item, in a transaction of its
        own, unless it was finished meanwhile; whether it was marked. The reason names the
        error's type only (its text may quote content)."""
        at = self._clock()
        reason = f"not applied: {type(error).__name__} while applying; retry from the work queue"
        with self._uow() as uow:
            current = uow.inbox.get(work.message.id, lock=True)
            if current is None or current.status not in _UNFINISHED:
                return False
            facility = self._facility_of_error(work)
            uow.inbox.save_status(
                current.transition(MessageStatus.FAILED, reason=reason, at=at, facility_id=facility)
            )
            open_exception(
                uow, type=ExceptionType.MALFORMED_MESSAGE, facility_id=facility,
                reason=f"HL7 v2: {reason}", at=at, message_id=current.id,
                trace_id=current.trace_id,
            )  # fmt: skip
            uow.commit()
        return True

    def _apply_reference(
        self, uow: UnitOfWork, reference: _Reference, message: InboundMessage, at: datetime
    ) -> tuple[str | None, str | None]:
        """Write an ADT/BAR's encounter, an MFN^M04's prices or an MFN^M02's staff; the
        message's correlation id and facility."""
        decoded = reference.decoded
        facility = reference.facility
        if isinstance(decoded, EncounterContext):
            assert facility is not None  # checked by _reference
            token = decoded.encounter_token or decoded.account_token
            assert token is not None  # the codec refuses a message without either
            newer = Encounter(
                facility_id=facility.id, encounter_token=token, updated_at=at,
                account_token=decoded.account_token, patient_class=decoded.patient_class or None,
                admitted_at=decoded.admitted_at, discharged_at=decoded.discharged_at,
                last_event=decoded.header.type_code, source_system=message.source_system,
            )  # fmt: skip
            stored = uow.encounters.get(facility.id, token, lock=True)
            uow.encounters.save_many([stored.merged(newer) if stored is not None else newer])
            return token, facility.id
        if isinstance(decoded, ChargeMaster):
            prices = self._prices(decoded, facility, at)
            uow.chargemaster.add_many(prices, source_system=message.source_system)
            return f"MFN^M04 {decoded.header.control_id}", facility.id if facility else None
        members = [
            StaffMember(
                source_system=message.source_system,
                staff_id=record.staff_id,
                family_name=record.family_name,
                given_name=record.given_name,
                prefix=record.prefix,
                staff_type=record.staff_type,
                job_title=record.job_title,
                specialty=record.specialty,
                active=record.active and record.event not in _DELETIONS,
                updated_at=at,
            )
            for record in decoded.records
        ]
        uow.staff.save_many(members)
        return f"MFN^M02 {decoded.header.control_id}", None

    def _prices(
        self, master: ChargeMaster, facility: Facility | None, at: datetime
    ) -> list[ChargemasterPrice]:
        """Each priced entry's price per facility it names (PRC-2), else the sender's; an
        entry deleted or inactive ends its price today."""
        prices: list[ChargemasterPrice] = []
        for entry in master.entries:
            ended = entry.event in _DELETIONS or not entry.active
            for price in entry.prices:
                if price.price is None:
                    continue
                targets = [self._facility(code) for code in price.facility_codes] or [facility]
                start = (price.effective_from or entry.effective_at or at).date()
                end = price.effective_to.date() if price.effective_to is not None else None
                if ended or not price.active:
                    end = min(end, at.date()) if end is not None else at.date()
                    start = min(start, end)
                prices += [
                    ChargemasterPrice(
                        facility_id=target.id,
                        cdm_code=entry.cdm_code,
                        effective_from=start,
                        unit_price=price.price,
                        effective_to=end,
                        description=entry.description,
                    )
                    for target in targets
                    if target is not None
                ]
        return prices

    def _posted(self, postings: Sequence[_Posting], at: datetime) -> list[Envelope]:
        """The ``charge.posted`` event of each posted charge, recorded ``at`` (the apply's
        transaction), in one pass: the ids made together (:meth:`Uuid7Sequence.take`), each
        payload written from the typed :class:`Charge` by
        :func:`~suture.services.charge_events.posted_payload` and checked as its model
        (:class:`~suture.eventlog.events.ChargePosted`) checks it, so the registry vouches for
        it (:meth:`Envelope.of_valid_payload`) and publishing does not read it again.
        ``tests/service/test_hl7_posted.py`` holds the payload to the model and the envelope to
        the one the bus builds from the same dict."""
        registry = self._bus.registry
        version = registry.latest(CHARGE_POSTED) if registry is not None else POSTED_VERSION
        # A registry whose charge.posted is another version than the form written here does
        # not vouch: publishing validates the payload, as it validates any dict payload.
        vouching = registry if version == POSTED_VERSION else None
        build = Envelope.of_valid_payload
        envelopes: list[Envelope] = []
        ids = self._event_ids.take(at, len(postings))
        for event_id, (charge, message, zone, causation, occurred) in zip(
            ids, postings, strict=True
        ):
            payload = posted_payload(charge, zone)
            envelopes.append(build(
                id=event_id, type=CHARGE_POSTED, schema_version=version, occurred_at=occurred,
                recorded_at=at, source_system=message.source_system,
                source_facility=charge.facility_id, trace_id=message.trace_id,
                correlation_id=charge.encounter_token, causation_id=causation,
                idempotency_key=posted_key(charge.id), payload=payload,
                validated_by=vouching,
            ))  # fmt: skip
        return envelopes

    def _reply(self, work: Hl7Work, now: datetime) -> Hl7Reply:
        """The ACK of a message's outcome: just applied, or stored before (a duplicate)."""
        message = work.message
        error = work.error
        code: AckCode = "AA"
        if error is not None:
            code = "AR" if error.disposition is Disposition.REJECT else "AE"
        elif work.is_duplicate and message.status not in {*_UNFINISHED, MessageStatus.PROCESSED}:
            # Failed before, and would not fail now (master data changed since): the stored
            # outcome stands until a person retries the message from the exception queue.
            error = Hl7DecodeError(
                message.status_reason or f"message is {message.status}",
                code=ErrorCode.APPLICATION_INTERNAL,
            )
            code = "AE"
        ack = build_ack(work.header, code, error, message.id.replace("-", ""), now)
        return Hl7Reply(ack, code, message.id, work.is_duplicate)

    # --- facilities ---------------------------------------------------------------------------

    def sending_facility_id(self, raw: bytes) -> str | None:
        """The id of the facility MSH-4 of ``raw`` names, None when unreadable or unknown.

        For edges that must authorize a sender for a facility before storing (the HTTP ingest
        of a facility-scoped client); reading the header never fails.
        """
        header = peek_header(raw)
        facility = self._facility(header.sending_facility) if header is not None else None
        return facility.id if facility is not None else None

    def _facility(self, code: str) -> Facility | None:
        """The facility whose code is ``code`` (MSH-4 as sent), reloading the list on a miss."""
        if not code:
            return None
        found = self._facilities.get(code)
        if found is not None:
            return found
        now = self._clock()
        stale = (
            self._loaded_at is None
            or (now - self._loaded_at).total_seconds() >= _RELOAD_AFTER_SECONDS
        )
        if stale:
            self._facilities = {f.code: f for f in self._all_facilities()}
            self._loaded_at = now
        return self._facilities.get(code)

    def _all_facilities(self, within: UnitOfWork | None = None) -> Iterable[Facility]:
        """Every facility, read in ``within`` when given, else in a unit of work of its own."""
        if within is not None:
            yield from _facilities_in(within)
            return
        with self._uow() as uow:
            yield from _facilities_in(uow)

    def _zone_of(self, facility: Facility | None) -> tzinfo:
        return facility_zone(facility, self._zone)

    def _facility_of_error(self, work: Hl7Work) -> str | None:
        header = work.header
        facility = self._facilities.get(header.sending_facility) if header is not None else None
        return facility.id if facility is not None else None


def _facilities_in(uow: UnitOfWork) -> Iterable[Facility]:
    """Every facility, a page at a time, read in ``uow``."""
    after: str | None = None
    while True:
        page = uow.facilities.list(after=after, limit=_FACILITY_PAGE)
        yield from page
        if len(page) < _FACILITY_PAGE:
            return
        after = page[-1].id


def _processed(
    message: InboundMessage, at: datetime, correlation_id: str | None, facility_id: str | None
) -> InboundMessage:
    """``message`` moved to ``processed``, through ``decoded`` when it is still ``received``.

    One copy, not one per step: the inbox stores only the final status (one ``UPDATE``), and
    from ``received`` or ``decoded`` the two steps change nothing but what this copy sets (no
    reason, the attempts kept: :meth:`InboundMessage.transition`). From any other status the
    transition refuses, as it did."""
    if message.status not in _UNFINISHED:
        return message.transition(MessageStatus.PROCESSED, reason=None, at=at)  # raises
    return replace(
        message, status=MessageStatus.PROCESSED, status_reason=None, updated_at=at,
        correlation_id=message.correlation_id if correlation_id is None else correlation_id,
        facility_id=message.facility_id if facility_id is None else facility_id,
    )  # fmt: skip


def _not_applied(header: MessageHeader) -> Hl7DecodeError:
    return Hl7DecodeError(
        f"message type {header.message_type}^{header.trigger_event} is not applied by this "
        "interface (only DFT^P03 is)",
        segment="MSH",
        field_number=9,
        position=1,
        disposition=Disposition.REJECT,
        code=ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
    )


def _unknown_context_facility(decoded: EncounterContext) -> Hl7DecodeError:
    from_msh = decoded.header.sending_facility == decoded.facility_code
    return Hl7DecodeError(
        "sending facility is not the code of a known facility",
        segment="MSH" if from_msh else "PV1",
        occurrence=None if from_msh else 1,
        field_number=4 if from_msh else 3,
        component=None if from_msh else 4,
        position=1 if from_msh else None,
        disposition=Disposition.ERROR,
        code=ErrorCode.TABLE_VALUE_NOT_FOUND,
    )


def _unknown_facility(decoded: DecodedCharges) -> Hl7DecodeError:
    from_msh = decoded.header.sending_facility == decoded.facility_code
    code = decoded.facility_code
    shown = repr(code) if len(code) <= 20 and code.replace("-", "").isalnum() else "(not shown)"
    return Hl7DecodeError(
        f"sending facility {shown} is not the code of a known facility",
        segment="MSH" if from_msh else "PV1",
        occurrence=None if from_msh else 1,
        field_number=4 if from_msh else 3,
        component=None if from_msh else 4,
        position=1 if from_msh else None,
        disposition=Disposition.ERROR,
        code=ErrorCode.TABLE_VALUE_NOT_FOUND,
    )


__all__ = [
    "APPLIED_TYPE",
    "CHARGE_POSTED",
    "FORMAT",
    "Hl7Acceptance",
    "Hl7Ingest",
    "Hl7Reply",
    "Hl7Submission",
    "Hl7Work",
]
