"""CSV feeds through the inbox into the workflows: usage and charge batches (issue 4).

Legacy systems export flat files: an OR case log's usage, a billing system's charges. A file
reaches the hub by the drop folder (``suture serve --watch``), the raw ingest API
(``text/csv``) or ``suture ingest --csv``; :meth:`CsvIngest.receive` stores it through the inbox
and appends ``message.received`` in the same transaction (DESIGN.md §3: stored before anything
else happens, and the work to decode it cannot be lost). The ``decode`` handler
(:meth:`CsvIngest.decode`, the routing policy's destination for ``message.received``) then reads
the file with the profile of its **feed** (:class:`CsvFeed`, configured per inbox interface in
``SUTURE_CSV_FEEDS``) and applies every good row in one transaction with the bus's tracking row:

- **usage** rows become usage records and ``supply.usage.recorded`` events, as FHIR usage does:
  the facility by id or code, the location by id, code or the location crosswalk, the item by id,
  GTIN (any packaging level), the GTIN of a GS1 UDI, or the source system's item number through
  the item crosswalk. An item that none of these resolves is still published, under the
  source's item number: the usage workflow parks it on that crosswalk key (``missing item
  mapping``) and re-drives it when the mapping arrives. The row's department (the encounter's,
  by id, code or the department crosswalk), else the location's, is where the cost lands;
  a department the facility does not have refuses the row (not costed to the location's);
- **charge** rows become charges and ``charge.posted`` events; a row with the billing system's
  line id is keyed by it (``domain/revenue.py``), so the same line by another channel is one
  charge.

A row the profile refuses, or whose facility, location or department is unknown, is not
applied; the file's message ends ``processed`` with the count in its status reason and one
``malformed_message`` item lists the refused rows (line, column and reason, never a cell's
content: PHI, DESIGN.md §6). A file that cannot be read at all (no feed for the interface, a
bad header, bytes that are not the profile's encoding) ends ``failed`` with that item. Nothing
is lost: the raw bytes stay in the inbox, and ``suture exceptions retry`` or ``suture replay``
reads them again.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility, Item
from suture.domain.messages import InboundMessage, MessageStatus
from suture.domain.revenue import charge_line_id
from suture.eventlog.envelope import Envelope
from suture.eventlog.ids import idempotency_key
from suture.formats.csv import RowError
from suture.formats.csv.charges import ChargeLine, decode_charge_rows
from suture.formats.csv.errors import CsvFileError
from suture.formats.csv.fields import ImportKind
from suture.formats.csv.profile import ColumnProfile, default_profile, load_profile
from suture.formats.csv.reader import read_rows
from suture.formats.csv.usage import UsageLine, decode_usage_rows
from suture.formats.udi import UdiDecodeError, parse_udi
from suture.services.charge_events import CHARGE_POSTED, facility_zone, posted_payload
from suture.services.clock import Clock
from suture.services.exceptions import open_exception
from suture.services.handlers import HandlerContext
from suture.services.inbox import Inbox, Received, mark_message, unprocessed_of
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.usage_corrections import flag_correction

FORMAT = "csv"
MESSAGE_RECEIVED = "message.received"
USAGE_RECORDED = "supply.usage.recorded"
#: Refused rows an exception item lists; the count says how many more there were.
LISTED_ROWS = 20
_KINDS = {"usage": ImportKind.USAGE, "charges": ImportKind.CHARGES}
_PAGE = 500
#: What the lookup answers for a department a row names and the facility does not have (no
#: department id is empty).
_UNKNOWN = ""

Tokenize = Callable[[str], str]


class CsvFeedError(SutureError):
    """The feed configuration is wrong: ``field`` names the file and entry."""


@dataclass(frozen=True, slots=True)
class CsvFeed:
    """Files on inbox interface ``interface`` are ``kind`` rows read with ``profile``."""

    interface: str
    kind: ImportKind
    profile: ColumnProfile


def load_feeds(text: str, source: str, *, base: Path | None = None) -> dict[str, CsvFeed]:
    """Feeds from YAML: a list of ``{interface, kind: usage|charges, profile}``; ``profile`` is
    a profile file (relative to ``base``) or omitted for the built-in profile of the kind."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CsvFeedError(source, f"not YAML: {error}") from None
    if not isinstance(data, list):
        raise CsvFeedError(source, "must be a list of feeds (interface, kind, profile)")
    feeds: dict[str, CsvFeed] = {}
    for index, entry in enumerate(data, start=1):
        where = f"{source}: feed {index}"
        if not isinstance(entry, dict):
            raise CsvFeedError(where, "must be a mapping with interface, kind and profile")
        unknown = sorted(set(map(str, entry)) - {"interface", "kind", "profile"})
        if unknown:
            raise CsvFeedError(f"{where}: {unknown[0]}", "unknown key; interface, kind, profile")
        interface, kind = entry.get("interface"), entry.get("kind")
        if not isinstance(interface, str) or not interface.strip():
            raise CsvFeedError(f"{where}: interface", "the inbox interface the files arrive on")
        if kind not in _KINDS:
            raise CsvFeedError(f"{where}: kind", f"must be usage or charges, got {kind!r}")
        if interface in feeds:
            raise CsvFeedError(f"{where}: interface", f"{interface!r} has a feed already")
        feeds[interface] = CsvFeed(interface, _KINDS[kind], _profile(entry, where, base))
    return feeds


