"""Replaying a hospital day through the hub's real edges (``suture demo``; docs/demo.md).

:func:`replay_day` plays the source systems against a :class:`~suture.entrypoints.demo_hub.
DemoHub` (the hub's edges and dispatcher in this process), phase by phase, waiting for the hub
to settle after each:

1. **clinical**, hour by hour on the hub's clock: at the end of each hour, the EHR's charges of
   the procedures performed in it as DFT^P03 over an MLLP socket and the clinical system's
   usage as FHIR Procedure Bundles (``POST /fhir/R4``), the two senders at once; when the day
   is over, the legacy facility's usage as its nightly CSV batch (``POST
   /api/v1/system/messages``, ``text/csv``);
2. **requests and approvals**: each hospital's department asks for an item it keeps at par
   (``POST /api/v1/experience/department/requisitions``), then the supply-chain manager
   approves the requisitions the approval policy left pending
   (``POST /api/v1/process/requisitions/{id}/approve``, audited), so their POs go out;
3. **suppliers and the dock**, until nothing moves: the scripted test supplier's gateway answers
   every 850 the hub dropped into its X12 outbox with 855, 856 and 810 interchanges posted to
   ``POST /api/v1/system/messages``, each when it is due on a :class:`SimulatedClock`, and the
   dock confirms every ship notice of a PO that delivers goods (``POST
   /api/v1/process/receipts``; a bill-only PO pays for an implant already used, so its notice
   is not a delivery) before the next replies are due, which lets the three-way match run;
4. **aging**: the day ended at least one reconciliation window ago, so the sweeper ages every
   line still unmatched into an exception.

Settled means no handler work pending and no outbound delivery pending or in flight. Each wait
has a deadline; missing it raises :class:`DemoTimeoutError` naming what was still pending.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from suture.adapters.supplier_sim import HttpSink, SupplierGateway, SupplierGatewayError
from suture.entrypoints.demo_clients import PAUSE, RETRIES, DemoEdgeError, HubClient, MllpSender
from suture.entrypoints.demo_hub import HOST, DemoHub, DemoTimeoutError
from suture.services.inbox import IdFactory
from suture.services.supplier_simulator import Reply, SupplierSimulator
from suture.services.synthetic.day import DAY, HospitalDay, UsageLine
from suture.services.synthetic.day_messages import dft_p03, procedure_bundle, usage_csv
from suture.services.synthetic.history import ProcedureRecords

#: The interfaces the demo's senders store messages under (the legacy CSV feed's is the seeded
#: integration inventory's).
LEGACY_USAGE_INTERFACE = "procedural-usage-csv"
SUPPLIER_INTERFACE = "supplier-x12"
#: Procedures per FHIR Bundle.
BUNDLE_SIZE = 20
HOUR = timedelta(hours=1)
_PAGE = 200


@dataclass(frozen=True, slots=True)
class DemoClient:
    """An API client the demo set up, and its secret (in memory only)."""

    client_id: str
    secret: str


@dataclass(frozen=True, slots=True)
class DemoClients:
    clinical: DemoClient
    legacy: DemoClient
    supplier: DemoClient
    manager: DemoClient
    department: DemoClient


@dataclass(slots=True)
class DayActivity:
    """What the source systems sent and did, phase by phase."""

    hl7_messages: int = 0
    fhir_bundles: int = 0
    csv_files: int = 0
    department_requests: int = 0
    approvals: int = 0
    pos_answered: int = 0
    #: DFT^P03s of the EHR's test system sent to production by mistake (answered ``AE``).
    stray_test_messages: int = 0
    supplier_documents: int = 0
    receipts: int = 0
    aged_lines: int = 0
    phases: list[tuple[str, float]] = field(default_factory=list)
    #: scenario -> the PO numbers the scripted supplier answered with it.
    scenarios: dict[str, set[str]] = field(default_factory=dict)


def replay_day(  # noqa: PLR0917 - the day's parts, each needed once
    running: DemoHub,
    day: HospitalDay,
    facility_codes: dict[str, str],
    clients: DemoClients,
    gateway_of: Callable[[HttpSink, SimulatedClock], SupplierGateway],
    timeout: float,
    progress: Callable[[str], None],
    clock: SimulatedClock,
) -> DayActivity:
    """Play the day against ``running`` (module doc), whose hub runs on ``clock``; returns
    what was sent and done."""
    deadline = time.monotonic() + timeout
    activity = DayActivity()
    base = running.base_url
    started = time.monotonic()

    def phase(name: str) -> None:
        nonlocal started
        now = time.monotonic()
        activity.phases.append((name, round(now - started, 2)))
        progress(f"{name} ({now - started:.1f} s)")
        started = now

    _clinical(running, day, facility_codes, clients, activity, clock, deadline)
    phase("clinical traffic sent and applied, hour by hour")
    department = HubClient(base, clients.department.client_id, clients.department.secret)
    for request in day.department_requests:
        department.post_json(
            "/api/v1/experience/department/requisitions",
            {
                "facility_id": request.facility_id,
                "department_id": request.department_id,
                "location_id": request.location_id,
                "lines": [{"item_id": request.item_id, "quantity": str(request.quantity)}],
            },
        )
        activity.department_requests += 1
    running.wait_settled(deadline, "the departmental requests")
    manager = HubClient(base, clients.manager.client_id, clients.manager.secret)
    activity.approvals = _approve_pending(manager)
    running.wait_settled(deadline, "the approvals")
    phase(
        f"{activity.department_requests} departmental requests, "
        f"{activity.approvals} requisitions approved"
    )
    sink = HttpSink(
        base, client_id=clients.supplier.client_id, client_secret=clients.supplier.secret,
        interface=SUPPLIER_INTERFACE,
    )  # fmt: skip
    kinds: dict[str, str] = {}
    gateway = gateway_of(sink, clock)
    while True:
        if time.monotonic() > deadline:
            raise DemoTimeoutError("timeout", "the suppliers were still answering at the deadline")
        report = gateway.poll()
        activity.pos_answered += len(report.answered)
        activity.supplier_documents += len(report.sent)
        for reply in report.sent:
            activity.scenarios.setdefault(reply.scenario.value, set()).add(reply.po_number)
        running.wait_settled(deadline, "the suppliers' documents")
        received = _receive_shipments(manager, kinds)
        activity.receipts += received
        running.wait_settled(deadline, "the dock receipts")
        if report.answered or report.sent or received:
            continue
        due = gateway.next_due
        if due is None:
            break
        clock.advance_to(due)
    phase(f"{activity.pos_answered} POs answered, {activity.receipts} shipments received")
    while (aged := running.hub.reconciliation_sweeper.run_once()) > 0:
        activity.aged_lines += aged
    running.wait_settled(deadline, "the reconciliation sweep")
    phase(f"{activity.aged_lines} unmatched lines aged into exceptions")
    return activity


def _clinical(  # noqa: PLR0917 - the day's parts, each needed once
    running: DemoHub,
    day: HospitalDay,
    facility_codes: dict[str, str],
    clients: DemoClients,
    activity: DayActivity,
    clock: SimulatedClock,
    deadline: float,
) -> None:
    """The day hour by hour on the hub's clock: at the end of each hour, the EHR's charges and
    the clinical system's usage of the procedures of that hour, the two senders at once; when
    the day is over, the legacy OR system's nightly CSV batch. The hub settles after each."""
    base = running.base_url
    fhir = HubClient(base, clients.clinical.client_id, clients.clinical.secret)
    legacy = HubClient(base, clients.legacy.client_id, clients.legacy.secret)
    by_procedure: dict[int, list[UsageLine]] = {}
    for line in day.usage_lines:
        if not line.legacy:
            by_procedure.setdefault(line.procedure.number, []).append(line)
    for hour_end, procedures in _hours(day):
        clock.advance_to(hour_end)

        def charges(chosen: Sequence[ProcedureRecords] = procedures) -> int:
            return _send_charges(running.mllp_port, chosen, facility_codes)

        def usage(chosen: Sequence[ProcedureRecords] = procedures) -> int:
            return _send_fhir(fhir, chosen, by_procedure)

        sent = _at_once({"ehr": charges, "clinical": usage})
        activity.hl7_messages += sent["ehr"]
        activity.fhir_bundles += sent["clinical"]
        if not activity.stray_test_messages and sent["ehr"]:
            activity.stray_test_messages = _send_stray_test_message(running.mllp_port, procedures)
        running.wait_settled(deadline, f"the clinical traffic until {hour_end:%H:%M}")
    clock.advance_to(day.start + DAY)
    activity.csv_files = _send_csv(legacy, day, facility_codes[day.legacy_facility_id])
    running.wait_settled(deadline, "the legacy OR system's nightly batch")


