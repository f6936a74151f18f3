"""The drop folder of ``suture serve --watch DIR``: files dropped by partners and legacy systems,
each stored through the inbox, routed by content, then moved aside (issue 4, DESIGN.md §3).

Each poll lists ``DIR`` (not its sub-folders). A file is taken once it is **stable**: the same
size and modification time on two consecutive polls, so a file still being written is left
alone; names starting with ``.`` and ending in ``.tmp`` or ``.part`` (a writer's temporary
name, renamed when complete) are never taken. A taken file is routed by its first bytes (a
byte-order mark and leading white space skipped):

- ``ISA``: X12, through :class:`~suture.services.x12_ingest.X12Ingest`, each interchange of
  a file that holds several (as a VAN mailbox writes them) on its own;
- ``MSH``, ``FHS`` or ``BHS``: HL7 v2 (one message or a batch), through
  :class:`~suture.services.hl7_ingest.Hl7Ingest`;
- a first line with a comma, a semicolon or a tab, and no control characters: CSV, stored in
  the inbox with the ``message.received`` its feed's decoder runs on (docs/csv-feeds.md; the
  feed is the one configured for the folder's interface, ``--watch-interface``);
- anything else: not stored; moved to ``failed/`` with the reason printed.

A file of UTF-16 text (a byte-order mark ``FF FE`` or ``FE FF``: a spreadsheet's "Unicode
text", PowerShell's ``Out-File``) is detected on its text. A CSV goes to its feed, whose
profile may declare ``encoding: utf-16``; X12 and HL7 v2 are not read in UTF-16 (a segment
terminator's byte can sit inside a character), so such a file is not stored and is moved to
``failed/`` with the reason, "save it as UTF-8".

Only after the ingest returned (the raw bytes committed, the content applied or failed) is the
file moved, to ``DIR/processed/`` when it was applied (or stored, for CSV), else to
``DIR/failed/`` (an X12 or HL7 error, an unknown X12 sender): the inbox holds the bytes and an
exception item says why; the outcome's detail says it too (the X12 reason; for HL7, the number,
code and reason of the first few messages answered AE or AR). A crash between the commit and
the move leaves the file in place; the next poll stores it again, which the inbox recognises as
the same bytes (a duplicate, not applied twice). A name already in the target folder gets the
message id added.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from suture.bootstrap import Hub
from suture.domain.messages import MessageStatus
from suture.eventlog.retry import FailureStreak, LoopFailure, RetryPolicy, polling_backoff
from suture.formats.hl7v2 import Hl7DecodeError, split_batch
from suture.formats.x12 import split_interchanges
from suture.services.hl7_ingest import Hl7Submission

PROCESSED = "processed"
FAILED = "failed"
_IGNORED_SUFFIXES = (".tmp", ".part")
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HEAD = 4096
_UTF16 = (
    "UTF-16 text (byte-order mark {}): X12 and HL7 v2 files are read as UTF-8 (or the character "
    "set MSH-18 names); save it as UTF-8"
)
_CSV_SEPARATORS = (b",", b";", b"\t")
_LISTED = 5  # HL7 messages answered AE or AR named in an outcome's detail


@dataclass(frozen=True, slots=True)
class DropOutcome:
    """What became of one file: its format, the inbox message, and where it was moved."""

    name: str
    format: str
    ok: bool
    detail: str
    moved_to: Path
    message_id: str | None = None


def detect_format(data: bytes) -> str | None:
    """``x12``, ``hl7v2``, ``csv`` or None, from the first bytes of a file."""
    if data.startswith(_UTF16_BOMS):  # read its text (the BOM names the byte order)
        data = data[: 2 * _HEAD].decode("utf-16", "replace").encode("utf-8", "replace")
    head = data.removeprefix(_BOM).lstrip()[:_HEAD]
    if head.startswith(b"ISA"):
        return "x12"
    if head.startswith((b"MSH", b"FHS", b"BHS")):
        return "hl7v2"
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    printable = all(byte >= 0x20 or byte == 0x09 for byte in first)
    if first and printable and any(sep in first for sep in _CSV_SEPARATORS):
        return "csv"
    return None


class DropFolder:
    """Polls one folder; :meth:`poll_once` takes every stable file (see the module docstring)."""

    def __init__(
        self,
        hub: Hub,
        directory: Path,
        *,
        interface: str = "drop-folder",
        source_system: str = "drop-folder",
    ) -> None:
        self._hub = hub
        self.directory = directory
        self._interface = interface
        self._source = source_system
        self._sizes: dict[str, tuple[int, int]] = {}
        for name in (PROCESSED, FAILED):
            (directory / name).mkdir(parents=True, exist_ok=True)

    def poll_once(self) -> list[DropOutcome]:
        """Take the files that were stable since the last poll; what became of each."""
        outcomes: list[DropOutcome] = []
        present: set[str] = set()
        for entry in sorted(self.directory.iterdir()):
            name = entry.name
            if not entry.is_file() or name.startswith(".") or name.endswith(_IGNORED_SUFFIXES):
                continue
            present.add(name)
            stat = entry.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            if self._sizes.get(name) != signature:
                self._sizes[name] = signature  # new or still growing: look again next poll
                continue
            del self._sizes[name]
            outcomes.append(self._take(entry))
        for gone in set(self._sizes) - present:
            del self._sizes[gone]
        return outcomes

    def _take(self, path: Path) -> DropOutcome:
        data = path.read_bytes()
        kind = detect_format(data)
        if kind in ("x12", "hl7v2") and data.startswith(_UTF16_BOMS):
            return self._move(path, kind, False, _UTF16.format(data[:2].hex(" ").upper()), None)
        if kind == "x12":
            return self._x12(path, data)
        if kind == "hl7v2":
            return self._hl7(path, data)
        if kind == "csv":  # stored with the event its feed's decoder runs on (csv-feeds.md)
            stored = self._hub.csv_ingest.receive(
                data, interface=self._interface, source_system=self._source
            )
            return self._move(path, kind, True, "stored", stored.message.id)
        return self._move(path, "unknown", False, "not X12 (ISA), HL7 v2 (MSH) or CSV", None)

    def _x12(self, path: Path, data: bytes) -> DropOutcome:
        ingest = self._hub.x12_ingest
        replies = [
            ingest.receive(part, interface=self._interface, source_system=self._source)
            for part in split_interchanges(data)
        ]
        ok = all(reply.status is MessageStatus.PROCESSED for reply in replies)
        first = replies[0]
        if len(replies) == 1:
            return self._move(path, "x12", ok, first.reason or str(first.status), first.message_id)
        done = sum(1 for reply in replies if reply.status is MessageStatus.PROCESSED)
        detail = f"{len(replies)} interchanges: {done} processed"
        for number, reply in enumerate(replies, start=1):
            if reply.status is not MessageStatus.PROCESSED:
                detail += f"; interchange {number}: {reply.reason or reply.status}"
        return self._move(path, "x12", ok, detail, first.message_id)

    def _hl7(self, path: Path, data: bytes) -> DropOutcome:
        try:
            batch = split_batch(data)
        except Hl7DecodeError as error:
            return self._move(path, "hl7v2", False, str(error), None)
        submissions = [Hl7Submission(raw, self._interface, self._source) for raw in batch.messages]
        replies = self._hub.hl7_ingest.receive_many(submissions)
        codes = [reply.code for reply in replies]
        ok = all(code == "AA" for code in codes)
        detail = f"{len(codes)} messages: {codes.count('AA')} AA"
        refused = [(n, r) for n, r in enumerate(replies, start=1) if r.code != "AA"]
        for number, reply in refused[:_LISTED]:  # the codec's reasons never quote patient data
            reason = self._hub.inbox.get(reply.message_id).status_reason
            detail += f"; message {number} {reply.code}: {reason}"
        if len(refused) > _LISTED:
            detail += f" (and {len(refused) - _LISTED} more)"
        first = replies[0].message_id if replies else None
        return self._move(path, "hl7v2", ok, detail, first)

    def _move(
        self, path: Path, kind: str, ok: bool, detail: str, message_id: str | None
    ) -> DropOutcome:
        folder = self.directory / (PROCESSED if ok else FAILED)
        target = folder / path.name
        if target.exists():
            target = folder / f"{path.stem}.{message_id or 'again'}{path.suffix}"
        os.replace(path, target)
        return DropOutcome(path.name, kind, ok, detail, target, message_id)


class DropFolderThread:
    """Runs :meth:`DropFolder.poll_once` every ``interval`` seconds until :meth:`stop`.

    A poll that fails (the database down while a file waits) is reported once to ``on_error``
    with its attempt number and wait, and the next waits a capped exponential backoff with
    jitter (``backoff``, from ``interval`` up to a minute) instead of ``interval``: a file
    waiting through an outage otherwise failed, and was logged, every other poll. A poll that
    takes a file starts the count again; one that takes nothing leaves it as it is.
    """

    def __init__(
        self,
        folder: DropFolder,
        interval: float,
        on_outcome: Callable[[DropOutcome], None] = lambda _: None,
        on_error: Callable[[LoopFailure], None] = lambda _: None,
        *,
        backoff: RetryPolicy | None = None,
        rand: Callable[[], float] = random.random,
        wait: Callable[[float], None] | None = None,
    ) -> None:
        self.folder = folder
        self._interval = interval
        self._on_outcome = on_outcome
        self._on_error = on_error
        self._streak = FailureStreak("drop folder", backoff or polling_backoff(interval), rand)
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread = threading.Thread(target=self._run, name="drop-folder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def run_once(self) -> None:
        """One poll, then the wait before the next: ``interval``, or the backoff after a
        failure."""
        try:
            outcomes = self.folder.poll_once()
        except Exception as error:  # reported, and the loop goes on: nothing is lost, the
            failure = self._streak.failed(error)  # file stays where it was
            self._on_error(failure)
            self._wait(failure.delay.total_seconds())
            return
        for outcome in outcomes:
            self._on_outcome(outcome)
        if outcomes:
            self._streak.succeeded()
        self._wait(self._interval)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
