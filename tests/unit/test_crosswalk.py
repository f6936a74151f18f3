"""Crosswalks: a local code is mapped once, re-imported freely, and remapped only on purpose.

Epic at St Mary's (``fac-1``) calls the medium nitrile glove ``LOC-42``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suture.domain.crosswalk import (
    CrosswalkEntry,
    CrosswalkKey,
    CrosswalkKind,
    MappingDecision,
    MappingOutcome,
    decide_mapping,
    resolve,
)
from suture.domain.errors import CrosswalkConflictError, DomainError

KEY = CrosswalkKey("epic", "fac-1", CrosswalkKind.ITEM, "LOC-42")
SYSTEM_WIDE_KEY = CrosswalkKey("epic", None, CrosswalkKind.ITEM, "LOC-42")
MAPPED_AT = datetime(2025, 1, 10, 8, 0, tzinfo=UTC)
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def entry(
    canonical_id: str = "item-gloves",
    *,
    key: CrosswalkKey = KEY,
    valid_to: datetime | None = None,
    recorded_by: str = "item-import",
) -> CrosswalkEntry:
    return CrosswalkEntry(
        key=key,
        canonical_id=canonical_id,
        valid_from=MAPPED_AT,
        valid_to=valid_to,
        recorded_by=recorded_by,
    )


def refusal(key: CrosswalkKey, canonical_id: str, at: datetime) -> tuple[str, str]:
    """The (field, reason) with which :func:`decide_mapping` refuses a new mapping."""
    with pytest.raises(DomainError) as caught:
        decide_mapping(None, key, canonical_id, at)
    return caught.value.field, caught.value.reason


# Deciding a mapping


def test_mapping_a_new_code_adds_an_entry_valid_from_now() -> None:
    assert decide_mapping(None, KEY, "item-gloves", AT, recorded_by="analyst") == MappingDecision(
        MappingOutcome.ADDED,
        close=None,
        add=CrosswalkEntry(
            key=KEY, canonical_id="item-gloves", valid_from=AT, recorded_by="analyst"
        ),
    )


def test_reimporting_a_code_to_the_id_it_already_has_changes_nothing() -> None:
    assert decide_mapping(entry(), KEY, "item-gloves", AT) == MappingDecision(
        MappingOutcome.UNCHANGED, close=None, add=None
    )


def test_reimporting_with_supersede_to_the_id_it_already_has_changes_nothing() -> None:
    assert decide_mapping(entry(), KEY, "item-gloves", AT, supersede=True) == MappingDecision(
        MappingOutcome.UNCHANGED, close=None, add=None
    )


def test_remapping_a_code_to_another_id_is_a_conflict_naming_the_existing_id() -> None:
    with pytest.raises(CrosswalkConflictError) as caught:
        decide_mapping(entry(), KEY, "item-gloves-large", AT)
    assert (caught.value.field, caught.value.reason) == (
        "canonical_id",
        "epic/fac-1/item/LOC-42 already maps to item-gloves; "
        "refusing to remap it to item-gloves-large without supersede",
    )


def test_superseding_closes_the_old_entry_at_that_moment_and_adds_the_new_one() -> None:
    decision = decide_mapping(
        entry(), KEY, "item-gloves-large", AT, supersede=True, recorded_by="analyst"
    )
    assert decision == MappingDecision(
        MappingOutcome.SUPERSEDED,
        close=CrosswalkEntry(
            key=KEY,
            canonical_id="item-gloves",
            valid_from=MAPPED_AT,
            valid_to=AT,
            recorded_by="item-import",
        ),
        add=CrosswalkEntry(
            key=KEY, canonical_id="item-gloves-large", valid_from=AT, recorded_by="analyst"
        ),
    )


def test_a_system_wide_key_reads_with_a_star_for_the_facility() -> None:
    assert str(SYSTEM_WIDE_KEY) == "epic/*/item/LOC-42"


def test_a_naive_time_is_refused() -> None:
    naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the missing time zone is the point
    assert refusal(KEY, "item-gloves", naive) == (
        "valid_from",
        "must be timezone-aware",
    )


@pytest.mark.parametrize("local_code", ["", "   "])
def test_an_empty_local_code_is_refused(local_code: str) -> None:
    blank = CrosswalkKey("epic", "fac-1", CrosswalkKind.ITEM, local_code)
    assert refusal(blank, "item-gloves", AT) == ("local_code", "must not be empty")


def test_an_empty_canonical_id_is_refused() -> None:
    assert refusal(KEY, "", AT) == ("canonical_id", "must not be empty")


# Resolving a code at a facility


def test_resolve_prefers_the_facility_specific_entry_over_the_system_wide_one() -> None:
    system_wide = entry("item-gloves-generic", key=SYSTEM_WIDE_KEY)
    specific = entry("item-gloves")
    assert resolve([system_wide, specific], "fac-1") == specific


def test_resolve_falls_back_to_the_system_wide_entry() -> None:
    system_wide = entry("item-gloves-generic", key=SYSTEM_WIDE_KEY)
    assert resolve([system_wide], "fac-1") == system_wide


def test_resolve_ignores_a_closed_facility_specific_entry() -> None:
    closed = entry("item-gloves", valid_to=AT)
    system_wide = entry("item-gloves-generic", key=SYSTEM_WIDE_KEY)
    assert resolve([closed, system_wide], "fac-1") == system_wide


def test_resolve_ignores_a_closed_system_wide_entry() -> None:
    assert resolve([entry(key=SYSTEM_WIDE_KEY, valid_to=AT)], "fac-1") is None


def test_resolve_ignores_another_facilitys_entry() -> None:
    elsewhere = entry(key=CrosswalkKey("epic", "fac-2", CrosswalkKind.ITEM, "LOC-42"))
    assert resolve([elsewhere], "fac-1") is None


def test_resolve_without_a_facility_uses_the_system_wide_entry() -> None:
    system_wide = entry("item-gloves-generic", key=SYSTEM_WIDE_KEY)
    assert resolve([entry("item-gloves"), system_wide], None) == system_wide


# Properties

codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)


@given(codes, codes, st.integers(min_value=0, max_value=10_000))
def test_reimporting_a_mapping_just_made_is_a_no_op(
    local_code: str, canonical_id: str, minutes_later: int
) -> None:
    key = CrosswalkKey("epic", "fac-1", CrosswalkKind.ITEM, local_code)
    added = decide_mapping(None, key, canonical_id, AT).add
    later = AT + timedelta(minutes=minutes_later)
    assert decide_mapping(added, key, canonical_id, later) == MappingDecision(
        MappingOutcome.UNCHANGED, close=None, add=None
    )
