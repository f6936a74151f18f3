"""The canonical reading of a UDI barcode: the device identifier and its production identifiers.

A UDI (DESIGN.md §2) is a device identifier plus production identifiers. Both issuing agencies
used on implants are read into the same record, so usage matching looks at
:attr:`Udi.device_identifier` alone and never at the barcode's syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from suture.domain.identifiers import HibcPrimary

__all__ = ["Issuer", "Udi"]


class Issuer(StrEnum):
    """The FDA-accredited issuing agency whose syntax the barcode uses."""

    GS1 = "GS1"
    HIBCC = "HIBCC"


@dataclass(frozen=True, slots=True)
class Udi:
    """One decoded UDI.

    ``device_identifier`` is the GTIN-14 of AI (01) for GS1, and labeler, product code and unit
    of measure (``A99912345``, no '+' and no check character) for HIBC; ``hibc`` then holds
    those parts, whose :attr:`~suture.domain.identifiers.HibcPrimary.code` is the item-master
    key. Dates carry no time: an expiry is the last day the device may be used. ``other`` keeps
    GS1 element strings this record has no field for, as ``(ai, value)`` in scan order.
    ``raw`` is the text exactly as it was given.
    """

    issuer: Issuer
    device_identifier: str
    raw: str
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    manufacture_date: date | None = None
    quantity: int | None = None
    hibc: HibcPrimary | None = None
    other: tuple[tuple[str, str], ...] = ()
