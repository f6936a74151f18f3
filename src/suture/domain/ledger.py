"""Journal entries that carry cost to the ERP's general ledger, per cost center (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from suture.domain.errors import DomainError, UnbalancedJournalError
from suture.domain.masterdata import SUTURE


@dataclass(slots=True, kw_only=True)
class JournalLine:
    gl_account_id: str
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)
    cost_center_id: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        for name, amount in (("debit", self.debit), ("credit", self.credit)):
            if amount < 0:
                raise DomainError(name, f"must not be negative, got {amount}")
        if (self.debit == 0) == (self.credit == 0):
            raise DomainError("debit", "a line has either a debit or a credit, not both or none")


@dataclass(slots=True, kw_only=True)
class JournalEntry:
    """A balanced journal entry; ``reference`` is the business key it came from."""

    id: str
    facility_id: str
    posting_date: date
    reference: str
    lines: list[JournalLine] = field(default_factory=list)
    source_system: str = SUTURE

    def __post_init__(self) -> None:
        debit = sum((line.debit for line in self.lines), Decimal(0))
        credit = sum((line.credit for line in self.lines), Decimal(0))
        if debit != credit:
            raise UnbalancedJournalError(
                "lines", f"debits {debit} and credits {credit} of {self.reference} differ"
            )
