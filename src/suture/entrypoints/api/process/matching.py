"""Process API: run or re-run the three-way match of an invoice (docs/workflows.md).

``POST /api/v1/process/invoices/{invoice_id}/match`` matches the invoice against its PO and
receipts now and answers with the outcome, line by line. A matched invoice is never matched
twice: the call then answers with the stored match and ``ran`` false. The caller needs
``process:execute`` and the invoice's facility (a supplier-bound client, its supplier); the
run is recorded in the audit trail (``match.run``), and a refusal too.

``POST /api/v1/process/invoices/{invoice_id}/not-duplicate`` records that an invoice held as a
*suspected* duplicate is not a duplicate of the original its match names, and re-runs it
(``domain/duplicate_clearance.py``). Same scope and facility as the run, but a supplier-bound
client is refused: a supplier does not decide that its own invoice is no duplicate. Recorded in
the audit trail (``match.not_duplicate``) in the decision's transaction; a refusal too: ``409``
for an invoice not held as a duplicate or held for the same invoice number, ``422`` without a
reason, ``404`` for an unknown invoice.

The outcome shape (:class:`InvoiceMatchPublic`) is shared with the supplier Experience API;
the decisions (:class:`DuplicateClearancePublic`) are shown by the Process API only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from suture.bootstrap import Hub
from suture.domain.access import AccessDeniedError, Principal, Scope
from suture.domain.duplicate_clearance import DuplicateClearance
from suture.domain.invoicing import InvoiceStatus
from suture.domain.matching import Finding, InvoiceMatch, MatchStatus
from suture.entrypoints.api.auditing import actor, audited
from suture.entrypoints.api.problems import responses
from suture.entrypoints.api.security import check_record, require
from suture.entrypoints.api.system.params import RecordId
from suture.services.unit_of_work import UnitOfWork
from suture.services.workflows.match_operations import ClearanceRun
from suture.services.workflows.three_way_match import MatchRun

router = APIRouter(
    prefix="/api/v1/process/invoices", tags=["three-way match"],
    responses=responses(400, 401, 403, 422, 429),
)  # fmt: skip

Operator = Annotated[Principal, require(Scope.PROCESS_EXECUTE)]


class MatchLinePublic(BaseModel):
    """One invoice line's match; quantities in eaches, prices per each."""

    model_config = ConfigDict(from_attributes=True)

    line_number: int | None = Field(description="Null: the invoice header (stated total).")
    po_line_number: int | None
    item_id: str | None
    finding: Finding = Field(description="matched, or the exception type the line raised.")
    invoiced_eaches: Decimal
    ordered_eaches: Decimal
    received_eaches: Decimal
    previously_invoiced_eaches: Decimal = Field(
        description="Billed on this PO line by earlier matched invoices."
    )
    po_price_each: Decimal
    invoice_price_each: Decimal
    quantity_variance_eaches: Decimal
    variance_amount: Decimal = Field(description="Money over PO and receipt, to the cent.")
    amount: Decimal = Field(description="The line as billed.")


