"""Shadow mode: comparing what Suture would have sent with what the legacy system did send.

During a migration an outbound interface runs in ``shadow`` mode (``domain/interfaces.py``):
Suture processes the traffic and computes the interface's outputs, but withholds them (the
delivery ends ``shadowed``), because the legacy system still owns that flow. Before the cut-over
someone must show that the two agree. :func:`compare` is that check: both sides reduced to
:class:`OutputLine` records of named fields, grouped by a business key the two systems share, and
compared field by field.

A :class:`ComparisonProfile` says which fields form the key (a usage's source reference, a GL
account and cost center; a PO's requisition and item…), which are compared, which of those are
amounts (compared as decimals within ``tolerance``, and summed per key when ``aggregate`` is set,
so that a system posting one line per unit and one posting a line per usage still agree), and
how the legacy file's columns map onto the field names.

Outcomes per key: ``same``; ``differs`` (each field that differs, with both values);
``only_suture`` (Suture would have sent something the legacy system did not: a new behaviour or
a defect); ``only_legacy`` (the legacy system sent something Suture would not: a gap). Several
lines with one key are paired in order of their compared values when not aggregated, so the
report is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from suture.domain.errors import DomainError


class ShadowOutcome(StrEnum):
    SAME = "same"
    DIFFERS = "differs"
    ONLY_SUTURE = "only_suture"
    ONLY_LEGACY = "only_legacy"


@dataclass(frozen=True, slots=True)
class OutputLine:
    """One line of an output (a journal line, a PO line) as named text fields."""

    fields: Mapping[str, str]
    #: Where it came from, for the reader of the report: a delivery id, a file and row number.
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonProfile:
    """How to compare one interface's outputs (module doc)."""

    key: tuple[str, ...]
    compare: tuple[str, ...]
    amounts: tuple[str, ...] = ()
    tolerance: Decimal = Decimal(0)
    aggregate: bool = False
    #: Legacy file column -> field name; a column not named here keeps its own name.
    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key:
            raise DomainError("key", "name at least one field that both systems share")
        if not self.compare:
            raise DomainError("compare", "name at least one field to compare")
        overlap = set(self.key) & set(self.compare)
        if overlap:
            raise DomainError("compare", f"{', '.join(sorted(overlap))} is already in the key")
        stray = set(self.amounts) - set(self.compare)
        if stray:
            raise DomainError("amounts", f"{', '.join(sorted(stray))} is not a compared field")
        if self.tolerance < 0:
            raise DomainError("tolerance", f"must not be negative, got {self.tolerance}")
        if self.aggregate and set(self.compare) - set(self.amounts):
            extra = ", ".join(sorted(set(self.compare) - set(self.amounts)))
            raise DomainError("aggregate", f"only amounts can be summed; {extra} is not one")


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str
    suture: str
    legacy: str


@dataclass(frozen=True, slots=True)
class KeyComparison:
    """The outcome for one business key (one pair of lines, or one unpaired line)."""

    key: tuple[str, ...]
    outcome: ShadowOutcome
    differences: tuple[FieldDifference, ...] = ()
    suture_source: str = ""
    legacy_source: str = ""


@dataclass(frozen=True, slots=True)
class ShadowDiff:
    """Every key's outcome, and the counts a cut-over decision reads."""

    comparisons: tuple[KeyComparison, ...]

    def count(self, outcome: ShadowOutcome) -> int:
        return sum(1 for c in self.comparisons if c.outcome is outcome)

    @property
    def agreement(self) -> float:
        """Share of compared keys that are the same (1.0 when there is nothing to compare)."""
        total = len(self.comparisons)
        return 1.0 if total == 0 else self.count(ShadowOutcome.SAME) / total

    def problems(self) -> list[KeyComparison]:
        return [c for c in self.comparisons if c.outcome is not ShadowOutcome.SAME]


def compare(
    profile: ComparisonProfile, suture: Iterable[OutputLine], legacy: Iterable[OutputLine]
) -> ShadowDiff:
    """Compare the two sides by key (module doc); a line missing a key field is an error."""
    ours, theirs = _grouped(profile, suture, "suture"), _grouped(profile, legacy, "legacy")
    comparisons: list[KeyComparison] = []
    for key in sorted(set(ours) | set(theirs)):
        left, right = ours.get(key, []), theirs.get(key, [])
        for index in range(max(len(left), len(right))):
            a = left[index] if index < len(left) else None
            b = right[index] if index < len(right) else None
            comparisons.append(_pair(profile, key, a, b))
    return ShadowDiff(tuple(comparisons))


def _grouped(
    profile: ComparisonProfile, lines: Iterable[OutputLine], side: str
) -> dict[tuple[str, ...], list[OutputLine]]:
    groups: dict[tuple[str, ...], list[OutputLine]] = defaultdict(list)
    for line in lines:
        missing = [name for name in profile.key if name not in line.fields]
        if missing:
            where = f" ({line.source})" if line.source else ""
            raise DomainError(missing[0], f"the {side} line{where} has no key field {missing[0]!r}")
        groups[tuple(line.fields[name].strip() for name in profile.key)].append(line)
    if profile.aggregate:
        return {key: [_summed(profile, key, group)] for key, group in groups.items()}
    return {
        key: sorted(group, key=lambda ln: tuple(_normal(profile, ln, n) for n in profile.compare))
        for key, group in groups.items()
    }


def _summed(
    profile: ComparisonProfile, key: tuple[str, ...], group: list[OutputLine]
) -> OutputLine:
    totals = {
        name: sum((_amount(line, name) for line in group), Decimal(0)) for name in profile.compare
    }
    sources = sorted({line.source for line in group if line.source})
    source = sources[0] if len(sources) == 1 else f"{len(group)} lines" if sources else ""
    return OutputLine(
        {**dict(zip(profile.key, key, strict=True)), **{n: f"{v:f}" for n, v in totals.items()}},
        source,
    )


def _pair(
    profile: ComparisonProfile,
    key: tuple[str, ...],
    ours: OutputLine | None,
    theirs: OutputLine | None,
) -> KeyComparison:
    if theirs is None:
        assert ours is not None
        return KeyComparison(key, ShadowOutcome.ONLY_SUTURE, suture_source=ours.source)
    if ours is None:
        return KeyComparison(key, ShadowOutcome.ONLY_LEGACY, legacy_source=theirs.source)
    differences = tuple(
        FieldDifference(name, ours.fields.get(name, ""), theirs.fields.get(name, ""))
        for name in profile.compare
        if not _equal(profile, name, ours, theirs)
    )
    return KeyComparison(
        key,
        ShadowOutcome.DIFFERS if differences else ShadowOutcome.SAME,
        differences,
        ours.source,
        theirs.source,
    )


def _equal(profile: ComparisonProfile, name: str, ours: OutputLine, theirs: OutputLine) -> bool:
    if name in profile.amounts:
        return abs(_amount(ours, name) - _amount(theirs, name)) <= profile.tolerance
    return ours.fields.get(name, "").strip() == theirs.fields.get(name, "").strip()


def _normal(profile: ComparisonProfile, line: OutputLine, name: str) -> tuple[Decimal, str]:
    if name in profile.amounts:
        return _amount(line, name), ""
    return Decimal(0), line.fields.get(name, "").strip()


def _amount(line: OutputLine, name: str) -> Decimal:
    text = line.fields.get(name, "").strip().replace(",", "")
    if not text:
        return Decimal(0)
    try:
        return Decimal(text)
    except InvalidOperation:
        where = f" ({line.source})" if line.source else ""
        raise DomainError(name, f"{text!r}{where} is not an amount") from None
