"""Every file in ../shared/samples/x12 goes through the X12 ingest: stored first, then applied,
or failed with a clear reason naming the set, segment and element; never a crash (issue 4).

Each sample's sender (ISA06) is made a known supplier, so what is exercised is the content:
the 855s acknowledge and the 856s notice (their POs are not the hub's: ``not_on_po``), the 810s
become invoices (filed under the facility the edge names), the 850s and 832s are read but not
applied, the 835 and 837 are unsupported, the TA1-only interchange has nothing to apply.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from x12_world import FACILITY, events, migrated, seed, services

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.exceptions import ExceptionType
from suture.domain.masterdata import Supplier
from suture.domain.messages import MessageStatus
from suture.formats.x12 import read_interchange

SAMPLES = Path(__file__).parents[2].parent / "shared" / "samples" / "x12"
NOT_APPLIED = "is read but not applied by this interface (only 810, 855, 856 are)"

#: file -> (status, a phrase of the reason or None, the event the file raises or None)
EXPECTED: dict[str, tuple[MessageStatus, str | None, str | None]] = {
    "810_4010_2011110815164104_oopfactory.txt": (
        MessageStatus.PROCESSED, None, "purchasing.invoice.received"),
    "810_4010_californiaiso_oopfactory.txt": (
        MessageStatus.PROCESSED, None, "purchasing.invoice.received"),
    "810_4010_walmart_oopfactory.txt": (
        MessageStatus.PROCESSED, None, "purchasing.invoice.received"),
    "810_4030_multiinvoice_oopfactory.txt": (
        MessageStatus.PROCESSED, None, "purchasing.invoice.received"),
    "832_4010_hibcc_example1_oopfactory.txt": (
        MessageStatus.FAILED, f"(832): segment 3 (ST), ST01: transaction set 832 {NOT_APPLIED}",
        None),
    "832_4010_hibcc_example2_oopfactory.txt": (
        MessageStatus.FAILED, f"(832): segment 3 (ST), ST01: transaction set 832 {NOT_APPLIED}",
        None),
    "835_5010_example1_oopfactory.txt": (
        MessageStatus.FAILED, "ST01: unsupported transaction set 835", None),
    "837I_5010_spec_3.1.1_oopfactory.txt": (
        MessageStatus.FAILED, "ST01: unsupported transaction set 837", None),
    "850_4010_adobe_clp_oopfactory.txt": (MessageStatus.FAILED, NOT_APPLIED, None),
    "850_4010_adobe_shrinkwrapped_oopfactory.txt": (MessageStatus.FAILED, NOT_APPLIED, None),
    "850_4010_aojuk_oopfactory.txt": (MessageStatus.FAILED, NOT_APPLIED, None),
    "850_4010_pgwglass_oopfactory.txt": (MessageStatus.FAILED, NOT_APPLIED, None),
    "855_4010_adobe_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "855_4010_ssimmons_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "856_4010_example1_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "856_4010_example3_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "856_4010_example4_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "856_4010vics_gregarican_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
    "ta1_00401_technicalack_sample1_oopfactory.txt": (MessageStatus.PROCESSED, None, None),
}  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = migrated(f"sqlite:///{tmp_path / 'suture.db'}")
    seed(made)
    yield made
    made.dispose()


def test_every_sample_file_is_covered() -> None:
    assert {path.name for path in SAMPLES.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_stored_then_applied_or_failed_with_a_clear_reason(
    engine: sa.Engine, name: str
) -> None:
    raw = (SAMPLES / name).read_bytes()
    sender = read_interchange(raw, strict=False).sender_id.strip()
    with SqlAlchemyUnitOfWork(engine) as uow:
        uow.suppliers.add(Supplier(id=sender, name=f"sample sender {sender}"))
        uow.commit()
    status, phrase, event = EXPECTED[name]

    reply = services(engine).ingest.receive(
        raw, interface="samples", source_system="samples", facility_id=FACILITY
    )

    assert reply.status is status, reply.reason
    with SqlAlchemyUnitOfWork(engine) as uow:
        stored = uow.inbox.get(reply.message_id, with_raw=True)
        malformed = uow.exceptions.list(type=ExceptionType.MALFORMED_MESSAGE)
    assert stored is not None
    assert stored.raw == raw
    if phrase is None:
        assert (reply.reason, malformed) == (None, [])
    else:
        assert reply.reason is not None
        assert phrase in reply.reason
        assert [item.message_id for item in malformed] == [reply.message_id]
    if event is not None:
        assert events(engine, event)
