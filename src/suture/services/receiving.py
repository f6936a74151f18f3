"""Receiving at the dock: an expected receipt (a supplier's 856) confirmed, stock moved, the PO
advanced (DESIGN.md §4, "receipts update stock").

:meth:`Receiving.receive` confirms one expected receipt, in full or with the quantity counted
per ship-notice line, in one transaction:

1. a :class:`~suture.domain.purchasing.Receipt` against the PO lines, with lot, serial and
   expiry from the notice (its id derives from the expected receipt: confirming twice is
   refused, never counted twice);
2. stock at the receiving location rises by each line's quantity converted to the item's base
   unit (eaches), into consigned stock for a consignment item, else owned stock
   (:func:`~suture.domain.inventory.restock`), each position read with a row lock;
3. the PO lines count the quantity (converted to the PO line's unit) and the PO becomes
   ``partially_received`` or ``received``;
4. event ``purchasing.receipt.recorded``, which the three-way match consumes;
   a PO line received beyond what was open on it (more than ordered, or than remains after
   earlier receipts) also opens one ``quantity_variance`` item for the receipt naming the lines
   and quantities: the receipt is kept as counted (the goods are on the dock), and the match
   bills no more than was ordered;
5. with an ERP that keeps purchase orders, a ``receipt`` delivery to it, each line's quantity
   in its PO line's unit (the dock may count eaches of a line ordered in boxes).

A unit the item's packaging cannot convert refuses the receipt, naming the line and the units.

The receiving location is the one named, else the facility's only central-supply (or else
only warehouse) location. Errors::

    SutureError
    └── ReceivingError                 field and reason; 404 when the notice is unknown
        └── UnknownExpectedReceiptError
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from suture.domain.errors import SutureError, UnitConversionError
from suture.domain.exceptions import ExceptionType
from suture.domain.inventory import restock
from suture.domain.masterdata import Item, LocationKind
from suture.domain.purchasing import (
    ExpectedReceipt,
    ExpectedReceiptLine,
    ExpectedReceiptStatus,
    OverReceipt,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
)
from suture.eventlog.ids import idempotency_key
from suture.services import exceptions as exception_queue
from suture.services.clock import Clock
from suture.services.deliveries import DeliveryQueue
from suture.services.erp import OPERATION_RECEIPT, ErpReceipt, ErpReceiptLine, receipt_json
from suture.services.messagebus import MessageBus
from suture.services.supplier_documents import stable_id
from suture.services.unit_of_work import UnitOfWork

RECEIPT_RECORDED = "purchasing.receipt.recorded"
_DEFAULT_KINDS = (LocationKind.CENTRAL_SUPPLY, LocationKind.WAREHOUSE)


class ReceivingError(SutureError):
    """A receipt that cannot be recorded as asked."""


class UnknownExpectedReceiptError(ReceivingError):
    """No expected receipt (ship notice) has this id."""


@dataclass(frozen=True, slots=True)
class Received:
    """A confirmed receipt and the PO lines it received beyond what was open on them."""

    receipt: Receipt
    over_receipts: tuple[OverReceipt, ...] = ()


class Receiving:
    """Dock receipts of expected receipts; each call is one transaction."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        bus: MessageBus,
        clock: Clock,
        *,
        deliveries: DeliveryQueue | None = None,
        erp_target: str | None = None,
    ) -> None:
        """``erp_target``: the ERP that keeps purchase orders (``erp:tryton``; None for a
        file ERP, which gets no POs): each receipt is queued to it, in the receipt's
        transaction, so the ERP's purchase shows the goods received (docs/erp.md)."""
        self._uow = uow_factory
        self._bus = bus
        self._clock = clock
        self._deliveries = deliveries or DeliveryQueue()
        self._erp_target = erp_target

    def expected(self, expected_receipt_id: str) -> ExpectedReceipt:
        """The expected receipt, for a caller that must check its facility first."""
        with self._uow() as uow:
            found = uow.expected_receipts.get(expected_receipt_id)
        if found is None:
            raise _unknown(expected_receipt_id)
        return found

    def receive(
        self,
        expected_receipt_id: str,
        *,
        quantities: Mapping[int, Decimal] | None = None,
        location_id: str | None = None,
        source_system: str = "suture",
    ) -> Receipt:
        """Confirm the expected receipt; ``quantities`` (ship-notice line number → quantity
        counted, in the line's unit; 0: not received) overrides lines, the others are received
        in full."""
        return self.confirm(
            expected_receipt_id, quantities=quantities, location_id=location_id,
            source_system=source_system,
        ).receipt  # fmt: skip

    def confirm(
        self,
        expected_receipt_id: str,
        *,
        quantities: Mapping[int, Decimal] | None = None,
        location_id: str | None = None,
        source_system: str = "suture",
    ) -> Received:
        """:meth:`receive`, also saying which PO lines it received beyond what was open (the
        dock clerk is told at once, beside the work-queue item)."""
        at = self._clock()
        with self._uow() as uow:
            expected = uow.expected_receipts.get(expected_receipt_id)
            if expected is None:
                raise _unknown(expected_receipt_id)
            if expected.status is not ExpectedReceiptStatus.EXPECTED:
                raise ReceivingError(
                    "expected_receipt_id",
                    f"ship notice {expected.number} was received already (receipt "
                    f"{expected.receipt_id})",
                )
            counted = _counted(expected, quantities or {})
            location = self._location(uow, expected.facility_id, location_id)
            po = uow.purchase_orders.get(expected.purchase_order_id)
            receipt = Receipt(
                id=stable_id("receipt", expected.id),
                number=f"RCV-{expected.number}",
                facility_id=expected.facility_id,
                location_id=location,
                received_at=at,
                purchase_order_id=expected.purchase_order_id,
                source_system=source_system,
            )
            per_po_line: dict[int, Decimal] = {}
            to_erp: list[ErpReceiptLine] = []
            for line, quantity in counted:
                item = uow.items.get(line.item_id)
                if item is None:
                    raise ReceivingError(
                        f"lines[{line.line_number}].item_id", f"no item {line.item_id!r}"
                    )
                eaches = _convert(
                    item,
                    quantity,
                    line.uom,
                    item.packaging.base_uom,
                    line=line.line_number,
                    into="stock",
                )
                position = uow.stock.get(location, item.id, lock=True)
                uow.stock.save(
                    restock(position, facility_id=expected.facility_id, location_id=location,
                            item_id=item.id, eaches=eaches, consigned=item.is_consignment, at=at)
                )  # fmt: skip
                receipt.lines.append(
                    ReceiptLine(
                        line_number=len(receipt.lines) + 1,
                        item_id=item.id,
                        quantity=quantity,
                        uom=line.uom,
                        po_line_number=line.po_line_number,
                        lot=line.lot,
                        serial=line.serial,
                        expiry=line.expiry,
                    )
                )
                if po is not None and line.po_line_number is not None:
                    po_uom = po.line(line.po_line_number).uom
                    in_po_uom = _convert(
                        item, quantity, line.uom, po_uom, line=line.line_number,
                        into=f"PO line {line.po_line_number}",
                    )  # fmt: skip
                    per_po_line[line.po_line_number] = (
                        per_po_line.get(line.po_line_number, Decimal(0)) + in_po_uom
                    )
                    to_erp.append(
                        ErpReceiptLine(line=line.po_line_number, item_id=item.id,
                                       quantity=in_po_uom, uom=po_uom)
                    )  # fmt: skip
            if not receipt.lines:
                raise ReceivingError("lines", "nothing was counted as received")
            overs: list[OverReceipt] = []
            if po is not None and per_po_line:
                overs = po.over_receipts(per_po_line)
                po.receive(per_po_line)
                uow.purchase_orders.add(po)
            uow.receipts.add(receipt)
            expected.status = ExpectedReceiptStatus.RECEIVED
            expected.receipt_id = receipt.id
            uow.expected_receipts.add(expected)
            self._publish(uow, receipt, po, expected)
            if po is not None and overs:
                _flag_over_receipt(uow, receipt, po, overs, at)
            if self._erp_target is not None and po is not None:
                self._to_erp(uow, receipt, po, tuple(to_erp), at)
            uow.commit()
        return Received(receipt, tuple(overs))

    def _to_erp(
        self,
        uow: UnitOfWork,
        receipt: Receipt,
        po: PurchaseOrder,
        lines: tuple[ErpReceiptLine, ...],
        at: datetime,
    ) -> None:
        """Queue the receipt to the ERP: its lines in the PO lines' units (``lines``, converted
        through the item's packaging: 20 EA counted on a line ordered in BX of 10 is 2 BX), as
        the ERP's purchase lines count them."""
        assert self._erp_target is not None
        payload = ErpReceipt(
            receipt_id=receipt.id, purchase_order_number=po.number,
            received_on=receipt.received_at.date(), lines=lines,
        )  # fmt: skip
        self._deliveries.enqueue(
            uow, target=self._erp_target, operation=OPERATION_RECEIPT,
            payload=receipt_json(payload), idempotency_key=f"receipt-{receipt.id}", at=at,
            facility_id=receipt.facility_id, correlation_id=po.number,
        )  # fmt: skip

    def _location(self, uow: UnitOfWork, facility_id: str, location_id: str | None) -> str:
        if location_id is not None:
            location = uow.locations.get(location_id)
            if location is None or location.facility_id != facility_id:
                raise ReceivingError(
                    "location_id", f"{location_id!r} is not a location of facility {facility_id}"
                )
            return location.id
        locations = []
        after: str | None = None
        while True:
            page = uow.locations.list(facility_id=facility_id, after=after, limit=500)
            locations += page
            if len(page) < 500:
                break
            after = page[-1].id
        for kind in _DEFAULT_KINDS:
            of_kind = [loc.id for loc in locations if loc.kind is kind]
            if len(of_kind) == 1:
                return of_kind[0]
        raise ReceivingError(
            "location_id",
            f"name the receiving location: facility {facility_id} has no single central-supply "
            "or warehouse location",
        )

    def _publish(
        self, uow: UnitOfWork, receipt: Receipt, po: PurchaseOrder | None, expected: ExpectedReceipt
    ) -> None:
        payload = {
            "receipt_id": receipt.id,
            "purchase_order_id": receipt.purchase_order_id,
            "purchase_order_number": po.number
            if po is not None
            else expected.purchase_order_number,
            "facility_id": receipt.facility_id,
            "location_id": receipt.location_id,
            "line_count": len(receipt.lines),
        }
        envelope = self._bus.envelope(
            RECEIPT_RECORDED,
            payload,
            idempotency_key=idempotency_key(RECEIPT_RECORDED, receipt.id),
            correlation_id=expected.purchase_order_number,
            trace_id=uuid.UUID(receipt.id).hex,
            occurred_at=receipt.received_at,
            source_facility=receipt.facility_id,
        )
        self._bus.publish(uow, envelope)


