"""Device with a ``udiCarrier`` → the identification of an item: device identifier (GTIN or
HIBC) plus lot, serial and expiry (FHIR R4 device.html, udi mappings; DESIGN.md §2).

The UDI barcode text (``udiCarrier.carrierHRF``) is parsed by a reader the caller passes in,
:data:`ReadUdi`: the edge hands over :func:`suture.formats.udi.parse_udi` (bound to today's
date), so this codec does not import another codec (STYLE.md) and still reads GS1 and HIBC
exactly as the UDI codec does. The production identifiers of the barcode win over
``Device.lotNumber``/``serialNumber``/``expirationDate``, which fill in what it lacks; a
barcode whose device identifier differs from ``udiCarrier.deviceIdentifier`` is refused.

The official R4 example ``device-example-udi1`` writes GS1 application identifiers in braces
(``{01}…{17}…``); braces around two to four digits are read as the parentheses of GS1's
human-readable form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any, Protocol

from suture.domain.errors import SutureError
from suture.formats.fhir.errors import fail
from suture.formats.fhir.values import day


class UdiReading(Protocol):
    """What the codec reads from a parsed UDI (:class:`suture.formats.udi.Udi` has it)."""

    @property
    def issuer(self) -> str: ...
    @property
    def device_identifier(self) -> str: ...
    @property
    def lot(self) -> str | None: ...
    @property
    def serial(self) -> str | None: ...
    @property
    def expiry(self) -> date | None: ...


#: Parses a UDI barcode's text; raises a SutureError naming the part and reason when invalid.
ReadUdi = Callable[[str], UdiReading]

_BRACED_AI = re.compile(r"\{(\d{2,4})\}")
_ISSUERS = (("gs1", "GS1"), ("hibcc", "HIBCC"), ("iccbba", "ICCBBA"), ("ifa", "IFA"))


@dataclass(frozen=True, slots=True)
class DeviceIdentification:
    """The item a Device is: its device identifier and production identifiers.

    ``issuer`` is ``GS1``, ``HIBCC`` (or ``ICCBBA``/``IFA``/``""`` from the carrier's issuer
    when there is no barcode to parse); ``device_identifier`` the GTIN-14 or the HIBC
    labeler+product+unit, the item-master key; ``udi`` the barcode text as sent.
    """

    device_id: str | None
    issuer: str
    device_identifier: str
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    udi: str | None = None


def decode_device(device: Any, path: str, read_udi: ReadUdi, zone: tzinfo) -> DeviceIdentification:
    """The identification of a validated Device; 422 when it carries no usable UDI."""
    carriers = device.udiCarrier or []
    if not carriers:
        reason = f"{path}.udiCarrier is required: a Device is identified by its UDI"
        raise fail("required", reason, f"{path}.udiCarrier")
    carrier, where = carriers[0], f"{path}.udiCarrier[0]"
    lot, serial = device.lotNumber or None, device.serialNumber or None
    expiry = (
        day(device.expirationDate, f"{path}.expirationDate", zone)
        if device.expirationDate
        else None
    )
    stated = (carrier.deviceIdentifier or "").strip() or None
    hrf = (carrier.carrierHRF or "").strip()
    if not hrf:
        if stated is None:
            reason = f"{where} needs a carrierHRF or a deviceIdentifier"
            raise fail("required", reason, f"{where}.deviceIdentifier")
        issuer = _issuer(carrier.issuer)
        return DeviceIdentification(device.id, issuer, stated, lot, serial, expiry, None)
    try:
        udi = read_udi(_BRACED_AI.sub(r"(\1)", hrf))
    except SutureError as error:  # the UDI codec's reason names the part of the barcode
        raise fail(
            "value", f"{where}.carrierHRF is not a valid UDI: {error}", f"{where}.carrierHRF"
        ) from None
    if stated is not None and not _same_identifier(stated, udi.device_identifier):
        reason = f"{where}.deviceIdentifier differs from the device identifier in carrierHRF"
        raise fail("business-rule", reason, f"{where}.deviceIdentifier")
    return DeviceIdentification(
        device_id=device.id,
        issuer=str(udi.issuer),
        device_identifier=udi.device_identifier,
        lot=udi.lot or lot,
        serial=udi.serial or serial,
        expiry=udi.expiry or expiry,
        udi=hrf,
    )


def identify(
    device: Any, path: str, read_udi: ReadUdi, zone: tzinfo, memo: dict[int, Any]
) -> DeviceIdentification:
    """:func:`decode_device`, once per Device model: a Bundle's Device is read as an entry and
    again by every Procedure that uses it, and parsing a UDI costs about half as much as
    validating a whole resource. ``memo`` lives as long as the models it is keyed by."""
    found = memo.get(id(device))
    if not isinstance(found, DeviceIdentification):
        found = memo[id(device)] = decode_device(device, path, read_udi, zone)
    return found


def _issuer(uri: str | None) -> str:
    text = (uri or "").lower()
    return next((name for key, name in _ISSUERS if key in text), "")


def _same_identifier(stated: str, parsed: str) -> bool:
    if stated.isdigit() and parsed.isdigit():
        return stated.zfill(14) == parsed.zfill(14)
    return stated.lstrip("+").upper().startswith(parsed.upper())  # HIBC may add its check
