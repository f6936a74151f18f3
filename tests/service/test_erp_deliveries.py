"""ERP deliveries through the composition root: the file gateway by default, refusals and an
unreachable Tryton on the real delivery worker and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.deliveries import DeliveryStatus
from suture.domain.exceptions import ExceptionType
from suture.domain.ledger import JournalEntry, JournalLine
from suture.services.erp import ErpUnsupportedError
from suture.services.workflows.journal_file import journal_csv

SECRET = "s3cret-erp-password"


def journal(reference: str) -> JournalEntry:
    return JournalEntry(
        id=f"JE-{reference}", facility_id="fac-1", posting_date=date(2026, 3, 1),
        reference=reference,
        lines=[
            JournalLine(gl_account_id="GL-5110", debit=Decimal("840.00"), cost_center_id="CC-7010"),
            JournalLine(gl_account_id="GL-1410", credit=Decimal("840.00")),
        ],
    )  # fmt: skip


def make_hub(tmp_path: Path, **erp: object) -> Hub:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hub.db'}", erp_outbox_dir=tmp_path / "out", **erp
    )
    return build(settings)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path)
    yield built
    built.close()


def queue(hub: Hub, key: str, payload: str, operation: str = "journal") -> str:
    with hub.uow_factory() as uow:
        delivery = hub.delivery_queue.enqueue(
            uow, target="erp:file", operation=operation, payload=payload, idempotency_key=key,
            at=datetime.now(UTC), facility_id="fac-1",
        )  # fmt: skip
        uow.commit()
    return delivery.id


def test_a_queued_journal_lands_where_erp_file_journals_always_landed_with_totals(
    hub: Hub, tmp_path: Path
) -> None:
    delivery_id = queue(hub, "journal-JE-U1", journal_csv(journal("U1")))

    assert hub.delivery_worker.run_once() == 1

    lines = (tmp_path / "out" / "erp_file" / "journal-JE-U1.csv").read_text("utf-8").splitlines()
    assert (lines[0], lines[-1], len(lines)) == (
        "journal_id,facility_id,posting_date,reference,line,gl_account_id,cost_center_id,"
        "debit,credit,memo",
        "TRAILER,2,840.00,840.00",
        4,
    )
    assert hub.deliveries.get(delivery_id).status is DeliveryStatus.DELIVERED


def test_an_unreadable_journal_is_dead_at_once_with_an_exception_naming_the_field(
    hub: Hub,
) -> None:
    bad = journal_csv(journal("U2")).replace("840.00", "eight hundred")
    delivery_id = queue(hub, "journal-JE-U2", bad)

    hub.delivery_worker.run_once()

    delivery = hub.deliveries.get(delivery_id)
    items = hub.work_queue.list(type=ExceptionType.DELIVERY_FAILED)
    assert (delivery.status, len(items)) == (DeliveryStatus.DEAD, 1)
    assert "debit: 'eight hundred' is not a decimal amount" in items[0].reason


def test_tryton_unreachable_keeps_the_delivery_pending_and_never_shows_the_password(
    tmp_path: Path,
) -> None:
    hub = make_hub(
        tmp_path, erp_kind="tryton", erp_url="http://127.0.0.1:9", erp_database="suture",
        erp_user="suture", erp_password=SecretStr(SECRET),
    )  # fmt: skip
    try:
        delivery_id = queue(hub, "journal-JE-U3", journal_csv(journal("U3")))

        hub.delivery_worker.run_once()

        delivery = hub.deliveries.get(delivery_id)
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.last_error is not None
        assert "cannot reach Tryton" in delivery.last_error
        assert SECRET not in delivery.last_error
        assert hub.work_queue.list(type=ExceptionType.DELIVERY_FAILED) == []
    finally:
        hub.close()


def test_tryton_without_credentials_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SUTURE_ERP_URL: required when SUTURE_ERP_KIND is tryton"):
        Settings(erp_kind="tryton")


def test_the_erp_password_can_come_from_a_secrets_file(tmp_path: Path) -> None:
    secrets_file = tmp_path / "erp.secret"
    secrets_file.write_text(f"{SECRET}\n", "utf-8")

    settings = Settings(
        erp_kind="tryton", erp_url="http://127.0.0.1:8000", erp_database="suture",
        erp_user="suture", erp_password_file=secrets_file,
    )  # fmt: skip

    assert settings.erp_secret() == SECRET
    assert SECRET not in repr(settings)


def test_a_file_erp_cannot_be_pulled_from_and_says_how_suppliers_arrive(hub: Hub) -> None:
    assert hub.erp_suppliers is not None

    with pytest.raises(ErpUnsupportedError, match="suture masterdata import suppliers"):
        hub.erp_suppliers.pull()
