"""What a usage asks procurement for: a replenishment requisition, or bill-only and restock POs.

DESIGN.md §2 and §4. Two cases, told apart by who owns the stock used:

- **Owned stock** is replenished by par: when a usage leaves the position below the reorder
  point and no replenishment of the item at the location is under way, a requisition asks for
  par minus the position, rounded up to whole purchasing units (a case of 24 is bought whole).
  The usage need not cross the point: stock counted low before the par level was set, or left
  low by a rejected requisition, is replenished by its next usage. One under way (the caller
  decides what is, from the stored requisitions and POs) asks for nothing more, so a shortfall
  raises one requisition however many usages deepen it.
- **Consigned implants** belong to the vendor until used. After use the hospital raises a
  **bill-only PO** to pay the vendor for the unit at the contract price, and a **replenishment
  PO** to restock the consignment, at no charge because the vendor still owns what it ships.

Numbers and ids are derived from the usage id, so a usage that runs again builds the same
documents, which the repositories store by id (insert or replace): never a second requisition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from suture.domain.costing import UnitCost, billing_price
from suture.domain.errors import DomainError
from suture.domain.inventory import StockMove
from suture.domain.masterdata import Item, ParLevel
from suture.domain.purchasing import (
    PurchaseOrder,
    PurchaseOrderKind,
    PurchaseOrderLine,
    Requisition,
    RequisitionLine,
    RequisitionStatus,
)


@dataclass(frozen=True, slots=True)
class Reorder:
    """How much to ask for: ``quantity`` whole ``uom`` units (the item's purchasing unit)."""

    quantity: Decimal
    uom: str


def reorder_for(item: Item, par: ParLevel, move: StockMove, *, under_way: bool) -> Reorder | None:
    """The reorder a move calls for, or None when it left the position at or above the reorder
    point, or a replenishment is ``under_way`` already.

    Par and reorder point are in the par level's unit; the move is in eaches. The position
    after the move may be negative (a stockout): par minus it then covers the shortfall too.
    """
    if move.consigned or under_way:
        return None
    reorder_point = item.packaging.to_each(par.reorder_point, par.uom)
    if not move.after < reorder_point:
        return None
    wanted = item.packaging.to_each(par.par, par.uom) - move.after
    if wanted <= 0:
        return None
    quantity = item.packaging.round_up_to(wanted, item.purchase_uom)
    return Reorder(quantity=quantity, uom=item.purchase_uom)


def requisition_for(
    usage_id: str,
    *,
    facility_id: str,
    location_id: str,
    department_id: str | None,
    item_id: str,
    reorder: Reorder,
    at: datetime,
) -> Requisition:
    """The replenishment requisition a usage raised, named after it; pending approval."""
    return Requisition(
        id=f"REQ-{usage_id}",
        number=f"REQ-{usage_id}",
        facility_id=facility_id,
        department_id=department_id,
        location_id=location_id,
        requested_at=at,
        lines=[
            RequisitionLine(
                line_number=1, item_id=item_id, quantity=reorder.quantity, uom=reorder.uom
            )
        ],
        status=RequisitionStatus.PENDING_APPROVAL,
    )


def consignment_orders(
    usage_id: str,
    *,
    item: Item,
    facility_id: str,
    department_id: str | None,
    eaches: Decimal,
    cost: UnitCost,
    on_date: date,
) -> tuple[PurchaseOrder, PurchaseOrder]:
    """The bill-only PO (pay for what was used) and the replenishment PO (restock it).

    The bill-only line is priced at ``cost``: the contract price when there is one, else the
    last price paid, its line flagged ``off_contract`` (the caller opens the mismatch item).
    Both are in eaches, the unit an implant is used and billed in. The bill-only price is the
    four-place one whose line amount rounds to the usage's accrual (:func:`billing_price`), so
    its invoice clears accrued receipts to the cent.
    """
    if item.supplier_id is None:
        raise DomainError("supplier_id", f"consigned item {item.id} names no vendor")
    price, contract_id = billing_price(cost, eaches), cost.contract_id
    base = item.base_uom

    def order(
        kind: PurchaseOrderKind, prefix: str, unit_price: Decimal, flagged: bool = False
    ) -> PurchaseOrder:
        return PurchaseOrder(
            id=f"{prefix}-{usage_id}",
            number=f"{prefix}-{usage_id}",
            facility_id=facility_id,
            supplier_id=item.supplier_id or "",
            order_date=on_date,
            kind=kind,
            department_id=department_id,
            lines=[PurchaseOrderLine(line_number=1, item_id=item.id, quantity=eaches, uom=base,
                                     unit_price=unit_price, contract_id=contract_id,
                                     off_contract=flagged)],
        )  # fmt: skip

    return (
        order(PurchaseOrderKind.BILL_ONLY, "BO", price, cost.off_contract),
        order(PurchaseOrderKind.REPLENISHMENT, "RP", Decimal(0)),
    )
