"""HL7 v2 messages per second over MLLP, store-before-ACK on SQLite, beside a bare echo server.

DESIGN.md §10: HL7 v2 over MLLP, store-before-ACK, 8 sending connections, ≥ 5,000 messages/s
sustained on SQLite. This script measures, in one run:

1. **suture**: the production listener (``entrypoints.mllp.MllpThread``) over the hub's
   ``Hl7Ingest`` on a fresh SQLite file: each DFT^P03 (two FT1s) is stored raw and committed,
   decoded, and then acknowledged (DESIGN.md §3); its charges and two ``charge.posted`` events
   are written afterwards, between groups, by the same writer thread, up to ``--apply-batch``
   messages a transaction, at most ``--max-pending`` messages behind the ACKs. Group commit:
   the listener's one writer thread takes every message waiting when it becomes free (at most
   ``--max-group``), so the 8 connections' messages share their store transactions. Two
   figures: the **ACK** rate (the target's: messages acknowledged per second while the senders
   run) and the **applied** rate (every message's charges and events committed, from the first
   send until nothing is left to apply: the end-to-end drain rate); beside them the server's
   CPU per message, every thread together and each alone (from ``/proc``, on Linux);
2. **echo**: a bare asyncio MLLP server, the same framer, that answers each frame with a fixed
   ACK: no storage, no decoding; the ceiling of the transport in this process model.

The senders are ``--connections`` asyncio clients in a separate process (so they do not take
the server's GIL), each sending its ``--messages`` one after another and waiting for each ACK,
as an HL7 original-mode sender does. Every message is distinct (its own MSH-10 and FT1-2).
After the suture run the database is checked: one processed inbox row per message, two charges
and two events each.

    .venv/bin/python benchmarks/mllp_ingest.py [--connections 8] [--messages 1000]
        [--max-pending 4096] [--apply-batch 512]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.bootstrap import build
from suture.config import Settings
from suture.domain.masterdata import Facility
from suture.entrypoints.hl7_applier import DEFAULT_BATCH, DEFAULT_BOUND
from suture.entrypoints.mllp import MllpFramer, MllpOptions, MllpThread, frame

FIXED_ACK = b"MSH|^~\\&|SUTURE|GH|EPIC|GH|20250301083000||ACK|1|P|2.5.1\rMSA|AA|1\r"


def dft(connection: int, number: int) -> bytes:
    control = f"B{connection}-{number}"
    return (
        f"MSH|^~\\&|EPIC|GH|SUTURE|GH|20250301083000||DFT^P03|{control}|P|2.5.1\r"
        f"EVN|P03|20250301083000\r"
        f"PID|1||MRN{number:07d}^^^GH^MR||DOE^JANE||19700101|F||||||||||A{control}\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||V{control}\r"
        f"FT1|1|{control}-1||20250301080000||CG|CDM100|||2|50.00||LAB|||||||||||||99213\r"
        f"FT1|2|{control}-2||20250301080000||CG|CDM200|||1|15.00||LAB\r"
    ).encode()


# --- the senders, in a process of their own --------------------------------------------------


async def _send(port: int, connection: int, messages: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framer = MllpFramer()
    acks: list[bytes] = []
    accepted = 0
    for number in range(messages):
        writer.write(frame(dft(connection, number)))
        while not acks:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("server closed the connection")
            acks += framer.feed(data)
        accepted += b"MSA|AA|" in acks.pop(0)
    writer.close()
    await writer.wait_closed()
    return accepted


async def _senders(port: int, connections: int, messages: int) -> tuple[float, int, float]:
    """Seconds from the first send to the last ACK, ACKs that said AA, and the wall-clock time
    of the first send (for the server's drain time)."""
    began = time.time()
    started = time.perf_counter()
    counts = await asyncio.gather(*(_send(port, c, messages) for c in range(connections)))
    return time.perf_counter() - started, sum(counts), began


def _sender_process(
    port: int, connections: int, messages: int, out: multiprocessing.SimpleQueue[object]
) -> None:
    out.put(asyncio.run(_senders(port, connections, messages)))


def run_senders(port: int, connections: int, messages: int) -> tuple[float, int, float]:
    out: multiprocessing.SimpleQueue[object] = multiprocessing.SimpleQueue()
    process = multiprocessing.Process(
        target=_sender_process, args=(port, connections, messages, out)
    )
    process.start()
    result = out.get()
    process.join()
    assert isinstance(result, tuple)
    return result[0], result[1], result[2]


# --- the two servers --------------------------------------------------------------------------


def bench_suture(
    args: argparse.Namespace, directory: Path
) -> tuple[float, float, int, dict[str, int], float, dict[str, float]]:
    """Seconds to the last ACK, seconds until everything is applied, AAs, the checks, the CPU
    seconds of the server's process (every thread) from the listener's start until everything
    is applied, and those of each of its threads (Linux only, else empty)."""
    url = f"sqlite:///{directory / 'bench.db'}"
    hub = build(Settings(database_url=url, secret_key="benchmark-secret"))  # noqa: S106 - a throwaway database
    try:
        with SqlAlchemyUnitOfWork(hub.engine) as uow:
            uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
            uow.commit()
        options = MllpOptions(
            max_group=args.max_group, max_pending=args.max_pending, apply_batch=args.apply_batch
        )
        listener = MllpThread(hub.hl7_ingest, "127.0.0.1", 0, options)
        port = listener.start()
        cpu = time.process_time()
        before = _thread_cpu()
        try:
            elapsed, accepted, began = run_senders(port, args.connections, args.messages)
            listener.settle()
            drained = time.time() - began
            cpu = time.process_time() - cpu
            after = _thread_cpu()
            threads = {name: after[name] - before.get(name, 0.0) for name in after}
        finally:
            listener.stop()
        checks = {}
        with hub.engine.connect() as connection:
            for name, sql in {
                "processed": "SELECT count(*) FROM inbox_messages WHERE status = 'processed'",
                "inbox": "SELECT count(*) FROM inbox_messages",
                "charges": "SELECT count(*) FROM charges",
                "events": "SELECT count(*) FROM events WHERE type = 'charge.posted'",
            }.items():
                checks[name] = int(connection.exec_driver_sql(sql).scalar_one())
    finally:
        hub.close()
    return elapsed, drained, accepted, checks, cpu, threads


def _thread_cpu() -> dict[str, float]:
    """CPU seconds (user and system) of each live thread of this process, by thread name, from
    ``/proc`` (Linux); empty elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found: dict[str, float] = {}
    for thread in threading.enumerate():
        try:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[thread.name] = (int(fields[11]) + int(fields[12])) / ticks
    return found


async def _echo_server(ready: asyncio.Future[int], stop: asyncio.Event) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = MllpFramer()
        framed = frame(FIXED_ACK)
        while data := await reader.read(65536):
            for _ in framer.feed(data):
                writer.write(framed)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    ready.set_result(server.sockets[0].getsockname()[1])
    await stop.wait()
    server.close()
    await server.wait_closed()


def bench_echo(args: argparse.Namespace) -> tuple[float, int, float]:
    async def main() -> tuple[float, int, float]:
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        server = asyncio.create_task(_echo_server(ready, stop))
        port = await ready
        result = await asyncio.to_thread(run_senders, port, args.connections, args.messages)
        stop.set()
        await server
        return result

    return asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--messages", type=int, default=1000, help="per connection")
    parser.add_argument("--max-group", type=int, default=256)
    parser.add_argument("--max-pending", type=int, default=DEFAULT_BOUND)
    parser.add_argument("--apply-batch", type=int, default=DEFAULT_BATCH)
    args = parser.parse_args(argv)
    total = args.connections * args.messages
    with tempfile.TemporaryDirectory(prefix="suture-mllp-") as tmp:
        suture_s, drained_s, suture_ok, checks, cpu_s, threads = bench_suture(args, Path(tmp))
    echo_s, echo_ok, _ = bench_echo(args)
    expected = {"processed": total, "inbox": total, "charges": 2 * total, "events": 2 * total}
    print(f"{args.connections} connections x {args.messages} DFT^P03 (2 FT1 each) = {total}")
    print(f"apply batches of at most {args.apply_batch}, at most {args.max_pending} pending")
    print(f"{'server':<18} {'msg/s':>10} {'seconds':>8} {'AA':>7}")
    print(f"{'suture, ACKed':<18} {total / suture_s:>10,.0f} {suture_s:>8.2f} {suture_ok:>7}")
    print(f"{'suture, applied':<18} {total / drained_s:>10,.0f} {drained_s:>8.2f}")
    print(
        f"suture server CPU: {cpu_s:.2f} s ({cpu_s / drained_s:.0%} of the applied wall time), "
        f"{cpu_s / total * 1e6:,.0f} µs per message"
    )
    if threads:
        shown = ", ".join(
            f"{name} {seconds / total * 1e6:,.0f}"
            for name, seconds in sorted(threads.items(), key=lambda item: -item[1])
            if seconds > 0
        )
        print(f"  by thread, µs per message: {shown}")
    print(f"{'echo':<18} {total / echo_s:>10,.0f} {echo_s:>8.2f} {echo_ok:>7}")
    print(f"suture / echo: ACKed {echo_s / suture_s:.2f}, applied {echo_s / drained_s:.2f}")
    print(f"checks: {checks} {'OK' if checks == expected else f'MISMATCH, expected {expected}'}")


if __name__ == "__main__":
    main()
