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

**Re-driven** (:class:`FhirRedrive`): a failed message retried from the exception queue (once
its cause is fixed: the location mapped, the item added) is published again as
``message.received``; the bus handler decodes its stored bytes and applies them in the
handler's transaction as above (a Bundle by its type; a ``transaction`` applies every entry or
none), marks it ``processed`` and resolves its exception item, or marks it ``failed`` and opens
the item again with the new reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility
from suture.domain.messages import InboundMessage, MessageStatus
from suture.eventlog.envelope import Envelope
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
from suture.services.exceptions import open_exception, resolve_for_subject
from suture.services.fhir_records import Context, FhirApplyError, apply_decoded, correlation_of
from suture.services.handlers import HandlerContext
from suture.services.inbox import Inbox, mark_message, unprocessed_of
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

FORMAT = "fhir"
INTERFACE = "fhir"
#: The bus handler (bootstrap subscribes it to ``message.received``) that applies a FHIR message
#: retried from the exception queue (:class:`FhirRedrive`).
FHIR_DECODE = "fhir_decode"
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
                at, correlation = self._clock(), correlation_of(decoded)
                _finish(uow, message, MessageStatus.PROCESSED, None, facility, at, correlation)
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
        return decoding_for(facility, self._tokenize, self._clock().date(), self._currency)

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
        with self._uow() as uow:
            run = _apply_entries(self._context(uow, message, facility), bundle, dry_run=dry_run)
            entries, failure, applied = run.entries, run.failure, run.applied
            problem = _first_problem(bundle, failure)
            settled = run.settled(bundle, problem)
            if settled and not dry_run:
                at, correlation = self._clock(), _bundle_correlation(bundle)
                _finish(uow, message, MessageStatus.PROCESSED, None, facility, at, correlation)
                if problem is not None:
                    _open(uow, message, facility.id, *problem, at)
                uow.commit()
        if not settled and problem is not None and not dry_run:
            self._fail(message, facility, *problem)
        if failure is not None and bundle.type == "transaction":
            return reply(UNPROCESSABLE, operation_outcome([failure.issue]))
        kind = f"{bundle.type}-response"
        summary = information(f"{applied} of {len(bundle.entries)} entries applied")
        return reply(OK, summary, bundle_type=kind, entries=tuple(entries))

    def _fail(
        self, message: InboundMessage, facility: Facility, issue: Issue, kind: ExceptionType
    ) -> None:
        """Mark the message failed and open an exception item on it, in one transaction."""
        with self._uow() as uow:
            _fail(uow, message, facility, issue, kind, self._clock())
            uow.commit()


