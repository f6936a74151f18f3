"""SupplyDelivery and Procedure → usage lines: supplies and implants used, for inventory,
replenishment, cost and the expected charge (DESIGN.md §4).

- **SupplyDelivery** (``completed`` only: in-progress, abandoned and entered-in-error deliveries
  used nothing yet): one line for ``suppliedItem``, quantity from ``suppliedItem.quantity``
  (1 EA when absent), the item by ``itemCodeableConcept`` code, ``itemReference`` to a Device
  (by its UDI) or to a Medication or Substance (by its identifier or id),
  used at ``occurrence[x]``, at the ``destination`` Location.
- **Procedure** (``completed`` only): one line per ``focalDevice.manipulated`` and per
  ``usedReference`` to a Device (an implant, identified by the Device's UDI), and one per
  ``usedCode``; used at ``performed[x]``, at ``location``, for ``encounter``.

A Device reference is resolved in the resource's ``contained``, in the same Bundle (``urn:uuid``
fullUrls) or among Devices the caller already knows; an unresolvable one is refused (422
``not-found``): without the Device there is no UDI to match. Like the CSV usage feed, a line
names its location and item the way the sender knows them; the service resolves them, then
calls :meth:`UsageLine.to_record`. Patient and encounter references come back as tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from suture.domain.authority import ObjectType
from suture.domain.inventory import UsageRecord
from suture.formats.fhir.devices import DeviceIdentification, ReadUdi, identify
from suture.formats.fhir.errors import fail
from suture.formats.fhir.references import (
    Resolver,
    code_of,
    require_types,
    target,
    token_of,
    type_of,
)
from suture.formats.fhir.scope import Scope
from suture.formats.fhir.values import Settings, moment, positive, quantity, record_id

_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One item used, with references the service resolves (location code, item code or UDI)."""

    id: str
    facility_id: str
    location: str
    quantity: Decimal
    uom: str
    used_at: datetime
    item_code: str | None = None
    device: DeviceIdentification | None = None
    encounter_token: str | None = None
    patient_token: str | None = None
    source_system: str = "clinical"
    source: str = ""  # the FHIRPath of the element the line comes from

    @property
    def lot(self) -> str | None:
        return self.device.lot if self.device else None

    @property
    def serial(self) -> str | None:
        return self.device.serial if self.device else None

    @property
    def expiry(self) -> date | None:
        return self.device.expiry if self.device else None

    def to_record(self, *, item_id: str, location_id: str) -> UsageRecord:
        """The canonical usage, once the service has resolved the item and the location."""
        return UsageRecord(
            id=self.id,
            facility_id=self.facility_id,
            location_id=location_id,
            item_id=item_id,
            quantity=self.quantity,
            uom=self.uom,
            used_at=self.used_at,
            encounter_token=self.encounter_token,
            lot=self.lot,
            serial=self.serial,
            expiry=self.expiry,
            udi=self.device.udi if self.device else None,
            source_system=self.source_system,
        )


@dataclass(frozen=True, slots=True)
class DecodedUsage:
    """A SupplyDelivery or Procedure: its status and the lines it yields (none unless completed).

    ``voids``: for an ``entered-in-error`` resource, the ids its lines were given when it was
    sent ``completed`` (the same natural key), so the service can tell usage already applied.
    """

    resource_type: str
    status: str
    lines: tuple[UsageLine, ...]
    patient_token: str | None
    voids: tuple[str, ...] = ()


def _occurrence(resource: Any, path: str, stem: str, settings: Settings) -> datetime:
    when = getattr(resource, f"{stem}DateTime", None)
    if when is not None:
        return moment(when, f"{path}.{stem}DateTime", settings.zone)
    period = getattr(resource, f"{stem}Period", None)
    if period is not None and (period.start or period.end):
        return moment(period.start or period.end, f"{path}.{stem}Period", settings.zone)
    timing = getattr(resource, f"{stem}Timing", None)
    if timing is not None and timing.event:
        return moment(timing.event[0], f"{path}.{stem}Timing.event[0]", settings.zone)
    raise fail("required", f"{path}.{stem}[x] is required: when was it used", f"{path}.{stem}")


def _location(reference: Any, path: str, settings: Settings) -> str:
    found = code_of(reference) if reference is not None else None
    if found:
        return found
    if settings.default_location:
        return settings.default_location
    raise fail("required", f"{path} is required: where was it used", path)


def _device(
    reference: Any, path: str, resolver: Resolver, read_udi: ReadUdi, settings: Settings
) -> DeviceIdentification:
    resolved = resolver.resolve(reference)
    if resolved is not None:
        if resolved.get_resource_type() != "Device":
            raise fail("value", f"{path} must reference a Device", path)
        return identify(resolved, path, read_udi, settings.zone, resolver.identified)
    found = target(reference)
    known = resolver.known.get(f"Device/{found.id}") if found.id else None
    if isinstance(known, DeviceIdentification):
        return known
    reason = f"{path}: the Device is neither contained, in the Bundle, nor known to the hub"
    raise fail("not-found", reason, path)