def _profile(entry: Mapping[str, Any], where: str, base: Path | None) -> ColumnProfile:
    kind = _KINDS[entry["kind"]]
    name = entry.get("profile")
    if name is None:
        return default_profile(kind)
    if not isinstance(name, str):
        raise CsvFeedError(f"{where}: profile", "must be a profile file name")
    path = (base / name) if base is not None else Path(name)
    try:
        profile = load_profile(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise CsvFeedError(f"{where}: profile", f"cannot read {path}: {error.strerror}") from None
    if profile.kind is not kind:
        raise CsvFeedError(f"{where}: profile", f"{path} is a {profile.kind} profile, not {kind}")
    return profile


@dataclass(slots=True)
class _Outcome:
    applied: int = 0
    parked: int = 0
    refused: list[RowError] | None = None

    def refuse(self, error: RowError) -> None:
        if self.refused is None:
            self.refused = []
        self.refused.append(error)


class CsvIngest:
    """The edge side: store a file and append ``message.received`` together (module doc)."""

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], inbox: Inbox, bus: MessageBus, clock: Clock
    ) -> None:
        self._uow = uow_factory
        self._inbox = inbox
        self._bus = bus
        self._clock = clock

    def receive(
        self, raw: bytes, *, interface: str, source_system: str, facility_id: str | None = None
    ) -> Received:
        """Store the file and append ``message.received``, committed together (module doc)."""
        with self._uow() as uow:
            received = self._inbox.store(
                uow, raw, format=FORMAT, interface=interface, source_system=source_system,
                received_at=self._clock(), facility_id=facility_id,
            )  # fmt: skip
            if not received.is_duplicate:
                self._bus.publish(uow, self._received(received.message))
            uow.commit()
        return received

    def _received(self, message: InboundMessage) -> Envelope:
        return self._bus.envelope(
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
            idempotency_key=idempotency_key(MESSAGE_RECEIVED, message.id),
            correlation_id=message.id,
            trace_id=message.trace_id,
            occurred_at=message.received_at,
            source_system=message.source_system,
            source_facility=message.facility_id,
        )


