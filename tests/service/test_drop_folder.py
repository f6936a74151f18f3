"""The drop folder of ``suture serve --watch``: real files in a real folder, a real hub."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_hl7_ingest import dft
from test_x12_ingest import ACK_855
from x12_world import events, interchange, seed

from suture.adapters.db.errors import StorageError
from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.messages import MessageStatus
from suture.entrypoints.drop_folder import DropFolder, DropFolderThread, DropOutcome, detect_format
from suture.eventlog.retry import Jitter, LoopFailure, RetryPolicy


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = build(
        Settings(database_url=f"sqlite:///{tmp_path / 'drop.db'}", erp_outbox_dir=tmp_path / "out")
    )
    seed(built.engine)
    yield built
    built.close()


@pytest.fixture
def folder(tmp_path: Path, hub: Hub) -> DropFolder:
    return DropFolder(hub, tmp_path / "drop")


def polled_twice(folder: DropFolder) -> list[DropOutcome]:
    """A file is taken once it was the same size on two polls."""
    return folder.poll_once() + folder.poll_once()


def test_an_x12_file_is_stored_applied_and_moved_to_processed(folder: DropFolder, hub: Hub) -> None:
    (folder.directory / "ack.edi").write_bytes(interchange([("855", ACK_855)]))

    (outcome,) = polled_twice(folder)

    assert (outcome.format, outcome.ok) == ("x12", True)
    assert outcome.moved_to == folder.directory / "processed" / "ack.edi"
    assert not (folder.directory / "ack.edi").exists()
    assert outcome.message_id is not None
    stored = hub.inbox.get(outcome.message_id)
    assert (stored.format, stored.interface, stored.status) == (
        "x12", "drop-folder", MessageStatus.PROCESSED,
    )  # fmt: skip
    assert len(events(hub.engine, "purchasing.order.acknowledged")) == 1


def test_each_interchange_of_an_x12_file_that_holds_several_is_stored_and_applied(
    folder: DropFolder, hub: Hub
) -> None:
    first, second = interchange([("855", ACK_855)]), interchange([("855", [])], control=906)
    (folder.directory / "van.edi").write_bytes(first + b"\r\n" + second)

    (outcome,) = polled_twice(folder)

    assert (outcome.format, outcome.ok, outcome.moved_to.parent.name) == ("x12", False, "failed")
    assert outcome.detail == (
        "2 interchanges: 1 processed; interchange 2: ST 0001 (855): segment 4 (BAK): 855 has no "
        "BAK segment (it belongs right after ST)"
    )
    stored = sorted(m.status for m in hub.inbox.list(interface="drop-folder"))
    assert stored == [MessageStatus.FAILED, MessageStatus.PROCESSED]
    assert len(events(hub.engine, "purchasing.order.acknowledged")) == 1


def test_a_file_is_not_taken_on_the_poll_that_first_sees_it_nor_while_it_grows(
    folder: DropFolder,
) -> None:
    path = folder.directory / "growing.edi"
    path.write_bytes(interchange([("855", ACK_855)])[:50])
    assert folder.poll_once() == []
    with path.open("ab") as more:
        more.write(b"*")
    assert folder.poll_once() == []  # the size changed since the last poll
    assert path.exists()


def test_temporary_and_hidden_files_are_never_taken(folder: DropFolder) -> None:
    for name in ("upload.edi.tmp", "upload.part", ".hidden.edi"):
        (folder.directory / name).write_bytes(interchange([("855", ACK_855)]))

    assert polled_twice(folder) == []
    assert sorted(p.name for p in folder.directory.iterdir() if p.is_file()) == [
        ".hidden.edi", "upload.edi.tmp", "upload.part",
    ]  # fmt: skip


def test_an_hl7_file_goes_to_the_hl7_ingest(folder: DropFolder, hub: Hub) -> None:
    (folder.directory / "charges.hl7").write_bytes(dft("D1"))

    (outcome,) = polled_twice(folder)

    assert (outcome.format, outcome.ok, outcome.detail) == ("hl7v2", True, "1 messages: 1 AA")
    assert hub.inbox.get(outcome.message_id or "").format == "hl7v2"


def test_an_hl7_file_with_a_bad_message_says_which_and_why(folder: DropFolder) -> None:
    (folder.directory / "charges.hl7").write_bytes(dft("D1") + dft("D2", ft1_type="ZZ"))

    (outcome,) = polled_twice(folder)

    assert (outcome.ok, outcome.moved_to.parent.name, outcome.detail) == (
        False,
        "failed",
        "2 messages: 1 AA; message 2 AE: FT1 #1, FT1-6: transaction type 'ZZ' is not a charge "
        "(CG) or a credit (CD)",
    )


def test_a_csv_file_is_stored_for_its_feed(folder: DropFolder, hub: Hub) -> None:
    (folder.directory / "usage.csv").write_bytes(b"item,quantity\nG-44,2\n")

    (outcome,) = polled_twice(folder)

    assert (outcome.format, outcome.ok) == ("csv", True)
    assert hub.inbox.get(outcome.message_id or "").status is MessageStatus.RECEIVED


def test_an_x12_file_that_fails_is_kept_in_the_inbox_and_moved_to_failed(
    folder: DropFolder, hub: Hub
) -> None:
    raw = interchange([("855", ACK_855)], sender="STRANGER")
    (folder.directory / "stranger.edi").write_bytes(raw)

    (outcome,) = polled_twice(folder)

    assert (outcome.ok, outcome.moved_to.parent.name) == (False, "failed")
    assert outcome.detail.startswith("unknown sender: ISA06 'STRANGER'")
    assert hub.inbox.get(outcome.message_id or "", with_raw=True).raw == raw


def test_content_of_no_known_format_is_moved_to_failed_untouched(folder: DropFolder) -> None:
    (folder.directory / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0binary")

    (outcome,) = polled_twice(folder)

    assert (outcome.format, outcome.ok, outcome.message_id) == ("unknown", False, None)
    assert outcome.moved_to.read_bytes() == b"\xff\xd8\xff\xe0binary"


@pytest.mark.parametrize(
    "content", [dft("U1"), interchange([("855", ACK_855)])], ids=["hl7", "x12"]
)
def test_an_hl7_or_x12_file_in_utf16_is_moved_to_failed_saying_so(
    folder: DropFolder, content: bytes
) -> None:
    data = content.decode().encode("utf-16")  # as PowerShell's Out-File writes it
    (folder.directory / "charges.txt").write_bytes(data)

    (outcome,) = polled_twice(folder)

    assert (outcome.ok, outcome.message_id, outcome.detail) == (
        False,
        None,
        "UTF-16 text (byte-order mark FF FE): X12 and HL7 v2 files are read as UTF-8 (or the "
        "character set MSH-18 names); save it as UTF-8",
    )
    assert outcome.moved_to.read_bytes() == data


def test_a_name_already_processed_is_kept_apart_by_its_message_id(folder: DropFolder) -> None:
    (folder.directory / "ack.edi").write_bytes(interchange([("855", ACK_855)]))
    polled_twice(folder)
    (folder.directory / "ack.edi").write_bytes(interchange([("855", ACK_855)], control=907))

    (outcome,) = polled_twice(folder)

    assert outcome.moved_to.name == f"ack.{outcome.message_id}.edi"
    assert (folder.directory / "processed" / "ack.edi").exists()


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xef\xbb\xbf  ISA*00*", "x12"),
        (b"MSH|^~\\&|", "hl7v2"),
        (b"FHS|^~\\&|", "hl7v2"),
        (b"a;b;c\r\n1;2;3", "csv"),
        (b"just words", None),
        (b"", None),
        ("a,b\r\n1,2".encode("utf-16"), "csv"),  # "Unicode text" from a spreadsheet
        ("MSH|^~\\&|".encode("utf-16-be"), None),  # no byte-order mark: not text we read
        ("MSH|^~\\&|".encode("utf-16"), "hl7v2"),
    ],
)
def test_the_format_is_detected_from_the_content(head: bytes, kind: str | None) -> None:
    assert detect_format(head) == kind


def test_the_serve_poll_loop_takes_files_as_they_arrive(folder: DropFolder, hub: Hub) -> None:
    seen: list[DropOutcome] = []
    loop = DropFolderThread(folder, 0.02, seen.append)
    loop.start()
    try:
        (folder.directory / "one.edi").write_bytes(interchange([("855", ACK_855)]))
        (folder.directory / "two.edi").write_bytes(interchange([("855", ACK_855)], control=908))
        deadline = time.monotonic() + 60
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        loop.stop()

    assert sorted((o.name, o.ok) for o in seen) == [("one.edi", True), ("two.edi", True)]
    assert sorted(p.name for p in (folder.directory / "processed").iterdir()) == [
        "one.edi", "two.edi",
    ]  # fmt: skip


def test_the_poll_loop_backs_off_while_the_database_refuses_a_waiting_file(
    tmp_path: Path, unreachable_database_url: str
) -> None:
    """A file waiting while the database is down used to fail, and log, every other poll for as
    long as the outage lasted; each failure now waits longer, and is reported once."""
    down = build(
        Settings(database_url=unreachable_database_url, erp_outbox_dir=tmp_path / "out"),
        migrate=False,
    )
    folder = DropFolder(down, tmp_path / "drop")
    (folder.directory / "ack.edi").write_bytes(interchange([("855", ACK_855)]))
    failures: list[LoopFailure] = []
    waits: list[float] = []
    backoff = RetryPolicy(
        base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=4), jitter=Jitter.EQUAL
    )
    loop = DropFolderThread(
        folder, 0.5, on_error=failures.append, backoff=backoff, rand=lambda: 1.0,
        wait=waits.append,
    )  # fmt: skip
    try:
        while len(failures) < 4:
            loop.run_once()
    finally:
        down.close()

    assert [(f.loop, f.attempt, type(f.error)) for f in failures] == [
        ("drop folder", n, StorageError) for n in (1, 2, 3, 4)
    ]
    # a poll that sees the file again waits the interval, a failed take the backoff
    assert waits == [0.5, 1.0, 0.5, 2.0, 0.5, 4.0, 0.5, 4.0]
    assert (folder.directory / "ack.edi").exists()  # left for the database's return
