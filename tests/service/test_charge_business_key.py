"""One charge line reaching the hub by two channels (legacy and new) is executed once.

The billing system's line id (HL7 FT1-2, the FHIR ChargeItem identifier) is the charge's
business key with the facility and the encounter, so an HL7 DFT^P03 from the old interface
engine and a FHIR ChargeItem from the new feed for the same line store one charge and append
one ``charge.posted`` (DESIGN.md §1, coexistence; domain/revenue.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.domain.revenue import ChargeType, charge_line_id
from suture.eventlog.events import build_registry
from suture.services.fhir_ingest import FhirIngest
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SECRET = "test-secret-for-tokens"
GH = Facility(id="fac-gh", code="GH", name="General", timezone="UTC")
Uow = Callable[[], SqlAlchemyUnitOfWork]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as uow:
        uow.facilities.add(GH)
        uow.commit()
    yield made
    made.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Uow:
    return lambda: SqlAlchemyUnitOfWork(engine)


def _bus(uow: Uow) -> MessageBus:
    return MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())


def _dft(line_id: str, visit: str = "V-1001", control_id: str = "C1") -> bytes:
    return (
        f"MSH|^~\\&|LEGACY_ENGINE|GH|SUTURE|GH|20261120100000||DFT^P03|{control_id}|P|2.5.1\r"
        "PID|1||MRN-1^^^GH^MR||DOE^JANE\r"
        f"PV1|1|I|OR^1^1^GH||||||||||||||||{visit}\r"
        f"FT1|1|{line_id}||20261120100000||CG|CDM100|||2|300.50||OR\r"
    ).encode()


def _charge_item(line_id: str, visit: str = "V-1001") -> bytes:
    return json.dumps(
        {
            "resourceType": "ChargeItem",
            "identifier": [{"system": "urn:epic:rcm:line", "value": line_id}],
            "status": "billable",
            "code": {"coding": [{"system": "urn:cdm", "code": "CDM100"}]},
            "subject": {"identifier": {"value": "MRN-1"}},
            "context": {"reference": "Encounter/e1", "identifier": {"value": visit}},
            "quantity": {"value": 2},
            "priceOverride": {"value": 300.50, "currency": "USD"},
            "occurrenceDateTime": "2026-11-20T10:00:00Z",
        }
    ).encode()


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        charges = connection.execute(sa.text("select count(*) from charges")).scalar_one()
        posted = connection.execute(
            sa.text("select count(*) from events where type = 'charge.posted'")
        ).scalar_one()
    return charges, posted


def test_the_same_line_by_hl7_and_by_fhir_is_one_charge_and_one_event(
    engine: sa.Engine, uow: Uow
) -> None:
    tokenizer = PhiTokenizer(SECRET)
    hl7 = Hl7Ingest(uow, Inbox(uow), _bus(uow), tokenizer, lambda: NOW)
    fhir = FhirIngest(uow, Inbox(uow), _bus(uow), tokenizer, lambda: NOW)
    assert hl7.handle(_dft("TX-555"), "mllp", "legacy-engine").code == "AA"
    reply = fhir.submit(_charge_item("TX-555"), resource_type="ChargeItem", facility=GH,
                        source_system="epic-fhir")  # fmt: skip
    assert reply.status in (200, 201)
    assert _counts(engine) == (1, 1)
    with uow() as unit:
        (charge,) = unit.charges.list()
    expected = charge_line_id("fac-gh", tokenizer("V-1001"), "TX-555", ChargeType.CHARGE)
    assert charge.id == expected


def test_other_lines_or_other_encounters_stay_apart(engine: sa.Engine, uow: Uow) -> None:
    tokenizer = PhiTokenizer(SECRET)
    hl7 = Hl7Ingest(uow, Inbox(uow), _bus(uow), tokenizer, lambda: NOW)
    fhir = FhirIngest(uow, Inbox(uow), _bus(uow), tokenizer, lambda: NOW)
    hl7.handle(_dft("TX-1"), "mllp", "legacy-engine")
    hl7.handle(_dft("TX-1", visit="V-2002", control_id="C2"), "mllp", "legacy-engine")
    fhir.submit(_charge_item("TX-2"), resource_type="ChargeItem", facility=GH,
                source_system="epic-fhir")  # fmt: skip
    assert _counts(engine) == (3, 3)


def test_a_credit_of_a_line_is_not_the_charge_itself() -> None:
    args = ("fac-gh", "tok", "TX-1")
    assert charge_line_id(*args, ChargeType.CHARGE) != charge_line_id(*args, ChargeType.CREDIT)
    assert charge_line_id(*args, ChargeType.CHARGE) == charge_line_id(
        "fac-gh", "tok", " TX-1 ", ChargeType.CHARGE
    )
