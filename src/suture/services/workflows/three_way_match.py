"""The three-way match process manager: invoice ↔ PO ↔ receipts, until approved for payment.

DESIGN.md §4, procure-to-pay. State per invoice id (``invoice_matches``;
``domain/matching.py``'s :class:`~suture.domain.matching.InvoiceMatch`), one bus handler
(routing destination ``three_way_match``) for two events::

    purchasing.invoice.received ──► three_way_match ──► matched: Invoice.status matched,
    purchasing.receipt.recorded ──►  (match, or re-run        AP voucher queued (erp:file),
      (re-runs every held invoice      the PO's held          purchasing.invoice.matched,
       of its PO)                      invoices)              open exceptions resolved
                                                          ──► exception: Invoice.status
                                                              exception, one work-queue item
                                                              per invoice and type

Each run commits the state, the invoice's status, the exceptions, the voucher delivery, the
event and the bus's tracking row in one transaction (DESIGN.md §3 guarantee 2), so a crash
leaves either the whole run or none of it. Exactly once, at every level:

- a redelivered or replayed event: the bus's tracking row;
- a matched invoice is never matched again (its state says so; re-running it is a no-op), and
  its voucher's delivery key ``voucher-APV-<invoice id>`` and the event's idempotency key
  ``invoice-matched:<invoice id>`` are derived from the invoice id;
- two runs on one invoice, or on two invoices of one PO, hold the invoice's and the PO's row
  locks, so they cannot both bill the same received quantity.

Exceptions are keyed on the invoice (correlation id = invoice id) and type, so a re-run that
finds the same problem updates nothing, and a re-run that no longer finds it resolves it.
Their reasons carry invoice and PO numbers, line numbers and amounts: never patient data.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from suture.domain.exceptions import ExceptionType, subject_of
from suture.domain.invoicing import Invoice, InvoiceStatus
from suture.domain.matching import (
    InvoiceMatch,
    MatchIssue,
    Tolerance,
    match_invoice,
    record_outcome,
    tolerance_for,
)
from suture.domain.purchasing import PurchaseOrder
from suture.domain.units import Packaging
from suture.eventlog.envelope import Envelope
from suture.eventlog.events import InvoiceMatched, InvoiceReceived, ReceiptRecorded
from suture.services import exceptions as exception_queue
from suture.services.deliveries import DeliveryQueue
from suture.services.handlers import HandlerContext
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.ap_voucher import voucher_csv
from suture.services.workflows.lookups import WorkflowError, caused_by

#: The routing policy's destination for the match (docs/workflows.md).
THREE_WAY_MATCH = "three_way_match"
INVOICE_RECEIVED = "purchasing.invoice.received"
RECEIPT_RECORDED = "purchasing.receipt.recorded"
INVOICE_MATCHED = "purchasing.invoice.matched"
#: Where AP vouchers go: the file ERP gateway in the embedded default, like journals.
ERP_TARGET = "erp:file"
#: Who the work queue says acted when a re-run resolves an item.
MATCHER = "three-way-match"

#: Publishes an event of the run: (type, payload, idempotency key, correlation id).
Emit = Callable[[str, dict[str, Any], str, str], None]
Batch = Sequence[tuple[Envelope, HandlerContext]]


class UnknownInvoiceError(WorkflowError):
    """No invoice has the id given."""


@dataclass(frozen=True, slots=True)
class MatchRun:
    """One run's result: the state after it, and whether this run did anything."""

    match: InvoiceMatch
    ran: bool


