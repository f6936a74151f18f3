"""The ``charge.posted`` events of an HL7 v2 DFT^P03, as the apply builds them in one pass.

The apply writes each payload from the typed charge and has the registry vouch for it, so
publishing does not validate it again (``Hl7Ingest._posted``). These tests hold what it writes
to the event's model and to the envelope of DESIGN.md §3, field for field: the same envelope as
the bus built from the same payload before (``MessageBus.envelope``), only built cheaper.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from suture.adapters.db.engine import create_engine
from suture.adapters.db.migrate import ensure_schema
from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.masterdata import Facility
from suture.eventlog.envelope import Envelope, to_json
from suture.eventlog.errors import PayloadError
from suture.eventlog.events import ChargePosted, build_registry
from suture.eventlog.ids import idempotency_key
from suture.eventlog.schemas import SchemaRegistry
from suture.services.hl7_ingest import Hl7Ingest
from suture.services.inbox import Inbox
from suture.services.messagebus import MessageBus
from suture.services.phi import PhiTokenizer

NOW = datetime(2025, 3, 1, 15, 0, tzinfo=UTC)
SECRET = "test-secret-for-tokens"
VISIT = "V778899"


def dft(control_id: str) -> bytes:
    """Three FT1s: a charge with a HCPCS code, a credit in a zone east of UTC,
    a charge of 1E+3 written as HL7 may write it."""
    return (
        f"MSH|^~\\&|EPIC|GH|SUTURE|GH|20250301083000+0200||DFT^P03|{control_id}|P|2.5.1\r"
        "PID|1||MRN4455^^^GH^MR||DOE^JANE\r"
        f"PV1|1|I|4W^401^1^GH||||||||||||||||{VISIT}\r"
        f"FT1|1|T{control_id}-1||20250301080000||CG|CDM100|||2|50.00||LAB"
        "|||||||||||||99213\r"
        f"FT1|2|T{control_id}-2||20250301233000-0500||CD|CDM200|||1|1500.00||LAB\r"
        f"FT1|3|T{control_id}-3||20250301080000||CG|CDM300|||0.5|1000||LAB\r"
    ).encode()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = create_engine(f"sqlite:///{tmp_path / 'suture.db'}")
    ensure_schema(made)
    with SqlAlchemyUnitOfWork(made) as uow:
        uow.facilities.add(Facility(id="fac-gh", code="GH", name="General", timezone="UTC"))
        uow.commit()
    yield made
    made.dispose()


@pytest.fixture
def uow(engine: sa.Engine) -> Callable[[], SqlAlchemyUnitOfWork]:
    return lambda: SqlAlchemyUnitOfWork(engine)


def ingest_with(uow: Callable[[], SqlAlchemyUnitOfWork], registry: SchemaRegistry) -> Hl7Ingest:
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=registry)
    return Hl7Ingest(uow, Inbox(uow), bus, PhiTokenizer(SECRET), lambda: NOW)


def posted(uow: Callable[[], SqlAlchemyUnitOfWork]) -> list[Envelope]:
    with uow() as work:
        return work.events.by_correlation_id(PhiTokenizer(SECRET)(VISIT))


def test_each_payload_is_what_the_charge_posted_model_reads_and_writes_less_its_default(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    ingest_with(uow, build_registry()).handle(dft("C1"), "mllp", "rcm")

    payloads = [event.payload for event in posted(uow)]
    assert [ChargePosted.model_validate(p).model_dump(mode="json") for p in payloads] == [
        {**p, "revenue_code": None} for p in payloads
    ]
    assert [(p["quantity"], p["amount"], p["transaction_type"]) for p in payloads] == [
        ("2", "50.00", "CG"),
        ("1", "1500.00", "CD"),
        ("0.5", "1000", "CG"),
    ]


def test_each_envelope_is_the_one_the_bus_builds_from_the_same_payload(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    ingest = ingest_with(uow, build_registry())
    reply = ingest.handle(dft("C2"), "mllp", "rcm")

    events = posted(uow)
    with uow() as work:
        message = work.inbox.get(reply.message_id)
    assert message is not None
    bus = MessageBus(uow, handlers={}, clock=lambda: NOW, registry=build_registry())
    expected = [
        bus.envelope(
            "charge.posted",
            dict(event.payload),
            idempotency_key=idempotency_key("charge.posted", event.payload["charge_id"]),
            correlation_id=PhiTokenizer(SECRET)(VISIT),
            trace_id=message.trace_id,
            causation_id=uuid.UUID(message.id),
            occurred_at=datetime(2025, 3, 1, 6, 30, tzinfo=UTC),  # MSH-7, 08:30 at +02:00
            source_system="rcm",
            source_facility="fac-gh",
        )
        for event in events
    ]
    assert [_as_json(e, id_of=event) for e, event in zip(expected, events, strict=True)] == [
        to_json(event) for event in events
    ]
    assert len({event.id for event in events}) == 3


def test_a_registry_with_another_version_of_charge_posted_validates_the_payload_when_published(
    uow: Callable[[], SqlAlchemyUnitOfWork],
) -> None:
    class ChargePostedV2(ChargePosted):
        reason: str  # required: the v1 payload the apply writes is not a v2 payload

    registry = build_registry()
    registry.register("charge.posted", 2, ChargePostedV2)

    with pytest.raises(PayloadError, match="reason"):
        ingest_with(uow, registry).handle(dft("C3"), "mllp", "rcm")
    assert posted(uow) == []


def _as_json(envelope: Envelope, *, id_of: Envelope) -> bytes:
    """``envelope``'s JSON with the id of ``id_of`` (ids are made per envelope)."""
    fields: dict[str, Any] = {
        name: getattr(envelope, name) for name in Envelope.__dataclass_fields__
    }
    return to_json(Envelope(**{**fields, "id": id_of.id}))
