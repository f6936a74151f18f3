"""MFN^M04 → charge description master entries (HL7 v2.5.1 §8.10: MFE, CDM, PRC).

Per MFE group: the CDM code (CDM-1, else MFE-4), its description (CDM-3, else CDM-4), the
HCPCS/CPT code (the CDM-7 repetition coded as CPT/HCPCS), whether it is active (CDM-8, and an
MDC event deactivates), and one price per PRC: facilities (PRC-2), departments (PRC-3), price
(PRC-5, the MO quantity), effective dates (PRC-11/12) and the UB-04 revenue code, which v2.5
carries as a billing category (PRC-14, "for example … UB92 categories"): the repetition coded
UB92/UB04/NUBC, or else the first that is a three- or four-digit number, written as four digits.
The crosswalk service turns entries into charge crosswalk rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from suture.formats.hl7v2.datatypes import parse_number
from suture.formats.hl7v2.errors import field_error
from suture.formats.hl7v2.header import MessageHeader
from suture.formats.hl7v2.identifiers import identifier
from suture.formats.hl7v2.master_files import (
    active_flag,
    effective_time,
    groups,
    record_event,
    record_key,
)
from suture.formats.hl7v2.tokenizer import Message, Segment

_CPT_SYSTEMS = frozenset({"", "C4", "C5", "CPT", "CPT4", "CPT-4", "HCPCS", "HCPT", "HPC"})
_REVENUE_SYSTEMS = frozenset({"UB92", "UB04", "UB-04", "UB-92", "NUBC", "REV", "RC"})
_MAX_QUOTED = 24


@dataclass(frozen=True, slots=True)
class CdmPrice:
    """One PRC: a price of the entry where and when it applies."""

    price: Decimal | None
    revenue_code: str | None
    facility_codes: tuple[str, ...] = ()
    department_codes: tuple[str, ...] = ()
    active: bool = True
    effective_from: datetime | None = None
    effective_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class CdmEntry:
    """One charge description master record and what the MFE does to it."""

    event: str
    cdm_code: str
    description: str
    hcpcs: str | None
    active: bool
    prices: tuple[CdmPrice, ...] = ()
    effective_at: datetime | None = None

    @property
    def price(self) -> Decimal | None:
        """The first PRC's price (most CDMs have one price per code)."""
        return self.prices[0].price if self.prices else None

    @property
    def revenue_code(self) -> str | None:
        return next((p.revenue_code for p in self.prices if p.revenue_code), None)


@dataclass(frozen=True, slots=True)
class ChargeMaster:
    """An MFN^M04: its header and its entries in message order."""

    header: MessageHeader
    entries: tuple[CdmEntry, ...]


def decode_charge_master(message: Message, header: MessageHeader, *, zone: tzinfo) -> ChargeMaster:
    """The entries of a valid MFN^M04; field-level ``AE`` errors otherwise."""
    entries: list[CdmEntry] = []
    for group in groups(message, frozenset({"CDM"})):
        event = record_event(group.mfe)
        cdm = group.first("CDM")
        code = record_key(cdm, 1, group.mfe, 4, "CDM code")
        active = event != "MDC"
        description, hcpcs = "", None
        if cdm is not None:
            description = (cdm.value(3) or cdm.value(4)).strip()
            hcpcs = _hcpcs(cdm)
            active = active and active_flag(cdm, 8)
        entries.append(
            CdmEntry(
                event=event,
                cdm_code=code,
                description=description,
                hcpcs=hcpcs,
                active=active,
                prices=tuple(_price(prc, zone) for prc in group.all("PRC")),
                effective_at=effective_time(group.mfe, 3, zone),
            )
        )
    return ChargeMaster(header=header, entries=tuple(entries))


def _hcpcs(cdm: Segment) -> str | None:
    for repetition in range(1, len(cdm.repetitions(7)) + 1):
        code = identifier(cdm.value(7, 1, 1, repetition)).upper()
        system = identifier(cdm.value(7, 3, 1, repetition)).upper()
        if code and system in _CPT_SYSTEMS:
            if len(code) != 5 or not code.isascii() or not code.isalnum():
                raise field_error(
                    cdm, 7, f"procedure code {code[:_MAX_QUOTED]!r} is not a CPT/HCPCS code"
                )
            return code
    return None


def _codes(segment: Segment, number: int) -> tuple[str, ...]:
    return tuple(
        code
        for repetition in range(1, len(segment.repetitions(number)) + 1)
        if (code := identifier(segment.value(number, 1, 1, repetition)))
    )


def _price(prc: Segment, zone: tzinfo) -> CdmPrice:
    text = identifier(prc.value(5))
    price = parse_number(text) if text else None
    if text and price is None:
        raise field_error(prc, 5, f"price {text[:_MAX_QUOTED]!r} is not a number", component=1)
    return CdmPrice(
        price=price,
        revenue_code=_revenue_code(prc),
        facility_codes=_codes(prc, 2),
        department_codes=_codes(prc, 3),
        active=active_flag(prc, 16),
        effective_from=effective_time(prc, 11, zone),
        effective_to=effective_time(prc, 12, zone),
    )


def _revenue_code(prc: Segment) -> str | None:
    fallback = None
    for repetition in range(1, len(prc.repetitions(14)) + 1):
        code = identifier(prc.value(14, 1, 1, repetition))
        system = identifier(prc.value(14, 3, 1, repetition)).upper()
        numeric = code.isascii() and code.isdigit() and 3 <= len(code) <= 4
        if system in _REVENUE_SYSTEMS:
            if not numeric:
                raise field_error(
                    prc, 14, f"revenue code {code[:_MAX_QUOTED]!r} is not three or four digits"
                )
            return code.zfill(4)
        if numeric and fallback is None and not system:
            fallback = code.zfill(4)
    return fallback
