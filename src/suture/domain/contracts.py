"""GPO and local contracts with tiered prices, and the price an item costs a facility on a day.

A contract belongs to a supplier, runs between effective dates, and lists facilities as members,
each at a price tier. A contract price is per item, tier and unit of measure, and may have its own
effective dates inside the contract's. :func:`price_for` answers "what should this facility pay
for this item on this day, in this unit", which purchase orders and invoices are checked against.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from suture.domain.errors import DomainError
from suture.domain.masterdata import SUTURE, Item


@dataclass(slots=True, kw_only=True)
class ContractMembership:
    """A facility's membership of a contract at a price tier, for a period."""

    facility_id: str
    tier: str
    effective_from: date
    effective_to: date | None = None

    def __post_init__(self) -> None:
        _check_period(self.effective_from, self.effective_to)

    def covers(self, on_date: date) -> bool:
        return _within(on_date, self.effective_from, self.effective_to)


@dataclass(slots=True, kw_only=True)
class ContractPrice:
    """The price of one item at one tier, per ``uom``."""

    item_id: str
    tier: str
    uom: str
    unit_price: Decimal
    effective_from: date | None = None
    effective_to: date | None = None

    def __post_init__(self) -> None:
        if self.unit_price < 0:
            raise DomainError("unit_price", f"must not be negative, got {self.unit_price}")
        if self.effective_from is not None:
            _check_period(self.effective_from, self.effective_to)

    def covers(self, on_date: date) -> bool:
        start = self.effective_from or date.min
        return _within(on_date, start, self.effective_to)


@dataclass(slots=True, kw_only=True)
class Contract:
    """A supplier contract (often negotiated by a GPO) with member facilities and prices."""

    id: str
    number: str
    supplier_id: str
    name: str
    effective_from: date
    effective_to: date | None = None
    gpo: str | None = None
    memberships: list[ContractMembership] = field(default_factory=list)
    prices: list[ContractPrice] = field(default_factory=list)
    source_system: str = SUTURE

    def __post_init__(self) -> None:
        _check_period(self.effective_from, self.effective_to)

    def tier_for(self, facility_id: str, on_date: date) -> str | None:
        """The tier the facility buys at on that day, or None when it is not a member then."""
        if not _within(on_date, self.effective_from, self.effective_to):
            return None
        for membership in self.memberships:
            if membership.facility_id == facility_id and membership.covers(on_date):
                return membership.tier
        return None


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The contract price an item costs a facility, converted to the unit asked for."""

    contract_id: str
    contract_number: str
    tier: str
    uom: str
    unit_price: Decimal


def price_for(
    contracts: Iterable[Contract], item: Item, facility_id: str, on_date: date, uom: str
) -> PriceQuote | None:
    """The lowest contract price for ``item`` at ``facility_id`` on ``on_date`` per ``uom``.

    Only contracts the facility is a member of on that day count, at the facility's tier; a price
    quoted in another unit is converted through the item's packaging. Returns None when no
    contract covers the item for that facility and day (an off-contract purchase).
    """
    best: PriceQuote | None = None
    for contract in contracts:
        tier = contract.tier_for(facility_id, on_date)
        if tier is None:
            continue
        for price in contract.prices:
            if price.item_id != item.id or price.tier != tier or not price.covers(on_date):
                continue
            unit_price = item.packaging.convert_price(price.unit_price, price.uom, uom)
            if best is None or unit_price < best.unit_price:
                best = PriceQuote(contract.id, contract.number, tier, uom, unit_price)
    return best


def _within(on_date: date, start: date, end: date | None) -> bool:
    return start <= on_date and (end is None or on_date <= end)


def _check_period(start: date, end: date | None) -> None:
    """Refuse a period that ends before it starts: it would silently cover no day at all."""
    if end is not None and end < start:
        raise DomainError("effective_to", f"{end} is before effective_from {start}")