class ThreeWayMatch:
    """The process manager: the bus handler, and :meth:`run` for operators (CLI, API)."""

    def __init__(
        self,
        deliveries: DeliveryQueue,
        default_tolerance: Tolerance | None = None,
        *,
        erp_target: str = ERP_TARGET,
    ) -> None:
        self._deliveries = deliveries
        self._default = default_tolerance or Tolerance()
        self._erp_target = erp_target

    @property
    def default_tolerance(self) -> Tolerance:
        return self._default

    def match_on_event(self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext) -> None:
        """The bus handler: match a received invoice, or re-run a receipt's PO's held invoices."""
        self._handle(envelope, uow, context, _Reads(uow, self._default))

    def match_on_events(self, batch: Batch, uow: UnitOfWork) -> None:
        """The batch form: the same, event after event in one transaction, reading each item's
        packaging and each facility and supplier's tolerance once per batch."""
        reads = _Reads(uow, self._default)
        for envelope, context in batch:
            self._handle(envelope, uow, context, reads)

    def _handle(
        self, envelope: Envelope, uow: UnitOfWork, context: HandlerContext, reads: _Reads
    ) -> None:
        def emit(event_type: str, payload: dict[str, Any], key: str, correlation: str) -> None:
            context.publish(caused_by(context, event_type, payload, idempotency_key=key))

        if envelope.type == INVOICE_RECEIVED:
            received = InvoiceReceived.model_validate(envelope.payload)
            self.run(
                uow, received.invoice_id, at=context.now, emit=emit,
                received_at=envelope.occurred_at, trace_id=envelope.trace_id, reads=reads,
            )  # fmt: skip
        elif envelope.type == RECEIPT_RECORDED:
            recorded = ReceiptRecorded.model_validate(envelope.payload)
            for invoice_id in _open_invoices_of(uow, recorded):
                self.run(uow, invoice_id, at=context.now, emit=emit, trace_id=envelope.trace_id,
                         reads=reads)  # fmt: skip
        else:
            raise WorkflowError("type", f"{THREE_WAY_MATCH} does not handle {envelope.type}")

    def run(
        self,
        uow: UnitOfWork,
        invoice_id: str,
        *,
        at: datetime,
        emit: Emit,
        received_at: datetime | None = None,
        trace_id: str | None = None,
        reads: _Reads | None = None,
        resolutions: Mapping[ExceptionType, str] | None = None,
    ) -> MatchRun:
        """Match the invoice once more within ``uow`` (the caller commits); a matched invoice
        is left as it is. ``received_at`` is when the invoice arrived; an operator's run gives
        none, and a first run then takes the time of the invoice's ``invoice.received`` event
        (else ``at``), so matching by hand before the bus got to it does not shorten the
        invoice cycle time. ``resolutions`` say why an item of a type this run no longer finds
        went away (a person's decision), in place of "no longer found"."""
        reads = reads or _Reads(uow, self._default)
        if not uow.invoice_matches.lock_invoice(invoice_id):
            raise UnknownInvoiceError("invoice_id", f"no invoice {invoice_id!r}")
        previous = uow.invoice_matches.get(invoice_id)
        if previous is not None and previous.is_matched:
            return MatchRun(previous, ran=False)
        invoice = uow.invoices.get(invoice_id)
        if invoice is None:
            raise UnknownInvoiceError("invoice_id", f"no invoice {invoice_id!r}")
        if invoice.status in {InvoiceStatus.APPROVED, InvoiceStatus.PAID}:
            raise WorkflowError(
                "status", f"invoice {invoice_id} is {invoice.status} in the ERP; nothing to match"
            )
        po = _purchase_order(uow, invoice)
        if po is not None:
            uow.invoice_matches.lock_purchase_order(po.id)
        if previous is not None:
            first_seen = previous.received_at
        else:
            first_seen = received_at or _announced_at(uow, invoice) or at
        outcome = match_invoice(
            invoice, purchase_order=po,
            receipts=uow.invoice_matches.receipts_for(po.id) if po else [],
            previously_invoiced=(
                uow.invoice_matches.previously_invoiced(po.id, invoice.id) if po else {}
            ),
            others=uow.invoice_matches.duplicate_candidates(
                invoice_id=invoice.id, supplier_id=invoice.supplier_id, number=invoice.number,
                purchase_order_number=invoice.purchase_order_number,
                invoice_date=invoice.invoice_date,
            ),
            packaging=reads.packaging(invoice, po),
            tolerance=reads.tolerance(invoice.facility_id, invoice.supplier_id),
            received_at=first_seen,
        )  # fmt: skip
        match = record_outcome(
            invoice, outcome, previous, at=at, received_at=first_seen, trace_id=trace_id
        )
        uow.invoice_matches.save(match)
        status = InvoiceStatus.MATCHED if match.is_matched else InvoiceStatus.EXCEPTION
        uow.invoice_matches.set_invoice_status(invoice.id, status)
        reasons = outcome_reasons(match, outcome.issues)
        self._work_queue(uow, invoice, match, reasons, at, resolutions=resolutions or {})
        if match.is_matched:
            self._approve(uow, invoice, match, at, emit)
        return MatchRun(match, ran=True)

    def _work_queue(
        self,
        uow: UnitOfWork,
        invoice: Invoice,
        match: InvoiceMatch,
        reasons: dict[ExceptionType, str],
        at: datetime,
        *,
        resolutions: Mapping[ExceptionType, str],
    ) -> None:
        """One active item per invoice and exception type; resolve the types no longer found."""
        subject = subject_of(correlation_id=invoice.id)
        for item in uow.exceptions.find_open_for_subject(subject, lock=True):
            if item.type not in reasons:
                note = f"three-way match re-run on attempt {match.attempts}: no longer found"
                if match.is_matched:
                    note = f"invoice {invoice.number} matched on attempt {match.attempts}"
                if item.type in resolutions:
                    note = f"{note}; {resolutions[item.type]}"
                uow.exceptions.save(item.resolve(note, by=MATCHER, at=at))
        for kind, reason in reasons.items():
            item = exception_queue.open_exception(
                uow, type=kind, facility_id=invoice.facility_id, reason=reason, at=at,
                correlation_id=invoice.id, trace_id=match.trace_id,
            )  # fmt: skip
            if item.reason != reason:  # found again, with other amounts
                uow.exceptions.save(item.fail_again(reason, by=MATCHER, at=at))

    def _approve(
        self, uow: UnitOfWork, invoice: Invoice, match: InvoiceMatch, at: datetime, emit: Emit
    ) -> None:
        voucher_id = match.voucher_id or f"APV-{invoice.id}"
        self._deliveries.enqueue(
            uow, target=self._erp_target, operation="ap_voucher",
            payload=voucher_csv(invoice, match), idempotency_key=f"voucher-{voucher_id}", at=at,
            facility_id=invoice.facility_id, correlation_id=invoice.id, trace_id=match.trace_id,
        )  # fmt: skip
        payload = InvoiceMatched(
            invoice_id=invoice.id, invoice_number=invoice.number,
            supplier_id=invoice.supplier_id, facility_id=invoice.facility_id,
            purchase_order_id=match.purchase_order_id,
            purchase_order_number=invoice.purchase_order_number, amount=match.matched_amount,
            voucher_id=voucher_id, attempts=match.attempts, received_at=match.received_at,
            matched_at=match.matched_at or at,
        )  # fmt: skip
        emit(
            INVOICE_MATCHED,
            payload.model_dump(mode="json"),
            f"invoice-matched:{invoice.id}",
            invoice.id,
        )


