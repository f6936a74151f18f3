"""CSV feeds through the inbox into the workflows: a real hub on SQLite, files as legacy systems
export them, the ``decode`` handler run by the bus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.crosswalk import CrosswalkEntry, CrosswalkKey, CrosswalkKind
from suture.domain.errors import SutureError
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import (
    CostCenter,
    Department,
    Facility,
    Item,
    Location,
    LocationKind,
)
from suture.domain.messages import MessageStatus
from suture.domain.units import Packaging, PackagingLevel
from suture.eventlog.events import ChargePosted
from suture.services.csv_ingest import CsvFeedError, load_feeds

FEEDS = """\
- interface: legacy-usage
  kind: usage
- interface: legacy-charges
  kind: charges
"""
USAGE_HEADER = (
    "Case Number,Visit Number,MRN,Procedure Date,Facility,Location,Department,Item Number,"
    "GTIN,UDI,Qty,UOM,Lot,Serial,Expiry\n"
)
GTIN = "00614141000012"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    (tmp_path / "feeds.yaml").write_text(FEEDS)
    built = build(
        Settings(
            database_url=f"sqlite:///{tmp_path / 'hub.db'}",
            erp_outbox_dir=tmp_path / "erp",
            csv_feeds=tmp_path / "feeds.yaml",
        )
    )
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-1", code="MAIN", name="Main", timezone="UTC"))
        uow.locations.add(
            Location(id="loc-or1", facility_id="fac-1", code="OR1", name="OR 1",
                     kind=LocationKind.OPERATING_ROOM)
        )  # fmt: skip
        for code in ("SURG", "CARD"):  # a usage row's Department: the encounter's
            uow.cost_centers.add(
                CostCenter(id=f"cc-{code}", facility_id="fac-1", code=code, name=code)
            )
            uow.departments.add(
                Department(id=f"dep-{code}", facility_id="fac-1", code=code, name=code,
                           cost_center_id=f"cc-{code}")
            )  # fmt: skip
        uow.items.add(
            Item(id="item-gauze", description="Gauze", manufacturer="Acme", catalog_number="G-1",
                 packaging=Packaging((PackagingLevel("EA", 1, GTIN),)), purchase_uom="EA")
        )  # fmt: skip
        uow.crosswalks.add(
            CrosswalkEntry(
                key=CrosswalkKey("clinical", "fac-1", CrosswalkKind.ITEM, "LOC-77"),
                canonical_id="item-gauze", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
        uow.commit()
    yield built
    built.close()


def drain(hub: Hub) -> None:
    while hub.bus.run_once(handlers=["decode"]):
        pass


def count(hub: Hub, sql: str) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(sa.text(sql)).scalar_one())


def test_usage_rows_are_recorded_and_published_refused_rows_listed(hub: Hub) -> None:
    rows = [
        "C1,V100,M1,11/20/2026 10:00,MAIN,OR1,SURG,,00614141000012,,2,EA,L1,,",  # by GTIN
        "C1,V100,M1,11/20/2026 10:00,MAIN,OR1,SURG,LOC-77,,,1,EA,L2,,",  # by crosswalk
        "C2,V200,M2,11/20/2026 11:00,MAIN,OR9,SURG,LOC-77,,,1,EA,L3,,",  # unknown location
        "C3,V300,M3,11/20/2026 12:00,MAIN,OR1,SURG,LOC-NEW,,,1,EA,L4,,",  # unmapped: parked
        "C4,V400,M4,not a date,MAIN,OR1,SURG,LOC-77,,,1,EA,L5,,",  # refused by the profile
    ]
    received = hub.csv_ingest.receive(
        (USAGE_HEADER + "\n".join(rows) + "\n").encode(), interface="legacy-usage",
        source_system="clinical",
    )  # fmt: skip
    assert count(hub, "select count(*) from events where type = 'message.received'") == 1
    drain(hub)
    message = hub.inbox.get(received.message.id)
    assert message.status is MessageStatus.PROCESSED
    assert message.status_reason == (
        "2 rows applied, 1 parked on a missing item mapping, 2 refused"
    )
    assert count(hub, "select count(*) from usage_records") == 2
    assert count(hub, "select count(*) from events where type = 'supply.usage.recorded'") == 3
    with hub.uow_factory() as uow:
        (item,) = [i for i in uow.exceptions.list() if i.message_id == received.message.id]
    assert item.type is ExceptionType.MALFORMED_MESSAGE
    assert "2 rows refused" in item.reason
    assert "line 4 Location: unknown location of the facility" in item.reason
    assert "line 6 Procedure Date" in item.reason
    for secret in ("V400", "M4", "C4"):  # patient identifiers never reach the work queue
        assert secret not in item.reason


def test_a_usage_row_is_costed_to_the_department_it_names_not_the_locations(hub: Hub) -> None:
    with hub.uow_factory() as uow:
        location = uow.locations.get("loc-or1")
        assert location is not None
        location.department_id = "dep-SURG"
        uow.locations.add(location)
        uow.commit()
    rows = [
        "C1,V100,M1,11/20/2026 10:00,MAIN,OR1,CARD,,00614141000012,,2,EA,L1,,",  # by code
        "C1,V100,M1,11/20/2026 10:00,MAIN,OR1,dep-CARD,,00614141000012,,1,EA,L2,,",  # by id
        "C2,V200,M2,11/20/2026 11:00,MAIN,OR1,,,00614141000012,,1,EA,L3,,",  # the location's
        "C3,V300,M3,11/20/2026 12:00,MAIN,OR1,NOPE,,00614141000012,,1,EA,L4,,",  # unknown
    ]
    received = hub.csv_ingest.receive(
        (USAGE_HEADER + "\n".join(rows) + "\n").encode(), interface="legacy-usage",
        source_system="clinical",
    )  # fmt: skip
    while hub.bus.run_once():  # the file, then both steps of the usage workflow
        pass

    with hub.engine.connect() as connection:
        costed = connection.execute(
            sa.text("select cost_center_id from usage_workflows order by cost_center_id")
        ).scalars()
        cost_centers = list(costed)
    message = hub.inbox.get(received.message.id)
    with hub.uow_factory() as uow:
        (item,) = [i for i in uow.exceptions.list() if i.message_id == received.message.id]
    assert cost_centers == ["cc-CARD", "cc-CARD", "cc-SURG"]
    assert message.status_reason == "3 rows applied, 1 refused"
    assert "line 5 Department: unknown department of the facility" in item.reason


def test_a_usage_row_in_a_unit_its_item_is_not_packed_in_is_refused_not_dead_lettered(
    hub: Hub,
) -> None:
    row = "C1,V100,M1,11/20/2026 10:00,MAIN,OR1,SURG,,00614141000012,,1,BX,L1,,"
    received = hub.csv_ingest.receive(
        (USAGE_HEADER + row + "\n").encode(), interface="legacy-usage", source_system="clinical"
    )
    while hub.bus.run_once():
        pass

    message = hub.inbox.get(received.message.id)
    with hub.uow_factory() as uow:
        items = [(i.type, i.reason) for i in uow.exceptions.list()]
    assert message.status_reason == "0 rows applied, 1 refused"
    assert items == [(
        ExceptionType.MALFORMED_MESSAGE,
        "CSV usage: 1 rows refused: line 2 UOM: not a unit the item is packed in (it has EA)",
    )]  # fmt: skip


def test_a_usage_line_corrected_in_a_later_export_opens_a_usage_reversal_item(
    tmp_path: Path,
) -> None:
    profile = (Path(__file__).parents[2] / "src/suture/formats/csv/profiles/usage.yaml").read_text()
    (tmp_path / "lines.yaml").write_text(profile + "  line_id: Line\n")
    (tmp_path / "feeds.yaml").write_text(FEEDS + "- interface: lined\n  kind: usage\n"
                                         "  profile: lines.yaml\n")  # fmt: skip
    database = f"sqlite:///{tmp_path / 'hub.db'}"
    built = build(Settings(database_url=database, erp_outbox_dir=tmp_path / "erp",
                           csv_feeds=tmp_path / "feeds.yaml"))  # fmt: skip
    with built.uow_factory() as uow:
        uow.facilities.add(Facility(id="fac-1", code="MAIN", name="Main", timezone="UTC"))
        uow.locations.add(Location(id="loc-or1", facility_id="fac-1", code="OR1", name="OR 1",
                                   kind=LocationKind.OPERATING_ROOM))  # fmt: skip
        each = Packaging((PackagingLevel("EA", 1, GTIN),))
        uow.items.add(Item(id="item-gauze", description="Gauze", manufacturer="Acme",
                           catalog_number="G-1", packaging=each, purchase_uom="EA"))  # fmt: skip
        uow.commit()
    header = USAGE_HEADER.replace("Expiry\n", "Expiry,Line\n")
    for quantity in (2, 3):  # the export again, the line's quantity corrected
        row = f"C1,V100,M1,11/20/2026 10:00,MAIN,OR1,,,{GTIN},,{quantity},EA,L1,,,LINE-9"
        built.csv_ingest.receive((header + row + "\n").encode(), interface="lined",
                                 source_system="clinical")  # fmt: skip
    while built.bus.run_once():
        pass

    with built.uow_factory() as uow:
        (usage,) = uow.usage.list()
        items = [(i.type, i.reason) for i in uow.exceptions.list(type=ExceptionType.USAGE_REVERSAL)]
    built.close()
    assert usage.quantity == 2
    assert items == [(
        ExceptionType.USAGE_REVERSAL,
        f"CSV usage row sent again with 3 EA of item item-gauze at loc-or1 after usage {usage.id} "
        "was recorded with 2 EA of item item-gauze at loc-or1: the hub does not correct usage: "
        "adjust its stock move, cost journal and expected charge by hand",
    )]  # fmt: skip


def test_every_problem_of_a_refused_row_is_listed_not_only_the_first(hub: Hub) -> None:
    row = "C4,V400,M4,not a date,MAIN,OR1,SURG,LOC-77,,,many,EA,L5,,"
    received = hub.csv_ingest.receive(
        (USAGE_HEADER + row + "\n").encode(), interface="legacy-usage", source_system="clinical"
    )
    drain(hub)

    with hub.uow_factory() as uow:
        (item,) = [i for i in uow.exceptions.list() if i.message_id == received.message.id]
    assert item.reason == (
        "CSV usage: 1 rows refused: line 2 Procedure Date: is not a date and time like "
        "'01/31/2024 13:45' (or a date alone); line 2 Qty: is not a number like 1234.56 or "
        "1,234.56"
    )


def test_a_file_in_another_encoding_fails_naming_the_line_and_the_byte(hub: Hub) -> None:
    row = "C4,V400,M4,11/20/2026 10:00,MAIN,OR1,Chirurgie G\u00e9n\u00e9rale,LOC-77,,,1,EA,L5,,"
    received = hub.csv_ingest.receive(
        (USAGE_HEADER + row + "\n").encode("latin-1"), interface="legacy-usage",
        source_system="clinical",
    )  # fmt: skip
    drain(hub)

    message = hub.inbox.get(received.message.id)
    assert (message.status, message.status_reason) == (
        MessageStatus.FAILED,
        "usage file unreadable: line 2: encoding: not valid utf-8-sig: byte 0xe9 (invalid "
        "continuation byte)",
    )


def test_the_unmapped_item_parks_in_the_usage_workflow_until_mapped(hub: Hub) -> None:
    row = "C3,V300,M3,11/20/2026 12:00,MAIN,OR1,SURG,LOC-NEW,,,1,EA,L4,,"
    hub.csv_ingest.receive((USAGE_HEADER + row + "\n").encode(), interface="legacy-usage",
                           source_system="clinical")  # fmt: skip
    while hub.bus.run_once():
        pass
    with hub.uow_factory() as uow:
        types = {item.type for item in uow.exceptions.list()}
    assert ExceptionType.MISSING_ITEM_MAPPING in types


def test_charge_rows_are_posted_and_keyed_by_their_line_id_when_mapped(hub: Hub) -> None:
    text = (
        "Facility,Account Number,Encounter Number,Service Date,Txn Type,CDM Code,Qty,Amount,"
        "Dept,HCPCS,Rev Code\n"
        "MAIN,A1,V100,11/20/2026 10:00,CG,CDM100,1,250.00,SURG,C1776,0278\n"
        "MAIN,A1,V100,11/20/2026 10:00,CG,CDM200,2,40.00,SURG,,0272\n"
        "ELSEWHERE,A2,V200,11/20/2026 10:00,CG,CDM100,1,250.00,SURG,,0278\n"
    )
    received = hub.csv_ingest.receive(text.encode(), interface="legacy-charges",
                                      source_system="rcm")  # fmt: skip
    drain(hub)
    assert hub.inbox.get(received.message.id).status_reason == "2 rows applied, 1 refused"
    assert count(hub, "select count(*) from charges where facility_id = 'fac-1'") == 2
    assert count(hub, "select count(*) from events where type = 'charge.posted'") == 2


def test_a_charge_posted_from_a_file_is_dated_in_its_facilitys_zone_with_its_revenue_code(
    hub: Hub,
) -> None:
    """The file's times are in the profile's zone (America/Chicago); the event's service date
    is the facility's day, as HL7 and FHIR date it, and a facility without a zone counts the
    file's own days. 20:00 in Chicago is 02:00 the next day in UTC."""
    with hub.uow_factory() as uow:
        uow.facilities.add(
            Facility(id="fac-chi", code="CHI", name="Chicago", timezone="America/Chicago")
        )
        uow.facilities.add(Facility(id="fac-nz", code="NOZONE", name="No zone", timezone=""))
        uow.commit()
    text = (
        "Facility,Account Number,Encounter Number,Service Date,Txn Type,CDM Code,Qty,Amount,"
        "Dept,HCPCS,Rev Code\n"
        "CHI,A1,V100,11/20/2026 20:00,CG,CDM100,1,250.00,SURG,C1776,0278\n"
        "NOZONE,A2,V200,11/20/2026 20:00,CG,CDM100,1,250.00,SURG,,\n"
        "MAIN,A3,V300,11/20/2026 20:00,CG,CDM100,1,250.00,SURG,,\n"
    )
    hub.csv_ingest.receive(text.encode(), interface="legacy-charges", source_system="rcm")
    drain(hub)
    with hub.engine.connect() as connection:
        rows = connection.execute(
            sa.text("select payload from events where type = 'charge.posted'")
        ).scalars()
        payloads = {p["facility_id"]: p for p in (json.loads(row) for row in rows)}
    assert {f: p["service_date"] for f, p in payloads.items()} == {
        "fac-chi": "2026-11-20",
        "fac-nz": "2026-11-20",
        "fac-1": "2026-11-21",
    }
    assert payloads["fac-chi"]["revenue_code"] == "0278"
    assert "revenue_code" not in payloads["fac-nz"]
    assert ChargePosted.model_validate(payloads["fac-chi"]).hcpcs == "C1776"