def decode_supply_delivery(delivery: Any, scope: Scope) -> DecodedUsage:
    path, key, settings, tokenize, resolver, read_udi = (
        scope.path,
        scope.key,
        scope.settings,
        scope.tokenize,
        scope.resolver,
        scope.read_udi,
    )
    item = delivery.suppliedItem
    require_types(
        [
            (delivery.patient, ("Patient",), f"{path}.patient"),
            (delivery.destination, ("Location",), f"{path}.destination"),
            (
                item.itemReference if item else None,
                ("Device", "Medication", "Substance"),
                f"{path}.suppliedItem.itemReference",
            ),
        ],
        resolver,
    )
    patient = token_of(delivery.patient, tokenize, resolver)
    if delivery.status != "completed":
        voids = _voids(delivery.status, settings, "SupplyDelivery", key, 1)
        return DecodedUsage("SupplyDelivery", str(delivery.status), (), patient, voids)
    if item is None:
        raise fail(
            "required",
            f"{path}.suppliedItem is required for a completed delivery",
            f"{path}.suppliedItem",
        )
    where = f"{path}.suppliedItem"
    amount, uom = quantity(item.quantity, f"{where}.quantity") if item.quantity else (_ONE, "EA")
    device, code = None, None
    reference = item.itemReference
    if reference is not None and type_of(reference, resolver) in ("Medication", "Substance"):
        code = code_of(reference)  # the sender's code of the medication or substance
        if not code:
            reason = f"{where}.itemReference needs an identifier or a reference id"
            raise fail("required", reason, f"{where}.itemReference")
    elif reference is not None:
        device = _device(reference, f"{where}.itemReference", resolver, read_udi, settings)
    elif item.itemCodeableConcept is not None:
        code = _item_code(item.itemCodeableConcept, f"{where}.itemCodeableConcept")
    else:
        raise fail("required", f"{where}.item[x] is required", f"{where}.item")
    line = UsageLine(
        id=record_id("USE", settings.facility_id, "SupplyDelivery", key, "0"),
        facility_id=settings.facility_id,
        location=_location(delivery.destination, f"{path}.destination", settings),
        quantity=positive(amount, f"{where}.quantity.value"),
        uom=uom,
        used_at=_occurrence(delivery, path, "occurrence", settings),
        item_code=code,
        device=device,
        patient_token=patient,
        source_system=settings.source_for(ObjectType.USAGE),
        source=where,
    )
    return DecodedUsage("SupplyDelivery", "completed", (line,), patient)


def decode_procedure(procedure: Any, scope: Scope) -> DecodedUsage:
    path, key, settings, tokenize, resolver, read_udi = (
        scope.path,
        scope.key,
        scope.settings,
        scope.tokenize,
        scope.resolver,
        scope.read_udi,
    )
    checks: list[tuple[Any, tuple[str, ...], str]] = [
        (procedure.subject, ("Patient", "Group"), f"{path}.subject"),
        (procedure.encounter, ("Encounter",), f"{path}.encounter"),
        (procedure.location, ("Location",), f"{path}.location"),
    ]
    for index, focal in enumerate(procedure.focalDevice or []):
        checks.append((focal.manipulated, ("Device",), f"{path}.focalDevice[{index}].manipulated"))
    for index, used in enumerate(procedure.usedReference or []):
        checks.append(
            (used, ("Device", "Medication", "Substance"), f"{path}.usedReference[{index}]")
        )
    require_types(checks, resolver)
    patient = token_of(procedure.subject, tokenize, resolver)
    if procedure.status != "completed":
        most = sum(len(getattr(procedure, f) or []) for f in _PROCEDURE_LINES)
        voids = _voids(procedure.status, settings, "Procedure", key, most)
        return DecodedUsage("Procedure", str(procedure.status), (), patient, voids)
    sources: list[tuple[str, DeviceIdentification | None, str | None]] = []
    for index, focal in enumerate(procedure.focalDevice or []):
        where = f"{path}.focalDevice[{index}].manipulated"
        sources.append(
            (where, _device(focal.manipulated, where, resolver, read_udi, settings), None)
        )
    for index, used in enumerate(procedure.usedReference or []):
        where = f"{path}.usedReference[{index}]"
        if type_of(used, resolver) == "Device":  # a Medication or Substance is not an item
            sources.append((where, _device(used, where, resolver, read_udi, settings), None))
    for index, concept in enumerate(procedure.usedCode or []):
        where = f"{path}.usedCode[{index}]"
        sources.append((where, None, _item_code(concept, where)))
    if not sources:
        return DecodedUsage("Procedure", "completed", (), patient)
    location = _location(procedure.location, f"{path}.location", settings)
    used_at = _occurrence(procedure, path, "performed", settings)
    encounter = token_of(procedure.encounter, tokenize, resolver)
    lines = tuple(
        UsageLine(
            id=record_id("USE", settings.facility_id, "Procedure", key, str(number)),
            facility_id=settings.facility_id,
            location=location,
            quantity=_ONE,
            uom="EA",
            used_at=used_at,
            item_code=code,
            device=device,
            encounter_token=encounter,
            patient_token=patient,
            source_system=settings.source_for(ObjectType.USAGE),
            source=where,
        )
        for number, (where, device, code) in enumerate(sources)
    )
    return DecodedUsage("Procedure", "completed", lines, patient)


#: The elements a completed Procedure numbers its usage lines from, in order.
_PROCEDURE_LINES = ("focalDevice", "usedReference", "usedCode")


def _voids(status: Any, settings: Settings, kind: str, key: str, most: int) -> tuple[str, ...]:
    """The ids the lines of an ``entered-in-error`` resource had when it came ``completed``
    (at most ``most``: a Procedure's usedReference to a Medication made no line)."""
    if status != "entered-in-error":
        return ()
    return tuple(record_id("USE", settings.facility_id, kind, key, str(n)) for n in range(most))


def _item_code(concept: Any, path: str) -> str:
    codes = [c.code for c in (concept.coding or []) if c.code]
    if not codes:
        raise fail("required", f"{path}.coding.code is required: the item's code", f"{path}.coding")
    return str(codes[0]).strip()
