"""Whatever bytes reach the X12 edge, they are stored and end processed, failed or parked with a
reason: never an unhandled exception (issue 4, "never a crash"), on a real SQLite database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_x12_ingest import ACK_855, ASN_856, INVOICE_810
from x12_world import interchange, migrated, seed, services

from suture.adapters.db.unit_of_work import SqlAlchemyUnitOfWork
from suture.domain.messages import MessageStatus

VALID = interchange([("855", ACK_855), ("856", ASN_856), ("810", INVOICE_810)])
ENDED = {MessageStatus.PROCESSED, MessageStatus.FAILED, MessageStatus.PARKED}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    made = migrated(f"sqlite:///{tmp_path_factory.mktemp('props') / 'suture.db'}")
    seed(made)
    yield made
    made.dispose()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The valid interchange with a slice cut out, replaced by random bytes, or one segment
    swapped for random text."""
    data = bytearray(VALID)
    kind = draw(st.sampled_from(["cut", "splice", "segment", "noise"]))
    if kind == "noise":
        return draw(st.binary(min_size=1, max_size=300))
    start = draw(st.integers(0, len(data) - 1))
    end = draw(st.integers(start, min(len(data), start + 40)))
    if kind == "cut":
        del data[start:end]
    elif kind == "splice":
        data[start:end] = draw(st.binary(max_size=20))
    else:
        segments = VALID.split(b"~")
        index = draw(st.integers(0, len(segments) - 1))
        segments[index] = draw(st.text(max_size=30)).encode()
        data = bytearray(b"~".join(segments))
    return bytes(data) or b"~"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=mutated())
def test_any_bytes_are_stored_then_processed_failed_or_parked_with_a_reason(
    engine: sa.Engine, raw: bytes
) -> None:
    reply = services(engine).ingest.receive(raw, interface="fuzz", source_system="fuzz")

    assert reply.status in ENDED
    assert (reply.status is MessageStatus.PROCESSED) or bool(reply.reason)
    with SqlAlchemyUnitOfWork(engine) as uow:
        stored = uow.inbox.get(reply.message_id, with_raw=True)
    assert stored is not None
    assert stored.raw == raw
