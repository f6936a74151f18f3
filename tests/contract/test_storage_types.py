"""Money, quantities and instants survive storage exactly, or are refused; never rounded.

STYLE.md habit 15: money is Decimal, time is timezone-aware UTC. Both databases store
``NUMERIC(18, 4)`` values exactly (SQLite as integer ten-thousandths) and return aware UTC
datetimes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from storage_samples import charge, site

from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork

UowFactory = Callable[[], SqlAlchemyUnitOfWork]

EXACT = ["1234.5678", "-0.0001", "99999999999999.9999", "-99999999999999.9999", "0", "1E+3"]


@pytest.mark.parametrize("amount", EXACT)
def test_money_with_up_to_four_decimal_places_round_trips_exactly(
    uow: UowFactory, amount: str
) -> None:
    record = charge(site(), amount=amount)
    with uow() as work:
        work.charges.add(record)
        loaded = work.charges.get(record.id)

    assert loaded is not None
    assert (loaded.amount, type(loaded.amount)) == (Decimal(amount), Decimal)


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (Decimal("0.00001"), "more than 4 decimal places"),
        (Decimal("100000000000000"), "does not fit NUMERIC(18, 4)"),
        (Decimal("NaN"), "does not fit NUMERIC(18, 4)"),
        (1.5, "never floats"),
    ],
    ids=["fifth-decimal", "nineteen-digits", "nan", "float"],
)
def test_money_that_cannot_be_stored_exactly_is_refused_naming_the_column(
    uow: UowFactory, amount: Any, why: str
) -> None:
    record = dataclasses.replace(charge(site()), amount=amount)

    with uow() as work, pytest.raises(StorageError) as refused:
        work.charges.add(record)

    assert (refused.value.field, why in refused.value.reason) == ("amount", True)


def test_a_sum_in_sql_is_exact_on_both_databases(uow: UowFactory) -> None:
    where = site()
    amounts = ["0.1", "0.2", "1234.5678", "-0.0001"]
    with uow() as work:
        work.charges.add_many(charge(where, amount=a) for a in amounts)
        loaded = work.charges.list(facility_id=where.facility.id)

    assert sum(c.amount for c in loaded) == Decimal("1234.8677")


def test_an_instant_given_in_another_zone_comes_back_as_the_same_instant_in_utc(
    uow: UowFactory,
) -> None:
    given = datetime(2024, 11, 3, 1, 30, 0, 1, tzinfo=timezone(timedelta(hours=-5)))
    record = dataclasses.replace(charge(site()), service_at=given)
    with uow() as work:
        work.charges.add(record)
        loaded = work.charges.get(record.id)

    assert loaded is not None
    assert (loaded.service_at, loaded.service_at.tzinfo) == (given, UTC)
    assert loaded.service_at.isoformat() == "2024-11-03T06:30:00.000001+00:00"


def test_a_naive_datetime_is_refused_naming_the_column(uow: UowFactory) -> None:
    record = dataclasses.replace(charge(site()), service_at=datetime(2024, 1, 1))  # noqa: DTZ001

    with uow() as work, pytest.raises(StorageError) as refused:
        work.charges.add(record)

    assert refused.value.field == "service_at"
