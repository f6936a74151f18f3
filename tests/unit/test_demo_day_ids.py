"""The ids ``suture demo`` gives departmental requisitions (``day_ids``): from the seed, not
the clock, so that their POs, and the supplier's scenario drawn from each PO number, are the
same on every run of a seed (docs/demo.md, "The same figures for a seed")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from suture.entrypoints.demo_day import day_ids

NOW = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)


def test_a_seed_gives_the_same_ids_in_order_whatever_the_time_of_the_call() -> None:
    first, again = day_ids(42), day_ids(42)

    made = [first(NOW), first(NOW), first(NOW)]
    remade = [again(NOW + timedelta(hours=n, microseconds=7)) for n in range(3)]

    assert remade == made
    assert len(set(made)) == 3


def test_another_seed_gives_other_ids() -> None:
    assert day_ids(7)(NOW) != day_ids(42)(NOW)
