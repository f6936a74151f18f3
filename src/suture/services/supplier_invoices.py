"""A supplier submits an invoice as JSON (the Experience API): the same path as an X12 810.

The body is stored raw in the inbox first (format ``json``, interface ``supplier-api``, source
system the API client). It is then read as the 810 it stands for (the invoice number, date and
PO number of BIG, one IT1 per line with the buyer's item number ``IN`` and the supplier's part
number ``VP``, freight and tax as SAC charges ``D240`` and ``H850``, the facility as N1*ST) and
applied by :func:`~suture.services.supplier_documents.invoice_from_810` and
:func:`~suture.services.supplier_documents.record_invoice`: one transaction stores the invoice
and its ``purchasing.invoice.received`` event and marks the message ``processed``.

An invoice that cannot be filed (its PO is not this supplier's, no facility) is refused with
the field and reason; the message is ``failed`` with a ``malformed_message`` item, so nothing
is lost. The same body posted again is a duplicate: the stored outcome is returned. Errors::

    SutureError
    ├── AccessDeniedError         the invoice's facility is outside the client's (field facility_id)
    └── SupplierInvoiceError      field (purchase_order_number, facility_id, lines) and reason
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from suture.domain.access import AccessDeniedError, Principal
from suture.domain.errors import DomainError, SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.messages import MessageStatus
from suture.formats.x12 import Invoice810, InvoiceLine810
from suture.formats.x12.elements import Party
from suture.formats.x12.invoice_810 import AllowanceOrCharge
from suture.services.clock import Clock
from suture.services.exceptions import open_exception
from suture.services.inbox import Inbox, mark_message
from suture.services.messagebus import MessageBus
from suture.services.supplier_documents import (
    DocumentError,
    Provenance,
    invoice_from_810,
    record_invoice,
)
from suture.services.unit_of_work import UnitOfWork

FORMAT = "json"
INTERFACE = "supplier-api"
#: 810 elements as the API names them, for errors.
_FIELDS = {"BIG04": "purchase_order_number", "IT101": "lines", "IT102": "lines"}


class SupplierInvoiceError(SutureError):
    """A submitted invoice that cannot be filed."""


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    quantity: Decimal
    uom: str
    unit_price: Decimal
    po_line_number: int | None = None
    item_id: str | None = None
    supplier_part_number: str | None = None


@dataclass(frozen=True, slots=True)
class SubmittedInvoice:
    number: str
    invoice_date: date
    lines: Sequence[SubmittedLine]
    purchase_order_number: str | None = None
    facility_id: str | None = None
    freight: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    stated_total: Decimal | None = None


class InvoiceFiled(NamedTuple):
    message_id: str
    invoice_id: str
    duplicate: bool


class SupplierInvoices:
    """Invoices submitted through the supplier API (see the module docstring)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        inbox: Inbox,
        bus: MessageBus,
        clock: Clock,
    ) -> None:
        self._uow = uow_factory
        self._inbox = inbox
        self._bus = bus
        self._clock = clock

    def submit(
        self, raw: bytes, submitted: SubmittedInvoice, *, principal: Principal
    ) -> InvoiceFiled:
        """Store ``raw``, then file ``submitted`` (read from it) for the principal's supplier."""
        supplier_id = principal.supplier_id
        if supplier_id is None:
            raise AccessDeniedError("supplier_id", "this client is not bound to a supplier")
        received = self._inbox.receive(
            raw,
            format=FORMAT,
            interface=INTERFACE,
            source_system=principal.client_id,
            received_at=self._clock(),
            facility_id=submitted.facility_id,
        )
        message = received.message
        at = self._clock()
        try:
            with self._uow() as uow:
                supplier = uow.suppliers.get(supplier_id)
                if supplier is None:
                    raise SupplierInvoiceError("supplier_id", f"no supplier {supplier_id!r}")
                origin = Provenance(
                    message_id=message.id,
                    document_key=f"api/{message.id}",
                    trace_id=message.trace_id,
                    source_system=principal.client_id,
                    supplier=supplier,
                    at=at,
                    facility_id=submitted.facility_id,
                    received_at=message.received_at,
                )
                invoice = invoice_from_810(uow, as_810(submitted), origin)
                if not principal.may_write_facility(invoice.facility_id):
                    raise AccessDeniedError(
                        "facility_id", f"facility {invoice.facility_id} is not one of the client's"
                    )
                if received.is_duplicate and message.status is MessageStatus.PROCESSED:
                    return InvoiceFiled(message.id, invoice.id, True)
                record_invoice(uow, self._bus, invoice, origin)
                if message.status is MessageStatus.RECEIVED:
                    mark_message(uow, message.id, MessageStatus.DECODED, None, at)
                mark_message(
                    uow, message.id, MessageStatus.PROCESSED, None, at,
                    correlation_id=invoice.purchase_order_number or invoice.number,
                    facility_id=invoice.facility_id,
                )  # fmt: skip
                uow.commit()
        except AccessDeniedError as error:
            self._fail(message.id, message.trace_id, None, f"{error.field}: {error.reason}")
            raise
        except (DocumentError, DomainError, SupplierInvoiceError) as error:
            field = _FIELDS.get(error.field, error.field)
            self._fail(
                message.id, message.trace_id, submitted.facility_id, f"{field}: {error.reason}"
            )
            raise SupplierInvoiceError(field, error.reason) from None
        return InvoiceFiled(message.id, invoice.id, received.is_duplicate)

    def _fail(self, message_id: str, trace_id: str, facility_id: str | None, reason: str) -> None:
        at = self._clock()
        with self._uow() as uow:
            current = uow.inbox.get(message_id)
            if current is not None and current.status is not MessageStatus.PROCESSED:
                mark_message(uow, message_id, MessageStatus.FAILED, reason, at)
                open_exception(
                    uow,
                    type=ExceptionType.MALFORMED_MESSAGE,
                    facility_id=facility_id,
                    reason=f"supplier invoice: {reason}",
                    at=at,
                    message_id=message_id,
                    trace_id=trace_id,
                )
                uow.commit()


def as_810(submitted: SubmittedInvoice) -> Invoice810:
    """The 810 a submitted invoice stands for (see the module docstring)."""
    lines = []
    for position, line in enumerate(submitted.lines, start=1):
        product_ids = {}
        if line.item_id:
            product_ids["IN"] = line.item_id
        if line.supplier_part_number:
            product_ids["VP"] = line.supplier_part_number
        lines.append(
            InvoiceLine810(
                line_id=str(line.po_line_number) if line.po_line_number is not None else None,
                quantity=line.quantity,
                uom=line.uom,
                unit_price=line.unit_price,
                position=position,
                product_ids=product_ids,
            )
        )
    charges = tuple(
        AllowanceOrCharge("C", code, amount)
        for code, amount in (("D240", submitted.freight), ("H850", submitted.tax))
        if amount
    )
    parties = (Party("ST", id=submitted.facility_id),) if submitted.facility_id else ()
    return Invoice810(
        control_number="API",
        invoice_date=submitted.invoice_date,
        number=submitted.number,
        lines=tuple(lines),
        po_number=submitted.purchase_order_number,
        parties=parties,
        allowances_charges=charges,
        stated_total=submitted.stated_total,
    )
