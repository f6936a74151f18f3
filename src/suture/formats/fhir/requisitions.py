"""SupplyRequest → a requisition to route for approval (FHIR R4 supplyrequest.html; DESIGN.md §4).

- ``identifier[0].value`` → ``number`` (else the resource id); the id is deterministic;
- ``status``: ``draft`` → draft, ``active`` → pending approval, ``completed`` → ordered; a
  suspended, cancelled, entered-in-error or unknown request is not a requisition to route and is
  refused (422). FHIR R4/R4B SupplyRequest has no ``intent`` (it arrived in R5);
- ``item[x]``: the code of ``itemCodeableConcept``, or for ``itemReference`` the device
  identifier of the Device (contained, in the Bundle, or known) or the Medication/Substance's
  code → the line's ``item_id`` (the sender's code; the service maps it);
- ``quantity`` (required) → the one line's quantity and unit (``code``, else ``unit``, else EA);
- ``authoredOn`` (else ``occurrence[x]``) → ``requested_at``;
- ``deliverTo`` Location → ``location_id``; ``requester`` Organization → ``department_id``.
"""

from __future__ import annotations

from typing import Any

from suture.domain.authority import ObjectType
from suture.domain.purchasing import Requisition, RequisitionLine, RequisitionStatus
from suture.formats.fhir.devices import ReadUdi, identify
from suture.formats.fhir.errors import fail
from suture.formats.fhir.references import Resolver, code_of, require_types, type_of
from suture.formats.fhir.scope import Scope
from suture.formats.fhir.values import Settings, moment, positive, quantity, record_id

_STATUSES = {
    "draft": RequisitionStatus.DRAFT,
    "active": RequisitionStatus.PENDING_APPROVAL,
    "completed": RequisitionStatus.ORDERED,
}
_REQUESTERS = (
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Patient",
    "RelatedPerson",
    "Device",
)


def decode_supply_request(request: Any, scope: Scope) -> Requisition:
    path, key, settings, resolver, read_udi = (
        scope.path,
        scope.key,
        scope.settings,
        scope.resolver,
        scope.read_udi,
    )
    require_types(
        [
            (request.requester, _REQUESTERS, f"{path}.requester"),
            (request.deliverFrom, ("Organization", "Location"), f"{path}.deliverFrom"),
            (request.deliverTo, ("Organization", "Location", "Patient"), f"{path}.deliverTo"),
            (request.itemReference, ("Medication", "Substance", "Device"), f"{path}.itemReference"),
            *(
                (supplier, ("Organization", "HealthcareService"), f"{path}.supplier[{index}]")
                for index, supplier in enumerate(request.supplier or [])
            ),
        ],
        resolver,
    )
    status = _STATUSES.get(str(request.status))
    if status is None:
        reason = f"{path}.status: a {request.status} SupplyRequest is not a requisition to route"
        raise fail("business-rule", reason, f"{path}.status")
    if request.quantity is None:
        raise fail("required", f"{path}.quantity is required", f"{path}.quantity")
    amount, uom = quantity(request.quantity, f"{path}.quantity")
    number = next((str(i.value).strip() for i in request.identifier or [] if i.value), None)
    number = number or request.id
    if not number:
        reason = f"{path}.identifier is required: the requisition's number"
        raise fail("required", reason, f"{path}.identifier")
    return Requisition(
        id=record_id("REQ", settings.facility_id, "SupplyRequest", key),
        number=number,
        facility_id=settings.facility_id,
        department_id=_if_type(request.requester, "Organization", resolver),
        location_id=_if_type(request.deliverTo, "Location", resolver),
        requested_at=_requested_at(request, path, settings),
        lines=[
            RequisitionLine(
                line_number=1,
                item_id=_item(request, path, settings, resolver, read_udi),
                quantity=positive(amount, f"{path}.quantity.value"),
                uom=uom,
            )
        ],
        status=status,
        source_system=settings.source_for(ObjectType.REQUISITION),
    )


def _if_type(reference: Any, kind: str, resolver: Resolver) -> str | None:
    if reference is None or type_of(reference, resolver) != kind:
        return None
    return code_of(reference)


def _item(
    request: Any, path: str, settings: Settings, resolver: Resolver, read_udi: ReadUdi
) -> str:
    if request.itemCodeableConcept is not None:
        codes = [c.code for c in (request.itemCodeableConcept.coding or []) if c.code]
        if codes:
            return str(codes[0]).strip()
        where = f"{path}.itemCodeableConcept.coding"
        raise fail("required", f"{where} needs a code: the item requested", where)
    reference = request.itemReference
    if reference is None:
        raise fail("required", f"{path}.item[x] is required", f"{path}.item")
    resolved = resolver.resolve(reference)
    if resolved is not None and resolved.get_resource_type() == "Device":
        where = f"{path}.itemReference"
        device = identify(resolved, where, read_udi, settings.zone, resolver.identified)
        return device.device_identifier
    code = code_of(reference)
    if not code:
        where = f"{path}.itemReference"
        raise fail("required", f"{where} needs an identifier or a reference id", where)
    return code


def _requested_at(request: Any, path: str, settings: Settings) -> Any:
    if request.authoredOn is not None:
        return moment(request.authoredOn, f"{path}.authoredOn", settings.zone)
    if request.occurrenceDateTime is not None:
        return moment(request.occurrenceDateTime, f"{path}.occurrenceDateTime", settings.zone)
    period = request.occurrencePeriod
    if period is not None and (period.start or period.end):
        return moment(period.start or period.end, f"{path}.occurrencePeriod", settings.zone)
    reason = f"{path}.authoredOn is required: when the supplies were requested"
    raise fail("required", reason, f"{path}.authoredOn")
