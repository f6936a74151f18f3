"""The collector settings of a long-running process (``suture serve``, ``suture worker``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from suture.entrypoints.collector import LONG_RUN_GC_THRESHOLDS, settle_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """The test process's own collector settings, put back afterwards."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_what_start_up_built_and_raises_the_thresholds() -> None:
    built_at_start_up = [object() for _ in range(10)]

    settle_collector()

    assert (gc.get_threshold(), gc.get_freeze_count() >= len(built_at_start_up)) == (
        LONG_RUN_GC_THRESHOLDS,
        True,
    )


@pytest.mark.usefixtures("restored_collector")
def test_objects_made_after_settling_are_still_collected() -> None:
    settle_collector()

    class Cycle:
        other: object = None

    first, second = Cycle(), Cycle()
    first.other, second.other = second, first
    del first, second

    assert gc.collect() > 0
