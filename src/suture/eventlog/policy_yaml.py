"""Reading a policy from YAML *nodes*, so that every error can name the line it is about.

``yaml.compose`` keeps each node's ``start_mark``; reading nodes rather than constructed Python
values also lets us refuse duplicate keys (which ``safe_load`` silently overwrites) and read
scalars as the text written, away from YAML 1.1's ``no`` → false surprises.

Errors are :class:`RoutingPolicyError` unless another policy's error is given (``error``): any
class taking ``(field, reason, *, source=, line=)``, like the approval policy's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NoReturn, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from suture.eventlog.errors import RoutingPolicyError

_NULL = "tag:yaml.org,2002:null"
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})


class PolicyErrorFactory(Protocol):
    """An error class of a policy document: ``source:line: field: reason``."""

    def __call__(
        self, field: str, reason: str, *, source: str, line: int | None = None
    ) -> Exception: ...


def compose(text: str, source: str, *, error: PolicyErrorFactory = RoutingPolicyError) -> Node:
    """The node tree of a single YAML document; YAML syntax errors keep their line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line = None if mark is None else mark.line + 1
        raise error("yaml", str(problem.problem), source=source, line=line) from problem
    except yaml.YAMLError as problem:
        raise error("yaml", str(problem), source=source) from problem
    if root is None:
        raise error("rules", "the document is empty", source=source, line=1)
    return root


class NodeReader:
    """Typed reads of nodes; each failure is a :class:`RoutingPolicyError` (or the policy's own
    ``error``) at the node's line."""

    def __init__(self, source: str, *, error: PolicyErrorFactory = RoutingPolicyError) -> None:
        self.source = source
        self._error = error

    def fail(self, node: Node, field: str, reason: str) -> NoReturn:
        raise self._error(field, reason, source=self.source, line=node.start_mark.line + 1)

    def mapping(
        self,
        node: Node,
        field: str,
        *,
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> dict[str, tuple[Node, Node]]:
        """Key text → (key node, value node); unknown, duplicate and missing keys refused."""
        if not isinstance(node, MappingNode):
            self.fail(node, field, "must be a mapping")
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            key = self.text(key_node, field)
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.fail(key_node, f"{field}.{key}", f"unknown key; expected one of {expected}")
            if key in entries:
                self.fail(key_node, f"{field}.{key}", "duplicate key")
            entries[key] = (key_node, value_node)
        for key in sorted(required):
            if key not in entries:
                self.fail(node, f"{field}.{key}", "missing")
        return entries

    def sequence(self, node: Node, field: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.fail(node, field, "must be a list")
        return list(node.value)

    def text(self, node: Node, field: str) -> str:
        if not isinstance(node, ScalarNode):
            self.fail(node, field, "must be a single value")
        if node.tag == _NULL or not str(node.value).strip():
            self.fail(node, field, "is empty")
        return str(node.value)

    def items(self, node: Node, field: str) -> list[tuple[str, str, Node]]:
        """(text, field, node) of a single value or of each of a non-empty list of values."""
        if isinstance(node, ScalarNode):
            return [(self.text(node, field), field, node)]
        nodes = self.sequence(node, field)
        if not nodes:
            self.fail(node, field, "is an empty list")
        fields = [f"{field}[{index}]" for index in range(len(nodes))]
        return [(self.text(item, at), at, item) for at, item in zip(fields, nodes, strict=True)]

    def texts(self, node: Node, field: str) -> tuple[str, ...]:
        """A single value or a non-empty list of values."""
        return tuple(text for text, _, _ in self.items(node, field))

    def decimal(self, node: Node, field: str) -> Decimal:
        text = self.text(node, field)
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fail(node, field, f"{text!r} is not a number")
        if not value.is_finite():
            self.fail(node, field, f"{text!r} is not a finite number")
        return value

    def boolean(self, node: Node, field: str) -> bool:
        """``true``/``false`` (also yes/no, on/off), any case."""
        text = self.text(node, field).strip().lower()
        if text in _TRUE:
            return True
        if text not in _FALSE:
            self.fail(node, field, f"{text!r} is not true or false")
        return False