class InvoiceMatchPublic(BaseModel):
    """An invoice's three-way match: status, exception types, amounts, KPI times, lines."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [{
                "invoice_id": "INV-1", "invoice_number": "84412", "facility_id": "fac-1",
                "supplier_id": "sup-1", "purchase_order_number": "PO-000123",
                "purchase_order_id": "PO-000123", "status": "exception",
                "findings": ["price_variance"], "invoice_amount": "110.00",
                "matched_amount": "0.00", "variance_amount": "10.00", "attempts": 1,
                "received_at": "2025-04-01T09:00:00Z", "matched_at": None,
                "duplicate_of": None, "voucher_id": None, "lines": [],
            }]
        },
    )  # fmt: skip

    invoice_id: str
    invoice_number: str
    facility_id: str
    supplier_id: str
    purchase_order_number: str | None
    purchase_order_id: str | None = Field(description="Null: no PO of the supplier found.")
    status: MatchStatus = Field(description="matched (approved for payment) or exception.")
    findings: list[Finding] = Field(description="The exception types the invoice is held on.")
    invoice_amount: Decimal = Field(description="Lines + freight + tax, to the cent.")
    matched_amount: Decimal = Field(description="Approved for payment (0 while held).")
    variance_amount: Decimal
    attempts: int = Field(description="Runs so far; 1 and matched: touchless.")
    received_at: datetime = Field(description="When the invoice reached matching (cycle time).")
    matched_at: datetime | None = Field(description="When it was approved (cycle time).")
    duplicate_of: str | None = Field(description="The earlier invoice this one repeats.")
    voucher_id: str | None = Field(description="The AP voucher queued for the ERP.")
    lines: list[MatchLinePublic]


class DuplicateClearancePublic(BaseModel):
    """A decision that the invoice is not a duplicate of an original: who, when and why."""

    model_config = ConfigDict(from_attributes=True)

    invoice_id: str
    original_invoice_id: str = Field(description="The invoice it was held as a duplicate of.")
    reason: str = Field(description="Why it is not a duplicate, as the person said.")
    decided_by: str = Field(description="Who decided: the login name, or the API client.")
    decided_at: datetime


class MatchRunPublic(BaseModel):
    """The outcome of a run; ``ran`` false: the invoice was matched already, nothing changed."""

    ran: bool
    match: InvoiceMatchPublic
    duplicate_clearances: list[DuplicateClearancePublic] = Field(
        default_factory=list,
        description="Decisions that the invoice is not a duplicate of an original, oldest first; "
        "a suspected duplicate of another invoice is held all the same.",
    )


class NotDuplicateRequest(BaseModel):
    """Why the invoice, held as a suspected duplicate, is not a duplicate."""

    reason: str = Field(
        min_length=1, max_length=500,
        description="Why it is not a duplicate (kept with the decision and audited).",
    )  # fmt: skip


@router.post(
    "/{invoice_id}/match",
    summary="Run or re-run an invoice's three-way match",
    response_model=MatchRunPublic,
    responses=responses(404),
)
def run_match(request: Request, principal: Operator, invoice_id: RecordId) -> MatchRunPublic:
    """Match the invoice against its PO and receipts now (a matched invoice is left as it is)
    and answer with the outcome, line by line."""
    hub: Hub = request.app.state.hub

    clearances: tuple[DuplicateClearance, ...] = ()

    def run() -> MatchRun:
        nonlocal clearances
        view = hub.matching.show(invoice_id)
        check_record(principal, facility_id=view.invoice.facility_id,
                     supplier_id=view.invoice.supplier_id, write=True)  # fmt: skip
        clearances = view.clearances
        return hub.matching.run(invoice_id)

    done = audited(
        hub, principal, Scope.PROCESS_EXECUTE, "match.run", target=("invoice", invoice_id),
        run=run, after=lambda r: f"status={r.match.status} attempts={r.match.attempts}",
    )  # fmt: skip
    return run_public(done, clearances)


@router.post(
    "/{invoice_id}/not-duplicate",
    summary="Record that a suspected duplicate invoice is not a duplicate, and re-run it",
    response_model=MatchRunPublic,
    responses=responses(404, 409),
)
def clear_duplicate(
    request: Request, principal: Operator, invoice_id: RecordId, body: NotDuplicateRequest
) -> MatchRunPublic:
    """The invoice, held as a suspected duplicate (same supplier, PO, amount and date under
    another number), is not a duplicate of the invoice its match names: the decision is kept
    with who, when and why, and the invoice is re-run at once (it may match, or stay held on
    other findings). Only that original is cleared: another look-alike still holds it. `409`
    for an invoice not held as a duplicate, or held for the same invoice number (always a
    duplicate); a supplier-bound client is refused (`403`)."""
    hub: Hub = request.app.state.hub
    action = "match.not_duplicate"
    who = actor(principal, Scope.PROCESS_EXECUTE)

    def audit(uow: UnitOfWork, clearance: DuplicateClearance, run: MatchRun) -> None:
        # in the decision's own transaction: the decision, its re-run and its record commit
        hub.audit.record(
            uow, who, action, target_type="invoice", target_id=invoice_id,
            before=f"duplicate_of={clearance.original_invoice_id}",
            after=f"status={run.match.status} attempts={run.match.attempts}",
            reason=clearance.reason,
        )  # fmt: skip

    def decide() -> ClearanceRun:
        if principal.supplier_id is not None:
            raise AccessDeniedError(
                "supplier_id", "a supplier cannot decide that its own invoice is no duplicate"
            )
        invoice = hub.matching.show(invoice_id).invoice
        check_record(principal, facility_id=invoice.facility_id,
                     supplier_id=invoice.supplier_id, write=True)  # fmt: skip
        return hub.matching.clear_duplicate(
            invoice_id, reason=body.reason, decided_by=principal.client_id, audit=audit
        )

    done = audited(
        hub, principal, Scope.PROCESS_EXECUTE, action, target=("invoice", invoice_id),
        run=decide, success_recorded=True,
    )  # fmt: skip
    return run_public(done.run, done.clearances)


def run_public(run: MatchRun, clearances: Sequence[DuplicateClearance]) -> MatchRunPublic:
    return MatchRunPublic(
        ran=run.ran, match=public(run.match),
        duplicate_clearances=[DuplicateClearancePublic.model_validate(c) for c in clearances],
    )  # fmt: skip


def public(match: InvoiceMatch) -> InvoiceMatchPublic:
    return InvoiceMatchPublic.model_validate(match)


def payment_status(status: InvoiceStatus) -> str:
    """What a supplier wants to know: ``pending`` (not matched yet), ``on_hold`` (held on an
    exception), ``approved_for_payment`` (matched), ``approved``, ``paid``."""
    return {
        InvoiceStatus.RECEIVED: "pending",
        InvoiceStatus.EXCEPTION: "on_hold",
        InvoiceStatus.MATCHED: "approved_for_payment",
        InvoiceStatus.APPROVED: "approved",
        InvoiceStatus.PAID: "paid",
    }[status]