class CsvDecoder:
    """The ``decode`` handler: a stored file's rows applied in the handler's transaction."""

    def __init__(self, tokenize: Tokenize, feeds: Mapping[str, CsvFeed]) -> None:
        self._tokenize = tokenize
        self._feeds = dict(feeds)

    def feed_for(self, interface: str) -> CsvFeed | None:
        return self._feeds.get(interface)

    # --- the ``decode`` handler --------------------------------------------------------------

    def decode(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """Apply a stored CSV file's rows (module doc); other formats are their edges' work."""
        message = unprocessed_of(envelope.payload, uow, FORMAT)
        if message is None:
            return
        at = context.now
        feed = self._feeds.get(message.interface)
        if feed is None:
            reason = f"no CSV feed is configured for interface {message.interface!r}"
            self._fail(uow, message, reason, at)
            return
        try:
            rows = read_rows(_text(message.raw or b"", feed.profile), feed.profile)
            outcome = (
                self._usage(uow, context, message, feed.profile, rows)
                if feed.kind is ImportKind.USAGE
                else self._charges(uow, context, message, feed.profile, rows)
            )
        except CsvFileError as error:
            self._fail(uow, message, f"{feed.kind} file unreadable: {error}", at)
            return
        summary = f"{outcome.applied} rows applied"
        if outcome.parked:
            summary += f", {outcome.parked} parked on a missing item mapping"
        if outcome.refused:
            summary += f", {len(outcome.refused)} refused"
        mark_message(uow, message.id, MessageStatus.DECODED, None, at)
        mark_message(uow, message.id, MessageStatus.PROCESSED, summary, at)
        if outcome.refused:
            self._refused(uow, message, feed, outcome.refused, at)

    def _fail(self, uow: UnitOfWork, message: InboundMessage, reason: str, at: datetime) -> None:
        mark_message(uow, message.id, MessageStatus.FAILED, reason, at)
        open_exception(
            uow, type=ExceptionType.MALFORMED_MESSAGE, facility_id=message.facility_id,
            reason=f"CSV: {reason}", at=at, message_id=message.id, trace_id=message.trace_id,
        )  # fmt: skip

    def _refused(
        self,
        uow: UnitOfWork,
        message: InboundMessage,
        feed: CsvFeed,
        refused: Sequence[RowError],
        at: datetime,
    ) -> None:
        listed = "; ".join(  # every problem of a row, as the codec found them together
            f"line {e.line}" + (f" {e.column}" if e.column else "") + f": {e.reason}"
            for row in refused[:LISTED_ROWS]
            for e in row.errors
        )
        more = f" (and {len(refused) - LISTED_ROWS} more)" if len(refused) > LISTED_ROWS else ""
        open_exception(
            uow, type=ExceptionType.MALFORMED_MESSAGE, facility_id=message.facility_id,
            reason=f"CSV {feed.kind}: {len(refused)} rows refused: {listed}{more}", at=at,
            message_id=message.id, trace_id=message.trace_id,
        )  # fmt: skip

    # --- usage --------------------------------------------------------------------------------

    def _usage(
        self,
        uow: UnitOfWork,
        context: HandlerContext,
        message: InboundMessage,
        profile: ColumnProfile,
        rows: Iterable[Any],
    ) -> _Outcome:
        outcome = _Outcome()
        lookup = _Lookup(uow, message.source_system, context.now)
        for decoded in decode_usage_rows(rows, profile, tokenize=self._tokenize):
            if isinstance(decoded, RowError):
                outcome.refuse(decoded)
                continue
            line = decoded.value
            facility = lookup.facility(line.facility)
            if facility is None:
                outcome.refuse(
                    RowError(decoded.line, decoded.column("facility"), "unknown facility")
                )
                continue
            location = lookup.location(facility.id, line.location)
            if location is None:
                where = decoded.column("location")
                outcome.refuse(RowError(decoded.line, where, "unknown location of the facility"))
                continue
            department_id = lookup.department(facility.id, line.department, location)
            if department_id == _UNKNOWN:
                where = decoded.column("department")
                outcome.refuse(RowError(decoded.line, where, "unknown department of the facility"))
                continue
            item = lookup.item(facility.id, line)
            if item is None and not line.item.item_number:
                where = decoded.column("gtin" if line.item.gtin else "udi")
                outcome.refuse(RowError(decoded.line, where, "maps to no item of the item master"))
                continue
            units = [level.uom for level in item.packaging.levels] if item is not None else []
            if item is not None and line.uom not in units:  # the workflow could not count it
                reason = f"not a unit the item is packed in (it has {', '.join(units)})"
                outcome.refuse(RowError(decoded.line, decoded.column("uom"), reason))
                continue
            self._record_usage(uow, context, message, line, facility, location, department_id, item)
            outcome.applied += item is not None
            outcome.parked += item is None
        return outcome

    def _record_usage(  # noqa: PLR0917 - private, the row's resolved parts
        self,
        uow: UnitOfWork,
        context: HandlerContext,
        message: InboundMessage,
        line: UsageLine,
        facility: Facility,
        location_id: str,
        department_id: str | None,
        item: Item | None,
    ) -> None:
        item_id = item.id if item is not None else str(line.item.item_number)
        usage = line.to_record(
            facility_id=facility.id, location_id=location_id, item_id=item_id,
            department_id=department_id,
        )  # fmt: skip
        recorded = uow.usage.get(usage.id) if item is not None else None
        if item is not None and recorded is None:
            uow.usage.add(usage)
        elif recorded is not None:  # the line again (its line id): a correction is not applied
            flag_correction(uow, kind="CSV usage row", recorded=recorded, sent=usage,
                            at=context.now, trace_id=message.trace_id)  # fmt: skip
        payload: dict[str, Any] = {
            "usage_id": usage.id,
            "facility_id": usage.facility_id,
            "location_id": usage.location_id,
            "item_id": usage.item_id,
            "item_category": item.unspsc if item is not None else None,
            "supplier_id": item.supplier_id if item is not None else None,
            "quantity": format(usage.quantity, "f"),
            "uom": usage.uom,
            "used_at": usage.used_at.isoformat(),
            "encounter_token": usage.encounter_token,
            "department_id": department_id,
            "lot": usage.lot,
            "serial": usage.serial,
            "consigned": item.is_consignment if item is not None else False,
        }
        _publish(
            context, message, USAGE_RECORDED, payload, key=usage.id,
            correlation_id=usage.encounter_token or usage.udi or usage.id,
            occurred_at=usage.used_at, facility_id=usage.facility_id,
        )  # fmt: skip

    # --- charges ------------------------------------------------------------------------------

    def _charges(
        self,
        uow: UnitOfWork,
        context: HandlerContext,
        message: InboundMessage,
        profile: ColumnProfile,
        rows: Iterable[Any],
    ) -> _Outcome:
        outcome = _Outcome()
        lookup = _Lookup(uow, message.source_system, context.now)
        for decoded in decode_charge_rows(rows, profile, tokenize=self._tokenize):
            if isinstance(decoded, RowError):
                outcome.refuse(decoded)
                continue
            line: ChargeLine = decoded.value
            facility = lookup.facility(line.charge.facility_id)
            if facility is None:
                outcome.refuse(
                    RowError(decoded.line, decoded.column("facility"), "unknown facility")
                )
                continue
            charge = line.charge
            charge.facility_id = facility.id
            if line.line_id:
                charge.id = charge_line_id(
                    facility.id, charge.encounter_token, line.line_id, charge.transaction_type
                )
            if uow.charges.get(charge.id) is None:
                uow.charges.add(charge)
            _publish(
                context, message, CHARGE_POSTED,
                posted_payload(charge, facility_zone(facility, profile.time_zone)), key=charge.id,
                correlation_id=charge.encounter_token, occurred_at=charge.service_at,
                facility_id=charge.facility_id,
            )  # fmt: skip
            outcome.applied += 1
        return outcome


def _publish(
    context: HandlerContext,
    message: InboundMessage,
    event_type: str,
    payload: dict[str, Any],
    *,
    key: str,
    correlation_id: str,
    occurred_at: datetime,
    facility_id: str,
) -> None:
    """Append a row's event in the handler's transaction, caused by the file's message."""
    context.publish(
        context.bus.envelope(
            event_type, payload, idempotency_key=idempotency_key(event_type, key),
            correlation_id=correlation_id, trace_id=message.trace_id,
            causation_id=uuid.UUID(message.id), occurred_at=occurred_at,
            source_system=message.source_system, source_facility=facility_id,
        )
    )  # fmt: skip


def _text(raw: bytes, profile: ColumnProfile) -> io.StringIO:
    try:
        return io.StringIO(raw.decode(profile.encoding), newline="")
    except UnicodeDecodeError as error:  # named as the reader names it: the byte and its line
        reason = f"not valid {profile.encoding}: byte {raw[error.start]:#04x} ({error.reason})"
        line = raw.count(b"\n", 0, error.start) + 1
        raise CsvFileError("encoding", reason, line) from None


class _Lookup:
    """Master data a file's rows name, each looked up once per file."""

    def __init__(self, uow: UnitOfWork, source_system: str, now: datetime) -> None:
        self._uow = uow
        self._source = source_system
        self._today = now.date()
        self._facilities: dict[str, Facility | None] = {}
        self._locations: dict[tuple[str, str], str | None] = {}
        self._departments: dict[tuple[str, str], str] = {}
        self._items: dict[tuple[str, str, str, str, str], Item | None] = {}
        self._all: list[Facility] | None = None

    def facility(self, code: str) -> Facility | None:
        if code not in self._facilities:
            found = self._uow.facilities.get(code)
            if found is None:
                found = next((f for f in self._every_facility() if f.code == code), None)
            self._facilities[code] = found
        return self._facilities[code]

    def _every_facility(self) -> list[Facility]:
        if self._all is None:
            self._all = []
            after: str | None = None
            while True:
                page = self._uow.facilities.list(after=after, limit=_PAGE)
                self._all += page
                if len(page) < _PAGE:
                    break
                after = page[-1].id
        return self._all

    def location(self, facility_id: str, code: str) -> str | None:
        key = (facility_id, code)
        if key not in self._locations:
            self._locations[key] = self._find_location(facility_id, code)
        return self._locations[key]

    def _find_location(self, facility_id: str, code: str) -> str | None:
        found = self._uow.locations.get(code)
        if found is not None and found.facility_id == facility_id:
            return found.id
        after: str | None = None
        while True:
            page = self._uow.locations.list(facility_id=facility_id, after=after, limit=_PAGE)
            match = next((location.id for location in page if location.code == code), None)
            if match is not None or len(page) < _PAGE:
                return match or self._mapped(facility_id, CrosswalkKind.LOCATION, code)
            after = page[-1].id

    def department(self, facility_id: str, named: str | None, location_id: str) -> str | None:
        """The department a usage is costed to: the one the row names (the encounter's, by id,
        code or the department crosswalk), else the location's; ``_UNKNOWN`` when the row names
        one the facility does not have (costing it to the location's would be silently wrong)."""
        if not named:
            location = self._uow.locations.get(location_id)
            return location.department_id if location is not None else None
        key = (facility_id, named)
        if key not in self._departments:
            self._departments[key] = self._find_department(facility_id, named)
        return self._departments[key]

    def _find_department(self, facility_id: str, code: str) -> str:
        found = self._uow.departments.get(code)
        if found is not None and found.facility_id == facility_id:
            return found.id
        after: str | None = None
        while True:
            page = self._uow.departments.list(facility_id=facility_id, after=after, limit=_PAGE)
            match = next((department.id for department in page if department.code == code), None)
            if match is not None or len(page) < _PAGE:
                break
            after = page[-1].id
        return match or self._mapped(facility_id, CrosswalkKind.DEPARTMENT, code) or _UNKNOWN

    def item(self, facility_id: str, line: UsageLine) -> Item | None:
        ref = line.item
        key = (facility_id, ref.item_id or "", ref.gtin or "", ref.udi or "", ref.item_number or "")
        if key not in self._items:
            self._items[key] = self._find_item(facility_id, line)
        return self._items[key]

    def _find_item(self, facility_id: str, line: UsageLine) -> Item | None:
        ref, items = line.item, self._uow.items
        if ref.item_id and (found := items.get(ref.item_id)) is not None:
            return found
        if ref.gtin and (found := items.by_gtin(ref.gtin.zfill(14))) is not None:
            return found
        if ref.udi:
            try:
                udi = parse_udi(ref.udi, today=self._today)
            except UdiDecodeError:
                udi = None
            if udi is not None and udi.device_identifier.isdigit():
                found = items.by_gtin(udi.device_identifier.zfill(14))
                if found is not None:
                    return found
        if ref.item_number:
            mapped = self._mapped(facility_id, CrosswalkKind.ITEM, ref.item_number)
            if mapped is not None:
                return items.get(mapped)
        return None

    def _mapped(self, facility_id: str, kind: CrosswalkKind, code: str) -> str | None:
        for facility in (facility_id, None):
            entry = self._uow.crosswalks.current(CrosswalkKey(self._source, facility, kind, code))
            if entry is not None:
                return entry.canonical_id
        return None


__all__ = ["CsvDecoder", "CsvFeed", "CsvFeedError", "CsvIngest", "load_feeds"]