def _flag_over_receipt(
    uow: UnitOfWork, receipt: Receipt, po: PurchaseOrder, overs: list[OverReceipt], at: datetime
) -> None:
    """One ``quantity_variance`` item for the receipt (subject: the receipt id), naming the PO
    lines received beyond what was open; the receipt, stock and PO counts stand."""
    lines = "; ".join(over.describe() for over in overs)
    exception_queue.open_exception(
        uow, type=ExceptionType.QUANTITY_VARIANCE, facility_id=receipt.facility_id,
        reason=f"over-receipt: receipt {receipt.number} of PO {po.number} received more than "
               f"was open on the PO: {lines}; the three-way match bills no more than ordered",
        at=at, correlation_id=receipt.id, trace_id=uuid.UUID(receipt.id).hex,
    )  # fmt: skip


def _counted(
    expected: ExpectedReceipt, quantities: Mapping[int, Decimal]
) -> list[tuple[ExpectedReceiptLine, Decimal]]:
    for line_number, quantity in quantities.items():
        expected.line(line_number)  # raises DomainError (field line_number) for a stray line
        if quantity < 0:
            raise ReceivingError(
                f"lines[{line_number}]", f"quantity must not be negative, got {quantity}"
            )
    return [
        (line, quantities.get(line.line_number, line.quantity))
        for line in expected.lines
        if quantities.get(line.line_number, line.quantity) > 0
    ]


def _convert(
    item: Item, quantity: Decimal, from_uom: str, to_uom: str, *, line: int, into: str
) -> Decimal:
    """``quantity`` counted in ``from_uom`` in ``to_uom`` (``into`` says for what: the stock,
    a PO line) through the item's packaging; a unit the item does not have refuses the whole
    receipt, naming the ship-notice line and both units (nothing is stored)."""
    try:
        return item.packaging.convert(quantity, from_uom, to_uom)
    except UnitConversionError as error:
        raise ReceivingError(
            f"lines[{line}].uom",
            f"line {line} of item {item.id!r} was counted in {from_uom!r}, which cannot be "
            f"converted to {to_uom!r} ({into}): {error.reason}",
        ) from None


def _unknown(expected_receipt_id: str) -> UnknownExpectedReceiptError:
    return UnknownExpectedReceiptError(
        "expected_receipt_id", f"no expected receipt (ship notice) {expected_receipt_id!r}"
    )
