"""Payment status flows from the ERP to Suture (DESIGN.md §1: the ERP pays suppliers).

Suture approves a supplier invoice for payment (the three-way match, ``matched``, then
``approved``) and sends its AP voucher to the ERP; the ERP pays it. :class:`ErpPayments` reads
the ERP's payment status of an invoice (``ErpGateway.payment_status``, outside any
transaction) and shows it beside Suture's own status, changing nothing (:meth:`ErpPayments.show`,
behind ``suture erp payments show`` and the API's ``GET …/payment`` routes, which are safe reads).
:meth:`ErpPayments.sync` (``suture erp payments sync``, and the hub's scheduled ERP pull) asks the
same for every invoice awaiting payment and marks those the ERP paid ``paid`` in Suture (only from
``matched`` or ``approved``: an invoice held on an exception is never paid behind the work
queue's back), so the Supplier Experience API's ``payment_status`` says ``paid`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from suture.domain.errors import SutureError
from suture.domain.invoicing import Invoice, InvoiceStatus
from suture.services.erp import ErpGateway, ErpRefusedError, PaymentState, PaymentStatus
from suture.services.queries import RecordQuery
from suture.services.unit_of_work import UnitOfWork

#: Suture statuses of an invoice approved for payment, that the ERP's ``paid`` may follow.
AWAITING_PAYMENT = (InvoiceStatus.MATCHED, InvoiceStatus.APPROVED)


class UnknownInvoiceError(SutureError):
    """No supplier invoice has this id."""


@dataclass(frozen=True, slots=True)
class InvoicePayment:
    """An invoice as Suture has it and as the ERP reports its payment (after a sync, Suture's
    status is the one the sync left: ``paid`` when it marked it)."""

    invoice_id: str
    invoice_number: str
    supplier_id: str
    status: InvoiceStatus
    erp: PaymentStatus
    #: The ERP's refusal when it could not say (a supplier it does not know): state unknown.
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentSync:
    checked: int
    paid: int


class ErpPayments:
    """Reads the ERP's payment status of supplier invoices into Suture."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], gateway: ErpGateway) -> None:
        self._uow = uow_factory
        self._gateway = gateway

    def show(self, invoice_id: str) -> InvoicePayment:
        """The invoice's payment status in the ERP beside Suture's; a read that changes nothing
        (an invoice the ERP paid shows ``erp.state`` paid until :meth:`sync` marks it)."""
        with self._uow() as uow:
            invoice = uow.invoices.get(invoice_id)
        if invoice is None:
            raise UnknownInvoiceError("invoice_id", f"no supplier invoice {invoice_id!r}")
        return self._read(invoice, settle=False)

    def sync(self, limit: int = 100) -> PaymentSync:
        """Ask the ERP about up to ``limit`` invoices of each status awaiting payment; those it
        paid are marked ``paid``. Returns how many were checked and paid."""
        checked = paid = 0
        for status in AWAITING_PAYMENT:
            with self._uow() as uow:
                waiting = uow.invoices.find(RecordQuery(status=status.value, limit=limit))
            for invoice in waiting:
                checked += 1
                paid += self._read(invoice, settle=True).status is InvoiceStatus.PAID
        return PaymentSync(checked, paid)

    def _read(self, invoice: Invoice, *, settle: bool) -> InvoicePayment:
        note = None
        try:
            erp = self._gateway.payment_status(invoice.number, invoice.supplier_id)
        except ErpRefusedError as refused:  # a supplier the ERP does not know: it cannot say
            erp, note = (
                PaymentStatus(invoice_number=invoice.number, state=PaymentState.UNKNOWN),
                refused.reason,
            )
        status = invoice.status
        if settle and erp.state is PaymentState.PAID and status in AWAITING_PAYMENT:
            status = self._mark_paid(invoice.id)
        return InvoicePayment(
            invoice_id=invoice.id, invoice_number=invoice.number,
            supplier_id=invoice.supplier_id, status=status, erp=erp, note=note,
        )  # fmt: skip

    def _mark_paid(self, invoice_id: str) -> InvoiceStatus:
        with self._uow() as uow:
            current = uow.invoices.get(invoice_id)
            if current is None:
                raise UnknownInvoiceError("invoice_id", f"no supplier invoice {invoice_id!r}")
            if current.status not in AWAITING_PAYMENT:
                return current.status  # changed meanwhile (an exception, or paid already)
            uow.invoices.add(replace(current, status=InvoiceStatus.PAID))
            uow.commit()
        return InvoiceStatus.PAID
