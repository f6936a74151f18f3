"""Unmanaged traffic over a real MLLP socket: two listeners, one registered route.

Two listeners share one SQLite file: the EHR's, on the registered route ``mllp-ehr``/``rcm``,
and a second one an integration team started without registering it. Messages on the second
are answered like any other (store before ACK is unchanged) and counted as unmanaged; the first
listener's are not. The governed-traffic share then counts only the EHR's messages.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.interfaces import Interface
from suture.entrypoints.mllp import MllpFramer, MllpOptions, MllpThread, frame
from suture.eventlog.events import build_registry
from suture.services.clock import system_clock
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.interfaces import InterfaceInventory
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer
from suture.services.unmanaged_traffic import TrafficMonitor

EHR = Interface(
    name="ehr-charges-hl7", direction="inbound", format="hl7v2", channel="mllp-ehr",
    source_system="rcm", target_system="suture", owner="revenue-integration",
    sla_latency_minutes=5, contract="HL7 v2.5.1 DFT^P03", schema_version="2.5.1",
    authentication="vpn-ip-allowlist",
)  # fmt: skip


def message(control_id: str) -> bytes:
    return (
        f"MSH|^~\\&|EPIC|GH|SUTURE|GH|20250301083000||DFT^P03|{control_id}|P|2.5.1\r"
        "EVN|P03|20250301083000\r"
    ).encode()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    yield made
    made.dispose()


@pytest.fixture
def inventory(engine: sa.Engine) -> InterfaceInventory:
    inventory = InterfaceInventory(lambda: SqlAlchemyUnitOfWork(engine), system_clock)
    inventory.add(EHR)
    return inventory


def listen(engine: sa.Engine, interface: str) -> MllpThread:
    def uow() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine)

    bus = MessageBus(uow, handlers={}, registry=build_registry())
    inbox = Inbox(uow, traffic=TrafficMonitor(timedelta(0)))
    ingest = Hl7Ingest(uow, inbox, bus, PhiTokenizer("secret"), bus.clock)
    return MllpThread(ingest, "127.0.0.1", 0, MllpOptions(interface=interface))


def send(port: int, *messages: bytes) -> list[bytes]:
    acks: list[bytes] = []
    framer = MllpFramer()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        for raw in messages:
            connection.sendall(frame(raw))
            expected = len(acks) + 1
            while len(acks) < expected:
                acks += framer.feed(connection.recv(65536))
    return acks


def test_messages_on_an_unregistered_listener_are_acknowledged_and_counted_as_unmanaged(
    engine: sa.Engine, inventory: InterfaceInventory
) -> None:
    ehr, rogue = listen(engine, "mllp-ehr"), listen(engine, "mllp-rogue")
    try:
        ehr_acks = send(ehr.start(), message("E1"), message("E2"), message("E3"))
        rogue_acks = send(rogue.start(), message("R1"))
    finally:
        ehr.stop()
        rogue.stop()

    unmanaged = inventory.unmanaged()
    kpi = inventory.governed_share()
    assert (len(ehr_acks), len(rogue_acks)) == (3, 1)
    assert [(u.channel, u.source_system, u.message_count) for u in unmanaged] == [
        ("mllp-rogue", "rcm", 1)
    ]
    assert (kpi.messages, kpi.governed_messages, kpi.unmanaged_messages) == (4, 3, 1)
