"""HL7 v2 ingest on a real SQLite unit of work: store, decode, apply, acknowledge.

The socket is the integration tier's (``tests/integration/test_mllp.py``); this module specifies
what the service decides: which ACK, what is stored, which events and exception items.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Facility
from suture.domain.messages import MessageStatus
from suture.entrypoints.cli import app
from suture.eventlog.events import build_registry
from suture.formats.hl7v2 import split_batch
from suture.services.hl7_ingest import Hl7Ingest, Hl7Submission
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

NOW = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
SECRET = "test-secret-for-tokens"
VISIT = "V778899"
MRN = "MRN4455"


def dft(
    control_id: str = "C1",
    *,
    facility: str = "GH",
    message_type: str = "DFT^P03",
    ft1_type: str = "CG",
    visit: str = VISIT,
) -> bytes:
    """A DFT^P03 with two FT1s: a charge of 2 × 25.00 and a credit of 1500.00."""
    return (
        f"MSH|^~\\&|EPIC|{facility}|SUTURE|GH|20250301083000||{message_type}|{control_id}|P|2.5.1\r"
        f"PID|1||{MRN}^^^GH^MR||DOE^JANE\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||{visit}\r"
        f"FT1|1|T{control_id}-1||20250301080000||{ft1_type}|CDM100|||2|50.00||LAB\r"
        f"FT1|2|T{control_id}-2||20250301080000||CD|CDM200|||1|1500.00||LAB\r"
    ).encode()


def segment(ack: bytes, segment_id: str) -> list[str]:
    for line in ack.decode().split("\r"):
        if line.startswith(segment_id + "|"):
            return line.split("|")
    raise AssertionError(f"no {segment_id} in the ACK")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    yield made
    made.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


@pytest.fixture
def ingest(uow: Callable[[], SqlAlchemyUnitOfWork]) -> Hl7Ingest:
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    return Hl7Ingest(uow, Inbox(uow), bus, PhiTokenizer(SECRET), lambda: NOW)


def rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(sql)]


def test_good_dft_is_stored_charged_posted_and_answered_aa_echoing_msh_10(
    ingest: Hl7Ingest, engine: sa.Engine, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    reply = ingest.handle(dft("CTRL-7"), "mllp", "rcm")

    assert (reply.code, reply.is_duplicate) == ("AA", False)
    assert segment(reply.ack, "MSA")[:3] == ["MSA", "AA", "CTRL-7"]
    token = PhiTokenizer(SECRET)(VISIT)
    assert rows(engine, "SELECT status, correlation_id, facility_id FROM inbox_messages") == [
        ("processed", token, "fac-gh")
    ]
    with uow() as work:
        charges = sorted(work.charges.list(), key=lambda c: c.cdm_code)
    assert [(c.facility_id, c.encounter_token, c.cdm_code, c.amount) for c in charges] == [
        ("fac-gh", token, "CDM100", Decimal(50)),
        ("fac-gh", token, "CDM200", Decimal(1500)),
    ]
    events = rows(engine, "SELECT type, correlation_id, trace_id FROM events")
    trace = rows(engine, "SELECT trace_id FROM inbox_messages")[0][0]
    assert events == [("charge.posted", token, trace)] * 2


def test_duplicate_is_answered_again_and_not_processed_twice(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    first = ingest.handle(dft(), "mllp", "rcm")
    again = ingest.handle(dft(), "mllp", "rcm")

    assert (again.code, again.is_duplicate, again.message_id) == ("AA", True, first.message_id)
    assert rows(engine, "SELECT count(*) FROM inbox_messages") == [(1,)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM events") == [(2,)]


def test_bad_content_answers_ae_naming_segment_and_field_keeps_raw_and_opens_an_item(
    ingest: Hl7Ingest, engine: sa.Engine, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    raw = dft("BAD-1", ft1_type="ZZ")

    reply = ingest.handle(raw, "mllp", "rcm")

    assert reply.code == "AE"
    assert segment(reply.ack, "MSA")[:3] == ["MSA", "AE", "BAD-1"]
    assert segment(reply.ack, "ERR")[2:4] == ["FT1^1^6^1", "103^Table value not found^HL70357"]
    stored = Inbox(uow).get(reply.message_id, with_raw=True)
    assert (stored.status, stored.raw) == (MessageStatus.FAILED, raw)
    assert stored.status_reason == (
        "FT1 #1, FT1-6: transaction type 'ZZ' is not a charge (CG) or a credit (CD)"
    )
    assert rows(engine, "SELECT type, message_id FROM exception_items") == [
        (ExceptionType.MALFORMED_MESSAGE.value, reply.message_id)
    ]
    assert rows(engine, "SELECT count(*) FROM charges") == [(0,)]


def test_unknown_sending_facility_answers_ae_naming_msh_4(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    reply = ingest.handle(dft(facility="NOWHERE"), "mllp", "rcm")

    assert reply.code == "AE"
    assert segment(reply.ack, "ERR")[2] == "MSH^1^4^1"
    assert rows(engine, "SELECT status FROM inbox_messages") == [("failed",)]


def test_a_nul_byte_in_a_field_answers_ae_naming_it_and_stores_no_charge(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    reply = ingest.handle(dft().replace(b"CDM100", b"CDM\x00100"), "file", "rcm")

    assert (reply.code, segment(reply.ack, "ERR")[2]) == ("AE", "FT1^1^7^1")
    assert rows(engine, "SELECT status, status_reason FROM inbox_messages") == [
        (
            "failed",
            "FT1 #1, FT1-7: holds a NUL byte (0x00), which HL7 v2 text never carries; is the "
            "file in another encoding?",
        )
    ]
    assert rows(engine, "SELECT count(*) FROM charges") == [(0,)]


def test_an_adt_is_applied_as_encounter_context_not_as_charges(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    reply = ingest.handle(dft("ADT-1", message_type="ADT^A01"), "mllp", "rcm")

    assert reply.code == "AA"
    assert segment(reply.ack, "MSA")[1:3] == ["AA", "ADT-1"]
    assert rows(engine, "SELECT status FROM inbox_messages") == [("processed",)]
    assert rows(engine, "SELECT count(*) FROM encounters") == [(1,)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(0,)]


def test_a_type_the_codec_does_not_read_answers_ar_and_keeps_raw(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    reply = ingest.handle(dft("ORM-1", message_type="ORM^O01"), "mllp", "rcm")

    assert reply.code == "AR"
    assert segment(reply.ack, "MSA")[1:3] == ["AR", "ORM-1"]
    assert rows(engine, "SELECT status, size > 0 FROM inbox_messages") == [("failed", 1)]


def test_bytes_without_msh_answer_ar_with_empty_msa_2(ingest: Hl7Ingest) -> None:
    reply = ingest.handle(b"hello, this is not HL7", "mllp", "rcm")

    assert reply.code == "AR"
    assert segment(reply.ack, "MSA")[:3] == ["MSA", "AR", ""]


def test_group_answers_each_in_order_and_applies_a_repeated_message_once(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    group = [dft("G1"), dft("G2", ft1_type="ZZ"), dft("G1"), dft("G3", message_type="ORM^O01")]

    replies = ingest.receive_many([Hl7Submission(raw, "mllp", "rcm") for raw in group])

    assert [(r.code, r.is_duplicate) for r in replies] == [
        ("AA", False), ("AE", False), ("AA", True), ("AR", False),
    ]  # fmt: skip
    assert [segment(r.ack, "MSA")[2] for r in replies] == ["G1", "G2", "G1", "G3"]
    assert rows(engine, "SELECT count(*) FROM inbox_messages") == [(3,)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]


def test_a_message_left_received_by_a_crash_is_applied_when_re_sent(
    ingest: Hl7Ingest, engine: sa.Engine, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    Inbox(uow).receive(
        dft(), format="hl7v2", interface="mllp", source_system="rcm", received_at=NOW
    )  # stored, then the process died before applying it

    reply = ingest.handle(dft(), "mllp", "rcm")

    assert (reply.code, reply.is_duplicate) == ("AA", True)
    assert rows(engine, "SELECT status FROM inbox_messages") == [("processed",)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]


def test_accepting_stores_decodes_and_answers_and_leaves_the_writes_to_apply(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    replies, pending = ingest.accept_many([Hl7Submission(dft("A1"), "mllp", "rcm")])

    assert [(r.code, segment(r.ack, "MSA")[2]) for r in replies] == [("AA", "A1")]
    assert rows(engine, "SELECT status FROM inbox_messages") == [("received",)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(0,)]

    assert ingest.apply(pending) == 1
    assert rows(engine, "SELECT status FROM inbox_messages") == [("processed",)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM events") == [(2,)]


def test_applying_the_same_accepted_messages_twice_applies_them_once(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    _, pending = ingest.accept_many(
        [Hl7Submission(raw, "mllp", "rcm") for raw in (dft("T1"), dft("T2", ft1_type="ZZ"))]
    )

    assert ingest.apply(pending) == 2
    assert ingest.apply(pending) == 0
    assert rows(engine, "SELECT status FROM inbox_messages ORDER BY id") == [
        ("processed",), ("failed",),
    ]  # fmt: skip
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM events") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM exception_items") == [(1,)]


def test_the_recovery_sweep_applies_what_was_accepted_and_never_applied_exactly_once(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    group = [dft("R1"), dft("R2", ft1_type="ZZ"), dft("R3", message_type="ORM^O01")]
    _, pending = ingest.accept_many([Hl7Submission(raw, "mllp", "rcm") for raw in group])
    # ... and the process died before the applier got to them.

    assert ingest.recover() == 3
    assert ingest.recover() == 0
    assert ingest.apply(pending) == 0  # a late applier finds them finished
    assert rows(engine, "SELECT status FROM inbox_messages ORDER BY id") == [
        ("processed",), ("failed",), ("failed",),
    ]  # fmt: skip
    assert rows(engine, "SELECT count(*) FROM charges") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM events") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM exception_items") == [(2,)]


def test_the_recovery_sweep_leaves_messages_younger_than_asked_and_other_formats(
    ingest: Hl7Ingest, engine: sa.Engine, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    ingest.accept_many([Hl7Submission(dft("Y1"), "mllp", "rcm")])  # received NOW
    Inbox(uow).receive(
        b"ISA*00*...", format="x12", interface="x12", source_system="acme", received_at=NOW
    )

    assert ingest.recover(older_than=timedelta(seconds=30)) == 0
    assert ingest.recover() == 1
    assert rows(engine, "SELECT format, status FROM inbox_messages ORDER BY format") == [
        ("hl7v2", "processed"), ("x12", "received"),
    ]  # fmt: skip


class _RefusingCharges:
    def add_many(self, charges: object) -> int:
        raise RuntimeError("a fault of the hub")


class _FaultyUnitOfWork:
    """A real unit of work whose charge repository fails with an error that is not Suture's."""

    def __init__(self, inner: SqlAlchemyUnitOfWork) -> None:
        self._inner = inner

    def __enter__(self) -> _FaultyUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return _RefusingCharges() if name == "charges" else getattr(self._inner, name)


