"""The unit of work: one transaction over every repository, rolled back unless committed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from storage_samples import charge, site

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.revenue import Charge

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


def test_leaving_the_block_without_commit_rolls_back(uow: UowFactory) -> None:
    record = charge(site())
    with uow() as work:
        work.charges.add(record)

    with uow() as work:
        assert work.charges.get(record.id) is None


def test_committed_writes_are_visible_to_another_unit_of_work(uow: UowFactory) -> None:
    record = charge(site())
    with uow() as work:
        work.charges.add(record)
        work.commit()

    with uow() as other:
        assert other.charges.get(record.id) == record


def test_a_commit_that_need_not_wait_for_the_flush_is_visible_at_once(uow: UowFactory) -> None:
    record = charge(site())
    with uow() as work:
        work.charges.add(record)
        work.commit(durable=False)

    with uow() as other:
        assert other.charges.get(record.id) == record


def test_the_next_transaction_on_the_connection_commits_durably_again(engine: sa.Engine) -> None:
    # ``SET LOCAL``: the relaxed flush ends with the transaction that asked for it, whichever
    # pooled connection the next unit of work gets.
    setting = "SHOW synchronous_commit" if engine.name == "postgresql" else "SELECT 'on'"
    with SqlAlchemyUnitOfWork(engine) as work:
        work.charges.add(charge(site()))
        work.commit(durable=False)
        after_commit = work._open().exec_driver_sql(setting).scalar()
    with engine.connect() as connection:
        later = connection.exec_driver_sql(setting).scalar()

    assert (after_commit, later) == ("on", "on")


def test_uncommitted_writes_are_invisible_to_a_concurrent_reader(engine: sa.Engine) -> None:
    # A SQLite writer holds the write lock from BEGIN IMMEDIATE; readers use a DEFERRED engine.
    url = engine.url.render_as_string(hide_password=False)
    readers = create_engine(url, sqlite_begin="DEFERRED") if engine.name == "sqlite" else engine
    record = charge(site())
    try:
        with SqlAlchemyUnitOfWork(engine) as writer:
            writer.charges.add(record)
            with SqlAlchemyUnitOfWork(readers) as reader:
                assert reader.charges.get(record.id) is None
            writer.commit()
        with SqlAlchemyUnitOfWork(readers) as reader:
            assert reader.charges.get(record.id) == record
    finally:
        if readers is not engine:
            readers.dispose()


def add_then_fail(work: SqlAlchemyUnitOfWork, record: Charge) -> None:
    with work:
        work.charges.add(record)
        raise LookupError(record.id)


def test_an_exception_in_the_block_rolls_back_and_propagates(uow: UowFactory) -> None:
    record = charge(site())

    with pytest.raises(LookupError):
        add_then_fail(uow(), record)

    with uow() as other:
        assert other.charges.get(record.id) is None


def test_each_commit_in_a_block_keeps_what_came_before_it(uow: UowFactory) -> None:
    kept, dropped = charge(site()), charge(site())
    with uow() as work:
        work.charges.add(kept)
        work.commit()
        work.charges.add(dropped)

    with uow() as work:
        assert (work.charges.get(kept.id), work.charges.get(dropped.id)) == (kept, None)


def test_rollback_discards_writes_since_the_last_commit_and_the_block_goes_on(
    uow: UowFactory,
) -> None:
    discarded, later = charge(site()), charge(site())
    with uow() as work:
        work.charges.add(discarded)
        work.rollback()
        work.charges.add(later)
        work.commit()

    with uow() as work:
        assert (work.charges.get(discarded.id), work.charges.get(later.id)) == (None, later)


def test_the_same_unit_of_work_can_be_entered_again_after_it_exits(uow: UowFactory) -> None:
    work = uow()
    first, second = charge(site()), charge(site())
    with work:
        work.charges.add(first)
        work.commit()
    with work:
        work.charges.add(second)
        work.commit()

    with work:
        assert [work.charges.get(c.id) for c in (first, second)] == [first, second]


def test_entering_a_unit_of_work_that_is_already_open_is_refused(uow: UowFactory) -> None:
    work = uow()
    with work:
        with pytest.raises(StorageError) as refused:
            work.__enter__()

        work.charges.ids()  # the open block is unaffected

    assert refused.value.field == "unit_of_work"


def test_commit_outside_a_block_is_refused(uow: UowFactory) -> None:
    with pytest.raises(StorageError) as refused:
        uow().commit()

    assert refused.value.field == "unit_of_work"


def test_a_unit_of_work_that_reads_then_writes_survives_a_concurrent_writer(
    uow: UowFactory,
) -> None:
    # On SQLite a deferred transaction that read before another one committed cannot then write
    # ("database is locked" at once); BEGIN IMMEDIATE makes the second one wait for the first.
    first, second = charge(site()), charge(site())
    second_has_read = threading.Event()
    outcome: list[object] = []

    def read_then_write() -> None:
        try:
            with uow() as work:
                work.charges.get(first.id)
                second_has_read.set()
                work.charges.add(second)
                work.commit()
            outcome.append("committed")
        except Exception as exc:  # the main thread asserts on whatever the writer met
            outcome.append(exc)

    with uow() as work:
        work.charges.add(first)
        other = threading.Thread(target=read_then_write)
        other.start()
        second_has_read.wait(timeout=0.5)
        work.commit()
    other.join(timeout=30)

    with uow() as work:
        assert (outcome, work.charges.get(second.id)) == (["committed"], second)
