"""Usage of supplies and implants, and stock positions per location (DESIGN.md §4).

Consigned stock belongs to the vendor until used, so it is counted apart from owned stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from suture.domain.errors import DomainError
from suture.domain.masterdata import SUTURE


@dataclass(slots=True, kw_only=True)
class UsageRecord:
    """A supply or implant used in a procedure; quantity in ``uom``."""

    id: str
    facility_id: str
    location_id: str
    item_id: str
    quantity: Decimal
    uom: str
    used_at: datetime
    encounter_token: str | None = None
    department_id: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    udi: str | None = None
    source_system: str = SUTURE

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise DomainError("quantity", f"must be positive, got {self.quantity}")


@dataclass(slots=True, kw_only=True)
class StockPosition:
    """On-hand quantities of one item at one location, in the item's base unit."""

    facility_id: str
    location_id: str
    item_id: str
    on_hand: Decimal
    consigned_on_hand: Decimal
    updated_at: datetime

    @property
    def total(self) -> Decimal:
        return self.on_hand + self.consigned_on_hand
