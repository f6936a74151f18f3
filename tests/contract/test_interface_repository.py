"""The interface repository on SQLite and PostgreSQL: interfaces by name, one active inbound
interface per route, unmanaged-traffic counters and inbound traffic per route.

Every test runs on both databases (the ``engine`` fixture), on names, channels and source
systems of its own (random hex), since tests share one PostgreSQL schema per session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from suture.adapters.db.errors import StorageError
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.authority import ObjectType
from suture.domain.interfaces import Interface, Route, UnmanagedSource
from suture.services.inbox import Inbox
from suture.services.unmanaged_traffic import TrafficMonitor

UowFactory = Callable[[], SqlAlchemyUnitOfWork]
AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def tag() -> str:
    return uuid4().hex[:10]


def interface(tag: str, suffix: str = "a", **changes: object) -> Interface:
    fields: dict[str, object] = {
        "name": f"if-{tag}-{suffix}",
        "direction": "inbound",
        "format": "hl7v2",
        "channel": f"mllp-{tag}",
        "source_system": f"rcm-{suffix}",
        "target_system": "suture",
        "authoritative_objects": ("charge", "usage"),
        "owner": "revenue-integration",
        "sla_latency_minutes": 5,
        "sla_availability": "24x7",
        "contract": "HL7 v2.5.1",
        "schema_version": "2.5.1",
        "authentication": "oauth2",
        "api_client": "client-1",
        "mode": "shadow",
        "modernization": "refactor",
        "sunset_on": date(2027, 6, 30),
        "facility_ids": ("FAC-01", "FAC-02"),
        "registered_at": AT,
        "updated_at": AT,
    }
    return Interface(**(fields | changes))  # type: ignore[arg-type]


def source(channel: str, source_system: str, at: datetime, count: int) -> UnmanagedSource:
    return UnmanagedSource(
        channel=channel, source_system=source_system, format="hl7v2", first_seen=at,
        last_seen=at, message_count=count,
    )  # fmt: skip


def test_an_interface_reads_back_equal(uow: UowFactory, tag: str) -> None:
    stored = interface(tag)
    with uow() as u:
        u.interfaces.add(stored)
        u.commit()

    with uow() as u:
        found = u.interfaces.get(stored.name)

    assert found == stored
    assert found is not None
    assert found.authoritative_objects == (ObjectType.CHARGE, ObjectType.USAGE)


def test_save_replaces_the_interface_and_unknown_names_are_refused(
    uow: UowFactory, tag: str
) -> None:
    stored = interface(tag)
    changed = dataclasses.replace(stored, owner="supply-chain-it", sunset_on=None)
    with uow() as u:
        u.interfaces.add(stored)
        u.interfaces.save(changed)
        u.commit()

    with uow() as u:
        found = u.interfaces.get(stored.name)
        with pytest.raises(StorageError):
            u.interfaces.save(interface(tag, "never-added"))

    assert found == changed


def test_a_name_is_stored_once(uow: UowFactory, tag: str) -> None:
    with uow() as u:
        u.interfaces.add(interface(tag))
        with pytest.raises(StorageError):
            u.interfaces.add(interface(tag, channel="other"))


def test_two_active_inbound_interfaces_cannot_share_a_route(uow: UowFactory, tag: str) -> None:
    with uow() as u:
        u.interfaces.add(interface(tag, "a", source_system="rcm"))
        with pytest.raises(StorageError):
            u.interfaces.add(interface(tag, "b", source_system="rcm"))


def test_a_retired_or_outbound_interface_leaves_its_route_free(uow: UowFactory, tag: str) -> None:
    with uow() as u:
        u.interfaces.add(interface(tag, "a", source_system="rcm", retired_on=date(2026, 1, 1)))
        u.interfaces.add(interface(tag, "b", source_system="rcm", direction="outbound"))
        u.interfaces.add(interface(tag, "c", source_system="rcm"))
        u.commit()

    with uow() as u:
        routes = {route for route in u.interfaces.routes() if route.channel == f"mllp-{tag}"}

    assert routes == {Route(f"mllp-{tag}", "rcm")}


def test_lists_are_by_name_without_retired_ones_unless_asked(uow: UowFactory, tag: str) -> None:
    with uow() as u:
        for suffix in ("c", "a", "b"):
            retired = date(2026, 1, 1) if suffix == "b" else None
            u.interfaces.add(interface(tag, suffix, retired_on=retired))
        u.commit()

    with uow() as u:
        active = [i.name for i in u.interfaces.list() if tag in i.name]
        every = [i.name for i in u.interfaces.list(include_retired=True) if tag in i.name]
        page = u.interfaces.list(include_retired=True, after=f"if-{tag}-a", limit=1)

    assert active == [f"if-{tag}-a", f"if-{tag}-c"]
    assert every == [f"if-{tag}-a", f"if-{tag}-b", f"if-{tag}-c"]
    assert [i.name for i in page] == [f"if-{tag}-b"]


def test_unmanaged_counts_add_up_and_widen_first_and_last_seen(uow: UowFactory, tag: str) -> None:
    channel = f"mllp-{tag}"
    with uow() as u:
        u.interfaces.record_unmanaged([source(channel, "x", AT, 3), source(channel, "y", AT, 1)])
        u.commit()
    with uow() as u:
        u.interfaces.record_unmanaged([source(channel, "x", AT + timedelta(hours=1), 2)])
        u.interfaces.record_unmanaged([source(channel, "x", AT - timedelta(hours=1), 1)])
        u.commit()

    with uow() as u:
        found = [s for s in u.interfaces.unmanaged() if s.channel == channel]

    assert found == [
        UnmanagedSource(
            channel=channel, source_system="x", format="hl7v2",
            first_seen=AT - timedelta(hours=1), last_seen=AT + timedelta(hours=1),
            message_count=6,
        ),
        source(channel, "y", AT, 1),
    ]  # fmt: skip


def test_inbound_traffic_counts_stored_messages_per_route_since_a_time(
    uow: UowFactory, tag: str
) -> None:
    inbox = Inbox(uow, traffic=TrafficMonitor(timedelta(0)))
    channel = f"file-{tag}"
    for number, at in enumerate([AT - timedelta(days=2), AT, AT, AT + timedelta(hours=1)]):
        system = "rcm" if number < 3 else "mms"
        inbox.receive(f"m{number}".encode(), format="csv", interface=channel,
                      source_system=system, received_at=at)  # fmt: skip

    with uow() as u:
        traffic = u.interfaces.inbound_traffic(AT)

    mine = {route: n for route, n in traffic.items() if route.channel == channel}
    assert mine == {Route(channel, "rcm"): 2, Route(channel, "mms"): 1}