def test_a_message_that_cannot_be_applied_by_a_fault_is_failed_with_an_item_not_retried(
    ingest: Hl7Ingest, engine: sa.Engine, uow: Callable[[], SqlAlchemyUnitOfWork]
) -> None:
    _, pending = ingest.accept_many(
        [Hl7Submission(raw, "mllp", "rcm") for raw in (dft("F1"), dft("F2", ft1_type="ZZ"))]
    )

    def faulty() -> Any:
        return _FaultyUnitOfWork(uow())

    bus = MessageBus(faulty, handlers={}, clock=lambda: NOW, registry=build_registry())
    broken = Hl7Ingest(faulty, Inbox(faulty), bus, PhiTokenizer(SECRET), lambda: NOW)

    assert broken.apply_isolated(pending) == 1  # F2 fails as it should; F1 by the fault
    assert rows(engine, "SELECT status, status_reason FROM inbox_messages ORDER BY id")[0] == (
        "failed",
        "not applied: RuntimeError while applying; retry from the work queue",
    )
    assert rows(engine, "SELECT count(*) FROM exception_items") == [(2,)]
    assert rows(engine, "SELECT count(*) FROM charges") == [(0,)]
    assert ingest.recover() == 0


def test_a_duplicate_of_a_failed_message_is_answered_with_the_same_error(
    ingest: Hl7Ingest,
) -> None:
    first = ingest.handle(dft(ft1_type="ZZ"), "mllp", "rcm")
    again = ingest.handle(dft(ft1_type="ZZ"), "mllp", "rcm")

    assert (again.code, again.is_duplicate) == ("AE", True)
    assert segment(again.ack, "ERR") == segment(first.ack, "ERR")


