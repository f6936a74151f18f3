"""Reading the requisition approval policy from YAML, validated at start-up.

The format, like the routing policy's (``eventlog/routing.py``), is a list of rules; the first
that matches decides (``domain/approval.py``)::

    - name: over-25000-to-cfo
      description: optional, for people
      match:                          # optional; no predicates: matches every requisition
        amount: {gt: 25000}           # gte / gt / lte / lt on the priced total
        facility: [fac-*]             # globs
        department: [DEPT-OR*]        # globs on the requisition's department
        item_category: ["4214*"]      # UNSPSC globs; any line
        supplier: [sup-1]             # globs; any line's item supplier
        reason: replenishment         # replenishment | department
        implant: true                 # any line is an implant
        off_contract: true            # any line has no contract price
      outcome: {approver: cfo}        # or: outcome: auto

A bad document stops start-up with ``file:line: key: reason`` (:class:`ApprovalPolicyError`):
an unknown or duplicate key, a rule defined twice, a malformed amount or role, an unknown
reason, or a last rule that does not match everything. ``SUTURE_APPROVAL_POLICY`` names another
file; the shipped one is ``services/policies/approval.yaml``.
"""

from __future__ import annotations

import re
from importlib import resources

from yaml.nodes import Node, ScalarNode

from suture.domain.approval import (
    REASONS,
    AmountBounds,
    ApprovalOutcome,
    ApprovalPolicy,
    ApprovalRule,
)
from suture.domain.errors import DomainError, SutureError
from suture.eventlog.policy_yaml import NodeReader, compose

_RULE_KEYS = {"name", "description", "match", "outcome"}
_MATCH_KEYS = {
    "amount", "facility", "department", "item_category", "supplier", "reason", "implant",
    "off_contract",
}  # fmt: skip
_BOUNDS = ("gte", "gt", "lte", "lt")
_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,63}")


class ApprovalPolicyError(SutureError):
    """The approval policy document is invalid; the message starts with ``source:line``."""

    def __init__(self, field: str, reason: str, *, source: str, line: int | None = None) -> None:
        super().__init__(field, reason)
        self.source = source
        self.line = line
        where = source if line is None else f"{source}:{line}"
        self.args = (f"{where}: {field}: {reason}",)


def _bounds(reader: NodeReader, node: Node, field: str) -> AmountBounds:
    entries = reader.mapping(node, field, allowed=set(_BOUNDS))
    if not entries:
        reader.fail(node, field, f"needs at least one of {', '.join(_BOUNDS)}")
    bounds = {key: reader.decimal(value, f"{field}.{key}") for key, (_, value) in entries.items()}
    if {"gte", "gt"} <= bounds.keys() or {"lte", "lt"} <= bounds.keys():
        reader.fail(node, field, "give gte or gt, and lte or lt, not both")
    low = bounds.get("gte", bounds.get("gt"))
    high = bounds.get("lte", bounds.get("lt"))
    if low is not None and high is not None and low > high:
        reader.fail(node, field, f"the range is empty: {low} is above {high}")
    return AmountBounds(**bounds)


def _outcome(reader: NodeReader, node: Node, field: str) -> ApprovalOutcome:
    if isinstance(node, ScalarNode):
        text = reader.text(node, field)
        if text != "auto":
            reader.fail(node, field, f"{text!r}: write auto, or {{approver: ROLE}}")
        return ApprovalOutcome()
    entries = reader.mapping(node, field, allowed={"approver"}, required={"approver"})
    role_node = entries["approver"][1]
    role = reader.text(role_node, f"{field}.approver")
    if not _ROLE.fullmatch(role):
        reader.fail(
            role_node, f"{field}.approver",
            f"{role!r} is not a role name (lowercase letters, digits, '_', '-')",
        )  # fmt: skip
    return ApprovalOutcome(approver=role)


def _reasons(reader: NodeReader, node: Node, field: str) -> tuple[str, ...]:
    items = reader.items(node, field)
    for text, at, item in items:
        if text not in REASONS:
            reader.fail(item, at, f"{text!r} is not one of {', '.join(sorted(REASONS))}")
    return tuple(text for text, _, _ in items)


class _RuleReader:
    def __init__(self, reader: NodeReader) -> None:
        self.reader = reader
        self.names: set[str] = set()

    def rule(self, node: Node, field: str) -> ApprovalRule:
        reader = self.reader
        entries = reader.mapping(node, field, allowed=_RULE_KEYS, required={"name", "outcome"})
        name = reader.text(entries["name"][1], f"{field}.name")
        if name in self.names:
            reader.fail(entries["name"][1], f"{field}.name", f"rule {name!r} is defined twice")
        self.names.add(name)
        where = f"{field}.match"
        match = (
            reader.mapping(entries["match"][1], where, allowed=_MATCH_KEYS)
            if "match" in entries
            else {}
        )

        def globs(key: str) -> tuple[str, ...] | None:
            return reader.texts(match[key][1], f"{where}.{key}") if key in match else None

        def flag(key: str) -> bool | None:
            return reader.boolean(match[key][1], f"{where}.{key}") if key in match else None

        description = entries.get("description")
        return ApprovalRule(
            name=name,
            description="" if description is None
            else reader.text(description[1], f"{field}.description"),
            outcome=_outcome(reader, entries["outcome"][1], f"{field}.outcome"),
            amount=_bounds(reader, match["amount"][1], f"{where}.amount")
            if "amount" in match else None,
            facilities=globs("facility"),
            departments=globs("department"),
            item_categories=globs("item_category"),
            suppliers=globs("supplier"),
            reasons=_reasons(reader, match["reason"][1], f"{where}.reason")
            if "reason" in match else None,
            implant=flag("implant"),
            off_contract=flag("off_contract"),
            line=node.start_mark.line + 1,
        )  # fmt: skip


def load_approval_policy(text: str, source: str) -> ApprovalPolicy:
    """Read and validate a policy; :class:`ApprovalPolicyError` says ``source:line: key:
    reason``."""
    reader = NodeReader(source, error=ApprovalPolicyError)
    rules = _RuleReader(reader)
    root = compose(text, source, error=ApprovalPolicyError)
    nodes = reader.sequence(root, "rules")
    if not nodes:
        reader.fail(root, "rules", "the policy has no rules")
    parsed = tuple(rules.rule(node, f"rules[{index}]") for index, node in enumerate(nodes))
    try:
        return ApprovalPolicy(source, parsed)
    except DomainError as error:
        last = len(nodes) - 1
        raise ApprovalPolicyError(
            f"rules[{last}].match", error.reason, source=source, line=parsed[-1].line
        ) from None


def default_approval_policy_text() -> str:
    """The policy shipped with Suture (``services/policies/approval.yaml``)."""
    return resources.files("suture.services").joinpath("policies/approval.yaml").read_text("utf-8")
