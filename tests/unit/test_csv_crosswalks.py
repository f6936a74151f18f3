"""Crosswalk rows: a local code of some system, at a facility or system-wide, and its target."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.crosswalk import CrosswalkKey, CrosswalkKind
from suture.formats.csv import (
    CrosswalkRequest,
    ImportKind,
    Row,
    RowError,
    decode_crosswalk,
    default_profile,
)

PROFILE = default_profile(ImportKind.CROSSWALKS)

LAWSON_ITEM = {
    "Source System": "Lawson",
    "Facility": "",
    "Code Type": "item",
    "Local Code": "4471020",
    "Canonical ID": "100234",
    "Supersede Y/N": "",
}


def decode(changes: dict[str, str]) -> CrosswalkRequest:
    return decode_crosswalk(Row(5, {**LAWSON_ITEM, **changes}), PROFILE)


def problems(changes: dict[str, str]) -> list[tuple[int, str, str]]:
    with pytest.raises(RowError) as caught:
        decode(changes)
    return [(error.line, error.column, error.reason) for error in caught.value.errors]


def test_a_blank_facility_makes_the_mapping_system_wide() -> None:
    assert decode({}) == CrosswalkRequest(
        key=CrosswalkKey("lawson", None, CrosswalkKind.ITEM, "4471020"), canonical_id="100234"
    )


def test_a_facility_mapping_may_ask_to_supersede_the_current_one() -> None:
    assert decode({"Facility": "FAC-MAIN", "Supersede Y/N": "Y"}) == CrosswalkRequest(
        key=CrosswalkKey("lawson", "FAC-MAIN", CrosswalkKind.ITEM, "4471020"),
        canonical_id="100234",
        supersede=True,
    )


@pytest.mark.parametrize(
    ("spelled", "kind"),
    [
        ("Cost Center", CrosswalkKind.COST_CENTER),
        ("charge-code", CrosswalkKind.CHARGE_CODE),
        ("SUPPLIER", CrosswalkKind.SUPPLIER),
    ],
)
def test_the_code_type_is_read_in_any_case_with_spaces_or_hyphens(
    spelled: str, kind: CrosswalkKind
) -> None:
    assert decode({"Code Type": spelled}).key.kind is kind


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"Source System": ""}, "Source System", "is required but empty"),
        ({"Local Code": " "}, "Local Code", "is required but empty"),
        ({"Canonical ID": ""}, "Canonical ID", "is required but empty"),
        (
            {"Code Type": "widget"},
            "Code Type",
            "'widget' is not a crosswalk kind; expected one of item, supplier, department, "
            "cost_center, charge_code, location",
        ),
        (
            {"Supersede Y/N": "please"},
            "Supersede Y/N",
            "'please' is not a yes/no value; expected one of 0, 1, N, NO, Y, YES",
        ),
    ],
)
def test_a_bad_cell_is_refused_with_its_column_and_reason(
    changes: dict[str, str], column: str, reason: str
) -> None:
    assert problems(changes) == [(5, column, reason)]


@given(
    st.dictionaries(
        st.sampled_from(sorted(LAWSON_ITEM)), st.text(max_size=30), min_size=1, max_size=3
    )
)
def test_any_text_in_any_cells_is_a_request_or_a_row_error(changes: dict[str, str]) -> None:
    with contextlib.suppress(RowError):
        decode(changes)
