"""Sending a purchase order to its supplier: an X12 850 on the outbound delivery queue.

DESIGN.md §3 and §4, "850 to the supplier". :meth:`PurchaseOrderDispatch.queue` runs inside the
caller's unit of work, so the 850 is queued in the transaction that raised the PO (transactional
outbox): both commit, or neither. It

1. reads the supplier's trading-partner profile **with a row lock** (``domain/
   trading_partners.py``); without one it parks the step on ``trading_partner:<supplier>``
   (:func:`partner_dependency`): ``suture partners set`` re-drives it;
2. finds whether the PO's 850 is queued already (idempotency key ``850-<PO number>`` on the
   profile's target) and then does nothing, so a step run again, or the dispatch handler seeing
   a PO its requisition step queued, never sends a second 850 nor spends a control number;
3. takes the partner's next control number (ISA13 and GS06), encodes the 850 with the X12 codec
   (``formats/x12/purchase_order_850.py``) from the hub's ISA identity to the partner's, and
   queues it (operation ``purchase_order_850``, correlation id the PO number).

When the hub has an ERP that takes purchase orders (``erp_target``, set by bootstrap when
``SUTURE_ERP_KIND=tryton``), the PO is also queued to the ERP in the same unit of work
(operation ``purchase_order``, key ``po-<PO number>``, ``services/erp.py``): the ERP owns
purchase orders (DESIGN.md §1), so a consigned implant's bill-only PO is created and confirmed
there, with ``invoice_method = order`` (nothing to ship), the line's cost center being the PO
department's.

The delivery worker sends it through the target's transport (the ``x12`` file drop in the
embedded default); when the target has taken it, :func:`mark_sent` moves the PO to ``sent`` in
the transaction that records the delivery, so a PO is ``sent`` only once it has left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from suture.domain.deliveries import Delivery
from suture.domain.purchasing import PurchaseOrder, PurchaseOrderKind, PurchaseOrderStatus
from suture.eventlog.errors import DependencyKey, MissingDependencyError
from suture.formats.x12.interchange_writer import ControlNumbers, TradingPartnerProfile
from suture.formats.x12.purchase_order_850 import write_850
from suture.services.deliveries import DeliveryQueue
from suture.services.erp import (
    OPERATION_PURCHASE_ORDER,
    ErpOrderLine,
    ErpPurchaseOrder,
    InvoiceMethod,
    purchase_order_json,
)
from suture.services.unit_of_work import UnitOfWork

#: The delivery operation of an outbound 850.
OPERATION_850 = "purchase_order_850"


def partner_dependency(supplier_id: str) -> DependencyKey:
    """What a PO step parks on when its supplier has no trading-partner profile."""
    return DependencyKey("trading_partner", supplier_id)


def idempotency_key(po_number: str) -> str:
    """The 850's delivery key (also its file name in a file drop)."""
    return f"850-{po_number}"


@dataclass(frozen=True, slots=True)
class X12Identity:
    """The hub's own ISA qualifier and id (ISA05/ISA06) and its GS02 application id."""

    qualifier: str = "ZZ"
    id: str = "SUTURE"
    application_id: str | None = None


class PurchaseOrderDispatch:
    """Queues 850s to suppliers' trading partners (bootstrap wires the hub's identity)."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        identity: X12Identity | None = None,
        *,
        erp_target: str | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._identity = identity or X12Identity()
        self._erp_target = erp_target

    def queue(
        self, uow: UnitOfWork, po: PurchaseOrder, *, at: datetime, trace_id: str | None = None
    ) -> Delivery | None:
        """Queue ``po``'s 850 within ``uow``; None when it was queued already."""
        partner = uow.trading_partners.get(po.supplier_id, lock=True)
        if partner is None:
            raise MissingDependencyError(
                partner_dependency(po.supplier_id),
                f"no trading-partner profile for supplier {po.supplier_id}: PO {po.number} "
                "cannot be sent; set one with `suture partners set`",
            )
        key = idempotency_key(po.number)
        if uow.deliveries.by_idempotency_key(partner.target, key) is not None:
            return None
        if self._erp_target is not None:
            self._queue_to_erp(uow, po, self._erp_target, at=at, trace_id=trace_id)
        number = partner.next_control_number()
        identity = self._identity
        profile = TradingPartnerProfile(
            sender_qualifier=identity.qualifier, sender_id=identity.id,
            receiver_qualifier=partner.isa_qualifier, receiver_id=partner.isa_id,
            version=partner.x12_version, usage_indicator=partner.usage_indicator,
            application_sender=identity.application_id, application_receiver=partner.gs_id,
            segment_terminator="~\n",
        )  # fmt: skip
        payload = write_850(po, profile, ControlNumbers(number, number), at)
        uow.trading_partners.save(replace(partner, last_control_number=number, updated_at=at))
        return self._deliveries.enqueue(
            uow, target=partner.target, operation=OPERATION_850, payload=payload,
            idempotency_key=key, at=at, facility_id=po.facility_id, correlation_id=po.number,
            trace_id=trace_id,
        )  # fmt: skip

    def _queue_to_erp(
        self,
        uow: UnitOfWork,
        po: PurchaseOrder,
        target: str,
        *,
        at: datetime,
        trace_id: str | None,
    ) -> None:
        cost_center = None
        if po.department_id is not None:
            department = uow.departments.get(po.department_id)
            cost_center = department.cost_center_id if department is not None else None
        order = ErpPurchaseOrder(
            number=po.number, supplier_id=po.supplier_id, facility_id=po.facility_id,
            order_date=po.order_date,
            invoice_method=(
                InvoiceMethod.ORDER if po.kind is PurchaseOrderKind.BILL_ONLY
                else InvoiceMethod.FULFILLMENT
            ),
            lines=tuple(
                ErpOrderLine(
                    line=line.line_number, item_id=line.item_id, quantity=line.quantity,
                    uom=line.uom, unit_price=line.unit_price, cost_center_id=cost_center,
                )
                for line in po.lines
            ),
        )  # fmt: skip
        self._deliveries.enqueue(
            uow, target=target, operation=OPERATION_PURCHASE_ORDER,
            payload=purchase_order_json(order), idempotency_key=f"po-{po.number}", at=at,
            facility_id=po.facility_id, correlation_id=po.number, trace_id=trace_id,
        )  # fmt: skip


def mark_sent(uow: UnitOfWork, delivery: Delivery, at: datetime) -> None:
    """The delivery worker's hook for a delivered 850: its PO (still a draft) is now ``sent``."""
    if delivery.correlation_id is None:
        return
    po = uow.purchase_orders.by_number(delivery.correlation_id)
    if po is None or po.status is not PurchaseOrderStatus.DRAFT:
        return
    po.status = PurchaseOrderStatus.SENT
    uow.purchase_orders.add(po)
