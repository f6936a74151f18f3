"""The MLLP listener over a real TCP socket: store before ACK, AA/AE/AR, concurrency, PHI.

Most tests run the listener in a thread of this process (:class:`MllpThread`) on a SQLite file;
what a message writes is applied after its ACK, by the listener's applier, so a test waits for
it (``listener.settle()``) before it counts. The crash tests run the listener in a subprocess
(``mllp_server.py``) that hangs inside a commit, kill it with SIGKILL there, and start it again
on the same file.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.entrypoints.mllp import END_BLOCK, START_BLOCK, MllpFramer, MllpOptions, MllpThread
from suture.eventlog.events import build_registry
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

SERVER = Path(__file__).with_name("mllp_server.py")
MRN = "MRN90210"
PATIENT_NAME = "ZEBULON^QUIXOTE"
VISIT = "VN5551212"
TIMEOUT = 20.0


def dft(control_id: str, *, ft1_type: str = "CG", facility: str = "GH") -> bytes:
    return (
        f"MSH|^~\\&|EPIC|{facility}|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        f"PID|1||{MRN}^^^GH^MR||{PATIENT_NAME}||19700101|F\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||{VISIT}\r"
        f"FT1|1|{control_id}-1||20250301080000||{ft1_type}|CDM100|||2|50.00||LAB\r"
        f"FT1|2|{control_id}-2||20250301080000||CG|CDM200|||1|15.00||LAB\r"
    ).encode()


class Sender:
    """A blocking MLLP client: send a message, read its ACK."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.framer = MllpFramer()
        self.acks: list[bytes] = []

    def send(self, raw: bytes) -> None:
        self.socket.sendall(START_BLOCK + raw + END_BLOCK)

    def ack(self) -> bytes | None:
        """The next ACK, or None when the server closed the connection first."""
        while not self.acks:
            try:
                data = self.socket.recv(65536)
            except ConnectionError:
                return None
            if not data:
                return None
            self.acks += self.framer.feed(data)
        return self.acks.pop(0)

    def exchange(self, raw: bytes) -> bytes:
        self.send(raw)
        ack = self.ack()
        assert ack is not None, "the server closed the connection without an ACK"
        return ack

    def close(self) -> None:
        self.socket.close()


def msa(ack: bytes) -> list[str]:
    line = next(s for s in ack.decode().split("\r") if s.startswith("MSA|"))
    return line.split("|")


def err(ack: bytes) -> list[str]:
    line = next(s for s in ack.decode().split("\r") if s.startswith("ERR|"))
    return line.split("|")


def prepare(url: str) -> sa.Engine:
    engine = create_engine(url)
    ensure_schema(engine)
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    return engine


def count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = prepare(f"sqlite:///{tmp_path / 'suture.db'}")
    yield made
    made.dispose()


def wait_for(engine: sa.Engine, sql: str, expected: int) -> int:
    """``count(sql)`` once it is ``expected``, or its last value after :data:`TIMEOUT`: for a
    server in another process, whose applier the test cannot ask."""
    deadline = time.monotonic() + TIMEOUT
    while (found := count(engine, sql)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@pytest.fixture
def listener(engine: sa.Engine) -> Iterator[MllpThread]:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, registry=build_registry())
    ingest = Hl7Ingest(uow, Inbox(uow), bus, PhiTokenizer("secret"), bus.clock)
    made = MllpThread(ingest, "127.0.0.1", 0, MllpOptions(max_frame=64 * 1024))
    made.start()
    yield made
    made.stop()


@pytest.fixture
def port(listener: MllpThread) -> int:
    assert listener.port is not None
    return listener.port


@pytest.fixture
def sender(port: int) -> Iterator[Sender]:
    made = Sender(port)
    yield made
    made.close()


def test_good_dft_is_answered_aa_echoing_msh_10_then_its_charges_and_events_are_stored(
    sender: Sender, engine: sa.Engine, listener: MllpThread
) -> None:
    ack = sender.exchange(dft("CTRL-1"))

    assert msa(ack)[:3] == ["MSA", "AA", "CTRL-1"]
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 1  # stored before the ACK
    assert listener.settle(TIMEOUT)
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == 1
    assert count(engine, "SELECT count(*) FROM charges") == 2
    assert count(engine, "SELECT count(*) FROM events WHERE type = 'charge.posted'") == 2


