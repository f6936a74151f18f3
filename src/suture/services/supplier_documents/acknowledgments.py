"""855 purchase order acknowledgment → PO lines acknowledged (docs/workflows.md).

Each PO1 line's first ACK01 code becomes a :class:`~suture.domain.purchasing.LineAcknowledgment`;
the price is ACK's CTP, else PO104, so a price changed without saying so is caught too. A
rejected or repriced line opens a ``po_acknowledgment_discrepancy`` item with the PO number,
line and amounts. The PO is ``acknowledged``; event ``purchasing.order.acknowledged``.
"""

from __future__ import annotations

from suture.domain.exceptions import ExceptionType
from suture.domain.purchasing import LineAcknowledgment, LineAnswer, PurchaseOrder
from suture.formats.x12 import PurchaseOrderAcknowledgment855
from suture.formats.x12.po_acknowledgment_855 import AcknowledgedLine
from suture.services.exceptions import open_exception
from suture.services.messagebus import MessageBus
from suture.services.supplier_documents.common import (
    DocumentError,
    Provenance,
    po_line_for,
    publish,
    supplier_po,
)
from suture.services.unit_of_work import UnitOfWork

ORDER_ACKNOWLEDGED = "purchasing.order.acknowledged"

#: ACK01 line status codes (X12 element 668) in business terms; a code not listed is "changed".
ACK_CODES: dict[str, LineAcknowledgment] = {
    **dict.fromkeys(("IA", "AC", "AR", "DR", "SP"), LineAcknowledgment.ACCEPTED),
    **dict.fromkeys(("IB", "BP"), LineAcknowledgment.BACKORDERED),
    **dict.fromkeys(("IR", "ID", "R1", "R2", "R3", "R4"), LineAcknowledgment.REJECTED),
    "IP": LineAcknowledgment.PRICE_CHANGED,
    "IQ": LineAcknowledgment.QUANTITY_CHANGED,
    **dict.fromkeys(("IC", "IS"), LineAcknowledgment.CHANGED),
    **dict.fromkeys(("IF", "IH", "IW"), LineAcknowledgment.ON_HOLD),
}
#: BAK02 acknowledgment types that reject the whole PO when a line carries no ACK.
_REJECTING_TYPES = frozenset({"RD", "RJ", "RF", "RO"})


def apply_acknowledgment(
    uow: UnitOfWork, bus: MessageBus, ack: PurchaseOrderAcknowledgment855, origin: Provenance
) -> PurchaseOrder | None:
    """Update the PO the 855 answers; None (and ``not_on_po``) when the hub has no such PO."""
    po = supplier_po(uow, ack.po_number, origin, "BAK03", "acknowledgment")
    if po is None:
        return None
    answers = [_answer(po, line, ack.acknowledgment_type) for line in ack.lines]
    discrepancies = po.acknowledge(answers)
    uow.purchase_orders.add(po)
    for discrepancy in discrepancies:
        open_exception(
            uow,
            type=ExceptionType.PO_ACKNOWLEDGMENT_DISCREPANCY,
            facility_id=po.facility_id,
            reason=discrepancy.describe(po.number),
            at=origin.at,
            correlation_id=f"{po.number}/line {discrepancy.line_number}",
            trace_id=origin.trace_id,
        )
    counts = dict.fromkeys(("accepted", "changed", "backordered", "rejected"), 0)
    for answer in answers:
        counts[_bucket(answer.acknowledgment)] += 1
    payload = {
        "purchase_order_id": po.id,
        "purchase_order_number": po.number,
        "facility_id": po.facility_id,
        "supplier_id": po.supplier_id,
        **{f"{kind}_lines": count for kind, count in counts.items()},
    }
    publish(uow, bus, ORDER_ACKNOWLEDGED, payload, po.number, origin, po.facility_id,
             po.id, origin.document_key)  # fmt: skip
    return po


def _bucket(acknowledgment: LineAcknowledgment) -> str:
    if acknowledgment is LineAcknowledgment.ACCEPTED:
        return "accepted"
    if acknowledgment is LineAcknowledgment.BACKORDERED:
        return "backordered"
    if acknowledgment is LineAcknowledgment.REJECTED:
        return "rejected"
    return "changed"


def _answer(po: PurchaseOrder, acknowledged: AcknowledgedLine, ack_type: str) -> LineAnswer:
    order_line = acknowledged.line
    line_number = po_line_for(po, order_line.line_id, order_line.product_ids)
    if line_number is None:
        raise DocumentError(
            "PO101", f"PO {po.number} has no line {order_line.line_id or '(none)'} "
            f"(segment {order_line.position})",
        )  # fmt: skip
    if acknowledged.statuses:
        status = acknowledged.statuses[0]
        kind = ACK_CODES.get(status.code, LineAcknowledgment.CHANGED)
        price = status.unit_price if status.unit_price is not None else order_line.unit_price
        return LineAnswer(
            line_number=line_number,
            acknowledgment=kind,
            quantity=status.quantity,
            unit_price=price,
            expected_date=status.date,
        )
    kind = (
        LineAcknowledgment.REJECTED if ack_type in _REJECTING_TYPES else LineAcknowledgment.ACCEPTED
    )
    return LineAnswer(line_number=line_number, acknowledgment=kind,
                      quantity=order_line.quantity, unit_price=order_line.unit_price)  # fmt: skip
