"""Turning an approved requisition into purchase orders: price each line, group by supplier.

DESIGN.md §4, "purchase order checked against the contract price". Each requisition line is
ordered in its item's **purchasing unit** (a requisition for 85 eaches of gloves sold by the case
of 50 orders 2 cases) and priced from the contract effective on the **PO date** for the
facility's tier (:func:`~suture.domain.contracts.price_for`). A line no contract prices is priced
at the last price paid by the facility, else the item's list price, else zero, and is flagged
``off_contract``: the caller opens a ``contract_price_mismatch`` exception before the PO leaves.

Lines are grouped by the item's supplier, one PO per supplier, numbered after the requisition
(``PO-<requisition>-<n>``, suppliers in id order), so the same requisition always yields the same
POs: a step that runs twice writes the same documents, never a second set.

**Rounding** is half-up, like the three-way match and the AP voucher: a unit price to four
places, a line's amount to the cent (1 x 10.125 is 10.13), so a requisition's amount, the PO it
raises and the invoice that bills it round alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from suture.domain.contracts import Contract, price_for
from suture.domain.costing import CENT, PRICE_PLACES, PriceSource
from suture.domain.errors import DomainError
from suture.domain.masterdata import Item
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
)


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A requisition line in the item's purchasing unit, with its price and where it came from."""

    line_number: int
    item: Item
    quantity: Decimal
    uom: str
    unit_price: Decimal
    source: PriceSource
    contract_id: str | None = None

    @property
    def off_contract(self) -> bool:
        return self.source is not PriceSource.CONTRACT

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def price_line(
    line: RequisitionLine,
    item: Item,
    contracts: Iterable[Contract],
    *,
    facility_id: str,
    on_date: date,
    last_paid: tuple[Decimal, str] | None = None,
) -> PricedLine:
    """The line in whole purchasing units (rounded up), priced per purchasing unit.

    ``last_paid`` is the facility's latest price for the item and the unit it was paid in.
    """
    uom = item.purchase_uom
    eaches = item.packaging.to_each(line.quantity, line.uom)
    quantity = item.packaging.round_up_to(eaches, uom)
    quote = price_for(contracts, item, facility_id, on_date, uom)
    contract_id = None
    if quote is not None:
        price, source, contract_id = quote.unit_price, PriceSource.CONTRACT, quote.contract_id
    elif last_paid is not None:
        price = item.packaging.convert_price(last_paid[0], last_paid[1], uom)
        source = PriceSource.LAST_PAID
    elif item.list_price is not None:
        price, source = item.list_price, PriceSource.LIST
    else:
        price, source = Decimal(0), PriceSource.NONE
    return PricedLine(
        line_number=line.line_number, item=item, quantity=quantity, uom=uom,
        unit_price=price.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP), source=source,
        contract_id=contract_id,
    )  # fmt: skip


def total(lines: Iterable[PricedLine]) -> Decimal:
    return sum((line.amount for line in lines), Decimal(0))


def purchase_orders_for(
    requisition: Requisition, lines: Sequence[PricedLine], *, order_date: date
) -> list[PurchaseOrder]:
    """One PO per supplier of the priced lines, suppliers in id order; an item without a
    supplier cannot be ordered and is refused naming it."""
    by_supplier: dict[str, list[PricedLine]] = {}
    for line in lines:
        if line.item.supplier_id is None:
            raise DomainError(
                "supplier_id", f"item {line.item.id} names no supplier: it cannot be ordered"
            )
        by_supplier.setdefault(line.item.supplier_id, []).append(line)
    return [
        PurchaseOrder(
            id=f"PO-{requisition.number}-{index}",
            number=f"PO-{requisition.number}-{index}",
            facility_id=requisition.facility_id,
            supplier_id=supplier_id,
            order_date=order_date,
            kind=PurchaseOrderKind.STANDARD,
            requisition_id=requisition.id,
            department_id=requisition.department_id,
            lines=[_po_line(number, line) for number, line in enumerate(group, start=1)],
        )
        for index, (supplier_id, group) in enumerate(sorted(by_supplier.items()), start=1)
    ]


def _po_line(number: int, line: PricedLine) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        line_number=number, item_id=line.item.id, quantity=line.quantity, uom=line.uom,
        unit_price=line.unit_price, contract_id=line.contract_id, off_contract=line.off_contract,
    )  # fmt: skip


def categories(lines: Iterable[PricedLine]) -> frozenset[str]:
    return frozenset(line.item.unspsc for line in lines if line.item.unspsc)


def suppliers(lines: Iterable[PricedLine]) -> frozenset[str]:
    return frozenset(line.item.supplier_id for line in lines if line.item.supplier_id)


def items_by_id(items: Iterable[Item]) -> Mapping[str, Item]:
    return {item.id: item for item in items}