def test_bad_content_is_answered_ae_with_err_naming_segment_and_field(
    sender: Sender, engine: sa.Engine, listener: MllpThread
) -> None:
    ack = sender.exchange(dft("BAD-1", ft1_type="XX"))

    assert msa(ack)[1:3] == ["AE", "BAD-1"]
    assert err(ack)[2] == "FT1^1^6^1"
    assert listener.settle(TIMEOUT)
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'failed'") == 1
    assert (
        count(engine, "SELECT count(*) FROM exception_items WHERE type = 'malformed_message'") == 1
    )
    assert count(engine, "SELECT count(*) FROM charges") == 0


def test_unsupported_type_and_bad_msh_are_answered_ar(sender: Sender) -> None:
    unsupported = dft("ORU-1").replace(b"DFT^P03", b"ORU^R01")
    bad_version = dft("V-1").replace(b"|P|2.5.1", b"|P|3.0")

    assert msa(sender.exchange(unsupported))[1:3] == ["AR", "ORU-1"]
    assert err(sender.exchange(bad_version))[2] == "MSH^1^12^1"


@pytest.mark.parametrize(
    ("glued", "where"),
    [
        (dft("TWO-1") + dft("TWO-2"), "segment 6: a second message header (MSH) in one message"),
        (  # the first message's last segment has no terminator: the second runs on into it
            dft("TWO-1").rstrip(b"\r") + dft("TWO-2"),
            "FT1 #2, FT1-13: a second message header (MSH) begins inside this segment",
        ),
    ],
    ids=["segment-start", "run-together"],
)
def test_two_messages_in_one_frame_are_answered_ar_and_neither_is_applied(
    sender: Sender, engine: sa.Engine, listener: MllpThread, glued: bytes, where: str
) -> None:
    ack = sender.exchange(glued)

    assert msa(ack)[1:3] == ["AR", "TWO-1"]
    assert msa(ack)[3].startswith(where)
    assert "one message per MLLP frame" in msa(ack)[3]
    assert listener.settle(TIMEOUT)
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'failed'") == 1
    assert (
        count(engine, "SELECT count(*) FROM exception_items WHERE type = 'malformed_message'") == 1
    )
    assert count(engine, "SELECT count(*) FROM charges") == 0


def test_a_duplicate_re_send_is_answered_and_not_processed_twice(
    sender: Sender, engine: sa.Engine, listener: MllpThread
) -> None:
    first = sender.exchange(dft("DUP-1"))
    again = sender.exchange(dft("DUP-1"))  # maybe before the first is applied
    assert listener.settle(TIMEOUT)
    applied_again = sender.exchange(dft("DUP-1"))  # certainly after
    assert listener.settle(TIMEOUT)

    assert msa(first)[1:3] == msa(again)[1:3] == msa(applied_again)[1:3] == ["AA", "DUP-1"]
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == 1
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 1
    assert count(engine, "SELECT count(*) FROM charges") == 2
    assert count(engine, "SELECT count(*) FROM events") == 2


def test_junk_between_frames_is_dropped_and_the_next_frame_answered(
    sender: Sender, engine: sa.Engine
) -> None:
    sender.socket.sendall(b"noise\x1c\r" + START_BLOCK + b"MSH|partial")
    ack = sender.exchange(dft("AFTER-JUNK"))

    assert msa(ack)[1:3] == ["AA", "AFTER-JUNK"]
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 1


def test_a_frame_larger_than_the_maximum_closes_the_connection(sender: Sender) -> None:
    sender.socket.sendall(START_BLOCK + b"MSH|" + b"x" * (70 * 1024))

    assert sender.ack() is None


