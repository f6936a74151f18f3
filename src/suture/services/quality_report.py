"""The data-quality report over the stored master data (``suture quality report``).

Referential rules need to know which ids exist; the report loads the ids of each referenced type
once, then pages through every object of the checked types, so memory holds ids, not objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from suture.domain.authority import ObjectType
from suture.domain.quality import DEFAULT_RULES, Finding, RuleSet, Severity
from suture.services.unit_of_work import Repository, UnitOfWork

#: Object type → the unit-of-work attribute that stores it.
REPOSITORY_OF: Mapping[ObjectType, str] = {
    ObjectType.FACILITY: "facilities",
    ObjectType.COST_CENTER: "cost_centers",
    ObjectType.DEPARTMENT: "departments",
    ObjectType.LOCATION: "locations",
    ObjectType.GL_ACCOUNT: "gl_accounts",
    ObjectType.SUPPLIER: "suppliers",
    ObjectType.ITEM: "items",
    ObjectType.CONTRACT: "contracts",
    ObjectType.PAR_LEVEL: "par_levels",
}

PAGE = 1000


@dataclass(slots=True)
class KnownIds:
    """:class:`~suture.domain.quality.References` over id sets loaded from the repositories."""

    ids: dict[ObjectType, set[str]] = field(default_factory=dict)

    def exists(self, object_type: ObjectType, object_id: str) -> bool:
        return object_id in self.ids.get(object_type, set())


@dataclass(slots=True)
class QualityReport:
    checked: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    total_findings: int = 0
    by_severity: Counter[Severity] = field(default_factory=Counter)

    def by_rule(self) -> Counter[tuple[str, str, Severity]]:
        return Counter((f.object_type, f.field, f.severity) for f in self.findings)


def _pages(repository: Repository[object]) -> Iterator[object]:
    after: str | None = None
    while True:
        page = repository.list(after=after, limit=PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = str(getattr(page[-1], "id"))  # noqa: B009 - objects are typed only as object here


def run_quality_report(
    uow_factory: Callable[[], UnitOfWork],
    *,
    kinds: tuple[ObjectType, ...] | None = None,
    rules: Mapping[ObjectType, RuleSet] = DEFAULT_RULES,
    keep: int = 10_000,
) -> QualityReport:
    """Evaluate ``rules`` over every stored object of ``kinds`` (all rule sets by default).

    At most ``keep`` findings are kept in the report; ``total_findings`` counts all of them.
    """
    report = QualityReport()
    wanted = kinds or tuple(rules)
    with uow_factory() as uow:
        known = KnownIds({kind: getattr(uow, name).ids() for kind, name in REPOSITORY_OF.items()})
        for kind in wanted:
            rule_set = rules.get(kind)
            if rule_set is None:
                continue
            for obj in _pages(getattr(uow, REPOSITORY_OF[kind])):
                report.checked[str(kind)] += 1
                for finding in rule_set.evaluate(obj, known):
                    report.total_findings += 1
                    report.by_severity[finding.severity] += 1
                    if len(report.findings) < keep:
                        report.findings.append(finding)
    return report
