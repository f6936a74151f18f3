"""Requisition approval: the rules that route a requisition, and the state of its approval.

DESIGN.md §4, "requisition → approval routing (rules by amount, department, category)". An
:class:`ApprovalPolicy` is an ordered list of :class:`ApprovalRule`; the **first** rule whose
every predicate holds decides the :class:`ApprovalOutcome`: approved automatically, or pending
approval by a named approver role (which is also the work list the requisition waits in). The
policy is read from YAML by ``services/approval_policy.py``; here it is only evaluated, on an
:class:`ApprovalRequest` the workflow builds from the requisition priced from the contract.

A requisition's :class:`RequisitionApproval` is the process manager's state, one per
requisition: pending, approved, rejected, then ordered once its purchase orders are raised.
Decisions are one-way: approving an approved requisition again changes nothing; approving a
rejected one, or rejecting an approved one, is refused with :class:`ApprovalConflictError`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from suture.domain.errors import DomainError, SutureError

#: The reasons a requisition is raised for (``purchasing.requisition.raised``).
REASONS = frozenset({"replenishment", "department"})


class ApprovalConflictError(SutureError):
    """The decision asked for contradicts the one already taken (field ``status``)."""


class ApprovalStatus(StrEnum):
    PENDING = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    ORDERED = "ordered"


@dataclass(frozen=True, slots=True)
class AmountBounds:
    """Bounds on the requisition total; a bound that is None does not constrain."""

    gte: Decimal | None = None
    gt: Decimal | None = None
    lte: Decimal | None = None
    lt: Decimal | None = None

    def __contains__(self, amount: Decimal) -> bool:
        return (
            (self.gte is None or amount >= self.gte)
            and (self.gt is None or amount > self.gt)
            and (self.lte is None or amount <= self.lte)
            and (self.lt is None or amount < self.lt)
        )


@dataclass(frozen=True, slots=True)
class ApprovalOutcome:
    """Approved by the policy itself (``approver`` None), or waiting for ``approver``."""

    approver: str | None = None

    @property
    def automatic(self) -> bool:
        return self.approver is None

    def __str__(self) -> str:
        return "auto" if self.approver is None else f"approver {self.approver}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRequest:
    """What the rules look at: a requisition priced from the contract.

    ``categories`` are the UNSPSC codes of its items, ``implant`` whether any item is an
    implant, ``off_contract`` whether any line had no contract price.
    """

    facility_id: str
    department_id: str | None
    reason: str
    amount: Decimal
    categories: frozenset[str] = frozenset()
    suppliers: frozenset[str] = frozenset()
    implant: bool = False
    off_contract: bool = False


def _globs(value: str | None, globs: tuple[str, ...] | None) -> bool:
    if globs is None:
        return True
    return value is not None and any(fnmatch.fnmatchcase(value, glob) for glob in globs)


def _any_globs(values: Iterable[str], globs: tuple[str, ...] | None) -> bool:
    if globs is None:
        return True
    return any(fnmatch.fnmatchcase(value, glob) for value in values for glob in globs)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRule:
    """One rule: every predicate given must hold (None: not constrained).

    ``item_categories`` and ``suppliers`` hold when *any* line's item matches a glob;
    ``implant`` and ``off_contract`` compare with the request's flags.
    """

    name: str
    outcome: ApprovalOutcome
    amount: AmountBounds | None = None
    facilities: tuple[str, ...] | None = None
    departments: tuple[str, ...] | None = None
    item_categories: tuple[str, ...] | None = None
    suppliers: tuple[str, ...] | None = None
    reasons: tuple[str, ...] | None = None
    implant: bool | None = None
    off_contract: bool | None = None
    description: str = ""
    line: int = 0

    @property
    def catch_all(self) -> bool:
        """True when the rule has no predicate, so every requisition matches it."""
        return all(
            value is None
            for value in (
                self.amount, self.facilities, self.departments, self.item_categories,
                self.suppliers, self.reasons, self.implant, self.off_contract,
            )
        )  # fmt: skip

    def matches(self, request: ApprovalRequest) -> bool:
        return (
            (self.amount is None or request.amount in self.amount)
            and _globs(request.facility_id, self.facilities)
            and _globs(request.department_id, self.departments)
            and _any_globs(request.categories, self.item_categories)
            and _any_globs(request.suppliers, self.suppliers)
            and (self.reasons is None or request.reason in self.reasons)
            and (self.implant is None or request.implant is self.implant)
            and (self.off_contract is None or request.off_contract is self.off_contract)
        )


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """The rule that decided, and what it decided."""

    rule: str
    outcome: ApprovalOutcome


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """Rules in order; the first that matches decides. The last rule must match everything,
    so that every requisition has an outcome (the loader checks it)."""

    source: str
    rules: tuple[ApprovalRule, ...]

    def __post_init__(self) -> None:
        if not self.rules or not self.rules[-1].catch_all:
            raise DomainError(
                "rules", "the last rule must have no match predicates, so every requisition "
                "has an outcome",
            )  # fmt: skip

    def decide(self, request: ApprovalRequest) -> ApprovalDecision:
        for rule in self.rules:
            if rule.matches(request):
                return ApprovalDecision(rule.name, rule.outcome)
        last = self.rules[-1]  # unreachable: the last rule is a catch-all
        return ApprovalDecision(last.name, last.outcome)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequisitionApproval:
    """The approval workflow's state of one requisition (``requisition_approvals``).

    ``amount`` is the total priced from the contract when the policy was applied; ``rule`` the
    policy rule that decided; ``approver`` the role it named (None: approved by the policy).
    ``decided_by`` is who approved or rejected (``policy:<rule>`` for an automatic approval),
    ``note`` why. ``purchase_orders`` are the numbers of the POs raised from it.
    """

    requisition_id: str
    facility_id: str
    department_id: str | None
    reason: str
    status: ApprovalStatus
    amount: Decimal
    rule: str
    approver: str | None
    created_at: datetime
    updated_at: datetime
    off_contract: bool = False
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    purchase_orders: tuple[str, ...] = field(default_factory=tuple)
    trace_id: str | None = None

    def approve(self, by: str, at: datetime, note: str | None = None) -> RequisitionApproval:
        """Approved by ``by``; the same requisition approved again is returned unchanged."""
        if self.status in (ApprovalStatus.APPROVED, ApprovalStatus.ORDERED):
            return self
        if self.status is not ApprovalStatus.PENDING:
            raise ApprovalConflictError(
                "status", f"requisition {self.requisition_id} is {self.status}: cannot approve"
            )
        return replace(self, status=ApprovalStatus.APPROVED, decided_by=by, decided_at=at,
                       note=note, updated_at=at)  # fmt: skip

    def reject(self, by: str, at: datetime, reason: str) -> RequisitionApproval:
        """Rejected by ``by`` for ``reason`` (required); rejecting again changes nothing."""
        if not reason.strip():
            raise DomainError("reason", "a rejection needs a reason")
        if self.status is ApprovalStatus.REJECTED:
            return self
        if self.status is not ApprovalStatus.PENDING:
            raise ApprovalConflictError(
                "status", f"requisition {self.requisition_id} is {self.status}: cannot reject"
            )
        return replace(self, status=ApprovalStatus.REJECTED, decided_by=by, decided_at=at,
                       note=reason.strip(), updated_at=at)  # fmt: skip

    def ordered(self, numbers: Iterable[str], at: datetime) -> RequisitionApproval:
        if self.status is not ApprovalStatus.APPROVED:
            raise ApprovalConflictError(
                "status", f"requisition {self.requisition_id} is {self.status}: cannot order"
            )
        return replace(self, status=ApprovalStatus.ORDERED, purchase_orders=tuple(numbers),
                       updated_at=at)  # fmt: skip
