"""One resource → its canonical record: validation, then the mapping for its type.

:func:`decode_resource` is what ``POST /fhir/R4/{type}`` calls with the body it has stored;
:func:`decode_model` is the same mapping for a resource already validated, used per Bundle entry
by :mod:`.bundles`. Records by type:

======================  ==============================================================
ChargeItem              :class:`~.charges.DecodedChargeItem` (a canonical Charge or none)
SupplyDelivery          :class:`~.usage.DecodedUsage` (usage lines)
Procedure               :class:`~.usage.DecodedUsage` (implants and supplies used)
Device                  :class:`~.devices.DeviceIdentification` (item by UDI)
Invoice                 :class:`~.invoices.DecodedInvoice` (supplier or patient invoice)
SupplyRequest           :class:`~suture.domain.purchasing.Requisition`
======================  ==============================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

from suture.domain.errors import DomainError
from suture.domain.purchasing import Requisition
from suture.formats.fhir.charges import DecodedChargeItem, decode_charge_item
from suture.formats.fhir.devices import DeviceIdentification, ReadUdi, identify
from suture.formats.fhir.errors import fail
from suture.formats.fhir.invoices import DecodedInvoice, decode_invoice
from suture.formats.fhir.references import Resolver, Tokenize
from suture.formats.fhir.requisitions import decode_supply_request
from suture.formats.fhir.scope import Scope
from suture.formats.fhir.usage import DecodedUsage, decode_procedure, decode_supply_delivery
from suture.formats.fhir.validation import load_json, validate_resource
from suture.formats.fhir.values import Settings, business_id

Record = DecodedChargeItem | DecodedUsage | DeviceIdentification | DecodedInvoice | Requisition


@dataclass(frozen=True, slots=True)
class Decoding:
    """What every mapping needs besides the resource: the edge's settings and readers.

    ``tokenize`` turns patient, account and encounter identifiers into tokens (the edge's keyed
    hash; the codec never sees the key); ``read_udi`` parses UDI barcode text (the edge passes
    :func:`suture.formats.udi.parse_udi`); ``cdm_system`` is the coding system of the CDM codes
    when the sender names one; ``known_devices`` maps ``"Device/{id}"`` to Devices the hub has
    already decoded, for Procedures that reference a Device posted earlier.
    """

    settings: Settings
    tokenize: Tokenize
    read_udi: ReadUdi
    cdm_system: str | None = None
    known_devices: Mapping[str, DeviceIdentification] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decoded:
    """A resource's type, its id as sent, and its canonical record."""

    resource_type: str
    resource_id: str | None
    record: Record


def decode_resource(
    body: bytes | str | Mapping[str, Any], decoding: Decoding, *, expected: str | None = None
) -> Decoded:
    """Validate and map one resource; :class:`FhirDecodeError` with every issue otherwise."""
    data = body if isinstance(body, Mapping) else load_json(body)
    model = validate_resource(data, expected=expected)
    resolver = Resolver(known=decoding.known_devices)
    return decode_model(model, data, decoding, resolver=resolver, path="")


def natural_key(model: Any, data: Mapping[str, Any]) -> str:
    """What identifies a resource across re-sends: its identifier, its id, else its content."""
    found = business_id(model)
    if found is not None:
        return "identifier:" + found
    if model.id:
        return "id:" + str(model.id)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "content:" + blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


def decode_model(
    model: Any, data: Mapping[str, Any], decoding: Decoding, *, resolver: Resolver, path: str
) -> Decoded:
    """Map a validated model; ``path`` is its FHIRPath prefix (empty for a lone resource)."""
    kind = str(model.get_resource_type())
    root = path or kind
    scope = Scope(
        path=root,
        key=natural_key(model, data),
        settings=decoding.settings,
        tokenize=decoding.tokenize,
        resolver=resolver.with_contained(model),
        read_udi=decoding.read_udi,
        cdm_system=decoding.cdm_system,
    )
    try:
        record: Record
        if kind == "ChargeItem":
            record = decode_charge_item(model, scope)
        elif kind in ("SupplyDelivery", "Procedure"):
            decode = decode_supply_delivery if kind == "SupplyDelivery" else decode_procedure
            record = decode(model, scope)
        elif kind == "Device":
            zone = decoding.settings.zone
            record = identify(model, root, decoding.read_udi, zone, resolver.identified)
        elif kind == "Invoice":
            record = decode_invoice(model, scope)
        elif kind == "SupplyRequest":
            record = decode_supply_request(model, scope)
        else:
            raise fail("not-supported", f"{kind} is not supported", f"{root}.resourceType")
    except DomainError as error:  # a rule of the canonical model; its text names no PHI
        raise fail("business-rule", f"{root}: {error}", root) from None
    return Decoded(kind, model.id, record)
