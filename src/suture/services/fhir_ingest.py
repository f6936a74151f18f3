"""FHIR R4 ingest: the raw JSON stored, decoded by the codec, applied, and the answer to send.

The use case behind ``POST /fhir/R4/{type}`` and ``POST /fhir/R4`` (DESIGN.md §3), the FHIR
sibling of :mod:`suture.services.hl7_ingest`:

1. **Store.** The body is committed to the inbox first (format and interface ``fhir``, source
   system the API client's id, the facility the request is for). Nothing below runs before that.
2. **Decode** with :mod:`suture.formats.fhir`: the keyed-hash tokenizer (:mod:`.phi`), the UDI
   reader of :mod:`suture.formats.udi` bound to today, and the facility's zone and the hub's
   currency. A body the codec refuses is marked ``failed`` with the first issue's diagnostics
   (PHI-free by the codec's promise) and a ``malformed_message`` exception item opens on it.
3. **Apply** in one transaction (:mod:`.fhir_records`), the message marked ``processed`` in it.
   A resource naming an item, supplier or location the hub does not know is refused (422): its
   effects are rolled back, the message is ``failed`` and an exception item of the matching type
   (``missing_item_mapping``, ``unknown_supplier``...) opens, in a second transaction.
4. **Answer** (:class:`FhirReply`): 201 and a Location per created resource, or the codec's
   OperationOutcome with 400/422. Bundles: a ``batch`` applies entry by entry (each in a
   savepoint; the answer is a ``batch-response`` with one status per entry); a ``transaction``
   applies every entry or none (``transaction-response``, or one OperationOutcome naming every
   offending entry). Locations are ``{type}/{message id}`` and, in a Bundle,
   ``{type}/{message id}.{entry index}``: the stored message is what the hub keeps of a resource.

The same bytes again are a duplicate: a processed single resource is answered 200 with its first
Location; a failed one with its stored reason (422), or the codec's error again; a Bundle is
evaluated again without committing anything (entries 200 instead of 201). A message still
``received`` (its first request died before applying it) is applied now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility
from suture.domain.messages import InboundMessage, MessageStatus
from suture.formats.fhir import (
    Decoded,
    DecodedBundle,
    Decoding,
    FhirDecodeError,
    Issue,
    Settings,
    decode_bundle,
    decode_resource,
    operation_outcome,
)
from suture.formats.fhir.references import Tokenize
from suture.formats.udi import parse_udi
from suture.services.charge_events import facility_zone
from suture.services.clock import Clock
from suture.services.exceptions import open_exception
from suture.services.fhir_records import Context, FhirApplyError, apply_decoded, correlation_of
from suture.services.inbox import Inbox, mark_message
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

FORMAT = "fhir"
INTERFACE = "fhir"
CREATED, OK, UNPROCESSABLE = 201, 200, 422
_UNFINISHED = frozenset({MessageStatus.RECEIVED, MessageStatus.DECODED})


@dataclass(frozen=True, slots=True)
class EntryReply:
    """One Bundle entry's answer: ``Bundle.entry.response`` of a batch/transaction-response."""

    status: int
    location: str | None
    outcome: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FhirReply:
    """What the edge answers: ``status`` and ``outcome`` (an OperationOutcome), and for a Bundle
    answered entry by entry its ``bundle_type`` (``batch-response``...) and ``entries``."""

    message_id: str
    trace_id: str
    is_duplicate: bool
    status: int
    outcome: dict[str, Any]
    location: str | None = None
    bundle_type: str | None = None
    entries: tuple[EntryReply, ...] = field(default=())


def information(text: str) -> dict[str, Any]:
    """An OperationOutcome saying what a resource became (FHIR R4 http.html#create)."""
    return operation_outcome([Issue("informational", text, severity="information")])


