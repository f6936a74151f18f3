"""Shadow mode's comparison rule: by business key, field by field, amounts within tolerance."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.errors import DomainError
from suture.domain.shadow import ComparisonProfile, OutputLine, ShadowOutcome, compare

JOURNAL = ComparisonProfile(
    key=("reference", "account"), compare=("debit", "credit"), amounts=("debit", "credit"),
    tolerance=Decimal("0.01"),
)  # fmt: skip


def line(
    reference: str, account: str, debit: str = "0", credit: str = "0", src: str = ""
) -> OutputLine:
    return OutputLine(
        {"reference": reference, "account": account, "debit": debit, "credit": credit}, src
    )


def test_each_key_is_same_differs_only_suture_or_only_legacy() -> None:
    ours = [line("U1", "5000", "10.00"), line("U2", "5000", "20.00"), line("U3", "5000", "5")]
    theirs = [line("U1", "5000", "10.004"), line("U2", "5000", "21.00"), line("U4", "5000", "7")]
    diff = compare(JOURNAL, ours, theirs)
    outcomes = {c.key: c.outcome for c in diff.comparisons}
    assert outcomes == {
        ("U1", "5000"): ShadowOutcome.SAME,  # within the 0.01 tolerance
        ("U2", "5000"): ShadowOutcome.DIFFERS,
        ("U3", "5000"): ShadowOutcome.ONLY_SUTURE,
        ("U4", "5000"): ShadowOutcome.ONLY_LEGACY,
    }
    (differs,) = [c for c in diff.comparisons if c.outcome is ShadowOutcome.DIFFERS]
    assert [(d.field, d.suture, d.legacy) for d in differs.differences] == [
        ("debit", "20.00", "21.00")
    ]
    assert diff.agreement == 0.25
    assert len(diff.problems()) == 3


def test_aggregation_sums_amounts_per_key_so_split_lines_agree() -> None:
    profile = ComparisonProfile(
        key=("reference",), compare=("debit",), amounts=("debit",), aggregate=True
    )
    ours = [OutputLine({"reference": "U1", "debit": "30"})]
    theirs = [OutputLine({"reference": "U1", "debit": "10"}) for _ in range(3)]
    assert compare(profile, ours, theirs).count(ShadowOutcome.SAME) == 1
    not_summed = ComparisonProfile(key=("reference",), compare=("debit",), amounts=("debit",))
    diff = compare(not_summed, ours, theirs)
    assert diff.count(ShadowOutcome.DIFFERS) == 1
    assert diff.count(ShadowOutcome.ONLY_LEGACY) == 2


def test_text_fields_compare_exactly_after_trimming_blanks() -> None:
    profile = ComparisonProfile(key=("po",), compare=("item", "uom"))
    diff = compare(
        profile,
        [OutputLine({"po": "P1", "item": "I-1 ", "uom": "EA"})],
        [OutputLine({"po": "P1", "item": "I-1", "uom": "BX"})],
    )
    assert [d.field for d in diff.comparisons[0].differences] == ["uom"]


def test_a_line_without_a_key_field_is_refused_naming_it_and_its_source() -> None:
    with pytest.raises(DomainError) as raised:
        compare(JOURNAL, [], [OutputLine({"reference": "U1"}, "legacy.csv row 7")])
    assert raised.value.field == "account"
    assert "legacy.csv row 7" in raised.value.reason


def test_an_amount_that_is_not_a_number_names_the_field() -> None:
    with pytest.raises(DomainError) as raised:
        compare(JOURNAL, [line("U1", "5000", "ten")], [line("U1", "5000", "10")])
    assert raised.value.field == "debit"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"key": (), "compare": ("a",)}, "key"),
        ({"key": ("k",), "compare": ()}, "compare"),
        ({"key": ("k",), "compare": ("k",)}, "compare"),
        ({"key": ("k",), "compare": ("a",), "amounts": ("b",)}, "amounts"),
        ({"key": ("k",), "compare": ("a",), "tolerance": Decimal(-1)}, "tolerance"),
        ({"key": ("k",), "compare": ("a",), "aggregate": True}, "aggregate"),
    ],
)
def test_a_profile_that_cannot_work_is_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as raised:
        ComparisonProfile(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field


_LINES = st.lists(
    st.tuples(st.sampled_from(["U1", "U2", "U3"]), st.integers(0, 500)), max_size=12
).map(lambda rows: [line(ref, "5000", str(amount)) for ref, amount in rows])


@given(_LINES)
def test_a_side_compared_with_itself_in_any_order_is_all_same(lines: list[OutputLine]) -> None:
    diff = compare(JOURNAL, lines, list(reversed(lines)))
    assert diff.agreement == 1.0
    assert len(diff.comparisons) == len(lines)


@given(_LINES, _LINES)
def test_every_line_is_accounted_for_once(ours: list[OutputLine], theirs: list[OutputLine]) -> None:
    diff = compare(JOURNAL, ours, theirs)
    suture_side = sum(1 for c in diff.comparisons if c.outcome is not ShadowOutcome.ONLY_LEGACY)
    legacy_side = sum(1 for c in diff.comparisons if c.outcome is not ShadowOutcome.ONLY_SUTURE)
    assert (suture_side, legacy_side) == (len(ours), len(theirs))
