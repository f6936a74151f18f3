"""The MLLP listener: HL7 v2 messages over TCP, each stored before it is acknowledged.

MLLP (HL7 v2.5.1 Appendix C, "Minimal Lower Layer Protocol") frames a message as
``0x0B`` message ``0x1C 0x0D``. This module only frames bytes; storing, decoding and the ACK are
:class:`~suture.services.hl7_ingest.Hl7Ingest`'s (python-hl7 keeps transport apart from parsing
the same way). The promises:

- **Store before ACK.** A frame's ACK is written only after the ingest returned it, and the
  ingest returns only after the raw bytes were committed (DESIGN.md §3 guarantee 1) and decoded
  (the ACK code and its ERR need the decode). When the ingest fails (the database is
  unavailable), no ACK is sent and the connection is closed, so the sender re-sends; the inbox
  recognises a message it already has.
- **Apply off the ACK path.** What a message writes (charges, events, statuses, exception
  items) is applied after its ACK (:class:`~suture.entrypoints.hl7_applier.Hl7Applier`), up to
  ``apply_batch`` messages a transaction, by the writer thread whenever no frame waits; it is
  bounded (when ``max_pending`` messages wait, the writer applies before it answers its next
  group), and its recovery sweep applies what a crash left stored but not applied.
- **Any number of connections, each in order.** Connections are served concurrently by one
  asyncio loop; the frames of one connection are acknowledged one after another, in order.
- **One writer.** Database work runs off the loop, in one worker thread fed by a queue, so
  connections never fight over SQLite's write lock, nor the store with the apply. The worker
  takes every frame waiting when it becomes free and hands them to the ingest as one group
  (group commit: one transaction stores the group), hands the group to the applier, then
  acknowledges each. Under load the group grows, and with it the throughput; an idle listener
  answers a lone message at once.
- **Robust framing.** Bytes outside a frame are dropped up to the next start block; a frame
  larger than ``max_frame`` bytes closes the connection (a sender that never ends a frame
  cannot exhaust memory). Logs name the peer and sizes, never the content (DESIGN.md §6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from suture.entrypoints.hl7_applier import (
    DEFAULT_BATCH,
    DEFAULT_BOUND,
    DEFAULT_SWEEP_SECONDS,
    Applies,
    Hl7Applier,
)
from suture.services.hl7_ingest import Hl7Acceptance, Hl7Reply, Hl7Submission

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
#: The IANA-registered port of HL7 over MLLP.
DEFAULT_PORT = 2575
DEFAULT_MAX_FRAME = 4 * 1024 * 1024
DEFAULT_MAX_GROUP = 256
_READ_SIZE = 64 * 1024

log = logging.getLogger("suture.mllp")


class Ingest(Applies, Protocol):
    """What the listener needs of the ingest: a group of messages in, one reply each and what
    to apply; then the applying (:class:`~suture.entrypoints.hl7_applier.Applies`)."""

    def accept_many(self, submissions: Sequence[Hl7Submission]) -> Hl7Acceptance: ...


class FrameTooLargeError(Exception):
    """A frame grew past the configured maximum before its end block."""


def frame(message: bytes) -> bytes:
    """``message`` in an MLLP envelope."""
    return START_BLOCK + message + END_BLOCK


class MllpFramer:
    """Bytes in, whole messages out; tolerant of junk between frames.

    ``dropped`` counts the bytes discarded so far (outside frames, or frames cut short by a new
    start block or ended by ``0x1C`` without ``0x0D``).
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max = max_frame
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The messages completed by ``data``; raises :class:`FrameTooLargeError`."""
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        while buffer:
            if buffer[0] != START_BLOCK[0]:
                start = buffer.find(START_BLOCK)
                cut = len(buffer) if start < 0 else start
                self.dropped += cut
                del buffer[:cut]
                continue
            end = buffer.find(b"\x1c", 1)
            restart = buffer.find(START_BLOCK, 1, end if end >= 0 else len(buffer))
            if restart > 0:  # a new frame began before this one ended: drop the partial one
                self.dropped += restart
                del buffer[:restart]
                continue
            if end < 0:
                if len(buffer) > self._max + 1:
                    raise FrameTooLargeError(f"frame larger than {self._max} bytes")
                break
            if end + 1 >= len(buffer):
                break  # the 0x0D after the 0x1C has not arrived yet
            if end - 1 > self._max:
                raise FrameTooLargeError(f"frame larger than {self._max} bytes")
            if buffer[end + 1] == END_BLOCK[1]:
                messages.append(bytes(buffer[1:end]))
                del buffer[: end + 2]
            else:
                self.dropped += end + 1
                del buffer[: end + 1]
        return messages


@dataclass(slots=True)
class _Pending:
    submission: Hl7Submission
    future: asyncio.Future[Hl7Reply]
    loop: asyncio.AbstractEventLoop


@dataclass(slots=True)
class _Writer:
    """The one thread that talks to the database, in groups."""

    ingest: Ingest
    max_group: int
    applier: Hl7Applier
    inbox: queue.SimpleQueue[_Pending | None] = field(default_factory=queue.SimpleQueue)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="mllp-writer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.inbox.put(None)
        if self.thread is not None:
            self.thread.join()

    def _run(self) -> None:
        applier = self.applier
        inbox = self.inbox
        while True:
            if applier.sweep_due():  # a page between any two groups, whatever waits
                applier.step()
            try:  # a frame first; the applier's work only when none waits
                if applier.pending():  # a batch worth a transaction, or the sweep
                    first = inbox.get_nowait()
                elif applier.waiting:  # a few: a frame first, if one comes soon
                    first = inbox.get(timeout=applier.linger)
                else:
                    first = inbox.get(timeout=max(applier.seconds_to_sweep(), 0.001))
            except queue.Empty:
                applier.step()
                continue
            if first is None:
                applier.drain()
                return
            group = [first]
            stopping = False
            while len(group) < self.max_group:
                try:
                    more = inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
            self._settle(group)
            if stopping:
                applier.drain()
                return

    def _settle(self, group: list[_Pending]) -> None:
        try:
            replies, accepted = self.ingest.accept_many([p.submission for p in group])
        except Exception:
            if len(group) == 1:
                _fail(group[0])
                return
            for each in group:  # alone, so that only the failing ones go unacknowledged
                self._settle([each])
            return
        # Handed over first, so that what was acknowledged is in the applier's count; when the
        # applier is behind by its bound, this applies first, and the ACKs wait with it.
        self.applier.put(accepted)
        answers: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Hl7Reply], Hl7Reply]]]
        answers = {}
        for waiting, reply in zip(group, replies, strict=True):
            answers.setdefault(waiting.loop, []).append((waiting.future, reply))
        for loop, settled in answers.items():  # one wake-up of each loop for the whole group
            loop.call_soon_threadsafe(_resolve_all, settled)


def _fail(pending: _Pending) -> None:
    log.exception("MLLP message not stored; no ACK sent, the sender will re-send")
    error = RuntimeError("the ingest failed")
    pending.loop.call_soon_threadsafe(_reject, pending.future, error)


def _resolve_all(settled: list[tuple[asyncio.Future[Hl7Reply], Hl7Reply]]) -> None:
    for future, reply in settled:
        if not future.done():
            future.set_result(reply)


def _reject(future: asyncio.Future[Hl7Reply], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


@dataclass(frozen=True, slots=True)
class MllpOptions:
    """How the listener names what it receives, and its limits.

    ``max_pending`` bounds the messages acknowledged and waiting to be applied (the writer then
    waits), ``apply_batch`` the messages applied in one transaction; ``sweep_seconds`` is how
    often the recovery sweep runs (:mod:`suture.entrypoints.hl7_applier`)."""

    interface: str = "mllp"
    source_system: str = "rcm"
    max_frame: int = DEFAULT_MAX_FRAME
    max_group: int = DEFAULT_MAX_GROUP
    max_pending: int = DEFAULT_BOUND
    apply_batch: int = DEFAULT_BATCH
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS


async def serve_mllp(
    ingest: Ingest,
    host: str,
    port: int,
    stop_event: asyncio.Event,
    *,
    options: MllpOptions | None = None,
    on_ready: Callable[[int], None] | None = None,
    applier: Hl7Applier | None = None,
) -> None:
    """Listen on ``host:port`` until ``stop_event`` is set; ``on_ready(port)`` once listening
    (the bound port, useful with ``port=0``). ``applier`` is the one to hand accepted messages
    to (driven by the writer thread, drained when it stops); by default one made from
    ``options``."""
    o = options or MllpOptions()
    if applier is None:
        applier = new_applier(ingest, o)
    writer = _Writer(ingest, o.max_group, applier)
    writer.start()
    connections: set[asyncio.Task[None]] = set()

    async def accepted(reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            connections.add(task)
        try:
            await _connection(reader, stream, writer, o)
        except asyncio.CancelledError:
            if not stop_event.is_set():
                raise
            # Cancelled by this listener's own stop (below): end normally. On Python 3.11 a
            # cancelled connection task makes asyncio's stream callback log an ERROR with a
            # CancelledError traceback (its ``task.exception()`` raises), on every shutdown
            # while a sender is connected, and MLLP senders stay connected.
        finally:
            if task is not None:
                connections.discard(task)

    try:
        server = await asyncio.start_server(accepted, host, port, limit=_READ_SIZE)
    except BaseException:  # not listening (the port is taken): no thread outlives the call
        await asyncio.to_thread(writer.stop)
        raise
    try:
        bound = server.sockets[0].getsockname()[1]
        log.info("MLLP listener on %s:%s", host, bound)
        if on_ready is not None:
            on_ready(bound)
        await stop_event.wait()
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        if connections:
            await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()
        await asyncio.to_thread(writer.stop)
        log.info("MLLP listener stopped")


def new_applier(ingest: Ingest, options: MllpOptions) -> Hl7Applier:
    """The applier ``options`` describe (driven by the listener's writer thread)."""
    return Hl7Applier(
        ingest,
        bound=options.max_pending,
        batch=options.apply_batch,
        sweep_seconds=options.sweep_seconds,
    )


async def _connection(
    reader: asyncio.StreamReader, stream: asyncio.StreamWriter, writer: _Writer, o: MllpOptions
) -> None:
    peer = stream.get_extra_info("peername")
    framer = MllpFramer(o.max_frame)
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(_READ_SIZE)
            if not data:
                return
            try:
                messages = framer.feed(data)
            except FrameTooLargeError:
                log.error(
                    "MLLP frame from %s exceeds %d bytes; connection closed", peer, o.max_frame
                )
                return
            for message in messages:
                if not message:
                    continue
                future: asyncio.Future[Hl7Reply] = loop.create_future()
                submission = Hl7Submission(message, o.interface, o.source_system)
                writer.inbox.put(_Pending(submission, future, loop))
                try:
                    reply = await future
                except RuntimeError:
                    return  # logged by the writer; closing makes the sender re-send
                stream.write(frame(reply.ack))
                await stream.drain()
                log.debug("MLLP %s %s from %s", reply.code, reply.message_id, peer)
            if framer.dropped:
                log.warning("MLLP dropped %d bytes outside frames from %s", framer.dropped, peer)
                framer.dropped = 0
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        stream.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await stream.wait_closed()


class MllpThread:
    """The listener on an event loop of its own, in a thread: for ``suture serve``, whose main
    thread runs the dispatcher. :meth:`start` returns once listening (or raises why not)."""

    def __init__(
        self, ingest: Ingest, host: str, port: int, options: MllpOptions | None = None
    ) -> None:
        self._args = (ingest, host, port, options)
        self._applier = new_applier(ingest, options or MllpOptions())
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.port: int | None = None

    def start(self) -> int:
        self._thread = threading.Thread(target=self._run, name="mllp-listener", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        if self.port is None:
            raise RuntimeError("the MLLP listener stopped before it was listening")
        return self.port

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until every message acknowledged so far is applied; False on ``timeout``."""
        return self._applier.settle(timeout)

    @property
    def unapplied(self) -> int:
        """Messages acknowledged and not yet applied (:attr:`Hl7Applier.unapplied`)."""
        return self._applier.unapplied

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ingest, host, port, options = self._args
            await serve_mllp(
                ingest, host, port, self._stop, options=options, on_ready=self._listening,
                applier=self._applier,
            )  # fmt: skip

        try:
            asyncio.run(main())
        except BaseException as error:
            self._error = error
        finally:
            self._ready.set()

    def _listening(self, port: int) -> None:
        self.port = port
        self._ready.set()
