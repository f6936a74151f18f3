"""``suture erp``: the sandbox commands without a sandbox; supplier pull and payment status from
a file ERP."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from suture.entrypoints.cli import app


def suture(*args: object) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def test_status_without_a_server_says_so_with_exit_code_3(tmp_path: Path) -> None:
    result = suture("erp", "sandbox", "status", "--dir", tmp_path)

    assert (result.exit_code, result.output.strip()) == (3, "no sandbox server is running")


def test_start_before_create_fails_naming_the_missing_snapshot(tmp_path: Path) -> None:
    result = suture("erp", "sandbox", "start", "--dir", tmp_path)

    assert result.exit_code == 1
    assert "no snapshot in" in result.output
    assert "run create first" in result.output


def test_stop_without_a_server_is_harmless(tmp_path: Path) -> None:
    result = suture("erp", "sandbox", "stop", "--dir", tmp_path)

    assert (result.exit_code, result.output.strip()) == (0, "no sandbox server was running")


def test_pulling_suppliers_from_a_file_erp_fails_and_says_how_they_arrive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))

    result = suture("erp", "suppliers", "pull")

    assert result.exit_code == 1
    assert "suture masterdata import suppliers" in result.output


def test_payment_status_from_a_file_erp_fails_and_says_it_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setenv("SUTURE_ERP_OUTBOX_DIR", str(tmp_path / "out"))

    unknown = suture("erp", "payments", "show", "INV-404")
    synced = suture("erp", "payments", "sync")

    assert (unknown.exit_code, synced.exit_code) == (1, 0)
    assert "no supplier invoice 'INV-404'" in unknown.output
    assert "0 checked, 0 paid" in synced.output
