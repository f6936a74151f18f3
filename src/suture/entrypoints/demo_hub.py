"""The hub's edges and dispatcher running in this process, for ``suture demo``.

:class:`DemoHub` starts what ``suture serve`` starts, on free ports of ``127.0.0.1``: the HTTP
service (``HttpThread(create_app(hub))``), the MLLP listener (``MllpThread``, interface
``ehr-charges-hl7``), the bus's dispatcher, and the outbound delivery worker in a thread of its
own (the file drop syncs every file to disk; the bus need not wait for the disk meanwhile).
:meth:`DemoHub.wait_settled` is how the demo knows a phase is done: no handler work pending and
no outbound delivery pending or in flight, twice in a row.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from suture.bootstrap import Hub
from suture.domain.deliveries import DeliveryStatus
from suture.domain.errors import SutureError
from suture.entrypoints.api.app import create_app
from suture.entrypoints.api.server import HttpThread
from suture.entrypoints.mllp import MllpOptions, MllpThread
from suture.eventlog.retry import Jitter, RetryPolicy
from suture.services.dispatcher import Dispatcher

HOST = "127.0.0.1"
#: The interface the MLLP listener stores the EHR's charges under (the seeded inventory's).
CHARGES_INTERFACE = "ehr-charges-hl7"


class DemoTimeoutError(SutureError):
    """The hub did not settle before the deadline."""


class DemoHub:
    """The hub's edges and dispatcher, running in this process (module doc)."""

    def __init__(self, hub: Hub, *, poll_interval: float = 0.05) -> None:
        self.hub = hub
        self._http = HttpThread(create_app(hub), HOST, 0)
        self._mllp = MllpThread(hub.hl7_ingest, HOST, 0, MllpOptions(interface=CHARGES_INTERFACE))
        self._stop = threading.Event()
        self._errors: list[Exception] = []
        self._dispatcher = Dispatcher(
            hub.bus,
            poll_interval=poll_interval,
            # Smaller batches than serve's 500: each is one write transaction, and the edges
            # wait for the SQLite write lock between them.
            batch=100,
            on_error=lambda failure: self._errors.append(failure.error),
            # A demo has a deadline: a storage error (SQLite busy) is retried within a second.
            backoff=RetryPolicy(
                base_delay=timedelta(seconds=poll_interval),
                max_delay=timedelta(seconds=max(1.0, poll_interval)),
                jitter=Jitter.EQUAL,
            ),
        )
        self._poll_interval = poll_interval
        self._threads = [
            threading.Thread(
                target=self._dispatcher.run, args=(self._stop,), name="dispatcher", daemon=True
            ),
            # The delivery worker in a thread of its own: the file drop syncs every file to
            # disk, and the bus need not wait for the disk meanwhile.
            threading.Thread(target=self._deliver, name="deliveries", daemon=True),
        ]
        self.http_port = 0
        self.mllp_port = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    def start(self) -> None:
        self.http_port = self._http.start()
        self.mllp_port = self._mllp.start()
        for thread in self._threads:
            thread.start()

    def _deliver(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.hub.delivery_worker.run_once(100)
            except SutureError as error:
                self._errors.append(error)
                sent = 0
            if not sent:
                self._stop.wait(self._poll_interval)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._mllp.stop()
        self._http.stop()

    def wait_settled(self, deadline: float, what: str) -> None:
        """Return once no message the MLLP listener acknowledged waits to be applied, and no
        handler work and no delivery is pending (twice in a row)."""
        quiet = 0
        while quiet < 2:
            pending = self.pending()
            quiet = quiet + 1 if not any(pending.values()) else 0
            if quiet < 2:
                if time.monotonic() > deadline:
                    last = f"; last storage error: {self._errors[-1]}" if self._errors else ""
                    raise DemoTimeoutError(
                        "timeout",
                        f"the hub did not settle after {what}: still pending {pending}{last}",
                    )
                time.sleep(0.1)

    def pending(self) -> dict[str, int]:
        with self.hub.read_uow_factory() as uow:
            work = uow.events.lag().pending
            deliveries = uow.deliveries.count_by_status()
        open_deliveries = sum(
            n
            for per in deliveries.values()
            for status, n in per.items()
            if status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)
        )
        return {
            "hl7_to_apply": self._mllp.unapplied,
            "handler_work": work,
            "deliveries": open_deliveries,
        }