def test_concurrent_senders_are_all_answered_and_stored_exactly_once(
    port: int, engine: sa.Engine, listener: MllpThread
) -> None:
    connections, per_connection = 8, 50
    answers: dict[int, list[str]] = {}

    def send_all(number: int) -> None:
        sender = Sender(port)
        try:
            answers[number] = [
                msa(sender.exchange(dft(f"C{number}-{i}")))[2] for i in range(per_connection)
            ]
        finally:
            sender.close()

    threads = [threading.Thread(target=send_all, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 3)

    assert answers == {
        n: [f"C{n}-{i}" for i in range(per_connection)] for n in range(connections)
    }  # each connection answered in order
    assert listener.settle(TIMEOUT)
    total = connections * per_connection
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'processed'") == total
    assert count(engine, "SELECT count(*) FROM charges") == 2 * total
    assert count(engine, "SELECT count(DISTINCT idempotency_key) FROM events") == 2 * total


def test_patient_identifiers_never_reach_the_logs(
    sender: Sender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    sender.exchange(dft("PHI-1"))
    sender.exchange(dft("PHI-2", ft1_type="XX"))
    sender.exchange(dft("PHI-3", facility="ELSEWHERE"))
    sender.socket.sendall(START_BLOCK + b"MSH|" + MRN.encode() * 10_000)
    sender.ack()

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "MLLP" in logged  # the listener did log
    for identifier in (MRN, "ZEBULON", "QUIXOTE", VISIT, "19700101"):
        assert identifier not in logged


def test_stopping_with_a_sender_connected_closes_its_connection_and_logs_no_error(
    sender: Sender, listener: MllpThread, caplog: pytest.LogCaptureFixture
) -> None:
    sender.exchange(dft("STOP-1"))  # MLLP senders keep their connection open between messages

    listener.stop()

    assert sender.ack() is None  # closed by the listener
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- ACK only after commit: a server killed inside a commit -------------------------------


class ServerProcess:
    def __init__(self, url: str, block_at: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(SERVER), url, str(block_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith("listening "), line
        self.port = int(line.split()[1])

    def wait_until_blocked(self) -> None:
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "blocked"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def crash_db(tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    made = prepare(url)
    yield url, made
    made.dispose()


PROCESSED = "SELECT count(*) FROM inbox_messages WHERE status = 'processed'"


def test_a_server_killed_before_storing_sends_no_ack_and_the_re_send_is_applied_once(
    crash_db: tuple[str, sa.Engine],
) -> None:
    url, engine = crash_db
    raw = dft("CRASH-1")
    server = ServerProcess(url, block_at=1)  # the first commit: the group's raw bytes
    sender = Sender(server.port)
    try:
        sender.send(raw)
        server.wait_until_blocked()
        server.kill()
        assert sender.ack() is None  # no ACK for what was not committed
    finally:
        sender.close()
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 0

    restarted = ServerProcess(url, 0)
    again = Sender(restarted.port)
    try:
        assert msa(again.exchange(raw))[1:3] == ["AA", "CRASH-1"]
        assert wait_for(engine, PROCESSED, 1) == 1
    finally:
        again.close()
        restarted.kill()
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 1
    assert count(engine, "SELECT count(*) FROM charges") == 2
    assert count(engine, "SELECT count(*) FROM events WHERE type = 'charge.posted'") == 2


def test_a_server_killed_while_applying_applies_the_stored_message_once_after_restart(
    crash_db: tuple[str, sa.Engine],
) -> None:
    url, engine = crash_db
    raw = dft("CRASH-2")
    server = ServerProcess(url, block_at=2)  # the second commit: the applier's batch
    sender = Sender(server.port)
    try:
        sender.send(raw)
        server.wait_until_blocked()
        server.kill()
        ack = sender.ack()
        # The ACK is sent after the store, before the apply; whether it left before the kill
        # depends on the threads' timing. If it did, it says AA: stored, decodes, will apply.
        assert ack is None or msa(ack)[1:3] == ["AA", "CRASH-2"]
    finally:
        sender.close()
    assert count(engine, "SELECT count(*) FROM inbox_messages WHERE status = 'received'") == 1
    assert count(engine, "SELECT count(*) FROM charges") == 0

    restarted = ServerProcess(url, 0)  # its recovery sweep applies the stored message
    try:
        assert wait_for(engine, PROCESSED, 1) == 1
        again = Sender(restarted.port)
        try:  # the sender that saw no ACK re-sends: a duplicate, answered, not applied again
            assert msa(again.exchange(raw))[1:3] == ["AA", "CRASH-2"]
        finally:
            again.close()
    finally:
        restarted.kill()
    assert count(engine, "SELECT count(*) FROM inbox_messages") == 1
    assert count(engine, PROCESSED) == 1
    assert count(engine, "SELECT count(*) FROM charges") == 2
    assert count(engine, "SELECT count(*) FROM events WHERE type = 'charge.posted'") == 2
    assert count(engine, "SELECT count(DISTINCT idempotency_key) FROM events") == 2
