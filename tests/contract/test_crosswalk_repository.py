"""The crosswalk repository: current mappings, their history, and one current entry per key.

The domain decides what a remapping means (``domain/crosswalk.py``); storage keeps every entry
and refuses, as a database constraint, a second current entry for the same key, so two processes
racing to map one code cannot both win.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from storage_samples import CHICAGO_NOON, crosswalk_entry, new_id

from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.crosswalk import CrosswalkEntry, decide_mapping, resolve

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def supersede(
    work: SqlAlchemyUnitOfWork, current: CrosswalkEntry, at: datetime
) -> tuple[CrosswalkEntry, CrosswalkEntry]:
    """Remap the key of ``current`` the way the crosswalk service does; the closed and new entry."""
    decision = decide_mapping(current, current.key, new_id("item"), at, supersede=True)
    assert decision.close is not None
    assert decision.add is not None
    work.crosswalks.close(decision.close)
    work.crosswalks.add(decision.add)
    return decision.close, decision.add


FACILITY_OR_SYSTEM_WIDE = pytest.mark.parametrize(
    "facility_id", [new_id("fac"), None], ids=["facility", "system-wide"]
)


@FACILITY_OR_SYSTEM_WIDE
def test_current_is_the_open_entry_of_the_key(uow: UowFactory, facility_id: str | None) -> None:
    entry = crosswalk_entry(facility_id)
    with uow() as work:
        work.crosswalks.add(entry)
        work.commit()
    with uow() as work:
        assert work.crosswalks.current(entry.key) == entry
        assert work.crosswalks.current(crosswalk_entry(facility_id).key) is None


@FACILITY_OR_SYSTEM_WIDE
def test_a_second_current_entry_for_a_key_is_refused_by_the_database(
    uow: UowFactory, facility_id: str | None
) -> None:
    entry = crosswalk_entry(facility_id)
    rival = dataclasses.replace(entry, canonical_id=new_id("item"))

    with uow() as work:
        work.crosswalks.add(entry)

        with pytest.raises(StorageError):
            work.crosswalks.add(rival)


@FACILITY_OR_SYSTEM_WIDE
def test_superseding_closes_the_old_entry_and_keeps_it_as_history(
    uow: UowFactory, facility_id: str | None
) -> None:
    first = crosswalk_entry(facility_id)
    later = CHICAGO_NOON + timedelta(days=1)
    with uow() as work:
        work.crosswalks.add(first)
        closed, added = supersede(work, first, later)
        work.commit()

    with uow() as work:
        assert work.crosswalks.current(first.key) == added
        assert work.crosswalks.history(first.key) == [closed, added]


def test_history_is_oldest_first_with_the_current_entry_last(uow: UowFactory) -> None:
    entries = []
    current = crosswalk_entry(new_id("fac"))
    with uow() as work:
        work.crosswalks.add(current)
        for day in range(1, 4):
            closed, current = supersede(work, current, CHICAGO_NOON + timedelta(days=day))
            entries.append(closed)

        assert work.crosswalks.history(current.key) == [*entries, current]


def test_closing_an_entry_that_is_no_longer_current_is_refused(uow: UowFactory) -> None:
    entry = crosswalk_entry(new_id("fac"))
    ended = dataclasses.replace(entry, valid_to=CHICAGO_NOON + timedelta(hours=1))
    with uow() as work:
        work.crosswalks.add(entry)
        work.crosswalks.close(ended)

        with pytest.raises(StorageError) as refused:
            work.crosswalks.close(ended)

    assert refused.value.field == "canonical_id"


def test_closing_without_an_end_time_is_refused(uow: UowFactory) -> None:
    entry = crosswalk_entry(new_id("fac"))
    with uow() as work:
        work.crosswalks.add(entry)

        with pytest.raises(StorageError) as refused:
            work.crosswalks.close(entry)

    assert refused.value.field == "valid_to"


def test_candidates_are_the_current_entries_at_the_facility_and_system_wide(
    uow: UowFactory,
) -> None:
    facility_id = new_id("fac")
    general = crosswalk_entry(None)
    specific = crosswalk_entry(facility_id, local_code=general.key.local_code)
    elsewhere = crosswalk_entry(new_id("fac"), local_code=general.key.local_code)
    key = general.key
    with uow() as work:
        for entry in (general, specific, elsewhere):
            work.crosswalks.add(entry)

        found = work.crosswalks.candidates(key.source_system, key.kind, key.local_code, facility_id)
        system_wide = work.crosswalks.candidates(key.source_system, key.kind, key.local_code, None)

    assert found == [specific, general]
    assert resolve(found, facility_id) == specific
    assert system_wide == [general]


def test_candidates_leave_out_closed_entries(uow: UowFactory) -> None:
    entry = crosswalk_entry(None)
    key = entry.key
    with uow() as work:
        work.crosswalks.add(entry)
        work.crosswalks.close(dataclasses.replace(entry, valid_to=CHICAGO_NOON + timedelta(1)))

        assert work.crosswalks.candidates(key.source_system, key.kind, key.local_code, None) == []


def test_an_empty_facility_id_is_refused_since_it_stands_for_system_wide(uow: UowFactory) -> None:
    entry = crosswalk_entry("")

    with uow() as work, pytest.raises(StorageError) as refused:
        work.crosswalks.add(entry)

    assert refused.value.field == "facility_id"


def test_count_by_facility_counts_current_entries_only(uow: UowFactory) -> None:
    facility_id = new_id("fac")
    kept, ended = crosswalk_entry(facility_id), crosswalk_entry(facility_id)
    with uow() as work:
        before = work.crosswalks.count_by_facility().get(None, 0)
        for entry in (kept, ended, crosswalk_entry(None)):
            work.crosswalks.add(entry)
        work.crosswalks.close(dataclasses.replace(ended, valid_to=CHICAGO_NOON + timedelta(1)))
        counts = work.crosswalks.count_by_facility()

    assert (counts[facility_id], counts[None]) == (1, before + 1)


def test_current_many_finds_the_open_entry_of_each_key_that_has_one(uow: UowFactory) -> None:
    facility = new_id("fac")
    entries = [crosswalk_entry(facility) for _ in range(3)] + [crosswalk_entry(None)]
    unmapped = crosswalk_entry(facility).key
    with uow() as work:
        assert work.crosswalks.add_many(entries) == 4
        work.commit()
    with uow() as work:
        found = work.crosswalks.current_many([e.key for e in entries] + [unmapped])
    assert found == {entry.key: entry for entry in entries}


def test_current_many_leaves_out_closed_entries(uow: UowFactory) -> None:
    first = crosswalk_entry(new_id("fac"))
    with uow() as work:
        work.crosswalks.add(first)
        _, new = supersede(work, first, first.valid_from + timedelta(days=1))
        work.commit()
    with uow() as work:
        assert work.crosswalks.current_many([first.key]) == {first.key: new}
