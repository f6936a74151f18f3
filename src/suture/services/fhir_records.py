"""What a decoded FHIR resource does to the hub's stores, inside the caller's transaction.

:class:`~suture.services.fhir_ingest.FhirIngest` decodes with the pure codec
(:mod:`suture.formats.fhir`), then calls :func:`apply_decoded` once per resource, in one unit of
work. Per record (docs/fhir.md, "HTTP"):

- a ChargeItem's charge is stored and one ``charge.posted`` event published, as for HL7 DFT^P03
  (:mod:`suture.services.hl7_ingest`); a ChargeItem whose status bills nothing stores nothing;
- a supplier Invoice is stored with its supplier resolved (id, GLN, ERP vendor id, then the
  supplier crosswalk); a patient Invoice is recorded as received: the hub relays patient billing
  (the revenue cycle owns it, DESIGN.md §1) and has no canonical record for it;
- a SupplyRequest is stored as a requisition with its item resolved and, when active, raised
  for approval (``purchasing.requisition.raised``, reason ``department``);
- a Device identifies an item of the item master by its UDI device identifier;
- SupplyDelivery and Procedure lines are stored as usage and published as
  ``supply.usage.recorded`` (the version main's registry holds as latest, v2 with ``uom``).

Records are keyed by the codec's deterministic ids, so a resource sent again (other bytes, same
identifier) finds its record and adds nothing; events are deduplicated by idempotency key.

A resource that is valid FHIR but names something the hub does not know is refused with
:class:`FhirApplyError`, carrying the OperationOutcome issue (a FHIRPath, never a value) and the
exception type a person works it under::

    SutureError
    └── FhirApplyError    issue (422), exception_type (missing item mapping, unknown supplier...)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.inventory import UsageRecord
from suture.domain.masterdata import Facility, Item
from suture.domain.messages import InboundMessage
from suture.domain.purchasing import Requisition, RequisitionStatus
from suture.domain.revenue import Charge, charge_line_id
from suture.eventlog.events import RequisitionRaised
from suture.eventlog.ids import idempotency_key
from suture.formats.fhir import (
    Decoded,
    DecodedChargeItem,
    DecodedInvoice,
    DecodedUsage,
    DeviceIdentification,
    Issue,
    UsageLine,
)
from suture.services import exceptions as exception_queue
from suture.services.charge_events import CHARGE_POSTED, posted_key, posted_payload
from suture.services.messagebus import MessageBus
from suture.services.unit_of_work import UnitOfWork
from suture.services.usage_corrections import flag_correction

USAGE_RECORDED = "supply.usage.recorded"
REQUISITION_RAISED = "purchasing.requisition.raised"
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
_GTIN = re.compile(r"^[0-9]{8,14}$")
_PAGE = 500


class FhirApplyError(SutureError):
    """A valid resource the hub cannot apply: an unknown item, supplier or location."""

    def __init__(self, issue: Issue, exception_type: ExceptionType) -> None:
        super().__init__(issue.expression, issue.diagnostics)
        self.issue = issue
        self.exception_type = exception_type


@dataclass(frozen=True, slots=True)
class Context:
    """Where the resources come from: the stored message and the facility they belong to."""

    uow: UnitOfWork
    bus: MessageBus
    message: InboundMessage
    facility: Facility
    zone: tzinfo
    at: datetime


def apply_decoded(ctx: Context, decoded: Decoded, path: str) -> str:
    """Apply one resource (``path``: its FHIRPath root); what it became, in PHI-free words."""
    record = decoded.record
    if isinstance(record, DecodedChargeItem):
        return _charge(ctx, record)
    if isinstance(record, DecodedInvoice):
        return _invoice(ctx, record, path)
    if isinstance(record, Requisition):
        return _requisition(ctx, record, path)
    if isinstance(record, DeviceIdentification):
        item = _device_item(ctx, record, path)
        return f"the Device identifies item {item.id}"
    return _usage(ctx, record, path)


def correlation_of(decoded: Decoded) -> str | None:
    """The business key a message is traced by (DESIGN.md §3, guarantee 6): the encounter's
    token, the invoice or requisition number, the UDI; never a patient identifier."""
    record = decoded.record
    key: str | None = None
    if isinstance(record, DecodedChargeItem):
        key = record.charge.encounter_token if record.charge else None
    elif isinstance(record, DecodedInvoice):
        supplier, patient = record.supplier, record.patient
        key = supplier.number if supplier else (patient.account_token if patient else None)
    elif isinstance(record, Requisition):
        key = record.number
    elif isinstance(record, DeviceIdentification):
        key = record.udi or record.device_identifier
    elif record.lines:
        line = record.lines[0]
        key = line.encounter_token or (line.device.udi if line.device else None)
    return key


# --- charges ----------------------------------------------------------------------------------


def _charge(ctx: Context, decoded: DecodedChargeItem) -> str:
    charge = decoded.charge
    if charge is None:
        return f"a {decoded.status} ChargeItem bills nothing: recorded as received"
    charge.facility_id = ctx.facility.id
    if decoded.line_id is not None:  # the billing system's line id: the business key
        charge.id = charge_line_id(
            charge.facility_id, charge.encounter_token, decoded.line_id, charge.transaction_type
        )
    if ctx.uow.charges.get(charge.id) is None:
        ctx.uow.charges.add(charge)
    ctx.bus.publish(ctx.uow, _posted(ctx, charge))
    return f"recorded as charge {charge.id}"


def _posted(ctx: Context, charge: Charge) -> Any:
    return ctx.bus.envelope(
        CHARGE_POSTED,
        posted_payload(charge, ctx.zone),
        idempotency_key=posted_key(charge.id),
        correlation_id=charge.encounter_token,
        trace_id=ctx.message.trace_id,
        causation_id=uuid.UUID(ctx.message.id),
        occurred_at=charge.service_at,
        source_system=ctx.message.source_system,
        source_facility=charge.facility_id,
    )


# --- invoices and requisitions ----------------------------------------------------------------


def _invoice(ctx: Context, decoded: DecodedInvoice, path: str) -> str:
    invoice = decoded.supplier
    if invoice is None:
        return "a patient Invoice: recorded as received (the hub relays patient billing)"
    supplier_id = _supplier_id(ctx, invoice.supplier_id)
    if supplier_id is None:
        issue = Issue(
            "not-found",
            f"{path}.issuer names no supplier known to the hub (id, GLN, ERP vendor id or "
            "supplier crosswalk)",
            f"{path}.issuer",
        )
        raise FhirApplyError(issue, ExceptionType.UNKNOWN_SUPPLIER)
    invoice.supplier_id = supplier_id
    invoice.facility_id = ctx.facility.id
    if ctx.uow.invoices.get(invoice.id) is None:
        ctx.uow.invoices.add(invoice)
    return f"recorded as supplier invoice {invoice.id}"


def _supplier_id(ctx: Context, code: str) -> str | None:
    suppliers = ctx.uow.suppliers
    found = suppliers.get(code) or suppliers.by_gln(code) or suppliers.by_erp_vendor_id(code)
    if found is not None:
        return found.id
    return _crosswalk(ctx, CrosswalkKind.SUPPLIER, code)


def _requisition(ctx: Context, requisition: Requisition, path: str) -> str:
    for index, line in enumerate(requisition.lines):
        item = _item(ctx, line.item_id)
        if item is None:
            raise _missing_item(path, "item", f"line {index + 1}")
        line.item_id = item.id
    requisition.facility_id = ctx.facility.id
    if ctx.uow.requisitions.get(requisition.id) is None:
        ctx.uow.requisitions.add(requisition)
        if requisition.status is RequisitionStatus.PENDING_APPROVAL:
            ctx.bus.publish(ctx.uow, _raised(ctx, requisition))
    return f"recorded as requisition {requisition.id} ({requisition.status})"


def _raised(ctx: Context, requisition: Requisition) -> Any:
    """An active SupplyRequest is a departmental requisition: it goes to approval like any
    other (``services/workflows/requisitions.py``)."""
    first = requisition.lines[0]
    payload = RequisitionRaised(
        requisition_id=requisition.id, facility_id=requisition.facility_id,
        location_id=requisition.location_id, department_id=requisition.department_id,
        item_id=first.item_id, quantity=first.quantity, uom=first.uom, reason="department",
        line_count=len(requisition.lines),
    )  # fmt: skip
    return ctx.bus.envelope(
        REQUISITION_RAISED,
        payload.model_dump(mode="json"),
        idempotency_key=idempotency_key(REQUISITION_RAISED, requisition.id),
        correlation_id=requisition.id,
        trace_id=ctx.message.trace_id,
        causation_id=uuid.UUID(ctx.message.id),
        occurred_at=requisition.requested_at,
        source_system=ctx.message.source_system,
        source_facility=requisition.facility_id,
    )


# --- items, devices and usage -----------------------------------------------------------------


def _item(ctx: Context, code: str) -> Item | None:
    """An item by its id, its GTIN (any packaging level), then the item crosswalk."""
    items = ctx.uow.items
    found = items.get(code)
    if found is None and _GTIN.match(code):
        found = items.by_gtin(code.zfill(14))
    if found is None:
        mapped = _crosswalk(ctx, CrosswalkKind.ITEM, code)
        found = items.get(mapped) if mapped is not None else None
    return found


def _crosswalk(ctx: Context, kind: CrosswalkKind, code: str) -> str | None:
    for facility in (ctx.facility.id, None):
        key = CrosswalkKey(ctx.message.source_system, facility, kind, code)
        entry = ctx.uow.crosswalks.current(key)
        if entry is not None:
            return entry.canonical_id
    return None


def _device_item(ctx: Context, device: DeviceIdentification, path: str) -> Item:
    item = _item(ctx, device.device_identifier)
    if item is None:
        field = "carrierHRF" if device.udi else "deviceIdentifier"
        raise _missing_item(path, f"udiCarrier[0].{field}", "the UDI's device identifier")
    return item


def _missing_item(path: str, element: str, what: str) -> FhirApplyError:
    issue = Issue(
        "not-found",
        f"{path}.{element}: {what} maps to no item of the item master (missing item mapping)",
        f"{path}.{element}",
    )
    return FhirApplyError(issue, ExceptionType.MISSING_ITEM_MAPPING)


def _usage(ctx: Context, decoded: DecodedUsage, path: str) -> str:
    if not decoded.lines:
        applied = [u for u in map(ctx.uow.usage.get, decoded.voids) if u is not None]
        if applied:
            return _voided(ctx, decoded, applied)
        return f"a {decoded.status} {decoded.resource_type} used nothing: recorded as received"
    for sent in decoded.lines:
        line, where = sent, sent.source or path
        if line.device is not None:
            item = _device_item(ctx, line.device, where)
        else:
            found = _item(ctx, line.item_code or "")
            if found is None:
                raise _missing_item(where, "code", "the item code")
            item = found
        location = _location_id(ctx, line.location)
        if location is None:
            element = f"{path}.{_LOCATION_ELEMENTS[decoded.resource_type]}"
            reason = f"{element}: the location maps to no location of the facility"
            raise FhirApplyError(
                Issue("not-found", reason, element), ExceptionType.MALFORMED_MESSAGE
            )
        if decoded.resource_type == "Procedure":  # a device or code used is one of the item
            line = replace(sent, uom=item.base_uom)
        if not _UOM.match(line.uom):
            issue = Issue("value", f"{where}: the unit of measure is not a UOM code", where)
            raise FhirApplyError(issue, ExceptionType.UOM_MISMATCH)
        _check_unit(item, line, where, decoded.resource_type)
        _record_usage(ctx, decoded.resource_type, line, item, location)
    return f"recorded as {len(decoded.lines)} usage line(s)"


def _voided(ctx: Context, decoded: DecodedUsage, applied: list[UsageRecord]) -> str:
    """A resource entered in error after its usage was applied: the hub has no reversal of
    usage (stock, journal, expected charge, bill-only PO), so a person must undo it; a
    ``usage_reversal`` item says what stands, rather than the resource passing unnoticed."""
    kind, ids = decoded.resource_type, ", ".join(u.id for u in applied)
    what = "; ".join(
        f"usage {u.id} (item {u.item_id}, {u.quantity.normalize():f} {u.uom} at {u.location_id})"
        for u in applied
    )
    exception_queue.open_exception(
        ctx.uow, type=ExceptionType.USAGE_REVERSAL, facility_id=ctx.facility.id,
        reason=(f"{kind} entered-in-error after its usage was recorded: {what}: its stock "
                "move, cost journal, expected charge and any bill-only PO stand; the hub does "
                "not reverse usage: reverse them by hand"),
        at=ctx.at, trace_id=ctx.message.trace_id, correlation_id=applied[0].id,
    )  # fmt: skip  # not the message's item: applying the message resolves those
    return (f"an entered-in-error {kind} of usage {ids}, recorded already: not reversed by "
            "the hub (usage_reversal item opened)")  # fmt: skip


def _check_unit(item: Item, line: UsageLine, where: str, resource_type: str) -> None:
    """Refuse a unit the item is not packed in: the usage workflow could not count it in
    eaches, and would dead-letter it after the sender was told it was recorded."""
    units = [level.uom for level in item.packaging.levels]
    if line.uom in units:
        return
    element = f"{where}.quantity" if resource_type == "SupplyDelivery" else where
    reason = (f"{element}: unit {line.uom} is not a unit of item {item.id}, which has "
              f"{', '.join(units)}")  # fmt: skip
    raise FhirApplyError(Issue("value", reason, element), ExceptionType.UOM_MISMATCH)


#: The element a usage's location comes from (or, absent, where the sender would have put it).
_LOCATION_ELEMENTS = {"SupplyDelivery": "destination", "Procedure": "location"}


def _location_id(ctx: Context, code: str) -> str | None:
    """A location of the facility by its id, its code, then the location crosswalk."""
    found = ctx.uow.locations.get(code)
    if found is not None and found.facility_id == ctx.facility.id:
        return found.id
    after: str | None = None
    while True:
        page = ctx.uow.locations.list(facility_id=ctx.facility.id, after=after, limit=_PAGE)
        match = next((location.id for location in page if location.code == code), None)
        if match is not None or len(page) < _PAGE:
            return match or _crosswalk(ctx, CrosswalkKind.LOCATION, code)
        after = page[-1].id


def _record_usage(ctx: Context, kind: str, line: UsageLine, item: Item, location_id: str) -> None:
    usage = line.to_record(item_id=item.id, location_id=location_id)
    usage.facility_id = ctx.facility.id
    recorded = ctx.uow.usage.get(usage.id)
    if recorded is None:
        ctx.uow.usage.add(usage)
    else:
        flag_correction(ctx.uow, kind=kind, recorded=recorded, sent=usage, at=ctx.at,
                        trace_id=ctx.message.trace_id)  # fmt: skip
    location = ctx.uow.locations.get(location_id)
    payload: dict[str, Any] = {
        "usage_id": usage.id,
        "facility_id": usage.facility_id,
        "location_id": usage.location_id,
        "item_id": usage.item_id,
        "item_category": item.unspsc,
        "supplier_id": item.supplier_id,
        "quantity": format(usage.quantity, "f"),
        "uom": usage.uom,
        "used_at": usage.used_at.isoformat(),
        "encounter_token": usage.encounter_token,
        "department_id": location.department_id if location is not None else None,
        "lot": usage.lot,
        "serial": usage.serial,
        "consigned": item.is_consignment,
    }
    envelope = ctx.bus.envelope(
        USAGE_RECORDED,
        payload,
        idempotency_key=idempotency_key(USAGE_RECORDED, usage.id),
        correlation_id=usage.encounter_token or usage.udi or usage.id,
        trace_id=ctx.message.trace_id,
        causation_id=uuid.UUID(ctx.message.id),
        occurred_at=usage.used_at,
        source_system=ctx.message.source_system,
        source_facility=usage.facility_id,
    )
    ctx.bus.publish(ctx.uow, envelope)
