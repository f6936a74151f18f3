"""The routing policy: declarative rules that send each event to its destinations (DESIGN.md §3).

A policy is a YAML list of rules, validated once at start-up; adding a downstream consumer is a
rule, not code in each application::

    - name: high-value-charges-to-review
      description: optional, for people
      match:
        type: "charge.*"              # fnmatch glob(s) on the dotted type; required
        facility: [fac-1, fac-2]      # globs on payload facility_id, else the envelope's facility
        supplier: [sup-*]             # globs on payload supplier_id
        item_category: ["42*"]        # globs on payload item_category (UNSPSC)
        amount: {gte: 1000, lt: 5000} # bounds on payload amount (a decimal)
      destinations: [revenue_integrity_review]

Every predicate present must hold; a predicate whose payload key is missing or unreadable does
not hold, and routing never raises. ``route`` returns the destinations of every matching rule in
rule order, each once. Globs are ``fnmatch`` patterns, case-sensitive; ``*`` also crosses dots.
Scalars are read as the text written, so ``facility: [no]`` means the facility "no", not false.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from yaml.nodes import Node

from suture.eventlog.envelope import Envelope
from suture.eventlog.policy_yaml import NodeReader, compose

_TYPE_GLOB = re.compile(r"[a-z0-9_.*?\[\]!-]+")
_RULE_KEYS = {"name", "description", "match", "destinations"}
_REQUIRED_RULE_KEYS = {"name", "match", "destinations"}
_MATCH_KEYS = {"type", "facility", "supplier", "item_category", "amount"}
_BOUNDS = ("gte", "gt", "lte", "lt")


def _text_of(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _amount_of(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _any_glob(value: str | None, globs: tuple[str, ...] | None) -> bool:
    if globs is None:
        return True
    return value is not None and any(fnmatch.fnmatchcase(value, glob) for glob in globs)


@dataclass(frozen=True, slots=True)
class AmountRange:
    """Bounds on an amount; a bound that is None does not constrain."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One rule; a predicate that is None does not constrain. ``line`` is where it starts."""

    name: str
    types: tuple[str, ...]
    destinations: tuple[str, ...]
    facilities: tuple[str, ...] | None = None
    suppliers: tuple[str, ...] | None = None
    item_categories: tuple[str, ...] | None = None
    amount: AmountRange | None = None
    description: str = ""
    line: int = 0

    def matches(self, envelope: Envelope) -> bool:
        return self.matches_type(envelope.type) and self.matches_payload(envelope)

    def matches_type(self, event_type: str) -> bool:
        return any(fnmatch.fnmatchcase(event_type, glob) for glob in self.types)

    @property
    def reads_payload(self) -> bool:
        """Whether a predicate other than the type's constrains: else the type alone decides."""
        return not (
            self.facilities is None
            and self.suppliers is None
            and self.item_categories is None
            and self.amount is None
        )

    def matches_payload(self, envelope: Envelope) -> bool:
        """The predicates other than the type's."""
        payload: dict[str, Any] = envelope.payload
        facility = _text_of(payload.get("facility_id")) or envelope.source_facility
        if not (
            _any_glob(facility, self.facilities)
            and _any_glob(_text_of(payload.get("supplier_id")), self.suppliers)
            and _any_glob(_text_of(payload.get("item_category")), self.item_categories)
        ):
            return False
        if self.amount is None:
            return True
        amount = _amount_of(payload.get("amount"))
        return amount is not None and amount in self.amount


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    source: str
    rules: tuple[Rule, ...]
    #: The rules whose type globs match each type seen: a type is matched against the globs
    #: once, and only the payload predicates of those rules are evaluated per event.
    _by_type: dict[str, tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def rules_of_type(self, event_type: str) -> tuple[Rule, ...]:
        """The rules whose type globs match ``event_type``, in order, found once per type."""
        of_type = self._by_type.get(event_type)
        if of_type is None:
            of_type = tuple(rule for rule in self.rules if rule.matches_type(event_type))
            self._by_type[event_type] = of_type
        return of_type

    def matching_rules(self, envelope: Envelope) -> list[Rule]:
        """The rules that match ``envelope``, in order (for traces and dry runs)."""
        of_type = self.rules_of_type(envelope.type)
        return [rule for rule in of_type if rule.matches_payload(envelope)]

    def route(self, envelope: Envelope) -> list[str]:
        """Destinations of every matching rule, in rule order, each named once."""
        destinations = (
            name for rule in self.matching_rules(envelope) for name in rule.destinations
        )
        return list(dict.fromkeys(destinations))


def _amount_range(reader: NodeReader, node: Node, field: str) -> AmountRange:
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
    return AmountRange(**bounds)


def _type_globs(
    reader: NodeReader, node: Node, field: str, event_types: Collection[str] | None
) -> tuple[str, ...]:
    items = reader.items(node, field)
    for glob, at, item in items:
        if not _TYPE_GLOB.fullmatch(glob):
            reader.fail(item, at, f"{glob!r} is not a glob over dotted lowercase event types")
        if event_types is not None and not any(
            fnmatch.fnmatchcase(name, glob) for name in event_types
        ):
            reader.fail(item, at, f"{glob!r} matches no known event type")
    return tuple(glob for glob, _, _ in items)


def _destinations(
    reader: NodeReader, node: Node, field: str, known: Collection[str]
) -> tuple[str, ...]:
    items = reader.items(node, field)
    names = [name for name, _, _ in items]
    for index, (name, at, item) in enumerate(items):
        if name not in known:
            expected = ", ".join(sorted(known)) or "none are registered"
            reader.fail(item, at, f"unknown destination {name!r}; known: {expected}")
        if name in names[:index]:
            reader.fail(item, at, f"{name!r} is listed twice")
    return tuple(names)


class _RuleReader:
    """Reads the rules of one policy, remembering names to refuse a rule defined twice."""

    def __init__(
        self, reader: NodeReader, known: Collection[str], types: Collection[str] | None
    ) -> None:
        self.reader = reader
        self.known = known
        self.types = types
        self.names: set[str] = set()

    def rule(self, node: Node, field: str) -> Rule:
        reader = self.reader
        entries = reader.mapping(node, field, allowed=_RULE_KEYS, required=_REQUIRED_RULE_KEYS)
        name = reader.text(entries["name"][1], f"{field}.name")
        if name in self.names:
            reader.fail(entries["name"][1], f"{field}.name", f"rule {name!r} is defined twice")
        self.names.add(name)
        where = f"{field}.match"
        match = reader.mapping(entries["match"][1], where, allowed=_MATCH_KEYS, required={"type"})

        def globs(key: str) -> tuple[str, ...] | None:
            return reader.texts(match[key][1], f"{where}.{key}") if key in match else None

        description = entries.get("description")
        amount = match.get("amount")
        return Rule(
            name=name,
            description=""
            if description is None
            else reader.text(description[1], f"{field}.description"),
            types=_type_globs(reader, match["type"][1], f"{where}.type", self.types),
            facilities=globs("facility"),
            suppliers=globs("supplier"),
            item_categories=globs("item_category"),
            amount=None if amount is None else _amount_range(reader, amount[1], f"{where}.amount"),
            destinations=_destinations(
                reader, entries["destinations"][1], f"{field}.destinations", self.known
            ),
            line=node.start_mark.line + 1,
        )


def load_policy(
    text: str,
    source: str,
    *,
    destinations: Collection[str],
    event_types: Collection[str] | None = None,
) -> RoutingPolicy:
    """Read and validate a policy; :class:`RoutingPolicyError` says ``source:line: key: reason``.

    ``destinations`` are the names the composition root can deliver to; with ``event_types``
    given, a type glob that matches none of them is refused (a typo would route nothing).
    """
    reader = NodeReader(source)
    rules = _RuleReader(reader, destinations, event_types)
    nodes = reader.sequence(compose(text, source), "rules")
    return RoutingPolicy(
        source, tuple(rules.rule(node, f"rules[{index}]") for index, node in enumerate(nodes))
    )


def default_policy_text() -> str:
    """The policy shipped with Suture (``policies/default.yaml``)."""
    return resources.files("suture.eventlog").joinpath("policies/default.yaml").read_text("utf-8")