def test_a_batch_file_splits_into_messages_each_stored_and_answered(
    ingest: Hl7Ingest, engine: sa.Engine
) -> None:
    body = dft("B1") + dft("B2")
    batch = b"FHS|^~\\&|EPIC|GH\rBHS|^~\\&|EPIC|GH\r" + body + b"BTS|2\rFTS|1\r"

    replies = ingest.receive_many(
        [Hl7Submission(raw, "file", "rcm") for raw in split_batch(batch).messages]
    )

    assert [r.code for r in replies] == ["AA", "AA"]
    assert rows(engine, "SELECT count(*) FROM charges") == [(4,)]


def test_tokens_are_keyed_stable_and_do_not_contain_the_identifier() -> None:
    token = PhiTokenizer(SECRET)(VISIT)

    assert token == PhiTokenizer(SECRET)(f" {VISIT} ")
    assert token != PhiTokenizer("another-secret")(VISIT)
    assert token.startswith("tok_")
    assert len(token) == 36
    assert VISIT not in token


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """The database `suture ingest` opens (SUTURE_DATABASE_URL), with facility GH on record."""
    database = tmp_path / "cli.db"
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{database}")
    made = create_engine(f"sqlite:///{database}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as work:
        work.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        work.commit()
    made.dispose()
    return made


def test_ingest_command_stores_each_message_of_a_batch_file_and_prints_the_outcomes(
    tmp_path: Path, seeded: sa.Engine
) -> None:
    body = dft("F1") + dft("F2", ft1_type="ZZ") + dft("F3", message_type="ORM^O01")
    batch = tmp_path / "charges.hl7"
    batch.write_bytes(b"FHS|^~\\&|EPIC|GH\rBHS|^~\\&|EPIC|GH\r" + body + b"BTS|3\rFTS|1\r")

    first = CliRunner().invoke(app, ["ingest", str(batch)])
    again = CliRunner().invoke(app, ["ingest", str(batch)])

    ae, ar = (
        rows(seeded, f"SELECT id FROM inbox_messages WHERE status_reason LIKE '{like}'")[0][0]
        for like in ("FT1 #1, FT1-6:%", "MSH-9:%")
    )
    assert (first.exit_code, " ".join(first.output.split())) == (
        1,
        "charges.hl7: message 2: AE: FT1 #1, FT1-6: transaction type 'ZZ' is not a charge (CG) "
        f"or a credit (CD) (inbox message {ae}) "
        f"charges.hl7: message 3: AR: MSH-9: unsupported message type ORM^O01 (inbox message {ar}) "
        "charges.hl7: 3 messages: 1 accepted (AA), 1 with errors (AE), 1 rejected (AR), "
        "0 duplicates",
    )
    # run again, the file fails again as the drop folder says it does: the stored outcomes
    assert (again.exit_code, " ".join(again.output.split())) == (
        1,
        "charges.hl7: message 2: AE: FT1 #1, FT1-6: transaction type 'ZZ' is not a charge (CG) "
        f"or a credit (CD) (inbox message {ae}, a duplicate) "
        f"charges.hl7: message 3: AR: MSH-9: unsupported message type ORM^O01 (inbox message {ar}, "
        "a duplicate) "
        "charges.hl7: 3 messages: 1 accepted (AA), 1 with errors (AE), 1 rejected (AR), "
        "3 duplicates",
    )


def test_ingest_command_splits_messages_run_together_in_a_file_on_each_msh(
    tmp_path: Path, seeded: sa.Engine
) -> None:
    path = tmp_path / "charges.hl7"
    # two files put one after the other, each with a byte-order mark and no last terminator
    path.write_bytes(b"".join(b"\xef\xbb\xbf" + dft(f"G{n}").rstrip(b"\r") for n in (1, 2)))

    result = CliRunner().invoke(app, ["ingest", str(path)])

    assert (result.exit_code, " ".join(result.output.split())) == (
        0,
        "charges.hl7: 2 messages: 2 accepted (AA), 0 with errors (AE), 0 rejected (AR), "
        "0 duplicates",
    )
    assert rows(seeded, "SELECT count(*) FROM charges") == [(4,)]


def test_ingest_command_json_lists_each_failed_message_with_its_reason(
    tmp_path: Path, seeded: sa.Engine
) -> None:
    path = tmp_path / "charges.hl7"
    path.write_bytes(dft("J1") + dft("J2", facility="ZZ"))

    result = CliRunner().invoke(app, ["ingest", str(path), "--json"])
    again = CliRunner().invoke(app, ["ingest", str(path), "--json"])

    [(failed,)] = rows(seeded, "SELECT id FROM inbox_messages WHERE status = 'failed'")
    failure = {
        "message": 2,
        "code": "AE",
        "message_id": failed,
        "reason": "MSH-4: sending facility 'ZZ' is not the code of a known facility",
    }
    assert (result.exit_code, json.loads(result.output)) == (
        1,
        {"messages": 2, "accepted": 1, "errors": 1, "rejected": 0, "duplicates": 0,
         "failures": [{**failure, "duplicate": False}]},
    )  # fmt: skip
    assert (again.exit_code, json.loads(again.output)) == (
        1,
        {"messages": 2, "accepted": 1, "errors": 1, "rejected": 0, "duplicates": 2,
         "failures": [{**failure, "duplicate": True}]},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "charges.hl7: the file is empty; nothing was stored"),
        (
            b"BHS|^~\\&|EPIC|GH\r" + dft("E1") + b"BTS|2\r",
            "charges.hl7: refused, nothing was stored: BTS-1: count '2' does not match the 1 "
            "messages present",
        ),
        (
            b"\x89PNG\r\n",
            "charges.hl7: refused, nothing was stored: segment 1: a segment before any MSH",
        ),
        (  # the transfer stopped before the trailers, perhaps inside the last message
            b"FHS|^~\\&|EPIC|GH\rBHS|^~\\&|EPIC|GH\r" + dft("E1") + dft("E2")[:120],
            "charges.hl7: refused, nothing was stored: BHS: the batch that begins at segment 2 "
            "has no BTS trailer: was the file cut short?",
        ),
    ],
    ids=["empty", "batch-count", "binary", "cut-short"],
)
def test_ingest_command_exits_2_storing_nothing_when_the_file_cannot_be_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, said: str
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "charges.hl7"
    path.write_bytes(content)

    result = CliRunner().invoke(app, ["ingest", str(path)])

    stored = (tmp_path / "cli.db").exists()  # the hub is not even opened
    assert (result.exit_code, " ".join(result.stderr.split()), stored) == (2, said, False)


def test_ingest_command_lists_the_first_20_failed_messages_and_counts_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "charges.hl7"
    path.write_bytes(b"".join(dft(f"U{n}", facility="ZZ") for n in range(22)))

    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["ingest", str(path)])

    lines = result.output.splitlines()
    assert (result.exit_code, len(lines), lines[19].split(" (inbox")[0], lines[20:]) == (
        1,
        22,
        "charges.hl7: message 20: AE: MSH-4: sending facility 'ZZ' is not the code of a known "
        "facility",
        [
            "charges.hl7: … and 2 more (--json lists them all; so does `suture exceptions list "
            "--type malformed_message`)",
            "charges.hl7: 22 messages: 0 accepted (AA), 22 with errors (AE), 0 rejected (AR), "
            "0 duplicates",
        ],
    )
