"""Charges from the revenue cycle (HL7 DFT^P03 FT1, FHIR ChargeItem; DESIGN.md §2).

Patient identifiers are PHI: a charge carries only keyed-hash tokens of the account and encounter
(DESIGN.md §6), never the originals, which stay in the raw message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

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
