"""``suture seed`` on the command line: options, errors and the summary it prints.

The command is mounted on a Typer app of the test's own, as the root application registers it,
and runs against a SQLite file named by ``SUTURE_DATABASE_URL``. A tiny profile is registered
for the run so the whole command takes about a second.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from suture.entrypoints.cli.seed import seed_command
from suture.services.synthetic import PROFILES

TINY = replace(PROFILES["demo"], name="tiny", items=60, suppliers=4, contracts=4,
               par_items_per_location=5)  # fmt: skip


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> typer.Typer:
    monkeypatch.setenv("SUTURE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setitem(PROFILES, "tiny", TINY)
    app = typer.Typer()
    app.command("seed")(seed_command)
    app.command("noop")(lambda: None)  # two commands, so "seed" is addressed by name
    return app


def test_unknown_profile_names_the_option_and_the_choices(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["seed", "--profile", "huge"])

    assert result.exit_code == 2
    assert "--profile" in result.output
    assert "'demo'" in result.output
    assert "'large'" in result.output


def test_help_describes_every_option(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["seed", "--help"])

    assert result.exit_code == 0
    for option in ("--profile", "--seed", "--charges", "--usage", "--batch-size"):
        assert option in result.output


def test_seed_prints_a_summary_of_every_kind(cli: typer.Typer) -> None:
    result = CliRunner().invoke(
        cli, ["seed", "--profile", "tiny", "--seed", "3", "--charges", "25", "--usage", "20"]
    )

    assert result.exit_code == 0, result.output
    assert "Seeded profile 'tiny', seed 3" in result.output
    assert "items" in result.output
    assert " 60 " in result.output
    assert " 25 " in result.output


def test_seeding_twice_reports_every_crosswalk_entry_unchanged(cli: typer.Typer) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["seed", "--profile", "tiny"])

    result = runner.invoke(cli, ["seed", "--profile", "tiny"])

    assert result.exit_code == 0, result.output
    assert "0 added" in result.output


def test_negative_history_counts_are_refused(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["seed", "--charges", "-1"])

    assert result.exit_code == 2
    assert "--charges" in result.output
