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


class SerialAlreadyUsedError(DomainError):
    """A serialized unit (an implant: one UDI serial) reported used a second time, under
    another usage id (the OR's feed and a legacy case log both reporting it): counting it again
    would take it from stock twice and, consigned, pay the vendor twice."""

    def __init__(self, item_id: str, serial: str, usage_id: str) -> None:
        super().__init__(
            "serial",
            f"item {item_id} serial {serial} was used already by usage {usage_id}; "
            "a serialized unit is used once",
        )


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


@dataclass(frozen=True, slots=True)
class StockMove:
    """What one usage did to a position: the quantities before and after, in eaches.

    ``stockout`` is true when the stock the usage drew from could not cover it (DESIGN.md §7,
    "usage recorded against zero stock"): the usage happened, so the position is decremented
    all the same and may go negative, which tells the materials team the books are short.
    """

    before: Decimal
    after: Decimal
    consigned: bool
    stockout: bool


def consume(
    position: StockPosition | None,
    *,
    facility_id: str,
    location_id: str,
    item_id: str,
    eaches: Decimal,
    consigned: bool,
    at: datetime,
) -> tuple[StockPosition, StockMove]:
    """The position after ``eaches`` were used from it, and the move; a new position if none.

    Consigned stock belongs to the vendor until used, so it is drawn from
    ``consigned_on_hand`` and never from owned stock (and the other way round).
    """
    if eaches <= 0:
        raise DomainError("quantity", f"must be positive, got {eaches}")
    current = position or StockPosition(
        facility_id=facility_id, location_id=location_id, item_id=item_id,
        on_hand=Decimal(0), consigned_on_hand=Decimal(0), updated_at=at,
    )  # fmt: skip
    before = current.consigned_on_hand if consigned else current.on_hand
    after = before - eaches
    moved = StockPosition(
        facility_id=current.facility_id,
        location_id=location_id,
        item_id=item_id,
        on_hand=current.on_hand if consigned else after,
        consigned_on_hand=after if consigned else current.consigned_on_hand,
        updated_at=at,
    )
    return moved, StockMove(before=before, after=after, consigned=consigned,
                            stockout=before < eaches)  # fmt: skip


def restock(
    position: StockPosition | None,
    *,
    facility_id: str,
    location_id: str,
    item_id: str,
    eaches: Decimal,
    consigned: bool,
    at: datetime,
) -> StockPosition:
    """The position after ``eaches`` were received into it (a dock receipt); a new one if none.

    Consigned goods (the vendor's until used) go to ``consigned_on_hand``, owned goods to
    ``on_hand``, mirroring :func:`consume`.
    """
    if eaches <= 0:
        raise DomainError("quantity", f"must be positive, got {eaches}")
    current = position or StockPosition(
        facility_id=facility_id, location_id=location_id, item_id=item_id,
        on_hand=Decimal(0), consigned_on_hand=Decimal(0), updated_at=at,
    )  # fmt: skip
    return StockPosition(
        facility_id=current.facility_id,
        location_id=location_id,
        item_id=item_id,
        on_hand=current.on_hand if consigned else current.on_hand + eaches,
        consigned_on_hand=current.consigned_on_hand + eaches
        if consigned
        else current.consigned_on_hand,
        updated_at=at,
    )
