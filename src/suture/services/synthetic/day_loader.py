"""Writing what the demo day starts from: opening stock and the chargemaster.

The synthetic loader (``loader.py``) writes the health system's master data; the demo day
(``day.py``) also needs the stock on the shelves before the first procedure and the CDM prices
the revenue cycle bills at, so that stockouts and revenue at risk mean what they say. One
transaction each; the time ``at`` is passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from suture.domain.authority import DEFAULT_OWNERS, ObjectType
from suture.domain.inventory import StockPosition
from suture.domain.reconciliation import ChargemasterPrice
from suture.services.synthetic.day import OpeningStock
from suture.services.unit_of_work import UnitOfWork


def open_stock(
    uow_factory: Callable[[], UnitOfWork], opening: Iterable[OpeningStock], at: datetime
) -> int:
    """Set each position's opening stock (owned or consigned bucket); how many were written."""
    written = 0
    with uow_factory() as uow:
        for stock in opening:
            eaches = Decimal(stock.eaches)
            uow.stock.save(
                StockPosition(
                    facility_id=stock.facility_id,
                    location_id=stock.location_id,
                    item_id=stock.item_id,
                    on_hand=Decimal(0) if stock.consigned else eaches,
                    consigned_on_hand=eaches if stock.consigned else Decimal(0),
                    updated_at=at,
                )
            )
            written += 1
        uow.commit()
    return written


def load_chargemaster(
    uow_factory: Callable[[], UnitOfWork], prices: Iterable[ChargemasterPrice]
) -> int:
    """Store the CDM prices as the revenue cycle's (their owner); how many were written."""
    rows = list(prices)
    with uow_factory() as uow:
        uow.chargemaster.add_many(rows, source_system=DEFAULT_OWNERS[ObjectType.CHARGEMASTER])
        uow.commit()
    return len(rows)