def _hours(day: HospitalDay) -> Iterator[tuple[datetime, list[ProcedureRecords]]]:
    """The day's procedures by the hour they were performed in, with the hour's end."""
    by_hour: dict[int, list[ProcedureRecords]] = {}
    for procedure in day.procedures:
        hour = int((procedure.at - day.start) // HOUR)
        by_hour.setdefault(hour, []).append(procedure)
    for hour in sorted(by_hour):
        yield day.start + (hour + 1) * HOUR, by_hour[hour]


def _at_once(senders: dict[str, Callable[[], int]]) -> dict[str, int]:
    """Run the senders in threads of their own; the first failure is raised after all stop."""
    failures: list[BaseException] = []
    sent = dict.fromkeys(senders, 0)

    def guarded(name: str, target: Callable[[], int]) -> Callable[[], None]:
        def run() -> None:
            try:
                sent[name] = target()
            except BaseException as error:  # handed to the main thread, raised there
                failures.append(error)

        return run

    threads = [
        threading.Thread(target=guarded(name, target), name=name)
        for name, target in senders.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return sent


def _send_charges(
    port: int, procedures: Sequence[ProcedureRecords], facility_codes: dict[str, str]
) -> int:
    sender = MllpSender(HOST, port)
    sent = 0
    try:
        for procedure in procedures:
            if procedure.charges:
                code = facility_codes[procedure.facility_id]
                sender.send(dft_p03(procedure, code, f"DEMO{procedure.number:07d}"))
                sent += 1
    finally:
        sender.close()
    return sent


#: The EHR's test system's sending facility (MSH-4): no hospital of the health system.
STRAY_FACILITY_CODE = "EHRTEST"


def _send_stray_test_message(port: int, procedures: Sequence[ProcedureRecords]) -> int:
    """After the first hour's charges, one DFT^P03 of the EHR's test system reaches the
    production interface, as happens on go-live weeks: the hub stores it, answers ``AE`` (MSH-4
    is no known facility), marks it failed with a ``malformed_message`` item, and the interface
    recovers with the next hour's first charges, which is what the interface failure recovery
    KPI measures. It repeats a procedure's charges under the test system's facility code, so
    no charge of the day is added or lost."""
    billed = next(procedure for procedure in procedures if procedure.charges)
    sender = MllpSender(HOST, port)
    try:
        sender.send(dft_p03(billed, STRAY_FACILITY_CODE, "DEMOTEST0001"), expect=b"AE")
    finally:
        sender.close()
    return 1


def _send_fhir(
    client: HubClient,
    procedures: Sequence[ProcedureRecords],
    usage: dict[int, list[UsageLine]],
) -> int:
    bundles = 0
    for facility_id, chunk in _fhir_chunks(procedures, usage):
        reply = client.post_raw(
            "/fhir/R4", procedure_bundle(chunk), "application/fhir+json", facility_id=facility_id
        )
        failed = [
            entry["response"]["status"]
            for entry in reply.get("entry", [])
            if not str(entry.get("response", {}).get("status", "")).startswith("2")
        ]
        if failed:
            raise DemoEdgeError("/fhir/R4", f"{len(failed)} entries refused: {failed[:3]}")
        bundles += 1
    return bundles


def _fhir_chunks(
    procedures: Sequence[ProcedureRecords], usage: dict[int, list[UsageLine]]
) -> Iterator[tuple[str, list[tuple[ProcedureRecords, Sequence[UsageLine]]]]]:
    """Bundles of up to ``BUNDLE_SIZE`` procedures of one facility, in time order."""
    per_facility: dict[str, list[tuple[ProcedureRecords, Sequence[UsageLine]]]] = {}
    for procedure in procedures:
        if procedure.number in usage:
            per_facility.setdefault(procedure.facility_id, []).append(
                (procedure, usage[procedure.number])
            )
    for facility_id, chosen in sorted(per_facility.items()):
        for start in range(0, len(chosen), BUNDLE_SIZE):
            yield facility_id, chosen[start : start + BUNDLE_SIZE]


def _send_csv(client: HubClient, day: HospitalDay, facility_code: str) -> int:
    lines = [line for line in day.usage_lines if line.legacy]
    if not lines:
        return 0
    client.post_raw(
        "/api/v1/system/messages", usage_csv(lines, facility_code), "text/csv",
        interface=LEGACY_USAGE_INTERFACE, facility_id=day.legacy_facility_id,
    )  # fmt: skip
    return 1


def _approve_pending(manager: HubClient) -> int:
    approved = 0
    while True:
        page = manager.get("/api/v1/process/requisitions", limit=_PAGE)
        if not page["items"]:
            return approved
        for requisition in page["items"]:
            manager.post_json(
                f"/api/v1/process/requisitions/{requisition['id']}/approve",
                {"note": "suture demo: the supply-chain manager's morning approvals"},
            )
            approved += 1


def _receive_shipments(manager: HubClient, kinds: dict[str, str]) -> int:
    """Confirm every expected receipt of a PO that delivers goods; how many were confirmed.
    ``kinds`` remembers each PO's kind from one round to the next."""
    received = 0
    cursor: str | None = None
    while True:
        page = manager.get(
            "/api/v1/system/expected-receipts", status="expected", limit=_PAGE, cursor=cursor
        )
        for notice in page["items"]:
            po_id = notice["purchase_order_id"]
            if po_id not in kinds:
                kinds[po_id] = manager.get(f"/api/v1/system/purchase-orders/{po_id}")["kind"]
            if kinds[po_id] == "bill_only":
                continue
            manager.post_json("/api/v1/process/receipts", {"expected_receipt_id": notice["id"]})
            received += 1
        cursor = page.get("next_cursor")
        if not cursor:
            return received


class PatientSink:
    """The supplier's sink, sending again after a pause when the hub could not take a reply
    (a 503 while its database was busy, a dropped connection): the hub recognises bytes it
    stored already on the interface, so a second send never files a document twice."""

    def __init__(self, sink: HttpSink, *, attempts: int = RETRIES, pause: float = PAUSE) -> None:
        self._sink = sink
        self._attempts = attempts
        self._pause = pause

    def send(self, reply: Reply) -> None:
        for attempt in range(1, self._attempts + 1):
            try:
                self._sink.send(reply)
                return
            except SupplierGatewayError:
                if attempt == self._attempts:
                    raise
                time.sleep(self._pause * attempt)


class SimulatedClock:
    """The day's clock, shared by the hub and the scripted supplier: the system's time plus an
    offset that only grows, moved by the driver to the next reply due.

    The scripted supplier dates its replies hours and days after each 850 (855 after an hour,
    856 after a day, 810 after two, a back order two weeks later). The demo replays those days
    in moments, and deterministically: it sends what is due, lets the hub and the dock finish
    with it, then jumps to the next reply's due time, so every shipment is received before an
    invoice dated after it arrives, as in the supplier's script. The hub runs on this clock too
    (``build(settings, clock=…)``), so what it records carries the simulated time: an invoice
    received two days after its PO, matched when its goods are received, gives the invoice
    cycle time the days it really waited. Between jumps the clock runs with the system's, so
    the hub's retry delays and rate budgets work as they do in production.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0) if start is None else start - datetime.now(UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance_to(self, moment: datetime) -> None:
        """Jump to ``moment`` unless the clock is past it already; never back."""
        with self._lock:
            ahead = moment - self()
            if ahead > timedelta(0):
                self._offset += ahead


def day_ids(seed: int) -> IdFactory:
    """Ids for what the demo's people create (departmental requisitions), the same on every
    run of a seed: the n-th is a hash of the seed and n, whatever the time of the call (the
    demo sends its requests one at a time, in the plan's order, so the n-th request gets it). A
    departmental PO is numbered after its requisition and the scripted supplier draws the PO's
    scenario from that number; ids from the clock (UUIDv7s of a clock that runs on with the
    system's between jumps) answered the same request with another scenario on each run, and
    one seed's figures differed from run to run."""
    taken = itertools.count(1)
    lock = threading.Lock()

    def new_id(_at: datetime) -> str:
        with lock:
            number = next(taken)
        return hashlib.sha256(f"suture-demo:{seed}:{number}".encode()).hexdigest()

    return new_id


def outbox_gateway(
    simulator: SupplierSimulator, outbox: Path
) -> Callable[[HttpSink, SimulatedClock], SupplierGateway]:
    """A factory of the supplier gateway watching the hub's X12 outbox, on the simulated
    clock (speed 1: a reply is due when the script says, in simulated time)."""

    def build(sink: HttpSink, clock: SimulatedClock) -> SupplierGateway:
        return SupplierGateway(simulator, outbox, PatientSink(sink), clock, speed=1.0)

    return build
