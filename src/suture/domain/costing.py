"""What a usage costs, where the cost lands in the ledger, and the charge it should bring.

DESIGN.md §4, "usage → cost": the unit cost is the contract price for the facility's tier on
the day of use; without one the usage is costed at the last price paid and flagged (a contract
mismatch for supply chain to look at), and without either at the item's list price. The cost is
posted as one balanced journal per usage, debiting the expense account on the department's cost
center and crediting inventory (owned stock) or accrued receipts (a consigned implant, which the
bill-only PO's invoice will settle). A chargeable item also yields an :class:`ExpectedCharge`:
the CDM code and quantity the revenue cycle should bill, which reconciliation matches against
the charges that arrive (DESIGN.md §4, "charge-to-cost reconciliation").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from suture.domain.contracts import PriceQuote
from suture.domain.ledger import JournalEntry, JournalLine
from suture.domain.masterdata import Item

CENT = Decimal("0.01")
#: Unit prices are kept to four places, as the ledger and the storage keep them.
PRICE_PLACES = Decimal("0.0001")


class PriceSource(StrEnum):
    """Where a usage's unit cost came from; anything but ``contract`` is flagged."""

    CONTRACT = "contract"
    LAST_PAID = "last_paid"
    LIST = "list"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class UnitCost:
    """A cost per each of the item, and where it came from.

    ``unit_price`` is kept to four places, as the ledger stores it; ``exact`` is the price per
    each before that rounding (10.00 a box of 12 is 0.8333… an each), which :func:`amount`
    multiplies so that 24 boxes cost 240.00 and not 288 x 0.8333 = 239.99.
    """

    unit_price: Decimal
    source: PriceSource
    contract_id: str | None = None
    exact: Decimal | None = field(default=None, compare=False)

    @property
    def off_contract(self) -> bool:
        return self.source is not PriceSource.CONTRACT


def unit_cost(item: Item, quote: PriceQuote | None, last_paid_per_each: Decimal | None) -> UnitCost:
    """The contract price if any, else the last price paid, else the list price (per purchase
    unit, converted), else nothing known (cost zero, flagged)."""
    if quote is not None:
        return _cost(quote.unit_price, PriceSource.CONTRACT, quote.contract_id)
    if last_paid_per_each is not None:
        return _cost(last_paid_per_each, PriceSource.LAST_PAID)
    if item.list_price is not None:
        per_each = item.packaging.convert_price(item.list_price, item.purchase_uom, item.base_uom)
        return _cost(per_each, PriceSource.LIST)
    return UnitCost(Decimal(0), PriceSource.NONE)


def _cost(per_each: Decimal, source: PriceSource, contract_id: str | None = None) -> UnitCost:
    return UnitCost(_price(per_each), source, contract_id, exact=per_each)


def _price(value: Decimal) -> Decimal:
    return value.quantize(PRICE_PLACES)


def amount(cost: UnitCost, eaches: Decimal) -> Decimal:
    """The extended cost of the exact price, to the cent, rounded half up as purchase orders,
    the three-way match and the AP voucher round: a consigned implant's accrual is cleared by
    its bill-only PO's invoice to the cent."""
    per_each = cost.unit_price if cost.exact is None else cost.exact
    return (per_each * eaches).quantize(CENT, rounding=ROUND_HALF_UP)


def billing_price(cost: UnitCost, eaches: Decimal) -> Decimal:
    """The four-place price per each whose extended amount rounds half up to :func:`amount`.

    A PO line stores a four-place price and is totalled as price x quantity (the match, the AP
    voucher and the ERP read it so), which drifts from the exact amount when the pack price does
    not divide: 53 eaches of 10.00 a box of 3 accrue 176.67 but 53 x 3.3333 is 176.66. The price
    is then the four-place one nearest the exact price inside the interval that rounds to the
    accrual, one ten-thousandth off at most (3.3334). Such a price exists up to 100 eaches (the
    interval is a cent over the quantity wide); beyond, the four-place price is kept.
    """
    total = amount(cost, eaches)
    if eaches <= 0 or (cost.unit_price * eaches).quantize(CENT, rounding=ROUND_HALF_UP) == total:
        return cost.unit_price
    low = ((total - CENT / 2) / eaches).quantize(PRICE_PLACES, rounding=ROUND_CEILING)
    high = ((total + CENT / 2) / eaches).quantize(PRICE_PLACES, rounding=ROUND_FLOOR)
    if high * eaches == total + CENT / 2:  # the interval is open above: that half rounds up
        high -= PRICE_PLACES
    nearest = min(max(cost.unit_price, low), high)
    if (nearest * eaches).quantize(CENT, rounding=ROUND_HALF_UP) != total:
        return cost.unit_price
    return nearest


@dataclass(frozen=True, slots=True)
class CostingAccounts:
    """The GL accounts a usage posts to; the defaults are the demo chart's (GL-5100 …)."""

    supplies_expense: str = "GL-5100"
    implant_expense: str = "GL-5110"
    supplies_inventory: str = "GL-1400"
    implant_inventory: str = "GL-1410"
    accrued_receipts: str = "GL-2100"


def usage_journal(
    usage_id: str,
    *,
    item: Item,
    facility_id: str,
    cost_center_id: str,
    total: Decimal,
    consigned: bool,
    posting_date: date,
    accounts: CostingAccounts | None = None,
) -> JournalEntry:
    """One balanced entry: expense on the cost center, against inventory or accrued receipts."""
    accounts = accounts or CostingAccounts()
    # the ledger posts cents, whatever precision it was read with (half up, as ``amount``)
    total = total.quantize(CENT, rounding=ROUND_HALF_UP)
    expense = accounts.implant_expense if item.is_implant else accounts.supplies_expense
    if consigned:
        credit = accounts.accrued_receipts
    else:
        credit = accounts.implant_inventory if item.is_implant else accounts.supplies_inventory
    memo = f"usage {usage_id} item {item.id}"
    return JournalEntry(
        id=f"JE-{usage_id}",
        facility_id=facility_id,
        posting_date=posting_date,
        reference=f"USAGE-{usage_id}",
        lines=[
            JournalLine(gl_account_id=expense, debit=total, cost_center_id=cost_center_id,
                        memo=memo),
            JournalLine(gl_account_id=credit, credit=total, memo=memo),
        ],
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpectedCharge:
    """The charge a usage of a chargeable item should bring, for reconciliation.

    One per usage (its id is the usage id); ``quantity`` is in eaches, the unit a CDM line
    bills; ``cost`` is what the hospital paid, so a charge below cost can be told.
    """

    id: str
    facility_id: str
    encounter_token: str | None
    item_id: str
    cdm_code: str
    hcpcs: str | None
    revenue_code: str | None
    quantity: Decimal
    cost: Decimal
    used_at: datetime
    department_id: str | None
    recorded_at: datetime


def expected_charge(
    usage_id: str,
    *,
    item: Item,
    facility_id: str,
    encounter_token: str | None,
    eaches: Decimal,
    cost: Decimal,
    used_at: datetime,
    department_id: str | None,
    at: datetime,
) -> ExpectedCharge | None:
    """The charge the item bills under (the charge crosswalk), or None if it is not chargeable."""
    if not item.is_chargeable or not item.cdm_code:
        return None
    return ExpectedCharge(
        id=usage_id, facility_id=facility_id, encounter_token=encounter_token, item_id=item.id,
        cdm_code=item.cdm_code, hcpcs=item.hcpcs, revenue_code=item.revenue_code,
        quantity=eaches, cost=cost, used_at=used_at, department_id=department_id,
        recorded_at=at,
    )  # fmt: skip