def test_the_same_file_twice_is_stored_and_applied_once(hub: Hub) -> None:
    raw = (USAGE_HEADER + "C1,V1,M1,11/20/2026 10:00,MAIN,OR1,,LOC-77,,,1,EA,,,\n").encode()
    first = hub.csv_ingest.receive(raw, interface="legacy-usage", source_system="clinical")
    again = hub.csv_ingest.receive(raw, interface="legacy-usage", source_system="clinical")
    assert again.is_duplicate
    assert again.message.id == first.message.id
    drain(hub)
    assert count(hub, "select count(*) from usage_records") == 1


def test_a_file_on_an_interface_without_a_feed_or_with_a_bad_header_fails_with_an_item(
    hub: Hub,
) -> None:
    unknown = hub.csv_ingest.receive(b"a,b\n1,2\n", interface="nobody", source_system="x")
    bad = hub.csv_ingest.receive(b"Wrong,Header\n1,2\n", interface="legacy-usage",
                                 source_system="clinical")  # fmt: skip
    drain(hub)
    assert hub.inbox.get(unknown.message.id).status is MessageStatus.FAILED
    failed = hub.inbox.get(bad.message.id)
    assert failed.status is MessageStatus.FAILED
    assert "usage file unreadable" in (failed.status_reason or "")
    with hub.uow_factory() as uow:
        reasons = [item.reason for item in uow.exceptions.list()]
    assert any("no CSV feed is configured for interface 'nobody'" in r for r in reasons)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("- interface: a\n  kind: stock\n", "feeds.yaml: feed 1: kind"),
        ("- interface: a\n  kind: usage\n  extra: 1\n", "feeds.yaml: feed 1: extra"),
        ("- kind: usage\n", "feeds.yaml: feed 1: interface"),
        ("- {interface: a, kind: usage}\n- {interface: a, kind: charges}\n",
         "feeds.yaml: feed 2: interface"),
        ("- interface: a\n  kind: usage\n  profile: missing.yaml\n", "feeds.yaml: feed 1: profile"),
        ("interface: a\n", "feeds.yaml"),
    ],
)  # fmt: skip
def test_a_bad_feeds_file_names_the_entry_and_key(text: str, field: str, tmp_path: Path) -> None:
    with pytest.raises(CsvFeedError) as raised:
        load_feeds(text, "feeds.yaml", base=tmp_path)
    assert raised.value.field == field


def test_a_feeds_file_that_cannot_be_read_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(SutureError) as raised:
        build(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}",
                       csv_feeds=tmp_path / "absent.yaml"))  # fmt: skip
    assert raised.value.field == "SUTURE_CSV_FEEDS"
