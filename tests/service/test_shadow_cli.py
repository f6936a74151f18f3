"""``suture shadow report``: counts, differences and exit codes against a real hub database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suture.bootstrap import Hub, build
from suture.config import Settings
from suture.domain.deliveries import DeliveryStatus
from suture.domain.interfaces import Direction, Interface, InterfaceFormat, Mode
from suture.entrypoints.cli import app
from suture.services.workflows import journal_file

runner = CliRunner()
PROFILE = """\
key: [reference, gl_account_id]
compare: [debit, credit]
amounts: [debit, credit]
aggregate: true
columns: {Ref: reference, Account: gl_account_id, Dr: debit, Cr: credit}
"""


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("SUTURE_DATABASE_URL", url)
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "erp"))
    built = build(Settings(database_url=url, erp_outbox_dir=tmp_path / "erp"))
    built.interfaces.add(
        Interface(
            name="erp-journals", direction=Direction.OUTBOUND, format=InterfaceFormat.CSV,
            channel="erp", source_system="suture", target_system="erp", mode=Mode.SHADOW,
        )
    )  # fmt: skip
    for reference, amount in (("U1", "10.00"), ("U2", "20.00")):
        rows = [
            journal_file.HEADER,
            (f"JE-{reference}", "fac-1", "2026-11-02", reference, "1", "5000", "", amount, "0", ""),
            (f"JE-{reference}", "fac-1", "2026-11-02", reference, "2", "1400", "", "0", amount, ""),
        ]
        with built.uow_factory() as uow:
            built.delivery_queue.enqueue(
                uow, target="erp:file", operation="journal", idempotency_key=f"j-{reference}",
                payload="".join(",".join(row) + "\n" for row in rows), at=built.clock(),
            )  # fmt: skip
            uow.commit()
    built.delivery_worker.run_once()
    with built.uow_factory() as uow:
        assert uow.deliveries.count_by_status()["erp:file"][DeliveryStatus.SHADOWED] == 2
    yield built
    built.close()


def _files(tmp_path: Path, legacy: str) -> list[str]:
    (tmp_path / "p.yaml").write_text(PROFILE)
    (tmp_path / "legacy.csv").write_text(legacy)
    return ["--legacy", str(tmp_path / "legacy.csv"), "--profile", str(tmp_path / "p.yaml")]


def test_agreement_exits_zero(hub: Hub, tmp_path: Path) -> None:
    legacy = "Ref,Account,Dr,Cr\nU1,5000,10,0\nU1,1400,0,10\nU2,5000,20,0\nU2,1400,0,20\n"
    result = runner.invoke(app, ["shadow", "report", "erp-journals", *_files(tmp_path, legacy)])
    assert result.exit_code == 0, result.output
    assert "agreement" in result.stdout
    assert "100.0%" in result.stdout


def test_differences_exit_one_and_are_listed_in_json(hub: Hub, tmp_path: Path) -> None:
    legacy = "Ref,Account,Dr,Cr\nU1,5000,10,0\nU1,1400,0,10\nU2,5000,25,0\n"
    result = runner.invoke(
        app, ["shadow", "report", "erp-journals", *_files(tmp_path, legacy), "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {"same": 2, "differs": 1, "only_suture": 1, "only_legacy": 0}
    assert report["deliveries"] == 2
    differs = [p for p in report["problems"] if p["outcome"] == "differs"]
    assert differs[0]["key"] == ["U2", "5000"]
    assert differs[0]["differences"] == [{"field": "debit", "suture": "20.00", "legacy": "25"}]


def test_a_bad_profile_or_interface_exits_two_naming_it(hub: Hub, tmp_path: Path) -> None:
    files = _files(tmp_path, "Ref,Account,Dr,Cr\n")
    (tmp_path / "p.yaml").write_text("key: [reference]\ncompare: [debit]\nbogus: 1\n")
    bad = runner.invoke(app, ["shadow", "report", "erp-journals", *files])
    assert bad.exit_code == 2
    assert "p.yaml: bogus" in bad.stderr
    (tmp_path / "p.yaml").write_text(PROFILE)
    unknown = runner.invoke(app, ["shadow", "report", "nope", *files])
    assert unknown.exit_code == 2
    assert "no interface 'nope'" in unknown.stderr
