"""What the supplier-document use cases share: provenance, errors, stable ids, and the lookups
of a supplier's PO, PO line, item and facility, and publishing an event (DESIGN.md §3, §4)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from suture.domain.crosswalk import CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility, Item, Supplier
from suture.domain.purchasing import PurchaseOrder
from suture.eventlog.ids import idempotency_key
from suture.formats.x12.elements import Party
from suture.services.exceptions import open_exception
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork

#: Product id qualifiers (X12 element 235) by what they identify.
GTIN_QUALIFIERS = ("UK", "EN", "UP")
SUPPLIER_PART_QUALIFIERS = ("VP", "VN", "MG")
BUYER_QUALIFIERS = ("IN", "BP")
#: N1 entities (X12 element 98) that name the buying facility.
FACILITY_ENTITIES = ("ST", "BT", "BY")
_NAMESPACE = uuid.UUID("6f1f7f5e-2b8c-4c55-9a49-3c0b1f2d7a10")


class DocumentError(SutureError):
    """A supplier document that cannot be applied: ``field`` is the segment element
    (``PO101``, ``BIG04``), ``reason`` says why, without patient data (there is none)."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a document came from: the stored message, its trace, the sender and the time."""

    message_id: str
    #: The natural key of the document: sender, ISA13, GS06 and ST02 for X12; the inbox
    #: message id for the supplier API. Record ids derive from it.
    document_key: str
    trace_id: str
    source_system: str
    supplier: Supplier
    at: datetime
    facility_id: str | None = None
    #: When the hub received the document (its inbox message), if earlier than ``at``: a
    #: document parked or retried is applied later than it arrived.
    received_at: datetime | None = None


def stable_id(*parts: str) -> str:
    """A record id derived from its natural keys, so a document applied again writes the same
    record instead of a second one."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def supplier_po(
    uow: UnitOfWork, number: str, origin: Provenance, element: str, document: str
) -> PurchaseOrder | None:
    """The PO of that number sent to this supplier; else a ``not_on_po`` item and None."""
    po = uow.purchase_orders.by_number(number)
    if po is not None and po.supplier_id == origin.supplier.id:
        return po
    why = "is not known" if po is None else "was not sent to this supplier"
    open_exception(
        uow,
        type=ExceptionType.NOT_ON_PO,
        facility_id=po.facility_id if po is not None else origin.facility_id,
        reason=f"{document} from supplier {origin.supplier.id}: PO {number} ({element}) {why}",
        at=origin.at,
        correlation_id=f"{number}/{origin.supplier.id}/{document}",
        trace_id=origin.trace_id,
    )
    return None


def po_line_for(
    po: PurchaseOrder | None, line_id: str | None, product_ids: dict[str, str]
) -> int | None:
    """The PO line an inbound line answers: its line id when the PO has that line, else the
    only line of the item the buyer's number names."""
    if po is None:
        return None
    if line_id and line_id.strip().isdigit():
        number = int(line_id)
        if any(line.line_number == number for line in po.lines):
            return number
    buyer = first_id(product_ids, BUYER_QUALIFIERS)
    matches = [line.line_number for line in po.lines if buyer and line.item_id == buyer]
    return matches[0] if len(matches) == 1 else None


def identify(
    uow: UnitOfWork, product_ids: dict[str, str], supplier_id: str, facility_id: str
) -> Item | None:
    """The item the product ids name: buyer's number, GTIN, then supplier part crosswalk."""
    for qualifier in BUYER_QUALIFIERS:
        value = product_ids.get(qualifier)
        if value and (item := uow.items.get(value)) is not None:
            return item
    for qualifier in GTIN_QUALIFIERS:
        value = product_ids.get(qualifier)
        gtin = value.zfill(14) if value and value.isdigit() and len(value) <= 14 else None
        if gtin is not None and (item := uow.items.by_gtin(gtin)) is not None:
            return item
    for qualifier in SUPPLIER_PART_QUALIFIERS:
        value = product_ids.get(qualifier)
        if not value:
            continue
        entries = uow.crosswalks.candidates(supplier_id, CrosswalkKind.ITEM, value, facility_id)
        if entries and (item := uow.items.get(entries[0].canonical_id)) is not None:
            return item
    return None


def party_facility(uow: UnitOfWork, parties: Sequence[Party]) -> str | None:
    for party in parties:
        if party.entity in FACILITY_ENTITIES and party.id:
            found = facility_by_code_or_id(uow, party.id)
            if found is not None:
                return found.id
    return None


def facility_by_code_or_id(uow: UnitOfWork, code: str) -> Facility | None:
    """The facility whose id, or else code, is ``code``."""
    found = uow.facilities.get(code)
    if found is not None:
        return found
    after: str | None = None
    while True:
        page = uow.facilities.list(after=after, limit=500)
        for facility in page:
            if facility.code == code:
                return facility
        if len(page) < 500:
            return None
        after = page[-1].id


def first_id(product_ids: dict[str, str], qualifiers: Sequence[str]) -> str | None:
    return next((product_ids[q] for q in qualifiers if product_ids.get(q)), None)


def publish(  # noqa: PLR0917  (an event's parts)
    uow: UnitOfWork,
    bus: MessageBus,
    event_type: str,
    payload: Mapping[str, object],
    correlation_id: str,
    origin: Provenance,
    facility_id: str,
    *natural_keys: str,
    occurred_at: datetime | None = None,
) -> None:
    envelope = bus.envelope(
        event_type,
        dict(payload),
        idempotency_key=idempotency_key(event_type, *natural_keys),
        correlation_id=correlation_id,
        trace_id=origin.trace_id,
        causation_id=uuid.UUID(origin.message_id) if is_uuid(origin.message_id) else None,
        occurred_at=occurred_at or origin.at,
        source_system=origin.source_system,
        source_facility=facility_id,
    )
    bus.publish(uow, envelope)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
