"""The audit trail on SQLite and PostgreSQL: append, verify, and tampering done with plain SQL.

Each test gets a chain of its own: a fresh SQLite file, or on PostgreSQL a scratch schema (the
chain is one per database schema, and these tests break theirs on purpose). The tampering is
what someone with write access to the database, but not the hub's secret, could do.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.audit import Actor, AuditKey, AuditRecord, BreakReason, ChainBreak, Outcome
from suture.domain.masterdata import Facility
from suture.services.audit import AuditTrail

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ANA = Actor("ana", "cli")
API = Actor("svc-erp", "client-42", "process:execute")
SECRET = "the-hub-secret-for-the-audit-tests"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def chain_engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[sa.Engine]:
    """A migrated database whose audit chain belongs to this test alone."""
    if request.param == "postgres":
        yield request.getfixturevalue("own_postgres_engine")
        return
    path = tmp_path / "audit.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def ticking() -> Callable[[], datetime]:
    """A clock one second later at each call."""
    seconds = itertools.count()
    return lambda: AT + timedelta(seconds=next(seconds))


@pytest.fixture
def trail(chain_engine: sa.Engine) -> AuditTrail:
    return AuditTrail(
        lambda: SqlAlchemyUnitOfWork(chain_engine), AuditKey.from_secret(SECRET), ticking()
    )


def record_five(trail: AuditTrail) -> list[AuditRecord]:
    return [
        trail.record_alone(ANA, "exception.retry", target_type="exception", target_id=f"EX-{n}")
        for n in range(1, 6)
    ]


def tamper(engine: sa.Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)


def broken_at(trail: AuditTrail) -> tuple[int, BreakReason] | None:
    broken = trail.verify().broken
    return None if broken is None else (broken.seq, broken.reason)


def test_appended_entries_read_back_whole_in_sequence(trail: AuditTrail) -> None:
    first = trail.record_alone(
        API, "exception.dismiss", target_type="exception", target_id="EX-1",
        before="status=open", after="status=dismissed",
    )  # fmt: skip
    second = trail.record_alone(
        ANA, "replay.run", outcome=Outcome.FAILED, reason="replay: selection: give exactly one"
    )

    assert trail.list() == [first, second]
    assert (first.seq, second.seq, second.previous_hash) == (1, 2, first.hash)
    assert trail.get(2) == second


def test_an_intact_chain_verifies_in_pages(trail: AuditTrail) -> None:
    written = record_five(trail)
    trail.page_size = 2

    verification = trail.verify()

    assert (verification.intact, verification.checked) == (True, 5)
    assert (verification.head.seq, verification.head.hash) == (5, written[-1].hash)


def test_an_empty_chain_verifies(trail: AuditTrail) -> None:
    verification = trail.verify()

    assert (verification.intact, verification.checked, verification.head.seq) == (True, 0, 0)


def test_a_column_updated_with_sql_is_detected_at_its_row(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    record_five(trail)

    tamper(chain_engine, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3")

    assert broken_at(trail) == (3, BreakReason.CHANGED)


def test_a_time_moved_with_sql_is_detected(trail: AuditTrail, chain_engine: sa.Engine) -> None:
    record_five(trail)
    later = "'2025-03-02 08:00:00.000000'"

    tamper(chain_engine, f"UPDATE audit_log SET at = {later} WHERE seq = 4")

    assert broken_at(trail) == (4, BreakReason.CHANGED)


def test_a_deleted_row_is_detected_as_a_gap(trail: AuditTrail, chain_engine: sa.Engine) -> None:
    record_five(trail)

    tamper(chain_engine, "DELETE FROM audit_log WHERE seq = 2")

    assert broken_at(trail) == (2, BreakReason.DELETED)


def test_the_last_row_deleted_is_detected_by_the_head(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    record_five(trail)

    tamper(chain_engine, "DELETE FROM audit_log WHERE seq = 5")

    assert broken_at(trail) == (5, BreakReason.HEAD)


def test_the_last_row_deleted_and_the_head_rewound_is_detected(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    written = record_five(trail)

    tamper(
        chain_engine,
        "DELETE FROM audit_log WHERE seq = 5",
        f"UPDATE audit_chain_head SET seq = 4, hash = '{written[3].hash}'",
    )

    assert broken_at(trail) == (4, BreakReason.HEAD)


def test_a_forged_row_inserted_after_the_last_is_detected(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    written = record_five(trail)
    forged = (
        "INSERT INTO audit_log (seq, at, actor, client_id, action, outcome, previous_hash, hash) "
        f"VALUES (6, '2025-03-01 09:00:00.000000', 'ana', 'cli', 'exception.dismiss', 'success', "
        f"'{written[-1].hash}', '{'ab' * 32}')"
    )

    tamper(chain_engine, forged)

    assert broken_at(trail) == (6, BreakReason.INSERTED)


def test_a_forged_row_renumbered_into_the_middle_is_detected(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    written = record_five(trail)

    tamper(
        chain_engine,
        *(f"UPDATE audit_log SET seq = {n + 100} WHERE seq = {n}" for n in (5, 4, 3)),
        *(f"UPDATE audit_log SET seq = {n + 1} WHERE seq = {n + 100}" for n in (5, 4, 3)),
        "INSERT INTO audit_log (seq, at, actor, client_id, action, outcome, previous_hash, hash) "
        f"VALUES (3, '2025-03-01 08:00:02.500000', 'ana', 'cli', 'exception.dismiss', "
        f"'success', '{written[1].hash}', '{written[2].hash}')",
    )

    assert broken_at(trail) == (3, BreakReason.CHANGED)


def test_reordered_rows_are_detected(trail: AuditTrail, chain_engine: sa.Engine) -> None:
    record_five(trail)

    tamper(
        chain_engine,
        "UPDATE audit_log SET seq = 100 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 100",
    )

    assert broken_at(trail) == (2, BreakReason.CHANGED)


def test_verify_names_the_reason_and_the_row_in_its_detail(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    record_five(trail)
    tamper(chain_engine, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 1")

    verification = trail.verify()

    assert verification.broken == ChainBreak(
        1, BreakReason.CHANGED, "row 1 does not match its hash: changed, forged or moved"
    )
    assert verification.checked == 0


def test_a_record_commits_with_the_write_it_describes(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    with SqlAlchemyUnitOfWork(chain_engine) as uow:
        uow.facilities.add(Facility(id="FAC-AUDIT", code="AUD", name="Audit General"))
        trail.record(uow, API, "facility.create", target_type="facility", target_id="FAC-AUDIT")
        uow.commit()

    with SqlAlchemyUnitOfWork(chain_engine) as uow:
        stored = uow.facilities.get("FAC-AUDIT")
    assert (stored is not None, [r.entry.action for r in trail.list()]) == (
        True,
        ["facility.create"],
    )


def test_a_write_that_fails_takes_its_record_with_it_and_the_failure_is_recorded_alone(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    def create_then_fail() -> None:
        with SqlAlchemyUnitOfWork(chain_engine) as uow:
            uow.facilities.add(Facility(id="FAC-GONE", code="GONE", name="Never Stored"))
            trail.record(uow, API, "facility.create", target_type="facility", target_id="FAC-GONE")
            raise RuntimeError("the ERP refused")

    with pytest.raises(RuntimeError):
        create_then_fail()
    trail.record_alone(
        API, "facility.create", target_type="facility", target_id="FAC-GONE",
        outcome=Outcome.FAILED, reason="the ERP refused",
    )  # fmt: skip

    with SqlAlchemyUnitOfWork(chain_engine) as uow:
        stored = uow.facilities.get("FAC-GONE")
    recorded = [(r.seq, r.entry.outcome, r.entry.reason) for r in trail.list()]
    assert (stored, recorded) == (None, [(1, Outcome.FAILED, "the ERP refused")])
    assert trail.verify().intact


def test_list_filters_by_action_area_actor_and_time(trail: AuditTrail) -> None:
    trail.record_alone(ANA, "exception.retry")  # at AT
    trail.record_alone(API, "exception.dismiss")  # AT + 1 s
    trail.record_alone(ANA, "replay.run")  # AT + 2 s
    trail.record_alone(ANA, "exception.assign")  # AT + 3 s

    def seqs(**filters: object) -> list[int]:
        return [r.seq for r in trail.list(**filters)]  # type: ignore[arg-type]

    assert seqs(action="exception.dismiss") == [2]
    assert seqs(action="exception.*") == [1, 2, 4]
    assert seqs(actor="ana", since=AT + timedelta(seconds=2)) == [3, 4]
    assert seqs(after=1, limit=2) == [2, 3]


def test_long_summaries_are_cut_and_still_verify(trail: AuditTrail) -> None:
    record = trail.record_alone(ANA, "masterdata.import", after="x" * 5000, target_id="F" * 500)

    assert (len(record.entry.after or ""), len(record.entry.target_id or "")) == (1000, 200)
    assert trail.verify().intact


def test_an_audited_write_commits_the_change_and_its_record_together(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    with trail.write(API, "facility.create", target_type="facility") as write:
        write.uow.facilities.add(Facility(id="FAC-W", code="W", name="Written"))
        write.target_id, write.after = "FAC-W", "code=W"

    with SqlAlchemyUnitOfWork(chain_engine) as uow:
        stored = uow.facilities.get("FAC-W")
    recorded = [(r.entry.target_id, r.entry.after, r.entry.outcome) for r in trail.list()]
    assert (stored is not None, recorded) == (True, [("FAC-W", "code=W", Outcome.SUCCESS)])


def test_an_audited_write_that_raises_rolls_back_and_records_the_failure(
    trail: AuditTrail, chain_engine: sa.Engine
) -> None:
    def refuse() -> None:
        with trail.write(API, "facility.create", target_type="facility", target_id="FAC-X") as w:
            w.uow.facilities.add(Facility(id="FAC-X", code="X", name="Refused"))
            raise StorageError("code", "already used by FAC-1")

    with pytest.raises(StorageError):
        refuse()

    with SqlAlchemyUnitOfWork(chain_engine) as uow:
        stored = uow.facilities.get("FAC-X")
    recorded = [(r.entry.target_id, r.entry.outcome, r.entry.reason) for r in trail.list()]
    assert (stored, recorded) == (None, [("FAC-X", Outcome.FAILED, "code: already used by FAC-1")])


def test_a_foreign_error_is_recorded_by_its_type_alone(trail: AuditTrail) -> None:
    def fail() -> None:
        with trail.write(API, "facility.create"):
            raise ValueError("MRN 12345678 is not valid")  # a message that could quote PHI

    with pytest.raises(ValueError, match="MRN"):
        fail()

    assert [r.entry.reason for r in trail.list()] == ["ValueError"]
