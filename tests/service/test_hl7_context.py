"""ADT, BAR^P01/P05, MFN^M04 and MFN^M02 applied by the HL7 ingest (issue 4): the encounter
context, the charge master's prices and the staff master, stored and acknowledged AA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.domain.messages import MessageStatus
from suture.eventlog.events import build_registry
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKENIZE = PhiTokenizer("test-secret-for-tokens")
Uow = Callable[[], SqlAlchemyUnitOfWork]


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[Uow]:
    engine: sa.Engine = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(engine)
    with SqlAlchemyUnitOfWork(engine) as unit:
        unit.facilities.add(Facility(id="fac-main", code="MAIN", name="Main", timezone="UTC"))
        unit.facilities.add(Facility(id="fac-north", code="NORTH", name="North", timezone="UTC"))
        unit.commit()
    yield lambda: SqlAlchemyUnitOfWork(engine)
    engine.dispose()


@pytest.fixture
def ingest(uow: Uow) -> Hl7Ingest:
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    return Hl7Ingest(uow, Inbox(uow), bus, TOKENIZE, lambda: NOW)


def msh(message_type: str, control: str, facility: str = "MAIN") -> str:
    return f"MSH|^~\\&|EPIC|{facility}|SUTURE|HUB|20261120083000||{message_type}|{control}|P|2.5"


def adt(event: str, control: str, *, admitted: str = "", discharged: str = "") -> bytes:
    pv1 = ["PV1", "1", "I", "4W^401^1^MAIN", *[""] * 15, "V-4400"] + [""] * 24
    pv1 += [admitted, discharged]
    return "\r".join(
        [msh(f"ADT^{event}", control), f"EVN|{event}|20261120083000",
         "PID|1||MRN-9^^^MAIN^MR||DOE^JANE|||||||||||||ACCT-77", "|".join(pv1)]
    ).encode()  # fmt: skip


def test_adt_admit_then_discharge_is_one_encounter_with_both_times(
    ingest: Hl7Ingest, uow: Uow
) -> None:
    admitted = ingest.handle(adt("A01", "C1", admitted="20261120080000"), "mllp", "rcm")
    discharged = ingest.handle(adt("A03", "C2", discharged="20261121100000"), "mllp", "rcm")

    assert (admitted.code, discharged.code) == ("AA", "AA")
    with uow() as unit:
        encounter = unit.encounters.get("fac-main", TOKENIZE("V-4400"))
        message = unit.inbox.get(discharged.message_id)
    assert encounter is not None
    assert encounter.account_token == TOKENIZE("ACCT-77")
    assert encounter.patient_class == "I"
    assert encounter.admitted_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert encounter.discharged_at == datetime(2026, 11, 21, 10, tzinfo=UTC)
    assert encounter.last_event == "ADT^A03"
    assert message is not None
    assert message.status is MessageStatus.PROCESSED
    assert message.correlation_id == TOKENIZE("V-4400")
    # PHI: tokens only; the originals stay in the raw message
    assert "V-4400" not in repr(encounter)
    assert "ACCT-77" not in repr(encounter)


def test_bar_p01_records_the_account_of_the_encounter(ingest: Hl7Ingest, uow: Uow) -> None:
    raw = adt("A01", "C3").replace(b"ADT^A01", b"BAR^P01")
    assert ingest.handle(raw, "mllp", "rcm").code == "AA"
    with uow() as unit:
        encounter = unit.encounters.get("fac-main", TOKENIZE("V-4400"))
    assert encounter is not None
    assert encounter.last_event == "BAR^P01"


def test_adt_of_an_unknown_facility_answers_ae(ingest: Hl7Ingest) -> None:
    raw = adt("A01", "C4").replace(b"|MAIN|SUTURE", b"|ELSEWHERE|SUTURE")
    reply = ingest.handle(raw.replace(b"^MAIN|", b"^ELSEWHERE|"), "mllp", "rcm")
    assert reply.code == "AE"


def test_mfn_m04_prices_the_chargemaster_per_facility(ingest: Hl7Ingest, uow: Uow) -> None:
    raw = "\r".join(
        [
            msh("MFN^M04", "CDM-1"),
            "MFI|CDM||UPD|||NE",
            "MFE|MAD|1|20261101|27800123^KNEE IMPLANT^CDM|CE",
            "CDM|27800123||KNEE IMPLANT SYSTEM||||C1776^^HCPCS|A",
            "PRC|27800123|MAIN~NORTH|OR||9800.00&USD^UP||||||20261101",
            "MFE|MAD|2|20261101|27200456^GAUZE^CDM|CE",
            "CDM|27200456||GAUZE 4X4|||||A",
            "PRC|27200456||||12.50&USD^UP",
        ]
    ).encode()
    reply = ingest.handle(raw, "mllp", "rcm")
    assert reply.code == "AA"
    with uow() as unit:
        prices = unit.chargemaster.for_codes(
            [("fac-main", "27800123"), ("fac-north", "27800123"), ("fac-main", "27200456")]
        )
    assert [p.unit_price for p in prices[("fac-main", "27800123")]] == [Decimal("9800.00")]
    assert [p.effective_from for p in prices[("fac-north", "27800123")]] == [date(2026, 11, 1)]
    # no PRC-2 facility: the sender's
    gauze = prices[("fac-main", "27200456")]
    assert [(p.unit_price, p.description) for p in gauze] == [(Decimal("12.50"), "GAUZE 4X4")]


def test_mfn_m02_stores_the_staff_master_as_reference_data(ingest: Hl7Ingest, uow: Uow) -> None:
    sample = (
        Path(__file__).parents[3]
        / "shared/samples/hl7v2/mfn_m02_mirthproject_node-hl7-complete.hl7"
    )
    raw = sample.read_bytes().replace(b"|BOUGE|EQUAFILE|BOUGE|", b"|MAIN|EQUAFILE|BOUGE|")
    reply = ingest.handle(raw, "mllp", "hr")
    assert reply.code == "AA"
    with uow() as unit:
        member = unit.staff.get("hr", "15101")
    assert member is not None
    assert (member.family_name, member.given_name) == ("DU JARDIN", "ETIENNE")
    assert member.active


def test_a_type_the_codec_does_not_read_is_still_rejected_ar(ingest: Hl7Ingest) -> None:
    raw = "\r".join([msh("ORM^O01", "O-1"), "PID|1||MRN-9"]).encode()
    reply = ingest.handle(raw, "mllp", "rcm")
    assert reply.code == "AR"