class FhirRedrive:
    """The bus handler that applies a stored FHIR message published again as
    ``message.received`` (a retry from the exception queue or ``suture replay``): see the
    module docstring. Everything it writes joins the handler's transaction."""

    def __init__(self, tokenize: Tokenize, *, currency: str = "USD") -> None:
        self._tokenize = tokenize
        self._currency = currency

    def decode_received(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """``message.received`` of a FHIR message not processed yet: decode and apply it."""
        message = unprocessed_of(envelope.payload, uow, FORMAT)
        if message is None:
            return
        facility = uow.facilities.get(message.facility_id) if message.facility_id else None
        if facility is None:
            issue = Issue("not-found", f"facility {message.facility_id!r} is not known to the hub")
            _fail(uow, message, None, issue, ExceptionType.MALFORMED_MESSAGE, context.now)
            return
        decoding = decoding_for(facility, self._tokenize, context.now.date(), self._currency)
        apply = Context(uow, context.bus, message, facility, facility_zone(facility), context.now)
        raw = message.raw or b""
        try:
            if _resource_type(raw) == "Bundle":
                self._bundle(apply, decode_bundle(raw, decoding))
            else:
                self._resource(apply, decode_resource(raw, decoding))
        except FhirDecodeError as error:
            _fail(uow, message, facility, error.issues[0], ExceptionType.MALFORMED_MESSAGE,
                  context.now)  # fmt: skip

    @staticmethod
    def _resource(apply: Context, decoded: Decoded) -> None:
        uow, message, facility, at = apply.uow, apply.message, apply.facility, apply.at
        try:
            with uow.savepoint():
                apply_decoded(apply, decoded, decoded.resource_type)
        except FhirApplyError as error:
            _fail(uow, message, facility, error.issue, error.exception_type, at)
            return
        _finish(uow, message, MessageStatus.PROCESSED, None, facility, at, correlation_of(decoded))
        resolve_for_subject(uow, at=at, note="the resource was applied", message_id=message.id)

    @staticmethod
    def _bundle(apply: Context, bundle: DecodedBundle) -> None:
        uow, message, facility, at = apply.uow, apply.message, apply.facility, apply.at
        if bundle.type == "transaction" and not bundle.ok:
            _fail(uow, message, facility, bundle.issues[0], ExceptionType.MALFORMED_MESSAGE, at)
            return
        try:
            with uow.savepoint():  # a transaction's entries stand or fall together
                run = _apply_entries(apply, bundle, dry_run=False)
                problem = _first_problem(bundle, run.failure)
                if not run.settled(bundle, problem):
                    raise _UnsettledError(problem)
        except _UnsettledError as unsettled:
            if unsettled.problem is not None:
                _fail(uow, message, facility, *unsettled.problem, at)
            return
        correlation = _bundle_correlation(bundle)
        _finish(uow, message, MessageStatus.PROCESSED, None, facility, at, correlation)
        if problem is None:
            resolve_for_subject(uow, at=at, note="the Bundle was applied", message_id=message.id)
        else:  # a batch applied in part: the item stays open, saying which entry failed
            _open(uow, message, facility.id, *problem, at)


class _UnsettledError(SutureError):
    """A Bundle that may not be kept: the savepoint of its entries is rolled back."""

    def __init__(self, problem: tuple[Issue, ExceptionType] | None) -> None:
        super().__init__("Bundle", "not applied")
        self.problem = problem


@dataclass(slots=True)
class _EntriesRun:
    """What applying a Bundle's entries gave: a reply each, the first failure, how many held."""

    entries: list[EntryReply] = field(default_factory=list)
    failure: FhirApplyError | None = None
    applied: int = 0

    def settled(self, bundle: DecodedBundle, problem: tuple[Issue, ExceptionType] | None) -> bool:
        """Whether the message is processed: a transaction with no failure, a batch with an
        entry applied or nothing wrong."""
        if bundle.type == "transaction":
            return self.failure is None
        return self.applied > 0 or problem is None


def _apply_entries(context: Context, bundle: DecodedBundle, *, dry_run: bool) -> _EntriesRun:
    """Each decoded entry applied in a savepoint of ``context.uow``; a transaction stops at its
    first failure (the caller rolls the others back)."""
    created = OK if dry_run else CREATED
    run = _EntriesRun()
    for entry in bundle.entries:
        if entry.decoded is None:
            run.entries.append(EntryReply(entry.status, None, operation_outcome(entry.issues)))
            continue
        path = f"Bundle.entry[{entry.index}].resource"
        try:
            with context.uow.savepoint():
                text = apply_decoded(context, entry.decoded, path)
        except FhirApplyError as error:
            run.failure = run.failure or error
            run.entries.append(EntryReply(UNPROCESSABLE, None, operation_outcome([error.issue])))
            if bundle.type == "transaction":
                break
            continue
        run.applied += 1
        location = _location(entry.decoded, context.message, entry.index)
        run.entries.append(EntryReply(created, location, information(text)))
    return run


def decoding_for(facility: Facility, tokenize: Tokenize, today: date, currency: str) -> Decoding:
    """How the codec reads resources for ``facility``: its zone, the hub's currency, the keyed
    tokenizer, and the UDI reader bound to ``today``."""
    settings = Settings(facility_id=facility.id, zone=facility_zone(facility), currency=currency)
    return Decoding(settings=settings, tokenize=tokenize, read_udi=partial(parse_udi, today=today))


def _resource_type(raw: bytes) -> str | None:
    """The stored body's ``resourceType``, if it is a JSON object with one (the codec says
    what is wrong with a body that is not)."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    kind = data.get("resourceType") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def _bundle_correlation(bundle: DecodedBundle) -> str | None:
    return next((correlation_of(e.decoded) for e in bundle.entries if e.decoded), None)


def _finish(  # noqa: PLR0917 - the message's move, all of it
    uow: UnitOfWork,
    message: InboundMessage,
    status: MessageStatus,
    reason: str | None,
    facility: Facility,
    at: datetime,
    correlation_id: str | None = None,
) -> None:
    """Move the message to ``status`` within ``uow`` (through ``decoded`` when processed),
    recording the business key it is traced by."""
    current = uow.inbox.get(message.id, lock=True)
    if status is MessageStatus.PROCESSED and (
        current is not None and current.status is MessageStatus.RECEIVED
    ):
        mark_message(uow, message.id, MessageStatus.DECODED, None, at)
    mark_message(
        uow, message.id, status, reason, at, facility_id=facility.id, correlation_id=correlation_id
    )


def _fail(  # noqa: PLR0917 - the failure, all of it
    uow: UnitOfWork,
    message: InboundMessage,
    facility: Facility | None,
    issue: Issue,
    kind: ExceptionType,
    at: datetime,
) -> None:
    """Mark the message failed and open (or open again) its exception item, within ``uow``."""
    if facility is None:
        mark_message(uow, message.id, MessageStatus.FAILED, issue.diagnostics, at)
    else:
        _finish(uow, message, MessageStatus.FAILED, issue.diagnostics, facility, at)
    _open(uow, message, facility.id if facility else message.facility_id, issue, kind, at)


def _open(  # noqa: PLR0917 - the item, all of it
    uow: UnitOfWork,
    message: InboundMessage,
    facility_id: str | None,
    issue: Issue,
    kind: ExceptionType,
    at: datetime,
) -> None:
    open_exception(
        uow,
        type=kind,
        facility_id=facility_id,
        reason=f"FHIR {issue.code}: {issue.diagnostics}",
        at=at,
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


__all__ = [
    "FHIR_DECODE",
    "FORMAT",
    "INTERFACE",
    "EntryReply",
    "FhirIngest",
    "FhirRedrive",
    "FhirReply",
    "decoding_for",
    "information",
]
