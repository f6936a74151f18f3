"""A person's decision that a *suspected* duplicate invoice is not a duplicate (DESIGN.md §4).

The three-way match holds an invoice as a ``duplicate_invoice`` when an invoice that reached
matching before it has the same supplier and number, or, a *suspected* duplicate, the same
supplier, PO number, total amount and invoice date under another number
(``domain/matching.py``, "Duplicates"). A suspected duplicate is often genuine: two deliveries
billed on the same day for the same amount. A dismissal of the work item cannot say so, because
the next re-run raises it again, and must not, because a real duplicate would then be paid.

A :class:`DuplicateClearance` is that explicit decision, for one pair: *invoice X is not a
duplicate of invoice Y*, with who decided, when and why. It is scoped to the original the match
named at the time: another invoice that looks the same (a third identical invoice, or an earlier
one that reaches matching later) still holds the invoice, and is cleared, or not, on its own.

:func:`clear_duplicate` is the rule of what may be cleared: only an invoice the match holds as
a duplicate, only of a suspected original (the same supplier and invoice number again is always
a duplicate), and only with a reason. Errors::

    SutureError
    └── DomainError
        └── DuplicateClearanceError     the decision lacks a reason or who took it
            └── NotClearableError       not held as a duplicate, or held for the same number
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from suture.domain.errors import DomainError
from suture.domain.invoicing import Invoice
from suture.domain.matching import Finding, InvoiceMatch

#: Longest reason kept: a decision's why, not a document.
MAX_REASON = 500


class DuplicateClearanceError(DomainError):
    """The decision is not complete: no reason, or no one who took it."""


class NotClearableError(DuplicateClearanceError):
    """The invoice is not held as a suspected duplicate: never matched, held on other findings
    only, matched, or held for the same supplier and invoice number (always a duplicate)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DuplicateClearance:
    """Invoice ``invoice_id`` is not a duplicate of ``original_invoice_id``: who, when, why."""

    invoice_id: str
    original_invoice_id: str
    reason: str
    decided_by: str
    decided_at: datetime

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise DuplicateClearanceError(
                "reason", "required: say why the invoice is not a duplicate"
            )
        if len(self.reason) > MAX_REASON:
            raise DuplicateClearanceError("reason", f"longer than {MAX_REASON} characters")
        if not self.decided_by.strip():
            raise DuplicateClearanceError("decided_by", "required: who decided")
        if self.decided_at.tzinfo is None or self.decided_at.utcoffset() != timedelta(0):
            raise DuplicateClearanceError("decided_at", "must be timezone-aware UTC")

    @property
    def note(self) -> str:
        """The decision in a sentence, as the work queue and ``match show`` say it."""
        return (
            f"not a duplicate of invoice {self.original_invoice_id}: decided by "
            f"{self.decided_by} at {self.decided_at.isoformat()}: {self.reason}"
        )


def clear_duplicate(
    invoice: Invoice,
    match: InvoiceMatch | None,
    original: Invoice | None,
    *,
    reason: str,
    decided_by: str,
    at: datetime,
) -> DuplicateClearance:
    """The decision that ``invoice`` is not a duplicate of the original its ``match`` names
    (``original``, read by the caller from ``match.duplicate_of``), or the refusal, naming the
    field and the reason (:class:`NotClearableError` for the invoice's state)."""
    if match is None:
        raise NotClearableError(
            "status",
            f"invoice {invoice.id} has not been matched yet: it is not held as a duplicate",
        )
    if Finding.DUPLICATE_INVOICE not in match.findings or match.duplicate_of is None:
        held = ", ".join(f.value for f in match.findings) or "nothing"
        raise NotClearableError(
            "status",
            f"invoice {invoice.id} is not held as a duplicate (status {match.status}, held on "
            f"{held}): there is nothing to clear",
        )
    if original is not None and original.number == invoice.number:
        raise NotClearableError(
            "number",
            f"invoice {invoice.id} has the same supplier and invoice number as invoice "
            f"{original.id}: that is always a duplicate and cannot be cleared; only a suspected "
            "duplicate (same PO, amount and date under another number) can",
        )
    return DuplicateClearance(
        invoice_id=invoice.id, original_invoice_id=match.duplicate_of, reason=reason.strip(),
        decided_by=decided_by, decided_at=at,
    )  # fmt: skip
