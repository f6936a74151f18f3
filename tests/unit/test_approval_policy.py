"""The requisition approval policy: YAML read and validated, the first matching rule decides."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from suture.domain.approval import (
    ApprovalConflictError,
    ApprovalDecision,
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalStatus,
    RequisitionApproval,
)
from suture.domain.errors import DomainError
from suture.services.approval_policy import (
    ApprovalPolicyError,
    default_approval_policy_text,
    load_approval_policy,
)

SHIPPED = load_approval_policy(default_approval_policy_text(), "approval.yaml")
AT = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def request(amount: str, **changes: object) -> ApprovalRequest:
    values: dict[str, object] = {
        "facility_id": "FAC-01", "department_id": "FAC-01-OR", "reason": "replenishment",
        "amount": Decimal(amount), "categories": frozenset({"42132203"}),
        "suppliers": frozenset({"SUP-0001"}),
    }  # fmt: skip
    return ApprovalRequest(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (request("999.99"), ApprovalDecision("under-1000-auto", ApprovalOutcome())),
        (request("4000"), ApprovalDecision("par-replenishment-under-5000-auto", ApprovalOutcome())),
        (
            request("4000", off_contract=True),
            ApprovalDecision("everything-else-to-department-manager",
                             ApprovalOutcome("department_manager")),
        ),
        (
            request("4000", reason="department"),
            ApprovalDecision("everything-else-to-department-manager",
                             ApprovalOutcome("department_manager")),
        ),
        (
            request("10", implant=True),
            ApprovalDecision("implants-to-supply-chain-manager",
                             ApprovalOutcome("supply_chain_manager")),
        ),
        (
            request("25000.01", implant=True),
            ApprovalDecision("over-25000-to-cfo", ApprovalOutcome("cfo")),
        ),
    ],
)  # fmt: skip
def test_the_shipped_policy_routes_by_amount_implant_reason_and_contract(
    case: ApprovalRequest, expected: ApprovalDecision
) -> None:
    assert SHIPPED.decide(case) == expected


POLICY = """
- name: cardiology-stents
  match:
    department: ["*-CATH*"]
    item_category: ["4214*"]
  outcome: {approver: cath_lab_director}
- name: north-campus
  match:
    facility: [FAC-02]
    supplier: [SUP-9*]
  outcome: auto
- name: rest
  outcome: {approver: purchasing}
"""


def test_globs_match_department_category_facility_and_any_lines_supplier() -> None:
    policy = load_approval_policy(POLICY, "custom.yaml")
    stents = request("50", department_id="FAC-01-CATH", categories=frozenset({"42140000", "1"}))
    north = request("50", facility_id="FAC-02", suppliers=frozenset({"SUP-0001", "SUP-9001"}))
    neither = request("50", department_id="FAC-01-CATH")

    assert [policy.decide(r).rule for r in (stents, north, neither)] == [
        "cardiology-stents",
        "north-campus",
        "rest",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- name: a\n  match: {amount: {lt: 5}}\n  outcome: auto\n",
         "x.yaml:1: rules[0].match: the last rule must have no match predicates"),
        ("- name: a\n  outcome: maybe\n", "x.yaml:2: rules[0].outcome: 'maybe': write auto"),
        ("- name: a\n  outcome: {approver: Chief Officer}\n",
         "x.yaml:2: rules[0].outcome.approver: 'Chief Officer' is not a role name"),
        ("- name: a\n  match: {implant: perhaps}\n  outcome: auto\n- name: b\n  outcome: auto\n",
         "x.yaml:2: rules[0].match.implant: 'perhaps' is not true or false"),
        ("- name: a\n  match: {reason: urgent}\n  outcome: auto\n- name: b\n  outcome: auto\n",
         "x.yaml:2: rules[0].match.reason: 'urgent' is not one of department, replenishment"),
        ("- name: a\n  match: {amount: {gt: 5, gte: 6}}\n  outcome: auto\n",
         "x.yaml:2: rules[0].match.amount: give gte or gt, and lte or lt, not both"),
        ("- name: a\n  match: {colour: red}\n  outcome: auto\n",
         "x.yaml:2: rules[0].match.colour: unknown key"),
        ("- name: a\n  outcome: auto\n- name: a\n  outcome: auto\n",
         "x.yaml:3: rules[1].name: rule 'a' is defined twice"),
        ("- name: a\n", "x.yaml:1: rules[0].outcome: missing"),
        ("[]", "x.yaml:1: rules: the policy has no rules"),
        ("- name: [", "x.yaml:1: yaml: expected the node content"),
    ],
)  # fmt: skip
def test_a_bad_policy_is_refused_naming_file_line_key_and_reason(text: str, message: str) -> None:
    with pytest.raises(ApprovalPolicyError) as refused:
        load_approval_policy(text, "x.yaml")
    assert str(refused.value).startswith(message)


def approval(status: ApprovalStatus = ApprovalStatus.PENDING) -> RequisitionApproval:
    return RequisitionApproval(
        requisition_id="REQ-1", facility_id="FAC-01", department_id=None, reason="department",
        status=status, amount=Decimal("1200.00"), rule="rest", approver="purchasing",
        created_at=AT, updated_at=AT,
    )  # fmt: skip


def test_an_approval_is_one_way_and_idempotent() -> None:
    approved = approval().approve("pat", AT, "ok")

    assert (approved.status, approved.decided_by, approved.note) == (
        ApprovalStatus.APPROVED,
        "pat",
        "ok",
    )
    assert approved.approve("sam", AT) is approved
    with pytest.raises(ApprovalConflictError, match="status: requisition REQ-1 is approved"):
        approved.reject("sam", AT, "too late")


def test_a_rejection_needs_a_reason_and_cannot_be_approved() -> None:
    with pytest.raises(DomainError, match="reason: a rejection needs a reason"):
        approval().reject("pat", AT, " ")
    rejected = approval().reject("pat", AT, "  over budget ")

    assert rejected.note == "over budget"
    assert rejected.reject("sam", AT, "again") is rejected
    with pytest.raises(ApprovalConflictError):
        rejected.approve("sam", AT)
