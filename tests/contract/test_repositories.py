"""What every repository of the storage port promises, on SQLite and on PostgreSQL.

The port is ``suture.services.unit_of_work.Repository``: upsert by id with lines replaced whole,
batched ``add_many``, keyset pagination by id, a facility filter, counts per facility.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from storage_samples import (
    AGGREGATES,
    Site,
    assert_same_value_types,
    charge,
    contract,
    item,
    new_id,
    purchase_order,
    seed_site,
    site,
)

from suture.adapters.db.errors import StorageError
from suture.adapters.db.repositories import base
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.units import Packaging, PackagingLevel

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def stored(uow: UowFactory, repository: str, build: Callable[[Site], Any]) -> Any:
    with uow() as work:
        obj = build(seed_site(work))
        getattr(work, repository).add(obj)
        work.commit()
    return obj


@pytest.mark.parametrize("repository", sorted(AGGREGATES))
def test_every_aggregate_round_trips_whole_with_every_field(
    uow: UowFactory, repository: str
) -> None:
    obj = stored(uow, repository, AGGREGATES[repository])

    with uow() as work:
        assert getattr(work, repository).get(obj.id) == obj


@pytest.mark.parametrize("repository", sorted(AGGREGATES))
def test_loaded_values_keep_their_types_decimals_enums_and_utc_instants(
    uow: UowFactory, repository: str
) -> None:
    obj = stored(uow, repository, AGGREGATES[repository])

    with uow() as work:
        assert_same_value_types(getattr(work, repository).get(obj.id), obj)


def test_get_of_an_unknown_id_is_none(uow: UowFactory) -> None:
    with uow() as work:
        assert work.items.get(new_id("nothing")) is None


def test_add_of_an_existing_id_replaces_the_header_and_all_its_lines(uow: UowFactory) -> None:
    order = stored(uow, "purchase_orders", lambda s: purchase_order(s, lines=3))
    changed = dataclasses.replace(
        order, number=new_id("PO"), lines=[dataclasses.replace(order.lines[2], line_number=9)]
    )

    with uow() as work:
        work.purchase_orders.add(changed)
        work.commit()
    with uow() as work:
        assert work.purchase_orders.get(order.id) == changed


def test_add_of_an_existing_item_replaces_its_packaging_levels(uow: UowFactory) -> None:
    original = stored(uow, "items", lambda s: item(s.supplier.id))
    repacked = dataclasses.replace(
        original, packaging=Packaging((PackagingLevel("EA", 1), PackagingLevel("PK", 5, "1")))
    )

    with uow() as work:
        work.items.add(repacked)
        work.commit()
    with uow() as work:
        assert work.items.get(original.id) == repacked


def test_add_many_inserts_new_ids_and_replaces_existing_ones(uow: UowFactory) -> None:
    with uow() as work:
        where = seed_site(work)
        existing = [contract(where), contract(where)]
        work.contracts.add_many(existing)
        work.commit()
    renamed = [dataclasses.replace(c, name="renamed", prices=c.prices[:1]) for c in existing]
    batch = [renamed[0], contract(where), renamed[1], contract(where)]

    with uow() as work:
        written = work.contracts.add_many(batch)
        work.commit()
    with uow() as work:
        assert written == 4
        assert [work.contracts.get(c.id) for c in batch] == batch


def test_add_many_keeps_the_last_of_a_repeated_id(uow: UowFactory) -> None:
    where = site()
    first = charge(where)
    last = dataclasses.replace(first, amount=Decimal("-1.0001"))

    with uow() as work:
        assert work.charges.add_many([first, last]) == 2
        assert work.charges.get(first.id) == last


def test_add_many_writes_every_batch_of_a_long_stream(
    uow: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "BATCH_SIZE", 7)
    with uow() as work:
        where = seed_site(work)
        orders = [purchase_order(where, lines=2) for _ in range(30)]
        written = work.purchase_orders.add_many(iter(orders))
        work.commit()
    with uow() as work:
        assert written == 30
        assert work.purchase_orders.list(facility_id=where.facility.id, limit=100) == sorted(
            orders, key=lambda o: o.id
        )


def test_list_pages_by_id_after_the_last_id_seen(uow: UowFactory) -> None:
    where = site()
    charges = sorted((charge(where) for _ in range(7)), key=lambda c: c.id)
    with uow() as work:
        work.charges.add_many(charges)
        pages, after = [], None
        while page := work.charges.list(facility_id=where.facility.id, after=after, limit=3):
            pages.append(page)
            after = page[-1].id

    assert pages == [charges[0:3], charges[3:6], charges[6:7]]


def test_list_returns_only_the_facility_asked_for(uow: UowFactory) -> None:
    here, there = site(), site()
    with uow() as work:
        mine = [charge(here), charge(here)]
        work.charges.add_many([*mine, charge(there)])

        assert work.charges.list(facility_id=here.facility.id) == sorted(mine, key=lambda c: c.id)


def test_list_of_system_wide_aggregates_ignores_the_facility_filter(uow: UowFactory) -> None:
    with uow() as work:
        seed_site(work)
        seed_site(work)

        assert work.items.list(facility_id=new_id("fac"), limit=500) == work.items.list(limit=500)


def test_a_facility_is_listed_and_counted_as_its_own(uow: UowFactory) -> None:
    with uow() as work:
        where = seed_site(work)

        assert work.facilities.list(facility_id=where.facility.id) == [where.facility]
        assert work.facilities.count_by_facility()[where.facility.id] == 1


def test_list_refuses_a_limit_below_one(uow: UowFactory) -> None:
    with uow() as work, pytest.raises(StorageError) as refused:
        work.charges.list(limit=0)

    assert refused.value.field == "limit"


def test_count_by_facility_counts_each_facility_apart(uow: UowFactory) -> None:
    here, there = site(), site()
    with uow() as work:
        work.charges.add_many([charge(here), charge(here), charge(there)])
        counts = work.charges.count_by_facility()

    assert (counts[here.facility.id], counts[there.facility.id]) == (2, 1)


def test_count_by_facility_counts_system_wide_aggregates_under_none(uow: UowFactory) -> None:
    with uow() as work:
        before = work.suppliers.count_by_facility().get(None, 0)
        seed_site(work)
        seed_site(work)

        assert work.suppliers.count_by_facility() == {None: before + 2}


def test_ids_holds_every_stored_id(uow: UowFactory) -> None:
    where = site()
    charges = [charge(where) for _ in range(3)]
    with uow() as work:
        work.charges.add_many(charges)

        assert {c.id for c in charges} <= work.charges.ids()


def test_a_reference_to_missing_master_data_is_refused_as_a_storage_error(uow: UowFactory) -> None:
    orphan = site().location

    with uow() as work, pytest.raises(StorageError) as refused:
        work.locations.add(orphan)

    assert "locations" in refused.value.field


def test_a_missing_required_value_is_refused_naming_the_table_and_column(
    uow: UowFactory,
) -> None:
    record = dataclasses.replace(charge(site()), cdm_code=None)

    with uow() as work, pytest.raises(StorageError) as refused:
        work.charges.add(record)

    assert refused.value.field == "charges.cdm_code"


def test_transactional_records_are_stored_before_the_master_data_they_name(uow: UowFactory) -> None:
    unknown = site()
    order = purchase_order(unknown)

    with uow() as work:
        work.purchase_orders.add(order)

        assert work.purchase_orders.get(order.id) == order