class _Reads:
    """Master data a run reads, each key once per unit of work (a batch is one transaction, so
    the memo never outlives what it read through)."""

    def __init__(self, uow: UnitOfWork, default: Tolerance) -> None:
        self._uow = uow
        self._default = default
        self._packaging: dict[str, Packaging | None] = {}
        self._tolerances: dict[tuple[str, str], Tolerance] = {}

    def packaging(self, invoice: Invoice, po: PurchaseOrder | None) -> dict[str, Packaging]:
        """The packaging of every item the invoice and its PO name (unknown items absent)."""
        item_ids = {line.item_id for line in invoice.lines if line.item_id}
        if po is not None:
            item_ids |= {line.item_id for line in po.lines}
        found = {}
        for item_id in sorted(item_ids):
            if item_id not in self._packaging:
                item = self._uow.items.get(item_id)
                self._packaging[item_id] = None if item is None else item.packaging
            pack = self._packaging[item_id]
            if pack is not None:
                found[item_id] = pack
        return found

    def tolerance(self, facility_id: str, supplier_id: str) -> Tolerance:
        """The tolerance in force for the facility and supplier (most specific rule wins)."""
        key = (facility_id, supplier_id)
        if key not in self._tolerances:
            rules = self._uow.match_tolerances.rules(
                facility_id=facility_id, supplier_id=supplier_id
            )
            self._tolerances[key] = tolerance_for(rules, facility_id, supplier_id, self._default)
        return self._tolerances[key]


def outcome_reasons(match: InvoiceMatch, issues: Sequence[MatchIssue]) -> dict[ExceptionType, str]:
    """The work-queue reason of each exception type the run found (PHI-free)."""
    po = match.purchase_order_number or "none"
    return {
        ExceptionType(issue.finding.value): (
            f"invoice {match.invoice_number} of supplier {match.supplier_id} (PO {po}, amount "
            f"{match.invoice_amount}): {issue.detail}"
        )
        for issue in issues
    }


def _announced_at(uow: UnitOfWork, invoice: Invoice) -> datetime | None:
    """When ``purchasing.invoice.received`` announced the invoice (the edges correlate it by
    PO number, else invoice number), or None if no such event is found."""
    keys = dict.fromkeys(
        k for k in (invoice.purchase_order_number, invoice.number, invoice.id) if k
    )
    times = [
        envelope.occurred_at
        for key in keys
        for envelope in uow.events.by_correlation_id(key)
        if envelope.type == INVOICE_RECEIVED and envelope.payload.get("invoice_id") == invoice.id
    ]
    return min(times, default=None)


def _purchase_order(uow: UnitOfWork, invoice: Invoice) -> PurchaseOrder | None:
    if invoice.purchase_order_number is None:
        return None
    return uow.purchase_orders.by_number(invoice.purchase_order_number)


def _open_invoices_of(uow: UnitOfWork, recorded: ReceiptRecorded) -> builtins.list[str]:
    """The invoices of the receipt's PO (by id, else by number) that a match has held; one
    not yet run waits for its own event, which runs it with the time it was received."""
    number = recorded.purchase_order_number
    if recorded.purchase_order_id is not None:
        po = uow.purchase_orders.get(recorded.purchase_order_id)
        number = po.number if po is not None else number
    if number is None:
        return []
    return uow.invoice_matches.open_invoice_ids(purchase_order_number=number, held_only=True)


__all__ = [
    "ERP_TARGET",
    "INVOICE_MATCHED",
    "INVOICE_RECEIVED",
    "RECEIPT_RECORDED",
    "THREE_WAY_MATCH",
    "MatchRun",
    "ThreeWayMatch",
    "UnknownInvoiceError",
]
