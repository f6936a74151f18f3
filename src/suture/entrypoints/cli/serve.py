"""``suture serve``: the hub's edges and, in the embedded default, its dispatcher.

One process runs (DESIGN.md §8):

- the HTTP service (System, Process and Experience APIs, ``/healthz``, ``/readyz``,
  ``/metrics``, ``/docs``) on uvicorn, ``--host``/``--port`` (default 8000);
- the HL7 v2 MLLP listener (``--mllp-port``, default 2575), storing before acknowledging;
- with ``--watch DIR``, a drop folder polled for files (X12, HL7 v2, CSV by content), each
  stored through the inbox and moved to ``DIR/processed`` or ``DIR/failed``
  (:mod:`suture.entrypoints.drop_folder`);
- in the embedded default, the dispatcher that runs the bus's handlers and the outbound
  deliveries. With ``SUTURE_NATS_URL`` set, ``suture worker`` processes do that work and this
  command serves the edges only, so any number of ``serve`` processes can sit behind a load
  balancer.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from suture.bootstrap import Hub
from suture.entrypoints.api.app import create_app
from suture.entrypoints.api.server import HttpThread
from suture.entrypoints.cli.app import console, errors, open_hub
from suture.entrypoints.cli.erp import scheduled_pull
from suture.entrypoints.collector import settle_collector
from suture.entrypoints.drop_folder import DropFolder, DropFolderThread, DropOutcome
from suture.entrypoints.mllp import DEFAULT_PORT, MllpOptions, MllpThread
from suture.eventlog.retry import LoopFailure
from suture.services.dispatcher import Dispatcher

DEFAULT_HTTP_PORT = 8000
#: Operational warnings (a failure being retried), structured like every other log line.
log = logging.getLogger("suture.serve")


def serve_command(  # noqa: PLR0917  (a Typer command's options are its parameters)
    host: Annotated[
        str, typer.Option(help="Address the HTTP service binds (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="HTTP service port (0: any free one).")
    ] = DEFAULT_HTTP_PORT,
    no_http: Annotated[
        bool, typer.Option("--no-http", help="Do not start the HTTP service.")
    ] = False,
    mllp_port: Annotated[
        int, typer.Option(min=0, max=65535, help="HL7 v2 MLLP listener port (0: any free one).")
    ] = DEFAULT_PORT,
    mllp_host: Annotated[
        str, typer.Option(help="Address the MLLP listener binds (0.0.0.0: every interface).")
    ] = "127.0.0.1",
    no_mllp: Annotated[
        bool, typer.Option("--no-mllp", help="Do not start the MLLP listener.")
    ] = False,
    mllp_interface: Annotated[
        str, typer.Option(help="Interface name MLLP messages are stored under in the inbox.")
    ] = "mllp",
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds the dispatcher waits when no work is due.")
    ] = 0.5,
    report_every: Annotated[
        int, typer.Option(min=1, help="Print a line each time this many more items are done.")
    ] = 1000,
    watch: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="A drop folder: files (X12, HL7 v2, CSV) are stored through the inbox, applied, "
            "and moved to DIR/processed or DIR/failed. Files ending .tmp or .part are ignored.",
        ),
    ] = None,
    watch_interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between polls of the drop folder.")
    ] = 1.0,
    watch_interface: Annotated[
        str,
        typer.Option(
            help="The inbox interface the drop folder's files are stored on: the integration "
            "inventory's channel, and the CSV feed (SUTURE_CSV_FEEDS) that reads its CSV files.",
        ),
    ] = "drop-folder",
) -> None:
    """Serve the HTTP API and the MLLP listener, and run the embedded dispatcher, until Ctrl-C.

    With SUTURE_NATS_URL set, handlers and deliveries run in `suture worker` processes and this
    command serves the HTTP API and MLLP only.
    """
    hub = open_hub()
    stop = threading.Event()

    def interrupted(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    edges: list[HttpThread | MllpThread | DropFolderThread] = []
    try:
        if not no_http:
            edges.append(_start_http(hub, host, port))
        if not no_mllp:
            edges.append(_start_mllp(hub, mllp_host, mllp_port, mllp_interface))
        if watch is not None:
            edges.append(_start_drop_folder(hub, watch, watch_interval, watch_interface))
        # Everything built so far (modules, the app, its routes and schemas) lives as long as the
        # process: moved out of the collector's sight, a full collection no longer walks it on
        # a request's time (a latency tail of tens of milliseconds otherwise).
        settle_collector()
        previous = signal.signal(signal.SIGINT, interrupted)
        signal.signal(signal.SIGTERM, interrupted)
        try:
            if hub.stream is None:
                console.print("serving: the embedded dispatcher is running (Ctrl-C stops it)")
                total = _dispatch(hub, stop, poll_interval, report_every)
                console.print(f"stopped after {total:,} work items")
            else:
                console.print(
                    "serving the edges; `suture worker` processes run the handlers "
                    "(SUTURE_NATS_URL is set; Ctrl-C stops it)"
                )
                stop.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
    finally:
        for edge in reversed(edges):
            edge.stop()
        hub.close()


def _start_http(hub: Hub, host: str, port: int) -> HttpThread:
    server = HttpThread(create_app(hub), host, port)
    try:
        bound = server.start()
    except OSError as error:
        errors.print(f"HTTP service: cannot listen on {host}:{port}: {error}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"HTTP service on http://{host}:{bound} (docs at /docs)", markup=False)
    return server


def _start_mllp(hub: Hub, host: str, port: int, interface: str) -> MllpThread:
    listener = MllpThread(hub.hl7_ingest, host, port, MllpOptions(interface=interface))
    try:
        bound = listener.start()
    except OSError as error:
        errors.print(f"MLLP listener: cannot listen on {host}:{port}: {error}", markup=False)
        raise typer.Exit(2) from None
    console.print(f"MLLP listener on {host}:{bound}", markup=False)
    return listener


def _start_drop_folder(
    hub: Hub, directory: Path, interval: float, interface: str
) -> DropFolderThread:
    def report(outcome: DropOutcome) -> None:
        where = "processed" if outcome.ok else "failed"
        console.print(
            f"drop folder: {outcome.name} ({outcome.format}) -> {where}: {outcome.detail}",
            markup=False,
        )

    def failed(failure: LoopFailure) -> None:
        log.warning(
            "drop folder: %s; retrying in %.2fs (attempt %d)",
            failure.error,
            failure.delay.total_seconds(),
            failure.attempt,
        )

    directory.mkdir(parents=True, exist_ok=True)
    thread = DropFolderThread(
        DropFolder(hub, directory, interface=interface), interval, report, failed
    )
    thread.start()
    console.print(f"drop folder {directory} watched every {interval}s", markup=False)
    return thread


def _dispatch(hub: Hub, stop: threading.Event, poll_interval: float, report_every: int) -> int:
    reported = [0]

    def progress(_: int) -> None:
        if dispatcher.processed - reported[0] >= report_every:
            reported[0] = dispatcher.processed
            console.print(f"{dispatcher.processed:,} work items taken")

    def storage_failed(failure: LoopFailure) -> None:
        log.warning(
            "storage error, retrying in %.2fs (attempt %d): %s",
            failure.delay.total_seconds(),
            failure.attempt,
            failure.error,
        )

    dispatcher = Dispatcher(
        hub.bus,
        poll_interval=poll_interval,
        on_batch=progress,
        on_error=storage_failed,
        also=[
            hub.delivery_worker.run_once,
            hub.reconciliation_sweeper.run_once,
            *scheduled_pull(hub),
        ],
    )
    return dispatcher.run(stop)