class FhirIngest:
    """Store, decode, apply and answer FHIR R4 resources and Bundles (see the module docstring).

    One caller at a time per database writer, like :class:`~.hl7_ingest.Hl7Ingest`: the HTTP
    edge serializes calls with the application's ingest lock.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        inbox: Inbox,
        bus: MessageBus,
        tokenize: Tokenize,
        clock: Clock,
        *,
        currency: str = "USD",
    ) -> None:
        self._uow = uow_factory
        self._inbox = inbox
        self._bus = bus
        self._tokenize = tokenize
        self._clock = clock
        self._currency = currency

    def facility(self, facility_id: str) -> Facility | None:
        """The facility a request names, None when the hub has none of that id."""
        with self._uow() as uow:
            return uow.facilities.get(facility_id)

    def submit(
        self, raw: bytes, *, resource_type: str, facility: Facility, source_system: str
    ) -> FhirReply:
        """Store one resource posted to ``/fhir/R4/{resource_type}``, then decode and apply it."""
        message, duplicate = self._store(raw, facility, source_system)
        reply = partial(FhirReply, message.id, message.trace_id, duplicate)
        decoding = self._decoding(facility)
        if duplicate and message.status not in _UNFINISHED:
            return self._repeat(raw, message, decoding, resource_type, reply)
        try:
            decoded = decode_resource(raw, decoding, expected=resource_type)
        except FhirDecodeError as error:
            self._fail(message, facility, error.issues[0], ExceptionType.MALFORMED_MESSAGE)
            return reply(error.http_status, error.outcome)
        location = f"{resource_type}/{message.id}"
        try:
            with self._uow() as uow:
                text = apply_decoded(self._context(uow, message, facility), decoded, resource_type)
                correlation = correlation_of(decoded)
                self._finish(
                    uow,
                    message,
                    MessageStatus.PROCESSED,
                    None,
                    facility,
                    correlation_id=correlation,
                )
                uow.commit()
        except FhirApplyError as error:
            self._fail(message, facility, error.issue, error.exception_type)
            return reply(UNPROCESSABLE, operation_outcome([error.issue]))
        return reply(CREATED, information(text), location)

    def submit_bundle(self, raw: bytes, *, facility: Facility, source_system: str) -> FhirReply:
        """Store a ``batch`` or ``transaction`` Bundle posted to ``/fhir/R4``, then apply it."""
        message, duplicate = self._store(raw, facility, source_system)
        reply = partial(FhirReply, message.id, message.trace_id, duplicate)
        try:
            bundle = decode_bundle(raw, self._decoding(facility))
        except FhirDecodeError as error:
            if not duplicate or message.status in _UNFINISHED:
                self._fail(message, facility, error.issues[0], ExceptionType.MALFORMED_MESSAGE)
            return reply(error.http_status, error.outcome)
        if bundle.type == "transaction" and not bundle.ok:
            if not duplicate or message.status in _UNFINISHED:
                issue = bundle.issues[0]
                self._fail(message, facility, issue, ExceptionType.MALFORMED_MESSAGE)
            return reply(bundle.http_status, bundle.outcome)
        dry_run = duplicate and message.status not in _UNFINISHED
        return self._apply_bundle(bundle, message, facility, reply, dry_run=dry_run)

    # --- steps --------------------------------------------------------------------------------

    def _store(
        self, raw: bytes, facility: Facility, source_system: str
    ) -> tuple[InboundMessage, bool]:
        received = self._inbox.receive(
            raw,
            format=FORMAT,
            interface=INTERFACE,
            source_system=source_system,
            received_at=self._clock(),
            facility_id=facility.id,
        )
        return received.message, received.is_duplicate

    def _decoding(self, facility: Facility) -> Decoding:
        settings = Settings(
            facility_id=facility.id, zone=facility_zone(facility), currency=self._currency
        )
        read_udi = partial(parse_udi, today=self._clock().date())
        return Decoding(settings=settings, tokenize=self._tokenize, read_udi=read_udi)

    def _context(self, uow: UnitOfWork, message: InboundMessage, facility: Facility) -> Context:
        return Context(uow, self._bus, message, facility, facility_zone(facility), self._clock())

    def _repeat(
        self,
        raw: bytes,
        message: InboundMessage,
        decoding: Decoding,
        resource_type: str,
        reply: Callable[..., FhirReply],
    ) -> FhirReply:
        """The answer to bytes already stored and finished: their first outcome."""
        if message.status is MessageStatus.PROCESSED:
            text = "the same resource was received before; nothing was applied again"
            return reply(OK, information(text), f"{resource_type}/{message.id}")
        try:
            decode_resource(raw, decoding, expected=resource_type)
        except FhirDecodeError as error:
            return reply(error.http_status, error.outcome)
        reason = message.status_reason or f"the message is {message.status}"
        return reply(UNPROCESSABLE, operation_outcome([Issue("processing", reason)]))

    def _apply_bundle(
        self,
        bundle: DecodedBundle,
        message: InboundMessage,
        facility: Facility,
        reply: Callable[..., FhirReply],
        *,
        dry_run: bool,
    ) -> FhirReply:
        created = OK if dry_run else CREATED
        entries: list[EntryReply] = []
        failure: FhirApplyError | None = None
        applied = 0
        with self._uow() as uow:
            context = self._context(uow, message, facility)
            for entry in bundle.entries:
                if entry.decoded is None:
                    entries.append(EntryReply(entry.status, None, operation_outcome(entry.issues)))
                    continue
                path = f"Bundle.entry[{entry.index}].resource"
                try:
                    with uow.savepoint():
                        text = apply_decoded(context, entry.decoded, path)
                except FhirApplyError as error:
                    failure = failure or error
                    entries.append(
                        EntryReply(UNPROCESSABLE, None, operation_outcome([error.issue]))
                    )
                    if bundle.type == "transaction":
                        break
                    continue
                applied += 1
                location = _location(entry.decoded, message, entry.index)
                entries.append(EntryReply(created, location, information(text)))
            problem = _first_problem(bundle, failure)
            settled = applied > 0 or problem is None
            if bundle.type == "transaction":
                settled = failure is None
            if settled and not dry_run:
                correlation = next(
                    (correlation_of(e.decoded) for e in bundle.entries if e.decoded), None
                )
                self._finish(
                    uow,
                    message,
                    MessageStatus.PROCESSED,
                    None,
                    facility,
                    correlation_id=correlation,
                )
                if problem is not None:
                    self._open(uow, message, facility, *problem)
                uow.commit()
        if not settled and problem is not None and not dry_run:
            self._fail(message, facility, *problem)
        if failure is not None and bundle.type == "transaction":
            return reply(UNPROCESSABLE, operation_outcome([failure.issue]))
        kind = f"{bundle.type}-response"
        summary = information(f"{applied} of {len(bundle.entries)} entries applied")
        return reply(OK, summary, bundle_type=kind, entries=tuple(entries))

    def _finish(
        self,
        uow: UnitOfWork,
        message: InboundMessage,
        status: MessageStatus,
        reason: str | None,
        facility: Facility,
        *,
        correlation_id: str | None = None,
    ) -> None:
        """Move the message to ``status`` within ``uow`` (through ``decoded`` when processed),
        recording the business key it is traced by."""
        current = uow.inbox.get(message.id, lock=True)
        if status is MessageStatus.PROCESSED and (
            current is not None and current.status is MessageStatus.RECEIVED
        ):
            mark_message(uow, message.id, MessageStatus.DECODED, None, self._clock())
        mark_message(
            uow,
            message.id,
            status,
            reason,
            self._clock(),
            facility_id=facility.id,
            correlation_id=correlation_id,
        )

    def _fail(
        self, message: InboundMessage, facility: Facility, issue: Issue, kind: ExceptionType
    ) -> None:
        """Mark the message failed and open an exception item on it, in one transaction."""
        with self._uow() as uow:
            self._finish(uow, message, MessageStatus.FAILED, issue.diagnostics, facility)
            self._open(uow, message, facility, issue, kind)
            uow.commit()

    def _open(
        self,
        uow: UnitOfWork,
        message: InboundMessage,
        facility: Facility,
        issue: Issue,
        kind: ExceptionType,
    ) -> None:
        open_exception(
            uow,
            type=kind,
            facility_id=facility.id,
            reason=f"FHIR {issue.code}: {issue.diagnostics}",
            at=self._clock(),
            message_id=message.id,
            trace_id=message.trace_id,
        )


def _first_problem(
    bundle: DecodedBundle, failure: FhirApplyError | None
) -> tuple[Issue, ExceptionType] | None:
    """What an exception item on a Bundle says: the first entry that failed, if any."""
    if failure is not None:
        return failure.issue, failure.exception_type
    issues = bundle.issues
    return (issues[0], ExceptionType.MALFORMED_MESSAGE) if issues else None


def _location(decoded: Decoded, message: InboundMessage, index: int) -> str:
    return f"{decoded.resource_type}/{message.id}.{index}"


__all__ = ["FORMAT", "INTERFACE", "EntryReply", "FhirIngest", "FhirReply", "information"]
