"""HL7 v2 ingest: raw bytes stored, decoded, charges posted, and the original-mode ACK to send.

The use case behind every HL7 v2 edge (the MLLP listener, ``suture ingest FILE``), DESIGN.md §3:

1. **Store.** The raw bytes are committed to the inbox first (:meth:`Inbox.receive`, or one
   transaction for a group, :meth:`Hl7Ingest.receive_many`). Nothing below runs, and no ACK
   exists, before that commit. Bytes the interface sent before are a duplicate: not processed
   again, answered with the ACK of the stored outcome (a message still ``received``, whose
   first delivery died before it was processed, is processed now).
2. **Decode** with the pure codec (:func:`suture.formats.hl7v2.decode_message`), patient
   identifiers tokenized by the keyed hash the hub owns. Times without an offset are read in the
   sending facility's zone.
3. **Apply**, in one transaction: a DFT^P03's charges are stored, one ``charge.posted`` event per
   charge is published (idempotency key from the charge id, correlation id the encounter token,
   trace id the inbox message's, causation the message), and the message is marked
   ``decoded`` then ``processed``. A message that cannot be applied is marked ``failed`` with the
   error's PHI-free text and a ``malformed_message`` exception item opens on it, in that same
   transaction; its raw bytes stay in the inbox for a person to look at and retry.
4. **Acknowledge** (HL7 v2.5.1 §2.9.2, original mode): ``AA`` when applied; ``AE`` with an ERR
   naming segment, field and reason when the content is wrong (including a sending facility,
   MSH-4, that is not the code of a known facility); ``AR`` when the message cannot be accepted
   at all: no readable MSH, an unsupported type or version (the raw bytes kept, failed, with an
   exception item).

The other types the codec reads write the clinical context and master data instead of charges,
in the same transaction as their status (docs/hl7v2.md): ADT and BAR^P01/P05 the encounter
(tokens, patient class, admission and discharge), MFN^M04 the chargemaster's prices, MFN^M02 the
staff reference data.

An error of the storage or of the service itself (anything but an :class:`Hl7DecodeError`)
propagates, and no ACK is made: the sender re-sends, the inbox recognises the bytes, and the
stored message, still ``received``, is processed then.

PHI: nothing here logs. Status reasons and exception reasons are the codec's error texts, which
name positions and codes, never patient data.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from suture.domain.encounters import Encounter, StaffMember
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.reconciliation import ChargemasterPrice
from suture.domain.revenue import Charge, charge_line_id
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import idempotency_key
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
from suture.services.clock import Clock
from suture.services.exceptions import open_exception
from suture.services.inbox import Arrival, Inbox, mark_message
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

#: The inbox format of every message this service stores.
FORMAT = "hl7v2"
#: The message type (MSH-9.1, MSH-9.2) whose charges this service posts; the other types the
#: codec reads (ADT, BAR^P01/P05, MFN^M04, MFN^M02) write the clinical context and master data.
APPLIED_TYPE = ("DFT", "P03")
#: MFE-1 record-level events that delete or deactivate a master file record.
_DELETIONS = frozenset({"MDL", "MDC"})
CHARGE_POSTED = "charge.posted"
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
class _Work:
    """One stored message on its way through :meth:`Hl7Ingest._apply`."""

    message: InboundMessage
    raw: bytes
    is_duplicate: bool
    header: MessageHeader | None = None
    applied: _Applied | None = None
    reference: _Reference | None = None
    error: Hl7DecodeError | None = None
    reply: Hl7Reply | None = None


class Hl7Ingest:
    """Store, decode, apply and acknowledge HL7 v2 messages (see the module docstring).

    ``tokenize`` is the keyed hash of patient identifiers; ``zone`` reads times without an offset
    when the sending facility is unknown or names no zone. Safe to call from one thread at a
    time per database writer: the MLLP listener funnels every connection through one worker.
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
        self._zones: dict[str, tzinfo] = {}
        self._loaded_at: datetime | None = None

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
        (reply,) = self._process([_Work(received.message, raw, received.is_duplicate)])
        return reply

    def receive_many(self, submissions: Sequence[Hl7Submission]) -> list[Hl7Reply]:
        """Group commit: store every message in one transaction, apply them all in a second.

        The replies are in the order of ``submissions``. The same bytes twice in one group are
        stored once, applied once, and answered alike (the second as a duplicate).
        """
        if not submissions:
            return []
        received = self._inbox.receive_many(submissions, format=FORMAT, received_at=self._clock())
        works = [
            _Work(stored, submission.raw, is_duplicate)
            for submission, (stored, is_duplicate) in zip(submissions, received, strict=True)
        ]
        return self._process(works)

    # --- decode, apply, acknowledge -----------------------------------------------------------

    def _process(self, works: list[_Work]) -> list[Hl7Reply]:
        """Decode what needs it, apply it in one transaction, then build the ACKs."""
        first: dict[str, _Work] = {}
        pending: list[_Work] = []
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
        if pending:
            self._apply(pending)
        now = self._clock()
        replies: list[Hl7Reply] = []
        for work in works:
            source = first[work.message.id]
            if source.reply is None:
                source.reply = self._reply(source, now)
            reply = source.reply
            replies.append(reply._replace(is_duplicate=work.is_duplicate))
        return replies

    def _evaluate(self, work: _Work) -> None:
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

    def _reference(self, message: Message, header: MessageHeader, work: _Work) -> _Reference:
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

    def _decode(self, message: Message, work: _Work, zone: tzinfo) -> DecodedCharges:
        decoded = decode_message(
            message, tokenize=self._tokenize, zone=zone, source_system=work.message.source_system
        )
        if not isinstance(decoded, DecodedCharges):  # MSH-9 was checked: DFT^P03 decodes so
            raise TypeError(f"DFT^P03 decoded to {type(decoded).__name__}")
        return decoded

    def _apply(self, works: list[_Work]) -> None:
        """One transaction: each message marked, charges stored, events published, items
        opened; committed before any ACK is built."""
        at = self._clock()
        charges: dict[str, Charge] = {}  # by id: a charge re-sent in the group is written once
        envelopes: list[Envelope] = []
        statuses: list[InboundMessage] = []
        with self._uow() as uow:
            for work in works:
                message = work.message
                if work.applied is not None:
                    applied = work.applied
                    decoded = applied.decoded
                    facility_id = applied.facility.id
                    self._mark(
                        uow,
                        statuses,
                        work,
                        MessageStatus.PROCESSED,
                        reason=None,
                        at=at,
                        correlation_id=decoded.encounter_token,
                        facility_id=facility_id,
                    )
                    for line in decoded.lines:
                        line.charge.facility_id = facility_id
                        if line.transaction_id:  # the billing system's line id: the business key
                            line.charge.id = charge_line_id(
                                facility_id, line.charge.encounter_token, line.transaction_id,
                                line.charge.transaction_type,
                            )  # fmt: skip
                        charges[line.charge.id] = line.charge
                        envelopes.append(self._posted(line.charge, decoded, message, applied))
                elif work.reference is not None:
                    reference = work.reference
                    correlation, about = self._apply_reference(uow, reference, message, at)
                    self._mark(
                        uow, statuses, work, MessageStatus.PROCESSED, reason=None, at=at,
                        correlation_id=correlation, facility_id=about,
                    )  # fmt: skip
                elif work.error is not None:
                    error = work.error
                    facility = self._facility_of_error(work)
                    reason = str(error)
                    self._mark(
                        uow,
                        statuses,
                        work,
                        MessageStatus.FAILED,
                        reason=reason,
                        at=at,
                        facility_id=facility,
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
            if charges:
                uow.charges.add_many(charges.values())
                self._bus.publish_many(uow, envelopes)
            uow.commit()

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

    @staticmethod
    def _mark(
        uow: UnitOfWork,
        statuses: list[InboundMessage],
        work: _Work,
        status: MessageStatus,
        *,
        reason: str | None,
        at: datetime,
        correlation_id: str | None = None,
        facility_id: str | None = None,
    ) -> None:
        """Move the message to ``status`` (through ``decoded`` when it is applied).

        A message stored by this very call is known to be ``received`` and seen by no one else
        yet (nothing else knows its id), so its new status joins ``statuses``, written for the
        whole group in one statement; a
        duplicate found unfinished goes through :func:`mark_message`, which locks and re-reads
        it, as another process may be finishing it too.
        """
        message = work.message
        steps = [MessageStatus.DECODED] if status is MessageStatus.PROCESSED else []
        if work.is_duplicate:
            if message.status is not MessageStatus.RECEIVED:
                steps = []
            for step in steps:
                mark_message(uow, message.id, step, None, at)
            mark_message(
                uow,
                message.id,
                status,
                reason,
                at,
                correlation_id=correlation_id,
                facility_id=facility_id,
            )
            return
        for step in steps:
            message = message.transition(step, reason=None, at=at)
        message = message.transition(
            status, reason=reason, at=at, correlation_id=correlation_id, facility_id=facility_id
        )
        statuses.append(message)

    def _posted(
        self, charge: Charge, decoded: DecodedCharges, message: InboundMessage, applied: _Applied
    ) -> Envelope:
        zone = self._zone_of(applied.facility)
        header = decoded.header
        payload: dict[str, Any] = {
            "charge_id": charge.id,
            "facility_id": charge.facility_id,
            "encounter_token": charge.encounter_token,
            "cdm_code": charge.cdm_code,
            "hcpcs": charge.hcpcs,
            "transaction_type": charge.transaction_type.value,
            "quantity": format(charge.quantity, "f"),
            "amount": format(charge.amount, "f"),
            "service_date": charge.service_at.astimezone(zone).date().isoformat(),
            "department_id": charge.department_id,
        }
        return self._bus.envelope(
            CHARGE_POSTED,
            payload,
            idempotency_key=idempotency_key(CHARGE_POSTED, charge.id),
            correlation_id=charge.encounter_token,
            trace_id=message.trace_id,
            causation_id=uuid.UUID(message.id),
            occurred_at=header.message_time or message.received_at,
            source_system=message.source_system,
            source_facility=charge.facility_id,
        )

    def _reply(self, work: _Work, now: datetime) -> Hl7Reply:
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

    def _all_facilities(self) -> Iterable[Facility]:
        after: str | None = None
        with self._uow() as uow:
            while True:
                page = uow.facilities.list(after=after, limit=_FACILITY_PAGE)
                yield from page
                if len(page) < _FACILITY_PAGE:
                    return
                after = page[-1].id

    def _zone_of(self, facility: Facility | None) -> tzinfo:
        if facility is None or not facility.timezone:
            return self._zone
        zone = self._zones.get(facility.timezone)
        if zone is None:
            try:
                zone = ZoneInfo(facility.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                zone = self._zone
            self._zones[facility.timezone] = zone
        return zone

    def _facility_of_error(self, work: _Work) -> str | None:
        header = work.header
        facility = self._facilities.get(header.sending_facility) if header is not None else None
        return facility.id if facility is not None else None


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


__all__ = ["APPLIED_TYPE", "CHARGE_POSTED", "FORMAT", "Hl7Ingest", "Hl7Reply", "Hl7Submission"]
