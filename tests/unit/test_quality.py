"""Data-quality rules: what each kind of rule reports, and the findings of the default rule sets.

The clean records describe a consigned hip implant from Zimmer Biomet, its supplier, the
operating room that uses it and the OR's par level for it; each broken record changes them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from suture.domain.authority import ObjectType
from suture.domain.errors import DomainError
from suture.domain.identifiers import validate_gtin
from suture.domain.masterdata import AccountKind, Department, GLAccount, Item, ParLevel, Supplier
from suture.domain.quality import (
    DEFAULT_RULES,
    Finding,
    Format,
    Plausible,
    Referential,
    Required,
    RuleSet,
    Severity,
    evaluate_all,
)
from suture.domain.units import Packaging, PackagingLevel

ERROR, WARNING = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class KnownIds:
    """A :class:`~suture.domain.quality.References` holding a set of (type, id) pairs."""

    ids: frozenset[tuple[ObjectType, str]]

    def exists(self, object_type: ObjectType, object_id: str) -> bool:
        return (object_type, object_id) in self.ids


REFS = KnownIds(
    frozenset(
        {
            (ObjectType.FACILITY, "fac-1"),
            (ObjectType.COST_CENTER, "cc-or"),
            (ObjectType.LOCATION, "loc-or"),
            (ObjectType.SUPPLIER, "sup-zimmer"),
            (ObjectType.ITEM, "item-hip"),
        }
    )
)

HIP_SHELL = Item(
    id="item-hip",
    description="Acetabular shell, 54 mm",
    manufacturer="Zimmer Biomet",
    catalog_number="00-6202-054-22",
    packaging=Packaging.of([PackagingLevel("EA", 1, gtin="00615375003978")]),
    purchase_uom="EA",
    supplier_id="sup-zimmer",
    hibc="+Z999HIP5400",
    unspsc="42295100",
    is_implant=True,
    is_consignment=True,
    is_chargeable=True,
    cdm_code="27800154",
    hcpcs="C1776",
    revenue_code="0278",
    list_price=Decimal("1450.00"),
)
ZIMMER = Supplier(
    id="sup-zimmer", name="Zimmer Biomet", erp_vendor_id="V-1001", gln="0614141000005"
)
OPERATING_ROOM = Department(
    id="dept-or", facility_id="fac-1", code="OR", name="Operating room", cost_center_id="cc-or"
)
OR_HIP_PAR = ParLevel(
    id="par-1",
    facility_id="fac-1",
    location_id="loc-or",
    item_id="item-hip",
    reorder_point=Decimal(2),
    par=Decimal(4),
    uom="EA",
)


def findings(object_type: ObjectType, obj: object) -> list[Finding]:
    return DEFAULT_RULES[object_type].evaluate(obj, REFS)


def item_finding(field: str, reason: str, severity: Severity = ERROR) -> Finding:
    return Finding("item", "item-hip", field, reason, severity)


# Each kind of rule


@pytest.mark.parametrize("empty", [None, "", ()])
def test_required_reports_an_empty_value(empty: object) -> None:
    assert list(Required("hibc").check(replace(HIP_SHELL, hibc=empty), REFS)) == ["is required"]


def test_required_accepts_a_value() -> None:
    assert list(Required("hibc").check(HIP_SHELL, REFS)) == []


def test_format_reports_each_bad_value_with_the_validators_reason() -> None:
    bad = "00615375003979"
    with pytest.raises(DomainError) as caught:
        validate_gtin(bad)
    two_gtins = Packaging.of(
        [PackagingLevel("EA", 1, gtin="00615375003978"), PackagingLevel("BX", 5, gtin=bad)]
    )
    item = replace(HIP_SHELL, packaging=two_gtins)
    assert list(Format("gtins", validate_gtin).check(item, REFS)) == [
        f"'{bad}': {caught.value.reason}"
    ]


def test_format_skips_an_empty_value() -> None:
    assert list(Format("hibc", validate_gtin).check(replace(HIP_SHELL, hibc=None), REFS)) == []


def test_referential_reports_an_id_that_does_not_exist() -> None:
    item = replace(HIP_SHELL, supplier_id="sup-nobody")
    assert list(Referential("supplier_id", ObjectType.SUPPLIER).check(item, REFS)) == [
        "refers to unknown supplier 'sup-nobody'"
    ]


def test_referential_accepts_an_id_that_exists() -> None:
    assert list(Referential("supplier_id", ObjectType.SUPPLIER).check(HIP_SHELL, REFS)) == []


def test_referential_skips_an_empty_optional_reference() -> None:
    item = replace(HIP_SHELL, supplier_id=None)
    assert list(Referential("supplier_id", ObjectType.SUPPLIER).check(item, REFS)) == []


def test_plausible_reports_its_reason_when_the_predicate_fails() -> None:
    rule = Plausible("list_price", lambda _: False, "list price looks wrong")
    assert list(rule.check(HIP_SHELL, REFS)) == ["list price looks wrong"]


def test_plausible_is_silent_when_the_predicate_holds() -> None:
    rule = Plausible("list_price", lambda _: True, "list price looks wrong")
    assert list(rule.check(HIP_SHELL, REFS)) == []


def test_a_rule_set_turns_each_reason_into_a_finding_with_the_rules_field_and_severity() -> None:
    rules = RuleSet(ObjectType.ITEM, (Required("hibc"), Required("hcpcs", WARNING)))
    item = replace(HIP_SHELL, hibc=None, hcpcs=None)
    assert rules.evaluate(item, REFS) == [
        Finding("item", "item-hip", "hibc", "is required", ERROR),
        Finding("item", "item-hip", "hcpcs", "is required", WARNING),
    ]


def test_evaluate_all_skips_object_types_without_a_rule_set() -> None:
    account = GLAccount(id="gl-1", number="", name="", kind=AccountKind.EXPENSE)
    broken_supplier = replace(ZIMMER, name="")
    objects = [(ObjectType.GL_ACCOUNT, account), (ObjectType.SUPPLIER, broken_supplier)]
    assert list(evaluate_all(DEFAULT_RULES, objects, REFS)) == [
        Finding("supplier", "sup-zimmer", "name", "is required", ERROR)
    ]


# Items


def test_a_clean_item_has_no_findings() -> None:
    assert findings(ObjectType.ITEM, HIP_SHELL) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            {"description": "", "manufacturer": "", "catalog_number": ""},
            [
                item_finding("description", "is required"),
                item_finding("manufacturer", "is required"),
                item_finding("catalog_number", "is required"),
            ],
            id="unnamed",
        ),
        pytest.param(
            {"packaging": Packaging.of([PackagingLevel("EA", 1)])},
            [item_finding("gtins", "is required", WARNING)],
            id="no-gtin",
        ),
        pytest.param(
            {"packaging": Packaging.of([PackagingLevel("EA", 1, gtin="00615375003979")])},
            [item_finding("gtins", "'00615375003979': check digit is 9, expected 8")],
            id="gtin-check-digit",
        ),
        pytest.param(
            {"hibc": "+Z999HIP540X"},
            [item_finding("hibc", "'+Z999HIP540X': check character is 'X', expected '0'")],
            id="hibc-check-character",
        ),
        pytest.param(
            {"unspsc": "99123456"},
            [
                item_finding(
                    "unspsc",
                    "'99123456': segment (first two digits) must be between 10 and 95, got 99",
                )
            ],
            id="unspsc-segment",
        ),
        pytest.param(
            {"supplier_id": "sup-nobody"},
            [item_finding("supplier_id", "refers to unknown supplier 'sup-nobody'")],
            id="unknown-supplier",
        ),
        pytest.param(
            {"cdm_code": None},
            [item_finding("cdm_code", "a chargeable item needs a CDM code")],
            id="chargeable-without-cdm",
        ),
        pytest.param(
            {"revenue_code": "0272"},
            [
                item_finding(
                    "revenue_code",
                    "a chargeable implant bills under revenue code 0275, 0276 or 0278",
                    WARNING,
                )
            ],
            id="implant-under-sterile-supply",
        ),
        pytest.param(
            {"is_implant": False, "revenue_code": "0272"},
            [item_finding("is_consignment", "consignment is expected only for implants", WARNING)],
            id="consigned-supply",
        ),
        pytest.param(
            {"list_price": Decimal(0)},
            [item_finding("list_price", "list price outside 0 to 1,000,000", WARNING)],
            id="free",
        ),
        pytest.param(
            {"list_price": Decimal(1_000_000)},
            [item_finding("list_price", "list price outside 0 to 1,000,000", WARNING)],
            id="a-million",
        ),
    ],
)
def test_a_broken_item_has_exactly_the_findings_of_what_is_broken(
    change: dict[str, object], expected: list[Finding]
) -> None:
    assert findings(ObjectType.ITEM, replace(HIP_SHELL, **change)) == expected


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_chargeable": False, "cdm_code": None}, id="not-chargeable"),
        pytest.param({"revenue_code": "0275"}, id="pacemaker"),
        pytest.param({"revenue_code": "0276"}, id="intraocular-lens"),
        pytest.param({"list_price": None}, id="no-list-price"),
        pytest.param({"supplier_id": None}, id="no-supplier"),
    ],
)
def test_an_item_within_the_rules_has_no_findings(change: dict[str, object]) -> None:
    assert findings(ObjectType.ITEM, replace(HIP_SHELL, **change)) == []


# Suppliers


def test_a_clean_supplier_has_no_findings() -> None:
    assert findings(ObjectType.SUPPLIER, ZIMMER) == []


def test_a_supplier_identified_by_hin_alone_has_no_findings() -> None:
    assert findings(ObjectType.SUPPLIER, replace(ZIMMER, gln=None, hin="1234567AB")) == []


def test_a_broken_supplier_has_exactly_the_findings_of_what_is_broken() -> None:
    broken = replace(ZIMMER, name="", erp_vendor_id=None, gln="0614141000006")
    assert findings(ObjectType.SUPPLIER, broken) == [
        Finding("supplier", "sup-zimmer", "name", "is required", ERROR),
        Finding("supplier", "sup-zimmer", "erp_vendor_id", "is required", WARNING),
        Finding(
            "supplier", "sup-zimmer", "gln", "'0614141000006': check digit is 6, expected 5", ERROR
        ),
    ]


def test_a_supplier_with_neither_gln_nor_hin_is_reported() -> None:
    assert findings(ObjectType.SUPPLIER, replace(ZIMMER, gln=None, hin=None)) == [
        Finding("supplier", "sup-zimmer", "gln", "a supplier needs a GLN or a HIN", WARNING)
    ]


# Par levels


def test_a_clean_par_level_has_no_findings() -> None:
    assert findings(ObjectType.PAR_LEVEL, OR_HIP_PAR) == []


def test_a_broken_par_level_has_exactly_the_findings_of_what_is_broken() -> None:
    broken = replace(
        OR_HIP_PAR, location_id="loc-9", item_id="item-9", reorder_point=Decimal(5), par=Decimal(4)
    )
    assert findings(ObjectType.PAR_LEVEL, broken) == [
        Finding("par_level", "par-1", "location_id", "refers to unknown location 'loc-9'", ERROR),
        Finding("par_level", "par-1", "item_id", "refers to unknown item 'item-9'", ERROR),
        Finding(
            "par_level",
            "par-1",
            "par",
            "par must be at least the reorder point, which must be positive",
            ERROR,
        ),
    ]


def test_a_par_level_reordering_at_zero_is_reported() -> None:
    assert findings(ObjectType.PAR_LEVEL, replace(OR_HIP_PAR, reorder_point=Decimal(0))) == [
        Finding(
            "par_level",
            "par-1",
            "par",
            "par must be at least the reorder point, which must be positive",
            ERROR,
        )
    ]


# Departments


def test_a_clean_department_has_no_findings() -> None:
    assert findings(ObjectType.DEPARTMENT, OPERATING_ROOM) == []


def test_a_broken_department_has_exactly_the_findings_of_what_is_broken() -> None:
    broken = replace(OPERATING_ROOM, name="", facility_id="fac-9", cost_center_id="cc-9")
    assert findings(ObjectType.DEPARTMENT, broken) == [
        Finding("department", "dept-or", "name", "is required", ERROR),
        Finding(
            "department", "dept-or", "facility_id", "refers to unknown facility 'fac-9'", ERROR
        ),
        Finding(
            "department", "dept-or", "cost_center_id", "refers to unknown cost_center 'cc-9'", ERROR
        ),
    ]


def test_a_department_without_facility_or_cost_center_reports_them_required() -> None:
    orphan = replace(OPERATING_ROOM, facility_id="", cost_center_id="")
    assert findings(ObjectType.DEPARTMENT, orphan) == [
        Finding("department", "dept-or", "facility_id", "is required", ERROR),
        Finding("department", "dept-or", "cost_center_id", "is required", ERROR),
    ]
