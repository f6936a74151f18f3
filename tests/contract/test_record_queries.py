"""``Repository.find``: the filters of the System API's lists, on SQLite and on PostgreSQL.

Isolation on the shared database comes from the random ids of each test's site: every query
is scoped to the facilities or supplier the test created.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from storage_samples import (
    CHICAGO_NOON,
    Site,
    charge,
    contract,
    invoice,
    purchase_order,
    seed_site,
)

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.purchasing import PurchaseOrderStatus
from suture.services.queries import QueryError, RecordQuery

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def two_sites(uow: UowFactory) -> tuple[Site, Site]:
    with uow() as work:
        first, second = seed_site(work), seed_site(work)
        work.commit()
    return first, second


def test_the_facility_scope_returns_only_records_of_those_facilities(uow: UowFactory) -> None:
    first, second = two_sites(uow)
    with uow() as work:
        ours = [charge(first), charge(first)]
        work.charges.add_many([*ours, charge(second)])
        work.commit()
        found = work.charges.find(RecordQuery(facility_ids={first.facility.id}))
    assert sorted(c.id for c in found) == sorted(c.id for c in ours)


def test_an_empty_facility_scope_sees_nothing(uow: UowFactory) -> None:
    first, _ = two_sites(uow)
    with uow() as work:
        work.charges.add(charge(first))
        work.commit()
        assert work.charges.find(RecordQuery(facility_ids=())) == []


def test_pages_follow_the_id_order_from_the_cursor(uow: UowFactory) -> None:
    first, _ = two_sites(uow)
    with uow() as work:
        charges = [charge(first) for _ in range(5)]
        work.charges.add_many(charges)
        work.commit()
        scope = {first.facility.id}
        page_one = work.charges.find(RecordQuery(facility_ids=scope, limit=2))
        page_two = work.charges.find(
            RecordQuery(facility_ids=scope, limit=2, after=page_one[-1].id)
        )
        rest = work.charges.find(RecordQuery(facility_ids=scope, limit=2, after=page_two[-1].id))
    assert [c.id for c in page_one + page_two + rest] == sorted(c.id for c in charges)


def test_supplier_status_number_and_dates_filter_purchase_orders(uow: UowFactory) -> None:
    first, second = two_sites(uow)
    march = purchase_order(first)
    april = dataclasses.replace(
        purchase_order(first), order_date=date(2024, 4, 2), status=PurchaseOrderStatus.SENT
    )
    other_supplier = purchase_order(second)
    with uow() as work:
        work.purchase_orders.add_many([march, april, other_supplier])
        work.commit()
        by_supplier = work.purchase_orders.find(RecordQuery(supplier_id=first.supplier.id))
        by_status = work.purchase_orders.find(
            RecordQuery(supplier_id=first.supplier.id, status="sent")
        )
        by_number = work.purchase_orders.find(RecordQuery(number=march.number))
        in_april = work.purchase_orders.find(
            RecordQuery(supplier_id=first.supplier.id, since=date(2024, 4, 1))
        )
        to_march_9 = work.purchase_orders.find(
            RecordQuery(supplier_id=first.supplier.id, until=date(2024, 3, 9))
        )
    assert sorted(p.id for p in by_supplier) == sorted([march.id, april.id])
    assert [p.id for p in by_status] == [april.id]
    assert [p.id for p in by_number] == [march.id]
    assert [p.id for p in in_april] == [april.id]
    assert [p.id for p in to_march_9] == [march.id]


def test_a_date_range_on_an_instant_covers_whole_utc_days(uow: UowFactory) -> None:
    first, _ = two_sites(uow)
    day = CHICAGO_NOON.date()  # 12:30 in Chicago is 18:30 UTC on the same day
    late = dataclasses.replace(charge(first), service_at=CHICAGO_NOON + timedelta(hours=6))
    on_day = dataclasses.replace(charge(first), service_at=CHICAGO_NOON)
    with uow() as work:
        work.charges.add_many([on_day, late])
        work.commit()
        found = work.charges.find(
            RecordQuery(facility_ids={first.facility.id}, since=day, until=day)
        )
    # 18:30 +6 h is 00:30 UTC the next day: outside the range.
    assert [c.id for c in found] == [on_day.id]


def test_system_wide_records_are_visible_in_every_facility_scope(uow: UowFactory) -> None:
    first, _ = two_sites(uow)
    with uow() as work:
        work.contracts.add(contract(first))
        work.commit()
        found = work.contracts.find(
            RecordQuery(facility_ids={"no-such-facility"}, supplier_id=first.supplier.id)
        )
    assert [c.supplier_id for c in found] == [first.supplier.id]


def test_a_filter_the_record_type_lacks_is_refused_naming_it(uow: UowFactory) -> None:
    with uow() as work, pytest.raises(QueryError) as refused:
        work.charges.find(RecordQuery(supplier_id="sup-1"))
    assert (refused.value.field, refused.value.reason) == (
        "supplier_id",
        "charges cannot be filtered by supplier_id",
    )


def test_invoices_filter_by_supplier_and_status(uow: UowFactory) -> None:
    first, second = two_sites(uow)
    with uow() as work:
        ours = invoice(first)
        work.invoices.add_many([ours, invoice(second)])
        work.commit()
        found = work.invoices.find(RecordQuery(supplier_id=first.supplier.id, status="exception"))
    assert [i.id for i in found] == [ours.id]


@pytest.mark.parametrize(
    ("limit", "reason"),
    [(0, "must be between 1 and 1000, got 0"), (1001, "must be between 1 and 1000, got 1001")],
)
def test_a_page_size_outside_the_bounds_is_refused(limit: int, reason: str) -> None:
    with pytest.raises(QueryError) as refused:
        RecordQuery(limit=limit)
    assert (refused.value.field, refused.value.reason) == ("limit", reason)


def test_a_range_ending_before_it_starts_selects_nothing(uow: UowFactory) -> None:
    first, _ = two_sites(uow)
    with uow() as work:
        work.purchase_orders.add(purchase_order(first))
        work.commit()
        found = work.purchase_orders.find(
            RecordQuery(
                supplier_id=first.supplier.id, since=date(2024, 3, 9), until=date(2024, 3, 8)
            )
        )
    assert found == []
