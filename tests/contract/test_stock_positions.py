"""Stock positions: one row per (location, item), overwritten on every save."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from storage_samples import new_id, site, stock_position

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def test_save_inserts_then_overwrites_the_position_of_a_location_and_item(uow: UowFactory) -> None:
    first = stock_position(site())
    second = dataclasses.replace(
        first,
        on_hand=Decimal("-0.0001"),
        consigned_on_hand=Decimal("7.25"),
        updated_at=datetime(2024, 4, 1, tzinfo=UTC),
    )
    with uow() as work:
        work.stock.save(first)
        work.commit()
    with uow() as work:
        assert work.stock.get(first.location_id, first.item_id) == first
        work.stock.save(second)
        work.commit()
    with uow() as work:
        assert work.stock.get(first.location_id, first.item_id) == second


def test_get_of_an_unknown_position_is_none(uow: UowFactory) -> None:
    with uow() as work:
        assert work.stock.get(new_id("loc"), new_id("item")) is None


def test_list_orders_by_location_then_item_and_filters_by_location(uow: UowFactory) -> None:
    where = site()
    positions = [stock_position(where, item_id=new_id("item")) for _ in range(4)]
    with uow() as work:
        for position in positions:
            work.stock.save(position)
        work.stock.save(stock_position(site()))

        found = work.stock.list(location_id=where.location.id, limit=10)
        first_two = work.stock.list(location_id=where.location.id, limit=2)

    assert found == sorted(positions, key=lambda p: p.item_id)
    assert first_two == found[:2]


def test_count_by_facility_counts_positions_per_facility(uow: UowFactory) -> None:
    here = site()
    with uow() as work:
        for _ in range(3):
            work.stock.save(stock_position(here, item_id=new_id("item")))

        assert work.stock.count_by_facility()[here.facility.id] == 3


def test_locked_read_adjust_write_from_two_threads_loses_no_update(uow: UowFactory) -> None:
    position = stock_position(site())
    with uow() as work:
        work.stock.save(dataclasses.replace(position, on_hand=Decimal(0)))
        work.commit()

    def add_one_forty_times() -> None:
        for _ in range(40):
            with uow() as work:
                current = work.stock.get(position.location_id, position.item_id, lock=True)
                assert current is not None
                work.stock.save(dataclasses.replace(current, on_hand=current.on_hand + 1))
                work.commit()

    workers = [threading.Thread(target=add_one_forty_times) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with uow() as work:
        final = work.stock.get(position.location_id, position.item_id)
    assert final is not None
    assert final.on_hand == Decimal(80)
