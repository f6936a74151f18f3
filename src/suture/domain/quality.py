"""Declarative data-quality rules for master data, returning findings instead of raising.

A rule set per object type lists rules of four kinds: *required* (the field has a value),
*format* (a validator such as the GTIN check digit accepts it), *referential* (the id it holds
exists) and *plausibility* (a predicate over the whole object). Evaluating an object yields
:class:`Finding` rows ``(object, id, field, reason, severity)`` that a report or a work queue shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from suture.domain import identifiers
from suture.domain.authority import ObjectType
from suture.domain.errors import DomainError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    object_type: str
    object_id: str
    field: str
    reason: str
    severity: Severity


class References(Protocol):
    """Answers whether a canonical id of a type exists (the report loads the ids once)."""

    def exists(self, object_type: ObjectType, object_id: str) -> bool: ...


class Rule(Protocol):
    @property
    def field(self) -> str: ...

    @property
    def severity(self) -> Severity: ...

    def check(self, obj: object, refs: References) -> Iterator[str]:
        """Yield a reason for each way ``obj`` breaks the rule."""
        ...


def _values(obj: object, name: str) -> list[object]:
    value = getattr(obj, name)
    if value is None or value == "":
        return []
    if isinstance(value, tuple | list | frozenset | set):
        return [v for v in value if v not in (None, "")]
    return [value]


@dataclass(frozen=True, slots=True)
class Required:
    field: str
    severity: Severity = Severity.ERROR

    def check(self, obj: object, refs: References) -> Iterator[str]:
        if not _values(obj, self.field):
            yield "is required"


@dataclass(frozen=True, slots=True)
class Format:
    """Each value of the field must pass ``validator`` (which raises :class:`DomainError`)."""

    field: str
    validator: Callable[[str], object]
    severity: Severity = Severity.ERROR

    def check(self, obj: object, refs: References) -> Iterator[str]:
        for value in _values(obj, self.field):
            try:
                self.validator(str(value))
            except DomainError as error:
                yield f"{value!r}: {error.reason}"


@dataclass(frozen=True, slots=True)
class Referential:
    field: str
    target: ObjectType
    severity: Severity = Severity.ERROR

    def check(self, obj: object, refs: References) -> Iterator[str]:
        for value in _values(obj, self.field):
            if not refs.exists(self.target, str(value)):
                yield f"refers to unknown {self.target} {value!r}"


@dataclass(frozen=True, slots=True)
class Plausible:
    """``predicate(obj)`` must hold; ``reason`` says what is implausible when it does not."""

    field: str
    predicate: Callable[[object], bool]
    reason: str
    severity: Severity = Severity.WARNING

    def check(self, obj: object, refs: References) -> Iterator[str]:
        if not self.predicate(obj):
            yield self.reason


@dataclass(frozen=True, slots=True)
class RuleSet:
    object_type: ObjectType
    rules: tuple[Rule, ...]

    def evaluate(self, obj: object, refs: References) -> list[Finding]:
        object_id = str(getattr(obj, "id", ""))
        return [
            Finding(str(self.object_type), object_id, rule.field, reason, rule.severity)
            for rule in self.rules
            for reason in rule.check(obj, refs)
        ]


def evaluate_all(
    rule_sets: Mapping[ObjectType, RuleSet],
    objects: Iterable[tuple[ObjectType, object]],
    refs: References,
) -> Iterator[Finding]:
    for object_type, obj in objects:
        rule_set = rule_sets.get(object_type)
        if rule_set is not None:
            yield from rule_set.evaluate(obj, refs)


def _attr(obj: object, name: str) -> object:
    return getattr(obj, name)


def _chargeable_has_cdm(obj: object) -> bool:
    return not _attr(obj, "is_chargeable") or bool(_attr(obj, "cdm_code"))


def _implant_revenue_code(obj: object) -> bool:
    # UB-04 revenue codes for implants: 0275 pacemaker, 0276 intraocular lens, 0278 other
    # implants (0277, between them, is take-home oxygen, not an implant).
    if not _attr(obj, "is_implant") or not _attr(obj, "is_chargeable"):
        return True
    return str(_attr(obj, "revenue_code") or "") in {"0275", "0276", "0278"}


def _consignment_is_implant(obj: object) -> bool:
    return not _attr(obj, "is_consignment") or bool(_attr(obj, "is_implant"))


def _price_plausible(obj: object) -> bool:
    price = _attr(obj, "list_price")
    return price is None or (isinstance(price, Decimal) and Decimal(0) < price < Decimal(1_000_000))


def _par_not_below_reorder_point(obj: object) -> bool:
    par, reorder = _attr(obj, "par"), _attr(obj, "reorder_point")
    return isinstance(par, Decimal) and isinstance(reorder, Decimal) and par >= reorder > 0


def _supplier_identified(obj: object) -> bool:
    return bool(_attr(obj, "gln") or _attr(obj, "hin"))


DEFAULT_RULES: Mapping[ObjectType, RuleSet] = {
    ObjectType.ITEM: RuleSet(
        ObjectType.ITEM,
        (
            Required("description"),
            Required("manufacturer"),
            Required("catalog_number"),
            Required("gtins", Severity.WARNING),
            Format("gtins", identifiers.validate_gtin),
            Format("hibc", identifiers.parse_hibc_primary),
            Format("unspsc", identifiers.validate_unspsc),
            Referential("supplier_id", ObjectType.SUPPLIER),
            Plausible(
                "cdm_code",
                _chargeable_has_cdm,
                "a chargeable item needs a CDM code",
                Severity.ERROR,
            ),
            Plausible(
                "revenue_code",
                _implant_revenue_code,
                "a chargeable implant bills under revenue code 0275, 0276 or 0278",
            ),
            Plausible(
                "is_consignment",
                _consignment_is_implant,
                "consignment is expected only for implants",
            ),
            Plausible("list_price", _price_plausible, "list price outside 0 to 1,000,000"),
        ),
    ),
    ObjectType.SUPPLIER: RuleSet(
        ObjectType.SUPPLIER,
        (
            Required("name"),
            Required("erp_vendor_id", Severity.WARNING),
            Format("gln", identifiers.validate_gln),
            Plausible("gln", _supplier_identified, "a supplier needs a GLN or a HIN"),
        ),
    ),
    ObjectType.DEPARTMENT: RuleSet(
        ObjectType.DEPARTMENT,
        (
            Required("name"),
            Required("facility_id"),
            Required("cost_center_id"),
            Referential("facility_id", ObjectType.FACILITY),
            Referential("cost_center_id", ObjectType.COST_CENTER),
        ),
    ),
    ObjectType.LOCATION: RuleSet(
        ObjectType.LOCATION,
        (
            Required("name"),
            Required("facility_id"),
            Referential("facility_id", ObjectType.FACILITY),
            Referential("department_id", ObjectType.DEPARTMENT),
        ),
    ),
    ObjectType.PAR_LEVEL: RuleSet(
        ObjectType.PAR_LEVEL,
        (
            Required("location_id"),
            Required("item_id"),
            Referential("location_id", ObjectType.LOCATION),
            Referential("item_id", ObjectType.ITEM),
            Plausible(
                "par",
                _par_not_below_reorder_point,
                "par must be at least the reorder point, which must be positive",
                Severity.ERROR,
            ),
        ),
    ),
    ObjectType.CONTRACT: RuleSet(
        ObjectType.CONTRACT,
        (
            Required("number"),
            Required("supplier_id"),
            Referential("supplier_id", ObjectType.SUPPLIER),
        ),
    ),
}
