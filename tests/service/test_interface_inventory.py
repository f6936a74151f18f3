"""The inventory's use cases: register, change, retire, import, the unmanaged-traffic record kept
by the inbox, and the governed-share KPI.

Tests on the shared database (``uow``) use names and routes of their own (random hex); the KPI
counts every interface and message of a database, so its tests get one of their own.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.interfaces import Interface, InterfaceError, Route, UnmanagedSource
from suture.services.inbox import Arrival, Inbox
from suture.services.interfaces import (
    GovernanceKpi,
    ImportSummary,
    InterfaceExistsError,
    InterfaceInventory,
    InterfaceRetiredError,
    RouteTakenError,
    UnknownInterfaceError,
)
from suture.services.unmanaged_traffic import TrafficMonitor

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tag() -> str:
    return uuid4().hex[:10]


@pytest.fixture
def inventory(uow: UowFactory, clock: Clock) -> InterfaceInventory:
    return InterfaceInventory(uow, clock)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def own_uow(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[UowFactory]:
    """Units of work on a database this test has alone."""
    if request.param == "postgres":
        engine: sa.Engine = request.getfixturevalue("own_postgres_engine")
        yield lambda: SqlAlchemyUnitOfWork(engine)
        return
    path = tmp_path / "own.db"
    shutil.copyfile(sqlite_template, path)
    sqlite = create_engine(f"sqlite:///{path}")
    try:
        yield lambda: SqlAlchemyUnitOfWork(sqlite)
    finally:
        sqlite.dispose()


def declared(tag: str, suffix: str = "a", **changes: object) -> Interface:
    """A governed inbound interface on route ``(mllp-<tag>, rcm-<suffix>)``."""
    fields: dict[str, object] = {
        "name": f"if-{tag}-{suffix}",
        "direction": "inbound",
        "format": "hl7v2",
        "channel": f"mllp-{tag}",
        "source_system": f"rcm-{suffix}",
        "target_system": "suture",
        "owner": "revenue-integration",
        "sla_latency_minutes": 5,
        "contract": "HL7 v2.5.1",
        "schema_version": "2.5.1",
        "authentication": "vpn-ip-allowlist",
    }
    return Interface(**(fields | changes))  # type: ignore[arg-type]


def test_adding_an_interface_stamps_its_registration(
    inventory: InterfaceInventory, tag: str
) -> None:
    inventory.add(declared(tag))

    found = inventory.get(f"if-{tag}-a")

    assert (found.registered_at, found.updated_at, found.owner) == (NOW, NOW, "revenue-integration")


def test_a_name_is_registered_once(inventory: InterfaceInventory, tag: str) -> None:
    inventory.add(declared(tag))

    with pytest.raises(InterfaceExistsError) as refused:
        inventory.add(declared(tag, source_system="other"))

    assert refused.value.field == "name"


def test_a_route_belongs_to_one_active_inbound_interface(
    inventory: InterfaceInventory, tag: str
) -> None:
    inventory.add(declared(tag, "a"))

    with pytest.raises(RouteTakenError) as refused:
        inventory.add(declared(tag, "b", source_system="rcm-a"))

    assert str(refused.value) == (
        f"channel: inbound channel 'mllp-{tag}' from 'rcm-a' is the route of interface "
        f"'if-{tag}-a' already"
    )


def test_update_changes_the_given_fields_and_revalidates(
    inventory: InterfaceInventory, clock: Clock, tag: str
) -> None:
    inventory.add(declared(tag))
    clock.now = NOW + timedelta(hours=1)

    changed = inventory.update(f"if-{tag}-a", {"owner": "supply-chain-it", "mode": "shadow"})
    with pytest.raises(InterfaceError) as refused:
        inventory.update(f"if-{tag}-a", {"format": "edi"})

    assert (changed.owner, changed.mode, changed.registered_at, changed.updated_at) == (
        "supply-chain-it", "shadow", NOW, NOW + timedelta(hours=1),
    )  # fmt: skip
    assert inventory.get(f"if-{tag}-a") == changed
    assert refused.value.field == "format"


def test_update_refuses_the_name_and_unknown_fields(
    inventory: InterfaceInventory, tag: str
) -> None:
    inventory.add(declared(tag))

    with pytest.raises(InterfaceError) as refused:
        inventory.update(f"if-{tag}-a", {"name": "renamed"})

    assert refused.value.field == "name"


def test_an_unknown_name_is_refused(inventory: InterfaceInventory, tag: str) -> None:
    with pytest.raises(UnknownInterfaceError):
        inventory.update(f"if-{tag}-missing", {"owner": "x"})


def test_retiring_frees_the_route_and_freezes_the_interface(
    inventory: InterfaceInventory, tag: str
) -> None:
    inventory.add(declared(tag, "a"))

    retired = inventory.retire(f"if-{tag}-a")
    successor = inventory.add(declared(tag, "b", source_system="rcm-a"))

    assert retired.retired_on == NOW.date()
    assert successor.route == Route(f"mllp-{tag}", "rcm-a")
    assert f"if-{tag}-a" not in {i.name for i in inventory.list()}
    assert f"if-{tag}-a" in {i.name for i in inventory.list(include_retired=True)}
    with pytest.raises(InterfaceRetiredError):
        inventory.update(f"if-{tag}-a", {"owner": "x"})
    with pytest.raises(InterfaceRetiredError):
        inventory.retire(f"if-{tag}-a")


def test_import_adds_updates_and_leaves_unchanged_interfaces(
    inventory: InterfaceInventory, clock: Clock, tag: str
) -> None:
    first = inventory.import_interfaces([declared(tag, "a"), declared(tag, "b")])
    clock.now = NOW + timedelta(days=1)

    second = inventory.import_interfaces(
        [declared(tag, "a"), declared(tag, "b", owner="supply-chain-it"), declared(tag, "c")]
    )

    updated = inventory.get(f"if-{tag}-b")
    assert (first, second) == (ImportSummary(2, 0, 0), ImportSummary(1, 1, 1))
    assert (updated.owner, updated.registered_at, updated.updated_at) == (
        "supply-chain-it", NOW, NOW + timedelta(days=1),
    )  # fmt: skip


def test_an_import_that_fails_changes_nothing(inventory: InterfaceInventory, tag: str) -> None:
    inventory.add(declared(tag, "a"))

    with pytest.raises(RouteTakenError):
        inventory.import_interfaces([declared(tag, "b"), declared(tag, "c", source_system="rcm-a")])

    assert {i.name for i in inventory.list() if tag in i.name} == {f"if-{tag}-a"}


def test_an_import_refuses_a_retired_name(inventory: InterfaceInventory, tag: str) -> None:
    inventory.add(declared(tag))
    inventory.retire(f"if-{tag}-a")

    with pytest.raises(InterfaceRetiredError):
        inventory.import_interfaces([declared(tag)])


# --- unmanaged traffic, recorded by the inbox -------------------------------------------------


def receive(inbox: Inbox, channel: str, system: str, *bodies: bytes, at: datetime = NOW) -> None:
    inbox.receive_many([Arrival(b, channel, system) for b in bodies], format="hl7v2",
                       received_at=at)  # fmt: skip


def test_traffic_on_an_unregistered_route_is_recorded_as_unmanaged(
    uow: UowFactory, inventory: InterfaceInventory, tag: str
) -> None:
    inbox = Inbox(uow, traffic=TrafficMonitor(timedelta(0)))
    inventory.add(declared(tag, "a"))

    receive(inbox, f"mllp-{tag}", "rcm-a", b"managed-1", b"managed-2")
    receive(inbox, f"mllp-{tag}", "shadow-ehr", b"u-1", b"u-2", b"u-1")  # u-1 twice: stored once
    receive(inbox, f"mllp-{tag}", "shadow-ehr", b"u-3", at=NOW + timedelta(minutes=5))
    receive(inbox, f"mllp-{tag}", "shadow-ehr", b"u-3", at=NOW + timedelta(minutes=9))  # again

    found = [s for s in inventory.unmanaged() if s.channel == f"mllp-{tag}"]
    assert found == [
        UnmanagedSource(
            channel=f"mllp-{tag}", source_system="shadow-ehr", format="hl7v2", first_seen=NOW,
            last_seen=NOW + timedelta(minutes=5), message_count=3,
        )
    ]  # fmt: skip


def test_a_route_registered_later_is_no_longer_listed_as_unmanaged(
    uow: UowFactory, inventory: InterfaceInventory, tag: str
) -> None:
    receive(Inbox(uow), f"mllp-{tag}", "rcm-a", b"before")

    inventory.add(declared(tag, "a"))

    listed = {s.route for s in inventory.unmanaged()}
    every = {s.route for s in inventory.unmanaged(include_registered=True)}
    assert Route(f"mllp-{tag}", "rcm-a") in every - listed


def test_traffic_still_arriving_on_a_retired_interface_is_unmanaged(
    uow: UowFactory, inventory: InterfaceInventory, tag: str
) -> None:
    inbox = Inbox(uow, traffic=TrafficMonitor(timedelta(0)))
    inventory.add(declared(tag, "a"))
    receive(inbox, f"mllp-{tag}", "rcm-a", b"while-registered")

    inventory.retire(f"if-{tag}-a")
    receive(inbox, f"mllp-{tag}", "rcm-a", b"after-retirement")

    found = [s for s in inventory.unmanaged() if s.channel == f"mllp-{tag}"]
    assert [(s.source_system, s.message_count) for s in found] == [("rcm-a", 1)]


def test_the_monitor_reloads_routes_only_after_its_refresh(
    uow: UowFactory, inventory: InterfaceInventory, tag: str
) -> None:
    inbox = Inbox(uow, traffic=TrafficMonitor(timedelta(seconds=5)))
    receive(inbox, f"mllp-{tag}", "other", b"loads-the-routes")
    inventory.add(declared(tag, "a"))

    receive(inbox, f"mllp-{tag}", "rcm-a", b"cached", at=NOW + timedelta(seconds=4))
    receive(inbox, f"mllp-{tag}", "rcm-a", b"reloaded", at=NOW + timedelta(seconds=5))

    every = inventory.unmanaged(include_registered=True)
    counts = {s.source_system: s.message_count for s in every if s.channel == f"mllp-{tag}"}
    assert counts == {"other": 1, "rcm-a": 1}


# --- the KPI ------------------------------------------------------------------------------------


def test_the_governed_share_of_interfaces_and_of_recent_traffic(
    own_uow: UowFactory, clock: Clock
) -> None:
    inventory = InterfaceInventory(own_uow, clock)
    inbox = Inbox(own_uow, traffic=TrafficMonitor(timedelta(0)))
    inventory.add(declared("k", "governed"))
    inventory.add(declared("k", "attention", schema_version=None))
    inventory.add(declared("k", "ungoverned", owner=None))
    inventory.add(declared("k", "out", direction="outbound", channel="erp"))
    inventory.add(declared("k", "gone"))
    inventory.retire("if-k-gone")
    receive(inbox, "mllp-k", "rcm-governed", *(f"g{n}".encode() for n in range(6)))
    receive(inbox, "mllp-k", "rcm-attention", b"a1", b"a2")
    receive(inbox, "mllp-k", "rcm-gone", b"r1")  # retired: unmanaged
    receive(inbox, "mllp-k", "stranger", b"s1")
    receive(inbox, "mllp-k", "rcm-governed", b"old", at=NOW - timedelta(days=8))

    kpi = inventory.governed_share(days=7)

    assert kpi == GovernanceKpi(
        registered=4, governed=2, needs_attention=1, ungoverned=1, governed_share=0.5,
        window_days=7, messages=10, governed_messages=6, unmanaged_messages=2,
        governed_traffic_share=0.6,
    )  # fmt: skip


def test_an_empty_inventory_has_no_share_to_report(own_uow: UowFactory, clock: Clock) -> None:
    kpi = InterfaceInventory(own_uow, clock).governed_share()

    assert (kpi.registered, kpi.governed_share, kpi.governed_traffic_share) == (0, None, None)


def test_past_its_sunset_an_interface_stops_counting_as_governed(
    own_uow: UowFactory, clock: Clock
) -> None:
    inventory = InterfaceInventory(own_uow, clock)
    inventory.add(declared("k", sunset_on=date(2026, 12, 31)))

    before = inventory.governed_share().governed
    clock.now = datetime(2027, 1, 1, tzinfo=UTC)
    after = inventory.governed_share().governed

    assert (before, after) == (1, 0)
