"""Charges from the revenue cycle (HL7 DFT^P03 FT1, FHIR ChargeItem; DESIGN.md §2).

Patient identifiers are PHI: a charge carries only keyed-hash tokens of the account and encounter
(DESIGN.md §6), never the originals, which stay in the raw message.

**One charge, one id, whichever channel brings it.** During a migration the same charge line can
reach the hub twice: from the legacy interface engine and from the new HL7 or FHIR feed
(DESIGN.md §1, coexistence). When the billing system gives the line its own id (the HL7 FT1-2
transaction id, the FHIR ChargeItem identifier, a CSV feed's ``line_id``), the charge's id is
derived from the business key :func:`charge_line_id` (facility, encounter token, line id, and
whether it is a credit) and nothing channel-specific, so the second arrival finds the first
charge and its ``charge.posted`` event (idempotency key from the charge id) is not appended
again. A line without such an id keeps its channel's own key (message control id and position,
a row's values): it cannot be recognised across channels, only within one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from hashlib import blake2b

from suture.domain.masterdata import SUTURE


class ChargeType(StrEnum):
    CHARGE = "CG"
    CREDIT = "CD"


@dataclass(slots=True, kw_only=True)
class Charge:
    id: str
    facility_id: str
    encounter_token: str
    cdm_code: str
    quantity: Decimal
    amount: Decimal
    service_at: datetime
    transaction_type: ChargeType = ChargeType.CHARGE
    account_token: str | None = None
    department_id: str | None = None
    hcpcs: str | None = None
    revenue_code: str | None = None
    source_system: str = SUTURE


_new = object.__new__


def charge_from_fields(  # noqa: PLR0917 - every field of a Charge, in order
    id: str,
    facility_id: str,
    encounter_token: str,
    cdm_code: str,
    quantity: Decimal,
    amount: Decimal,
    service_at: datetime,
    transaction_type: ChargeType,
    account_token: str | None,
    department_id: str | None,
    hcpcs: str | None,
    revenue_code: str | None,
    source_system: str,
) -> Charge:
    """``Charge(id=id, …)`` with every field given positionally, in declaration order.

    For a decoder's hot path only (the HL7 DFT^P03 decode builds one per FT1): a call with
    thirteen keywords costs several times a positional one. :class:`Charge` stays keyword-only
    everywhere else. It builds the same object as the constructor, which checks nothing more;
    a unit test keeps the two in step, field for field.
    """
    charge: Charge = _new(Charge)
    charge.id = id
    charge.facility_id = facility_id
    charge.encounter_token = encounter_token
    charge.cdm_code = cdm_code
    charge.quantity = quantity
    charge.amount = amount
    charge.service_at = service_at
    charge.transaction_type = transaction_type
    charge.account_token = account_token
    charge.department_id = department_id
    charge.hcpcs = hcpcs
    charge.revenue_code = revenue_code
    charge.source_system = source_system
    return charge


_PERSON = b"suture.chg.line"  # never change: every stored charge id depends on it
_SEPARATOR = "\x1f"


def charge_line_id(
    facility_id: str, encounter_token: str, line_id: str, transaction_type: ChargeType
) -> str:
    """``CHG-`` and 20 hex digits from the charge's business key (module doc)."""
    credit = "CD" if transaction_type is ChargeType.CREDIT else ""
    key = _SEPARATOR.join((facility_id, encounter_token, line_id.strip(), credit))
    digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=10, person=_PERSON)
    return "CHG-" + digest.hexdigest().upper()
