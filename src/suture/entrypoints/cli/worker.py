"""``suture worker``: one of any number of processes sharing the bus's work through NATS.

DESIGN.md §8, scale-out. Needs ``SUTURE_NATS_URL`` (and, to share work between machines,
PostgreSQL). Each worker runs the outbox relay (concurrent relays take disjoint batches), the
consumer of the shared durable pull consumer, and the sweep of retries, re-drives and work whose
message was lost, plus the outbound deliveries; see ``suture.adapters.nats.worker``. With NATS
configured, ``suture serve`` should not run the embedded dispatcher as well: the workers do the
bus's work.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer

from suture.adapters.nats.stream import NatsEventStream
from suture.adapters.nats.worker import WorkerOptions, WorkerStats, run_worker
from suture.bootstrap import Hub
from suture.domain.errors import SutureError
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.entrypoints.cli.erp import scheduled_pull
from suture.entrypoints.collector import settle_collector
from suture.eventlog.retry import LoopFailure

#: Operational warnings (a failure being retried), structured like every other log line.
log = logging.getLogger("suture.worker")


def worker_command(
    batch: Annotated[
        int, typer.Option(min=1, max=10_000, help="Messages fetched, and items swept, at once.")
    ] = 500,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Work items of one batch run in parallel.")
    ] = 1,
    stale_after: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds before the sweep runs work whose message is late."),
    ] = 30.0,
    relay: Annotated[
        bool, typer.Option("--relay/--no-relay", help="Also publish the outbox to NATS.")
    ] = True,
    report_every: Annotated[
        int, typer.Option(min=1, help="Print a line each time this many more items are done.")
    ] = 1000,
) -> None:
    """Consume the event stream from NATS JetStream until Ctrl-C or SIGTERM."""
    hub = open_hub()
    try:
        if hub.stream is None:
            errors.print(
                "worker: SUTURE_NATS_URL is not set; without NATS, `suture serve` runs the bus"
            )
            raise typer.Exit(2)
        options = WorkerOptions(
            batch=batch, concurrency=concurrency, stale_after=timedelta(seconds=stale_after)
        )
        stats = asyncio.run(_work(hub, options, relay=relay, report_every=report_every))
    finally:
        hub.close()
    console.print(
        f"stopped: {stats.from_stream:,} items from the stream, {stats.swept:,} swept, "
        f"{stats.published:,} events relayed"
    )


async def _work(hub: Hub, options: WorkerOptions, *, relay: bool, report_every: int) -> WorkerStats:
    assert hub.stream is not None  # checked by the caller
    try:
        stream = await NatsEventStream.connect(hub.stream)
    except SutureError as error:
        errors.print(
            f"worker: SUTURE_NATS_URL ({shown_url(hub.stream.url)}): {error}", markup=False
        )
        raise typer.Exit(2) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    reported = [0]

    def progress(stats: WorkerStats) -> None:
        done = stats.from_stream + stats.swept
        if done - reported[0] >= report_every:
            reported[0] = done
            console.print(f"{done:,} work items done")

    def failed(failure: LoopFailure) -> None:
        log.warning(
            "worker: %s failed (attempt %d): %s; retrying in %.2fs",
            failure.loop,
            failure.attempt,
            failure.error,
            failure.delay.total_seconds(),
        )

    # Start-up is done: what it built lives as long as the process, out of full collections'
    # sight from here on (as in `suture serve`).
    settle_collector()
    console.print(
        f"worker: consuming {hub.stream.stream} from {shown_url(hub.stream.url)}"
        + (" and relaying the outbox" if relay else "")
        + " (Ctrl-C stops it)"
    )
    try:
        return await run_worker(
            hub.bus,
            stream,
            stop,
            relay=hub.relay if relay else None,
            options=options,
            also=[
                hub.delivery_worker.run_once,
                hub.reconciliation_sweeper.run_once,
                *scheduled_pull(hub),
            ],
            on_error=failed,
            on_batch=progress,
        )
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await stream.close()


def shown_url(url: str) -> str:
    """``url`` fit to print: a user, password or token before ``@`` becomes ``***``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
